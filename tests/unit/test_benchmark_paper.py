"""The paper benchmark end to end on generated fixtures in the publishers' formats: a micro OpenCLIP model
(trained-model and random-init rows), a Hugging Face CLIP baseline and a missing baseline -> Tables 7, 1, 2
in the paper's layout and the long format; then half the datasets removed; then require_all."""

import csv
import json
import shutil

import numpy as np
import pytest
import torch
import yaml

from conftest import PAPER_REGISTRY
from mednarratives.benchmark.fixtures import write_paper_fixtures
from mednarratives.benchmark.tables import BenchmarkIncomplete, run_benchmark
from mednarratives.dataset import write_shards
from mednarratives.models import clip_configs as C
from micro_clip import micro_clip_spec

MICRO = micro_clip_spec()


def _micro_model(tmp_path):
    import open_clip

    model_dir = C.write_model_dir(MICRO, tmp_path / "micro" / "model")
    torch.manual_seed(0)
    model = open_clip.create_model(C.model_name(model_dir), load_weights=False, pretrained_text=False)
    weights, rnd = tmp_path / "micro" / "weights.pt", tmp_path / "micro" / "random_init.pt"
    torch.save({"state_dict": model.state_dict()}, weights)
    torch.manual_seed(1)
    torch.save({"state_dict": open_clip.create_model(C.model_name(model_dir), load_weights=False,
                                                     pretrained_text=False).state_dict()}, rnd)
    return str(model_dir / C.CONFIG_NAME), str(weights), str(rnd)


def _hf_clip(path):
    """A tiny transformers CLIPModel directory with a byte-level CLIP tokenizer (no merges)."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    path.mkdir()
    bs = [*range(33, 127), *range(161, 173), *range(174, 256)]
    cs = bs + [256 + i for i in range(256 - len(bs))]
    chars = [chr(c) for c in cs]
    vocab = {t: i for i, t in enumerate(chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"])}
    (path / "vocab.json").write_text(json.dumps(vocab))
    (path / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(str(path / "vocab.json"), str(path / "merges.txt")).save_pretrained(path)
    eos = vocab["<|endoftext|>"]
    cfg = CLIPConfig(text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                      num_attention_heads=2, max_position_embeddings=32, eos_token_id=eos,
                                      bos_token_id=eos - 1, pad_token_id=eos),
                     vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                        num_attention_heads=2, image_size=32, patch_size=8), projection_dim=16)
    torch.manual_seed(0)
    CLIPModel(cfg).save_pretrained(path)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(path)
    return path


def _read(path):
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _run(tmp_path, out, data_root, baselines, shards, require_all):
    out.mkdir()
    paper = {k: str(out / f"{k}_paper.csv") for k in ("table7", "table1", "table2")}
    paper["missing"] = str(out / "missing.csv")
    return run_benchmark({"micro": _micro_model_cached(tmp_path)}, baselines, [PAPER_REGISTRY], out / "merged.yaml",
                         shards, [1, 50, 200], 0, None, "cpu", str(out / "t7.csv"), str(out / "t1.csv"),
                         str(out / "t2.csv"), str(out / "f3.png"), paper=paper, data_root=data_root,
                         require_all=require_all)


_MODELS = {}


def _micro_model_cached(tmp_path):
    return _MODELS.setdefault(str(tmp_path), _micro_model(tmp_path))


@pytest.fixture
def one_thread():
    """Micro models: starting torch's threads costs more than the work (halves this test's time)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_paper_benchmark_on_native_format_fixtures(tmp_path, one_thread):
    data = write_paper_fixtures(tmp_path / "data", PAPER_REGISTRY)
    rng = np.random.default_rng(0)
    shards = write_shards([{"key": f"k{i}", "image": rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
                            "caption": f"caption {i}", "meta": {"domain": ("ct", "histopathology")[i % 2]}}
                           for i in range(10)], tmp_path / "heldout", "heldout")
    baselines = {"pubmedclip-like": {"format": "hf_clip", "model_dir": str(_hf_clip(tmp_path / "hf"))},
                 "biomedclip": {"model_dir": str(tmp_path / "not-downloaded")}}
    entries = yaml.safe_load(PAPER_REGISTRY.read_text())["datasets"]
    probe = [n for n, e in entries.items() if "linear_probe" in e["tasks"]]

    # every dataset present; the absent baseline is listed as missing (require_all off)
    out = tmp_path / "full"
    _run(tmp_path, out, data, baselines, shards, require_all=False)
    t7 = _read(out / "table7_paper.csv")
    assert [r["model"] for r in t7] == ["biomedclip", "genmedclip-micro", "pubmedclip-like", "random-init-micro"]
    header = list(t7[0])
    assert header[1] == "X-ray (mAP): vindrXR" and header[2] == "CT: lung" and header[-2:] == ["Overall", "datasets"]
    assert "Mammography (mAP): vindrM" in header and header[-3] == "Histopathology: osteo" and len(header) == 29 + 3
    for r in t7:
        cells = [r[h] for h in header[1:-2]]
        if r["model"] == "biomedclip":
            assert set(cells) == {"missing"} and r["datasets"] == "0/29" and r["Overall"] == ""
        else:
            assert all(0 <= float(c) <= 100 for c in cells) and r["datasets"] == "29/29"
            assert float(r["Overall"]) == pytest.approx(np.mean([float(c) for c in cells]), abs=0.01)
    t1 = _read(out / "table1_paper.csv")
    assert list(t1[0])[1:-2] == ["Mammography (mAP): vindrM", "Dermatology: isic", "Histopathology: pcam",
                                 "Histopathology: nck", "Histopathology: mhist"] and len(probe) == 5
    t2 = _read(out / "table2_paper.csv")
    assert [(r["model"], r["modality"]) for r in t2 if r["model"] == "genmedclip-micro"] == [
        ("genmedclip-micro", "all"), ("genmedclip-micro", "ct"), ("genmedclip-micro", "histopathology")]
    assert list(t2[0])[3:] == ["T2I R@1", "T2I R@50", "T2I R@200", "I2T R@1", "I2T R@50", "I2T R@200", "Avg"]
    assert [r["T2I R@50"] for r in t2 if r["model"] == "biomedclip"] == ["missing"]
    long7 = _read(out / "t7.csv")
    assert len(long7) == 4 * 29 and {r["value"] for r in long7 if r["model"] == "biomedclip"} == {"missing"}
    assert len(_read(out / "t1.csv")) == 4 * 5
    assert [(r["kind"], r["name"], r["status"]) for r in _read(out / "missing.csv")] == [
        ("model", "biomedclip", "missing")]

    # half the datasets' folders removed: listed as missing, the run still ends
    for folder in ("radiology_ai", "vindr-mammo", "pcam", "isic2018", "lung_colon_image_set", "G1020", "mhist",
                   "skincancer"):
        shutil.rmtree(data / folder)
    gone = {"vindr_mammo", "pcam", "isic", "lc25000_lung", "lc25000_colon", "g1020", "mhist", "skin", "skin_tumor"} | {
        n for n in entries if n.startswith("radimagenet")}
    out = tmp_path / "half"
    _run(tmp_path, out, data, {}, shards, require_all=False)
    assert {r["name"] for r in _read(out / "missing.csv")} == gone and len(gone) >= 29 / 2
    columns = dict(zip(entries, header[1:30]))                        # the registry's order is the table's
    for r in _read(out / "table7_paper.csv"):
        assert [n for n in entries if r[columns[n]] == "missing"] == [n for n in entries if n in gone]
        assert r["datasets"] == f"{29 - len(gone)}/29"
    assert {r["value"] for r in _read(out / "t7.csv") if r["dataset"] in gone} == {"missing"}

    # require_all: the run fails, naming every missing dataset
    with pytest.raises(BenchmarkIncomplete) as err:
        _run(tmp_path, tmp_path / "strict", data, {}, shards, require_all=True)
    assert all(f"dataset {n} missing" in str(err.value) for n in gone)
