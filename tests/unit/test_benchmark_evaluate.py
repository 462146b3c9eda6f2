"""Evaluation: Recall@K, mAP, zero-shot with templates, linear probe, dataset registry loaders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from mednarratives.models import clip_configs as C
from mednarratives.benchmark import evaluate as E
from micro_clip import micro_clip_spec

MICRO = micro_clip_spec()


# ----------------------------------------------------------------------------- retrieval


def test_recall_at_k_on_a_constructed_similarity_matrix():
    sim = np.array([[0.9, 0.1, 0.8],
                    [0.2, 0.5, 0.7],
                    [0.3, 0.95, 0.4]])
    # image->text ranks of the true text: 0, 1, 1; text->image ranks of the true image: 0, 1, 2
    r = E.recall_at_k(sim, ks=(1, 2, 5))
    assert r["image_to_text"] == {"R@1": pytest.approx(1 / 3), "R@2": 1.0, "R@5": 1.0}
    assert r["text_to_image"] == {"R@1": pytest.approx(1 / 3), "R@2": pytest.approx(2 / 3), "R@5": 1.0}
    assert r["k_effective"] == {"R@1": 1, "R@2": 2, "R@5": 3}
    assert r["mean"] == pytest.approx(13 / 18) and r["n"] == 3


def test_recall_paper_ks_and_ties():
    n = 300
    sim = np.zeros((n, n))
    np.fill_diagonal(sim, 1.0)
    for i in range(n):                                       # 10 distractors beat every true pair
        sim[i, [(i + d) % n for d in range(1, 11)]] = 2.0
    r = E.recall_at_k(sim)                                   # default K = 5, 50, 200
    assert set(r["image_to_text"]) == {"R@5", "R@50", "R@200"}
    assert r["image_to_text"] == {"R@5": 0.0, "R@50": 1.0, "R@200": 1.0} == r["text_to_image"]
    assert E.recall_at_k(sim, ks=(10, 11))["image_to_text"] == {"R@10": 0.0, "R@11": 1.0}
    ties = E.recall_at_k(np.ones((4, 4)), ks=(1,))            # ties count in the query's favour
    assert ties["image_to_text"]["R@1"] == 1.0 and ties["text_to_image"]["R@1"] == 1.0


# ----------------------------------------------------------------------------- classification metrics


def test_mean_average_precision_toy_case_and_sklearn():
    from sklearn.metrics import average_precision_score

    targets = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
    scores = np.array([[0.9, 0.7, 0.1], [0.2, 0.3, 0.2], [0.4, 0.8, 0.3], [0.6, 0.5, 0.4]])
    # class 0: P N P N by score -> (1 + 2/3) / 2 = 5/6; class 1: P N N P -> (1 + 2/4) / 2 = 3/4;
    # class 2 has no positive and is skipped
    assert E.mean_average_precision(targets, scores) == pytest.approx((5 / 6 + 3 / 4) / 2)
    assert E.mean_average_precision(targets, scores) == pytest.approx(
        average_precision_score(targets[:, :2], scores[:, :2], average="macro"))


def test_accuracy():
    assert E.accuracy(np.array([0, 1, 2, 1]), np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])) == 0.5


class _FakeTokenizer:
    """Text -> one-hot of the first class word it contains (so class embeddings are the axes)."""

    def __init__(self, words):
        self.words = words
        self.seen = []

    def __call__(self, texts):
        self.seen.extend(texts)
        out = torch.zeros(len(texts), len(self.words))
        for i, t in enumerate(texts):
            for j, w in enumerate(self.words):
                if w in t:
                    out[i, j] = 1.0
                    break
        return out


class _FakeModel:
    def encode_text(self, tokens, normalize=True):
        return torch.nn.functional.normalize(tokens, dim=-1) if normalize else tokens


def test_zero_shot_uses_the_templates_and_scores_exactly():
    classes = ["benign", "malignant", "normal"]
    tok = _FakeTokenizer(classes)
    bundle = E.ClipBundle(model=_FakeModel(), preprocess=None, tokenizer=tok)
    templates = E.templates_for("isic")
    assert templates == ["{c} presented in image", "evidence of {c} in image", "an image showing {c}"]
    data = E.LabeledImages("toy", [None] * 4, np.array([0, 1, 2, 1]), classes, classes)
    feats = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.9, 0.1, 0]], np.float32)
    res = E.zero_shot_evaluate(bundle, data, templates, image_features=feats)
    assert res == {"metric": "accuracy", "value": 0.75, "n": 4}
    assert "evidence of malignant in image" in tok.seen and "an image showing normal" in tok.seen
    multi = E.LabeledImages("toy", [None] * 2, np.array([[1, 0, 1], [0, 1, 0]]), classes, classes, multilabel=True)
    res = E.zero_shot_evaluate(bundle, multi, templates, image_features=np.array([[1, 0, 0.5], [0, 1, 0]]))
    assert res["metric"] == "mAP" and res["value"] == 1.0


def test_table_6_template_groups():
    assert E.templates_for("pcam")[0] == "a histopathology slide showing {c}."
    assert len(E.templates_for("NCK")) == 4 and len(E.templates_for("vindr_cxr")) == 3
    assert E.templates_for("unknown_set") == E.templates_for("dresden")


# ----------------------------------------------------------------------------- linear probe


def _blobs(n_per_class, seed):
    rng = np.random.default_rng(seed)
    centers = np.eye(3, 8) * 4
    x = np.concatenate([c + rng.normal(0, 1, (n_per_class, 8)) for c in centers])
    y = np.repeat(np.arange(3), n_per_class)
    return x, y


def test_linear_probe_is_deterministic_and_picks_c_on_val():
    trx, try_ = _blobs(30, 0)
    vax, vay = _blobs(10, 1)
    tex, tey = _blobs(10, 2)
    a = E.linear_probe(trx, try_, tex, tey, vax, vay, Cs=(1e-4, 1.0, 10.0))
    b = E.linear_probe(trx, try_, tex, tey, vax, vay, Cs=(1e-4, 1.0, 10.0))
    assert a == b
    assert a["metric"] == "accuracy" and a["value"] >= 0.9
    best = max(a["val_scores"].values())
    assert a["best_C"] == next(c for c, v in a["val_scores"].items() if v == best)   # first best C wins
    assert (a["n_train"], a["n_val"], a["n_test"]) == (90, 30, 30)
    no_val = E.linear_probe(trx, try_, tex, tey, Cs=(1.0,))
    assert (no_val["n_train"], no_val["n_val"]) == (72, 18) and no_val["best_C"] == 1.0


def test_linear_probe_multilabel_reports_map():
    x, y = _blobs(20, 0)
    targets = np.stack([y == 0, y != 0], axis=1).astype(int)
    res = E.linear_probe(x, targets, x, targets, x, targets, Cs=(1.0,), multilabel=True)
    assert res["metric"] == "mAP" and res["value"] > 0.95


# ----------------------------------------------------------------------------- datasets and real model


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((20, 20, 3), value, np.uint8)).save(path)


def test_imagefolder_and_csv_registry(tmp_path):
    root = tmp_path / "data"
    for split, n in (("train", 4), ("test", 2)):
        for cls, value in (("benign", 30), ("malignant_tumor", 200)):
            for i in range(n):
                _png(root / "derm" / split / cls / f"{i}.png", value + i)
    (root / "cxr").mkdir()
    for i in range(3):
        _png(root / "cxr" / "img" / f"{i}.png", 50 * i)
    (root / "cxr" / "test.csv").write_text("path,labels\nimg/0.png,nodule|effusion\nimg/1.png,\nimg/2.png,effusion\n")
    entry = {"format": "imagefolder", "splits": {"train": "derm/train", "test": "derm/test"},
             "classnames": {"malignant_tumor": "malignant melanoma"}}
    splits = E.load_dataset("isic", entry, root)
    assert splits["train"].classes == ["benign", "malignant_tumor"]
    assert splits["train"].classnames == ["benign", "malignant melanoma"]
    assert splits["test"].labels.tolist() == [0, 0, 1, 1] and len(splits["train"].paths) == 8

    csv = E.load_dataset("vindr_cxr", {"format": "csv", "multilabel": True, "splits": {"test": "cxr/test.csv"},
                                       "classes": ["effusion", "nodule", "mass"]}, root)["test"]
    assert csv.labels.tolist() == [[1, 1, 0], [0, 0, 0], [1, 0, 0]] and csv.classnames[2] == "mass"

    registry = tmp_path / "registry.yaml"
    registry.write_text(
        "datasets:\n"
        "  isic: {format: imagefolder, splits: {train: data/derm/train, test: data/derm/test}}\n"
        "  vindr_cxr: {format: csv, multilabel: true, splits: {test: data/cxr/test.csv}}\n")
    bundle = E.load_model(C.write_model_dir(MICRO, tmp_path / "model"))   # random-init micro model
    rows = E.evaluate_registry(bundle, registry, Cs=(1.0,))
    assert [(r["dataset"], r["task"], r["metric"]) for r in rows] == [
        ("isic", "zeroshot", "accuracy"), ("isic", "linear_probe", "accuracy"), ("vindr_cxr", "zeroshot", "mAP")]
    assert all(0.0 <= r["value"] <= 1.0 for r in rows)


def test_retrieval_from_shards_with_a_real_model(tmp_path):
    from mednarratives.dataset import write_shards

    rng = np.random.default_rng(0)
    samples = [{"key": f"k{i}", "image": rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
                "caption": f"caption number {i}", "meta": {"domain": "ct" if i < 4 else "mri"}} for i in range(12)]
    shards = write_shards(samples, tmp_path / "heldout", "test", maxcount=5)
    bundle = E.load_model(C.write_model_dir(MICRO, tmp_path / "model"))
    r = E.retrieval_from_shards(bundle, shards)
    assert r["n"] == 12 and r["k_effective"] == {"R@5": 5, "R@50": 12, "R@200": 12}
    assert r["image_to_text"]["R@50"] == 1.0 and r["text_to_image"]["R@200"] == 1.0
    assert {d: g["n"] for d, g in r["by_group"].items()} == {"ct": 4, "mri": 8}
    assert r["by_group"]["ct"]["k_effective"]["R@5"] == 4 and r["by_group"]["ct"]["image_to_text"]["R@5"] == 1.0
    assert E.encode_images(bundle, [s["image"] for s in samples[:3]]).shape == (3, 32)
