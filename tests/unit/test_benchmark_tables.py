"""Assembled shards -> open_clip_train (unmodified, via train_variant) -> demo registry -> benchmark tables."""

import csv
import json

import numpy as np
from PIL import Image

from mednarratives.benchmark.tables import build_demo_registry, run_benchmark
from mednarratives.dataset.assemble import assemble
from mednarratives.io import write_jsonl
from mednarratives.models.genmedclip import train_variant
from micro_clip import micro_clip_spec

MICRO = micro_clip_spec()


def _corpus(tmp_path, n_groups=10):
    rng = np.random.default_rng(0)
    recs = []
    for g in range(n_groups):
        domain = ("ct", "histopathology")[g % 2]
        for c in range(2):
            base = np.full((40, 40, 3), (60, 60, 60) if domain == "ct" else (200, 80, 160), np.uint8)
            img = np.clip(base + rng.integers(0, 255, (5, 5, 3)).repeat(8, 0).repeat(8, 1) // 2, 0, 255).astype(np.uint8)
            path = tmp_path / f"g{g}c{c}.png"
            Image.fromarray(img).save(path)
            recs.append({"sample_id": f"v:g{g}:{c:04d}", "source": "video", "image": str(path), "width": 40,
                         "height": 40, "caption": f"{domain} image number {c}", "roi_text": "", "domain": domain,
                         "timed_caption": [], "traces": [], "boxes": [], "keywords": [], "entities": [],
                         "inline_refs": [], "provenance": {"video_id": f"g{g}", "start": 0, "end": 1}})
    write_jsonl(tmp_path / "samples.jsonl", recs)
    return tmp_path / "samples.jsonl"


def test_assembled_shards_train_and_benchmark(tmp_path):
    samples = _corpus(tmp_path)
    out = tmp_path / "dataset"
    summary = assemble([samples], out, tmp_path / "ledger.jsonl", heldout_fraction=0.4, seed=3, max_hamming=-1,
                       min_heldout_groups=2)
    assert summary["counts"]["train"] > 0 and summary["counts"]["heldout"] > 0
    model = tmp_path / "m"
    train_variant(MICRO, summary["shards"]["train"], model / "model" / "open_clip_config.json", model / "weights.pt",
                  model / "random_init.pt", tmp_path / "logs",
                  settings={"epochs": 1, "batch_size": 4, "lr": 1e-3, "warmup": 1, "tokenizer_dir": ""}, seed=0,
                  threads=1)
    assert (model / "weights.pt").stat().st_size > 0 and (model / "random_init.pt").stat().st_size > 0
    reg = build_demo_registry(out / "localized_narratives.sidecar.jsonl", tmp_path / "reg")
    bench = tmp_path / "bench"
    bench.mkdir()
    tables = run_benchmark({"micro": (str(model / "model" / "open_clip_config.json"), str(model / "weights.pt"),
                                      str(model / "random_init.pt"))}, {}, [reg], bench / "merged.yaml",
                           summary["shards"]["heldout"], [1, 5], 0, None, "cpu", str(bench / "t7.csv"),
                           str(bench / "t1.csv"), str(bench / "t2.csv"), str(bench / "f3.png"))
    models = {r["model"] for r in tables["table2"]}
    assert models == {"genmedclip-micro", "random-init-micro"}
    with open(bench / "t7.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["model"] for r in rows} == models and all(0 <= float(r["value"]) <= 1 for r in rows)
    assert all(r["dataset"] == "demo_domains" for r in rows)
    assert len(list(csv.DictReader(open(bench / "t1.csv")))) == 2
    assert (bench / "f3.png").read_bytes()[:4] == b"\x89PNG"
    t2 = list(csv.DictReader(open(bench / "t2.csv")))
    assert int(t2[0]["n"]) == summary["counts"]["heldout"] and "t2i_R@5" in t2[0]


def _tiny_registry(tmp_path):
    for split in ("train", "test"):
        for cls, value in (("ct", 60), ("histopathology", 200)):
            for i in range(3):
                path = tmp_path / "data" / split / cls / f"{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.full((16, 16, 3), value + 10 * i, np.uint8)).save(path)
    reg = tmp_path / "registry.yaml"
    reg.write_text("datasets:\n  domains: {format: imagefolder, splits: {train: data/train, test: data/test}}\n"
                   "  gone: {format: imagefolder, splits: {test: data/not-there}}\n")
    return reg


def test_missing_and_failing_models_and_datasets(tmp_path):
    import open_clip
    import pytest
    import torch

    from mednarratives.benchmark.tables import BenchmarkIncomplete, evaluate_models
    from mednarratives.models import clip_configs as C

    reg = _tiny_registry(tmp_path)
    (tmp_path / "micro-arch.json").write_text(json.dumps(MICRO["model_cfg"]))
    open_clip.add_model_config(tmp_path / "micro-arch.json")     # a built-in-style architecture name
    torch.save(open_clip.create_model("micro-arch").state_dict(), tmp_path / "micro.bin")
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    models = {"arch": {"arch": "micro-arch", "checkpoint": str(tmp_path / "micro.bin")},
              "broken": {"model_dir": str(C.write_model_dir(MICRO, tmp_path / "m")),
                         "checkpoint": str(tmp_path / "broken.pt")},
              "absent": {"model_dir": str(tmp_path / "nowhere")}}
    with pytest.raises(BenchmarkIncomplete, match=r"dataset gone missing .*data/not-there.*model absent missing"):
        evaluate_models(models, reg, [], [1], require_all=True)
    tables = evaluate_models(models, reg, [], [1], require_all=False)
    t7 = {(r["model"], r["dataset"]): r["value"] for r in tables["table7"]}
    assert isinstance(t7[("arch", "domains")], float) and t7[("arch", "gone")] == "missing"
    assert t7[("broken", "domains")] == "failed" and t7[("absent", "domains")] == "missing"
    assert [(r["model"], r["dataset"], r["value"]) for r in tables["table1"]] == [
        ("absent", "domains", "missing"), ("arch", "domains", tables["table1"][1]["value"]),
        ("broken", "domains", "failed")]
    assert [(p["kind"], p["name"], p["status"]) for p in tables["missing"]] == [
        ("dataset", "gone", "missing"), ("model", "absent", "missing"), ("model", "broken", "failed")]
