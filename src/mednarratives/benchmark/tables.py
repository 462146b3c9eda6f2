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

from mednarratives.dataset.assemble import write_csv
from mednarratives.io import atomic_path, read_jsonl

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


def merge_registries(paths: Sequence[str | os.PathLike], out_path: str | os.PathLike) -> Path:
    """One registry YAML from several (entries' relative paths made absolute against their own file)."""
    merged: dict[str, Any] = {}
    for p in paths:
        p = Path(p)
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        for name, entry in sorted((doc.get("datasets") or {}).items()):
            entry = dict(entry)
            entry["splits"] = {k: v if Path(v).is_absolute() else str((p.parent / v).resolve())
                               for k, v in (entry.get("splits") or {}).items()}
            merged[name] = entry
    with atomic_path(out_path) as tmp:
        tmp.write_text(yaml.safe_dump({"datasets": merged}, sort_keys=True), encoding="utf-8")
    return Path(out_path)


def evaluate_models(models: Mapping[str, Mapping[str, Any]], registry: str | os.PathLike,
                    heldout_shards: Sequence[str | os.PathLike], ks: Sequence[int], seed: int = 0,
                    retrieval_limit: int | None = None, device: str = "cpu") -> dict[str, list[dict]]:
    """``models``: {label: {"model_dir", "checkpoint"}}. Returns {"table7", "table1", "table2"} rows.
    A model or dataset that fails is logged and left out (one bad unit never stops the run)."""
    import torch

    from mednarratives.models import evaluate as E

    torch.manual_seed(seed)
    t7, t1, t2 = [], [], []
    for label in sorted(models):
        spec = models[label]
        try:
            bundle = E.load_model(spec["model_dir"], spec.get("checkpoint"), device=device)
        except Exception:  # noqa: BLE001
            log.exception("model %s failed to load", label)
            continue
        try:
            rows = E.evaluate_registry(bundle, registry, seed=seed)
        except Exception:  # noqa: BLE001
            log.exception("registry evaluation of %s failed", label)
            rows = []
        for r in rows:
            base = {"model": label, "dataset": r["dataset"], "metric": r["metric"], "value": round(float(r["value"]), 6)}
            if r["task"] == "zeroshot":
                t7.append({**base, "n": r.get("n", "")})
            else:
                t1.append({**base, "best_C": r.get("best_C", ""), "n_train": r.get("n_train", ""),
                           "n_test": r.get("n_test", "")})
        if heldout_shards:
            res = E.retrieval_from_shards(bundle, heldout_shards, ks=ks, limit=retrieval_limit)
            row = {"model": label, "dataset": "heldout", "n": res["n"], "mean": round(res["mean"], 6)}
            for direction, short in (("image_to_text", "i2t"), ("text_to_image", "t2i")):
                for k in ks:
                    row[f"{short}_R@{k}"] = round(res[direction][f"R@{k}"], 6)
            t2.append(row)
    return {"table7": t7, "table1": t1, "table2": t2}


T7_FIELDS = ("model", "dataset", "metric", "value", "n")
T1_FIELDS = ("model", "dataset", "metric", "value", "best_C", "n_train", "n_test")


def t2_fields(ks: Sequence[int]) -> list[str]:
    return ["model", "dataset", "n"] + [f"i2t_R@{k}" for k in ks] + [f"t2i_R@{k}" for k in ks] + ["mean"]


def write_tables(tables: Mapping[str, list[dict]], ks: Sequence[int], table7: str, table1: str, table2: str) -> None:
    write_csv(table7, tables["table7"], T7_FIELDS)
    write_csv(table1, tables["table1"], T1_FIELDS)
    write_csv(table2, tables["table2"], t2_fields(ks))


def plot_figure3(table7_rows: Sequence[Mapping[str, Any]], out_png: str | os.PathLike, title: str = "Zero-shot by dataset") -> None:
    """Grouped bar chart (Figure 3 style): one group per dataset, one bar per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({r["dataset"] for r in table7_rows})
    models = sorted({r["model"] for r in table7_rows})
    fig, ax = plt.subplots(figsize=(max(4, 1.5 * len(datasets) + 2), 3.5), dpi=100)
    width = 0.8 / max(len(models), 1)
    for i, m in enumerate(models):
        vals = []
        for d in datasets:
            v = [float(r["value"]) for r in table7_rows if r["model"] == m and r["dataset"] == d]
            vals.append(v[0] if v and not math.isnan(v[0]) else 0.0)
        ax.bar([j + i * width for j in range(len(datasets))], vals, width, label=m)
    ax.set_xticks([j + width * (len(models) - 1) / 2 for j in range(len(datasets))])
    ax.set_xticklabels(datasets, rotation=20)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy / mAP")
    ax.set_title(title)
    if models:
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)


def run_benchmark(trained: Mapping[str, tuple[str, str, str]], baselines: Mapping[str, Mapping[str, str]],
                  registries: Sequence[str | os.PathLike], merged_registry: str | os.PathLike,
                  heldout_shards: Sequence[str], ks: Sequence[int], seed: int, retrieval_limit: int | None,
                  device: str, table7: str, table1: str, table2: str, figure3: str) -> dict[str, list[dict]]:
    """trained: {variant: (model_config, weights, random_init)} -> rows "genmedclip-<v>" and "random-init-<v>";
    baselines: {label: {"model_dir", "checkpoint"}} (any OpenCLIP model from a local path)."""
    models: dict[str, dict[str, Any]] = {}
    for variant, (cfg, weights, rnd) in sorted(trained.items()):
        model_dir = str(Path(cfg).parent)
        models[f"genmedclip-{variant}"] = {"model_dir": model_dir, "checkpoint": weights}
        models[f"random-init-{variant}"] = {"model_dir": model_dir, "checkpoint": rnd}
    for label, spec in sorted((baselines or {}).items()):
        models[label] = {"model_dir": spec["model_dir"], "checkpoint": spec.get("checkpoint") or None}
    Path(merged_registry).parent.mkdir(parents=True, exist_ok=True)
    reg = merge_registries(registries, merged_registry)
    tables = evaluate_models(models, reg, heldout_shards, ks, seed=seed, retrieval_limit=retrieval_limit, device=device)
    write_tables(tables, ks, table7, table1, table2)
    plot_figure3(tables["table7"], figure3)
    return tables
