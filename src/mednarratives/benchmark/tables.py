"""Demo registry from held-out data, evaluation of several models, and the benchmark tables.

Tables (one row per model x dataset x task; long format, so any number of models fits):
* table7.csv  zero-shot classification (accuracy; mAP for multi-label), Table 6 templates
* table1.csv  linear probe (logistic regression on frozen image features, C chosen on validation)
* table2.csv  retrieval Recall@K, image->text and text->image, on held-out shards
* figure3.png per-dataset (per-domain for the demo) zero-shot bars, one bar per model
"""

from __future__ import annotations

import logging
import math
import os
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from mednarratives import settings
from mednarratives.dataset.assemble import write_csv
from mednarratives.io import atomic_path, read_jsonl

CONFIG = settings.defaults("benchmark")  # the defaults of the keyword arguments below

log = logging.getLogger("mednarratives.benchmark")

DOMAIN_CLASSNAMES = {
    "ct": "CT scan", "mri": "MRI scan", "xray": "X-ray", "ultrasound": "ultrasound", "mammography": "mammogram",
    "surgery": "surgery", "endoscopy": "endoscopy", "dentistry": "dental image", "dermatology": "skin lesion",
    "ophthalmology": "retina fundus", "histopathology": "histopathology", "illustration": "medical illustration",
}


def build_demo_registry(sidecar_jsonl: str | os.PathLike, out_dir: str | os.PathLike, min_per_class: int = 1) -> Path:
    """Domain classification of held-out images (ImageFolder ``test``) with a ``train`` split from the training
    side for the linear probe; only domains present on both sides. Writes ``out_dir/registry.yaml``."""
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    rows = read_jsonl(sidecar_jsonl)
    per: dict[str, dict[str, list[dict]]] = {"train": {}, "test": {}}
    for r in sorted(rows, key=lambda r: r["image_id"]):
        split = "test" if r.get("split") == "heldout" else "train"
        if r.get("domain") and r.get("image"):
            per[split].setdefault(r["domain"], []).append(r)
    classes = sorted(d for d in per["test"] if len(per["test"][d]) >= min_per_class and per["train"].get(d))
    datasets: dict[str, Any] = {}
    if len(classes) >= 2:
        for split in ("train", "test"):
            for d in classes:
                folder = out / "demo_domains" / split / d
                folder.mkdir(parents=True, exist_ok=True)
                for r in per[split][d]:
                    src = Path(r["image"])
                    name = r["image_id"].replace(":", "_") + src.suffix.lower()
                    shutil.copyfile(src, folder / name)
        datasets["demo_domains"] = {
            "format": "imagefolder", "splits": {"train": "demo_domains/train", "test": "demo_domains/test"},
            "classes": classes, "classnames": {c: DOMAIN_CLASSNAMES.get(c, c) for c in classes},
            "template_group": "generic", "tasks": ["zeroshot", "linear_probe"]}
    else:
        log.warning("demo registry: fewer than 2 domains on both sides (%s); no classification dataset", classes)
    out.mkdir(parents=True, exist_ok=True)
    reg = out / "registry.yaml"
    with atomic_path(reg) as tmp:
        tmp.write_text(yaml.safe_dump({"datasets": datasets}, sort_keys=True), encoding="utf-8")
    return reg


class BenchmarkIncomplete(RuntimeError):
    """Datasets or models of the benchmark are missing or failed, and ``require_all`` is set."""


def merge_registries(paths: Sequence[str | os.PathLike], out_path: str | os.PathLike,
                     data_root: str | os.PathLike | None = None) -> Path:
    """One registry YAML from several, with absolute paths: relative paths resolve against the registry
    file's folder, or against ``data_root`` for a registry that says ``paths_relative_to: data_root``
    (the paper registry). Each entry gets ``order``: its position over all registries (table columns)."""
    from mednarratives.benchmark.readers import resolve_paths

    merged: dict[str, Any] = {}
    for p in paths:
        p = Path(p)
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        if doc.get("paths_relative_to") == "data_root":
            if not data_root:
                raise ValueError(f"{p}: paths are relative to benchmark.data_root, which is not set")
            base = Path(data_root).resolve()
        else:
            base = p.parent
        for name, entry in (doc.get("datasets") or {}).items():
            if name in merged:
                raise ValueError(f"{p}: dataset {name!r} is defined by two registries")
            entry = dict(entry)
            entry["splits"] = {k: resolve_paths(v, base) for k, v in (entry.get("splits") or {}).items()}
            entry["order"] = len(merged)
            merged[name] = entry
    with atomic_path(out_path) as tmp:
        tmp.write_text(yaml.safe_dump({"datasets": merged}, sort_keys=True), encoding="utf-8")
    return Path(out_path)


def _entry_metric(entry: Mapping[str, Any]) -> str:
    return "mAP" if entry.get("multilabel") else "accuracy"


def evaluate_models(models: Mapping[str, Mapping[str, Any]], registry: str | os.PathLike,
                    heldout_shards: Sequence[str | os.PathLike], ks: Sequence[int], seed: int = CONFIG["seed"],
                    retrieval_limit: int | None = CONFIG["retrieval_limit"], device: str = CONFIG["device"],
                    require_all: bool = CONFIG["require_all"]) -> dict[str, list[dict]]:
    """``models``: {label: baseline spec (:func:`mednarratives.benchmark.evaluate.load_baseline`)}.
    Returns {"table7", "table1", "table2", "retrieval_by_domain", "missing"} rows.

    A dataset whose files are absent, or a model whose files are absent, is ``missing``; one that raises
    while loading or evaluating is ``failed``. With ``require_all`` any of them stops the run
    (:class:`BenchmarkIncomplete`, naming them all that are known then); otherwise each gets rows whose
    values read ``missing`` / ``failed`` and a row in ``missing`` with the reason, and is logged."""
    import torch

    from mednarratives.benchmark.readers import missing_paths, resolve_paths
    from mednarratives.benchmark import evaluate as E

    torch.manual_seed(seed)
    entries, base = E.load_registry(registry)
    entries = {n: {**e, "splits": {k: resolve_paths(v, base) for k, v in (e.get("splits") or {}).items()}}
               for n, e in entries.items()}
    tdoc = E.load_templates()
    problems: list[dict] = []

    def problem(kind: str, name: str, status: str, reason: str) -> None:
        problems.append({"kind": kind, "name": name, "status": status, "reason": reason})
        log.warning("benchmark: %s %s %s: %s", kind, name, status, reason)

    absent_data = {n: missing_paths(entries[n]) for n in sorted(entries)}
    for name, paths in absent_data.items():
        if paths:
            problem("dataset", name, "missing", "not found: " + ", ".join(paths))
    for label in sorted(models):
        absent = [p for p in E.baseline_paths(models[label]) if not Path(p).exists()]
        if absent:
            problem("model", label, "missing", "not found: " + ", ".join(absent))

    def check() -> None:
        if require_all and problems:
            raise BenchmarkIncomplete(
                "benchmark incomplete (set benchmark.require_all: false to list these as missing in the tables "
                "instead): " + "; ".join(f"{p['kind']} {p['name']} {p['status']} ({p['reason']})" for p in problems))

    check()
    bad_models = {p["name"]: p["status"] for p in problems if p["kind"] == "model"}
    t7, t1, t2, by_domain = [], [], [], []
    for label in sorted(models):
        bundle = None
        if label not in bad_models:
            try:
                bundle = E.load_baseline(models[label], device=device)
            except Exception as err:  # noqa: BLE001 -- recorded, and fatal under require_all
                log.exception("model %s failed to load", label)
                problem("model", label, "failed", f"{type(err).__name__}: {err}")
                bad_models[label] = "failed"
                check()
        for name in sorted(entries):
            entry = entries[name]
            status = bad_models.get(label) or ("missing" if absent_data[name] else None)
            rows = []
            if status is None:
                try:
                    rows = E.evaluate_dataset(bundle, name, entry, base, tdoc, seed=seed)
                except Exception as err:  # noqa: BLE001 -- recorded, and fatal under require_all
                    log.exception("%s on %s failed", label, name)
                    problem("dataset", f"{name} ({label})", "failed", f"{type(err).__name__}: {err}")
                    check()
                    status = "failed"
            if status is not None:
                rows = [{"dataset": name, "task": t, "metric": _entry_metric(entry), "value": status}
                        for t in E.dataset_tasks(entry)]
            for r in rows:
                value = r["value"] if isinstance(r["value"], str) else round(float(r["value"]), 6)
                base_row = {"model": label, "dataset": r["dataset"], "metric": r["metric"], "value": value}
                if r["task"] == "zeroshot":
                    t7.append({**base_row, "n": r.get("n", "")})
                else:
                    t1.append({**base_row, "best_C": r.get("best_C", ""), "n_train": r.get("n_train", ""),
                               "n_test": r.get("n_test", "")})
        if heldout_shards:
            if bundle is None:
                t2.append({"model": label, "dataset": "heldout", "n": "", "mean": bad_models[label],
                           **{f"{d}_R@{k}": bad_models[label] for d in ("i2t", "t2i") for k in ks}})
                continue
            res = E.retrieval_from_shards(bundle, heldout_shards, ks=ks, limit=retrieval_limit)
            t2.append({"model": label, "dataset": "heldout", **_recall_row(res, ks)})
            by_domain += [{"model": label, "modality": d, **_recall_row(r, ks)} for d, r in res["by_group"].items()]
    return {"table7": t7, "table1": t1, "table2": t2, "retrieval_by_domain": by_domain, "missing": problems}


def _recall_row(res: Mapping[str, Any], ks: Sequence[int]) -> dict[str, Any]:
    row: dict[str, Any] = {"n": res["n"], "mean": round(res["mean"], 6)}
    for direction, short in (("image_to_text", "i2t"), ("text_to_image", "t2i")):
        for k in ks:
            row[f"{short}_R@{k}"] = round(res[direction][f"R@{k}"], 6)
    return row


T7_FIELDS = ("model", "dataset", "metric", "value", "n")
T1_FIELDS = ("model", "dataset", "metric", "value", "best_C", "n_train", "n_test")
MISSING_FIELDS = ("kind", "name", "status", "reason")


def t2_fields(ks: Sequence[int]) -> list[str]:
    return ["model", "dataset", "n"] + [f"i2t_R@{k}" for k in ks] + [f"t2i_R@{k}" for k in ks] + ["mean"]


def write_tables(tables: Mapping[str, list[dict]], ks: Sequence[int], table7: str, table1: str, table2: str) -> None:
    write_csv(table7, tables["table7"], T7_FIELDS)
    write_csv(table1, tables["table1"], T1_FIELDS)
    write_csv(table2, tables["table2"], t2_fields(ks))


# --------------------------------------------------------------------------- the paper's layout

DOMAIN_LABELS = {  # Table 7's domain order and headers
    "xray": "X-ray", "ct": "CT", "mri": "MRI", "mammography": "Mammography", "ultrasound": "Ultrasound",
    "ophthalmology": "Ophthalmology", "dermatology": "Dermatology", "endoscopy": "Endoscopy", "surgery": "Surgery",
    "dentistry": "Dental", "histopathology": "Histopathology",
}


def _ordered(entries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted(entries, key=lambda n: (entries[n].get("order", 0), n))


def _column(name: str, entry: Mapping[str, Any]) -> str:
    domain = entry.get("domain")
    head = DOMAIN_LABELS.get(domain, domain) if domain else ""
    if head and entry.get("multilabel"):
        head += " (mAP)"
    return f"{head}: {entry.get('column', name)}" if head else str(entry.get("column", name))


def _percent(value: Any) -> str:
    return value if isinstance(value, str) else f"{100 * float(value):.2f}"


def _numeric(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values if not isinstance(v, str) and not math.isnan(float(v))]


def _wide(rows: Sequence[Mapping[str, Any]], entries: Mapping[str, Mapping[str, Any]], names: Sequence[str],
          summary: str) -> tuple[list[dict], list[str]]:
    """One row per model, one column per dataset (percent, or missing/failed), the mean over the datasets
    that have a value (``summary``) and how many did (``datasets``)."""
    cols = {n: _column(n, entries[n]) for n in names}
    if len(set(cols.values())) < len(cols):
        raise ValueError(f"two datasets share a table column: {sorted(cols.values())}")
    out = []
    for model in sorted({r["model"] for r in rows}):
        values = {r["dataset"]: r["value"] for r in rows if r["model"] == model}
        row: dict[str, Any] = {"model": model}
        row.update({cols[n]: _percent(values[n]) if n in values else "" for n in names})
        present = _numeric([values[n] for n in names if n in values])
        row[summary] = f"{100 * sum(present) / len(present):.2f}" if present else ""
        row["datasets"] = f"{len(present)}/{len(names)}"
        out.append(row)
    return out, ["model", *cols.values(), summary, "datasets"]


def write_paper_tables(tables: Mapping[str, list[dict]], registry: str | os.PathLike, ks: Sequence[int],
                       table7: str, table1: str, table2: str, missing: str) -> None:
    """Tables 7, 1 and 2 in the paper's layout (percent, two decimals) and the list of what is missing."""
    from mednarratives.benchmark import evaluate as E

    entries, _ = E.load_registry(registry)
    names = _ordered(entries)
    zs = [n for n in names if "zeroshot" in E.dataset_tasks(entries[n])]
    lp = [n for n in names if "linear_probe" in E.dataset_tasks(entries[n])]
    rows7, fields7 = _wide(tables["table7"], entries, zs, "Overall")
    write_csv(table7, rows7, fields7)
    rows1, fields1 = _wide(tables["table1"], entries, lp, "Average")
    write_csv(table1, rows1, fields1)
    rows2 = []
    for r in tables["table2"]:
        domains = [d for d in tables["retrieval_by_domain"] if d["model"] == r["model"]]
        for src in [{**r, "modality": "all"}, *domains]:
            row = {"model": r["model"], "modality": src["modality"], "n": src["n"]}
            row.update({f"{name} R@{k}": _percent(src[f"{short}_R@{k}"])
                        for name, short in (("T2I", "t2i"), ("I2T", "i2t")) for k in ks})
            row["Avg"] = _percent(src["mean"])
            rows2.append(row)
    write_csv(table2, rows2, ["model", "modality", "n"] + [f"{d} R@{k}" for d in ("T2I", "I2T") for k in ks] + ["Avg"])
    write_csv(missing, tables["missing"], MISSING_FIELDS)


def plot_figure3(table7_rows: Sequence[Mapping[str, Any]], out_png: str | os.PathLike,
                 groups: Mapping[str, str] | None = None) -> None:
    """Grouped bar chart (Figure 3): one group per domain (``groups``: dataset -> domain; a dataset
    without one is its own group), one bar per model: the mean over the group's datasets that have a value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = groups or {}
    key = {r["dataset"]: groups.get(r["dataset"]) or r["dataset"] for r in table7_rows}
    datasets = sorted(set(key.values()))
    models = sorted({r["model"] for r in table7_rows})
    fig, ax = plt.subplots(figsize=(max(4, 1.5 * len(datasets) + 2), 3.5), dpi=100)
    width = 0.8 / max(len(models), 1)
    for i, m in enumerate(models):
        vals = []
        for d in datasets:
            v = _numeric([r["value"] for r in table7_rows if r["model"] == m and key[r["dataset"]] == d])
            vals.append(sum(v) / len(v) if v else 0.0)
        ax.bar([j + i * width for j in range(len(datasets))], vals, width, label=m)
    ax.set_xticks([j + width * (len(models) - 1) / 2 for j in range(len(datasets))])
    ax.set_xticklabels(datasets, rotation=20)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy / mAP")
    ax.set_title("Zero-shot by domain" if any(groups.values()) else "Zero-shot by dataset")
    if models:
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)


def run_benchmark(trained: Mapping[str, tuple[str, str, str]], baselines: Mapping[str, Mapping[str, str]],
                  registries: Sequence[str | os.PathLike], merged_registry: str | os.PathLike,
                  heldout_shards: Sequence[str], ks: Sequence[int], seed: int, retrieval_limit: int | None,
                  device: str, table7: str, table1: str, table2: str, figure3: str,
                  paper: Mapping[str, str] | None = None, data_root: str | os.PathLike | None = None,
                  require_all: bool = CONFIG["require_all"]) -> dict[str, list[dict]]:
    """trained: {variant: (model_config, weights, random_init)} -> rows "genmedclip-<v>" and "random-init-<v>";
    baselines: {label: spec} (:func:`mednarratives.benchmark.evaluate.load_baseline`; local files only).
    ``paper``: {"table7", "table1", "table2", "missing"} paths of the paper-layout tables."""
    models: dict[str, dict[str, Any]] = {}
    for variant, (cfg, weights, rnd) in sorted(trained.items()):
        model_dir = str(Path(cfg).parent)
        models[f"genmedclip-{variant}"] = {"model_dir": model_dir, "checkpoint": weights}
        models[f"random-init-{variant}"] = {"model_dir": model_dir, "checkpoint": rnd}
    for label, spec in sorted((baselines or {}).items()):
        if label in models:
            raise ValueError(f"baseline label {label!r} clashes with a trained model's")
        models[label] = dict(spec)
    Path(merged_registry).parent.mkdir(parents=True, exist_ok=True)
    reg = merge_registries(registries, merged_registry, data_root)
    tables = evaluate_models(models, reg, heldout_shards, ks, seed=seed, retrieval_limit=retrieval_limit,
                             device=device, require_all=require_all)
    write_tables(tables, ks, table7, table1, table2)
    if paper:
        write_paper_tables(tables, reg, ks, paper["table7"], paper["table1"], paper["table2"], paper["missing"])
    entries = yaml.safe_load(Path(reg).read_text(encoding="utf-8"))["datasets"]
    plot_figure3(tables["table7"], figure3, {n: e.get("domain") for n, e in entries.items()})
    return tables
