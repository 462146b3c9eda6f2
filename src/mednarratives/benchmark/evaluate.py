"""Evaluate OpenCLIP checkpoints: zero-shot classification (Table 6 templates; Table 7 / Fig. 3),
linear probing (Table 1) and cross-modal retrieval Recall@K (Table 2). CPU-friendly, offline.

Models
    :func:`load_model` builds the architecture from a model directory written by
    :mod:`mednarratives.models.clip_configs` (``open_clip_config.json`` [+ tokenizer files]) and
    loads a local checkpoint (an open_clip_train ``epoch_N.pt``, an exported ``{"state_dict"}`` or
    a bare state dict); :func:`load_baseline` also loads open_clip built-in architectures with a local
    state dict and Hugging Face ``CLIPModel`` directories. Features are L2-normalised float32 arrays.

Dataset registry (YAML, paths relative to the registry file unless absolute)::

    datasets:
      pcam:                                   # the name picks Table 6's template group
        format: imagefolder                   # or: csv, hdf5 (mednarratives.benchmark.readers)
        splits:                               # any of train / val / test
          train: pcam/train
          test: pcam/test
        classes: [normal, tumor]              # optional: class order (default: sorted labels)
        classnames: {tumor: lymph node metastasis}   # optional: label -> prompt text
        template_group: histopathology        # optional: overrides the templates file mapping
        multilabel: false                     # csv only
        tasks: [zeroshot, linear_probe]

    ImageFolder layout: ``<split dir>/<label>/<image file>`` (one sub-directory per class, images
    found recursively below it). CSV layout (header row, image paths relative to the CSV file)::

        path,label                  # single-label: one class label per row
        img/0001.png,tumor
        path,labels                 # multi-label: '|'-separated labels, empty = no finding
        img/0002.png,nodule|effusion

    Both, and the publishers' own layouts (column names, one-hot labels, DICOM, HDF5), are read by
    :mod:`mednarratives.benchmark.readers`; its docstring lists the reader options.
    Class order for a dataset is ``classes`` if given, else the sorted union of labels over its
    splits; prompt text is ``classnames[label]`` if given, else the label with '_' -> ' '.

Metrics
    zero-shot: top-1 accuracy (single-label) or mAP (multi-label: mean over classes with at least
    one positive of average precision, as sklearn's ``average_precision_score``).
    linear probe: scikit-learn LogisticRegression (lbfgs, deterministic) on frozen normalised image
    features; C chosen on the val split (or a stratified 20% hold-out of train, seed 0), the first
    best C of the grid winning ties; then refit on train+val, scored on test.
    retrieval: pair i is image i with caption i; the rank of the true match is the number of
    candidates scoring strictly higher (ties resolved in the query's favour); Recall@K is the
    fraction of queries whose rank < min(K, N). All metrics are fractions in [0, 1].
"""

from __future__ import annotations

import importlib.resources
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import yaml

from mednarratives.models.clip_configs import model_name

log = logging.getLogger(__name__)

DEFAULT_TEMPLATES = importlib.resources.files("mednarratives.benchmark") / "data" / "zeroshot_templates.yaml"  # Table 6
DEFAULT_KS = (5, 50, 200)
DEFAULT_CS = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)


# --------------------------------------------------------------------------- model


@dataclass
class ClipBundle:
    model: Any
    preprocess: Callable
    tokenizer: Callable
    device: str = "cpu"


def load_model(model_dir: str | os.PathLike, checkpoint: str | os.PathLike | None = None,
               device: str = "cpu") -> ClipBundle:
    """Model (eval mode), validation transform and tokenizer of a local-dir model.

    ``checkpoint``: an open_clip_train checkpoint, an exported ``{"state_dict"}`` file or a bare
    state dict. None: the directory's own initial weights if it has them, else random init.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import open_clip

    name = model_name(model_dir)
    model, _, preprocess = open_clip.create_model_and_transforms(
        name, load_weights=checkpoint is None, pretrained_text=False, device=device)
    if checkpoint is not None:
        open_clip.load_checkpoint(model, os.fspath(checkpoint), strict=True, weights_only=True)
    model.eval()
    tokenizer = open_clip.get_tokenizer(name)
    return ClipBundle(model=model, preprocess=preprocess, tokenizer=tokenizer, device=device)


BASELINE_FORMATS = ("open_clip", "hf_clip")


def baseline_paths(spec: Mapping[str, Any]) -> list[str]:
    """The local files and folders a baseline spec (``benchmark.baselines`` entry) names."""
    return [str(spec[k]) for k in ("model_dir", "checkpoint") if spec.get(k)]


def load_baseline(spec: Mapping[str, Any], device: str = "cpu") -> ClipBundle:
    """A baseline from local files only (nothing is downloaded):

    * ``{format: open_clip, model_dir: D}``: an open_clip ``local-dir`` model (``open_clip_config.json``,
      weights ``open_clip_pytorch_model.bin`` in D or ``checkpoint``), e.g. a BiomedCLIP snapshot;
    * ``{format: open_clip, arch: ViT-B-32, checkpoint: F}``: an open_clip built-in architecture with
      an open_clip state dict file F (e.g. CLIP ViT-B/32 or B/16);
    * ``{format: hf_clip, model_dir: D}``: a Hugging Face ``CLIPModel`` directory (``config.json``,
      weights, tokenizer and preprocessor files), e.g. PubMedCLIP.
    """
    fmt = spec.get("format", "open_clip")
    if fmt == "hf_clip":
        return _load_hf_clip(spec["model_dir"], device)
    if fmt != "open_clip":
        raise ValueError(f"unknown baseline format {fmt!r} (one of {', '.join(BASELINE_FORMATS)})")
    if spec.get("arch"):
        import open_clip

        if not spec.get("checkpoint"):
            raise ValueError(f"baseline arch {spec['arch']!r} needs a local checkpoint")
        model, _, preprocess = open_clip.create_model_and_transforms(
            spec["arch"], pretrained=os.fspath(spec["checkpoint"]), device=device)
        model.eval()
        return ClipBundle(model=model, preprocess=preprocess, tokenizer=open_clip.get_tokenizer(spec["arch"]),
                          device=device)
    return load_model(spec["model_dir"], spec.get("checkpoint") or None, device=device)


class _HFClipModel:
    """open_clip's ``encode_image`` / ``encode_text`` interface over a transformers ``CLIPModel``."""

    def __init__(self, model):
        import types

        self.model = model
        self.visual = types.SimpleNamespace(output_dim=int(model.config.projection_dim))

    @staticmethod
    def _out(features, normalize: bool):
        import torch.nn.functional as F

        return F.normalize(features, dim=-1) if normalize else features

    def encode_image(self, pixel_values, normalize: bool = False):
        return self._out(self.model.get_image_features(pixel_values=pixel_values).pooler_output, normalize)

    def encode_text(self, input_ids, normalize: bool = False):
        # causal text attention pools at the first end-of-text token, so padding after it needs no mask
        return self._out(self.model.get_text_features(input_ids=input_ids).pooler_output, normalize)


def _load_hf_clip(model_dir: str | os.PathLike, device: str) -> ClipBundle:
    from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

    model = CLIPModel.from_pretrained(os.fspath(model_dir), local_files_only=True).to(device).eval()
    processor = CLIPImageProcessor.from_pretrained(os.fspath(model_dir), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(os.fspath(model_dir), local_files_only=True)
    context = int(model.config.text_config.max_position_embeddings)

    def preprocess(image):
        return processor(images=image, return_tensors="pt")["pixel_values"][0]

    def tokenize(texts):
        return tokenizer(list(texts), padding="max_length", truncation=True, max_length=context,
                         return_tensors="pt")["input_ids"]

    return ClipBundle(model=_HFClipModel(model), preprocess=preprocess, tokenizer=tokenize, device=device)


def _open_image(image: Any):
    from PIL import Image

    from mednarratives.benchmark.readers import open_image

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, (bytes, bytearray, memoryview)):
        with Image.open(io.BytesIO(bytes(image))) as im:
            return im.convert("RGB")
    if isinstance(image, np.ndarray):
        return Image.fromarray(image).convert("RGB")
    return open_image(image)


def encode_images(bundle: ClipBundle, images: Sequence[Any], batch_size: int = 64) -> np.ndarray:
    """(N, D) normalised image features; images are paths, PIL images, uint8 arrays or bytes."""
    import torch

    feats = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            batch = torch.stack([bundle.preprocess(_open_image(im)) for im in images[start:start + batch_size]])
            feats.append(bundle.model.encode_image(batch.to(bundle.device), normalize=True).float().cpu().numpy())
    if not feats:
        return np.zeros((0, _embed_dim(bundle)), np.float32)
    return np.concatenate(feats).astype(np.float32)


def encode_texts(bundle: ClipBundle, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """(N, D) normalised text features."""
    import torch

    feats = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            tokens = bundle.tokenizer(list(texts[start:start + batch_size])).to(bundle.device)
            feats.append(bundle.model.encode_text(tokens, normalize=True).float().cpu().numpy())
    if not feats:
        return np.zeros((0, _embed_dim(bundle)), np.float32)
    return np.concatenate(feats).astype(np.float32)


def _embed_dim(bundle: ClipBundle) -> int:
    proj = getattr(bundle.model.visual, "output_dim", None)
    return int(proj) if proj else 0


# --------------------------------------------------------------------------- templates


def load_templates(path: str | os.PathLike | None = None) -> dict[str, Any]:
    with open(path or DEFAULT_TEMPLATES, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def templates_for(dataset: str, doc: Mapping[str, Any] | None = None, group: str | None = None) -> list[str]:
    """Table 6 templates (with ``{c}``) for a dataset name (or an explicit group)."""
    doc = doc or load_templates()
    key = dataset.lower().replace("-", "_")
    group = group or doc.get("datasets", {}).get(key) or doc.get("default_group", "generic")
    return list(doc["templates"][group])


def zero_shot_classifier(bundle: ClipBundle, classnames: Sequence[str], templates: Sequence[str]) -> np.ndarray:
    """(D, C) class embeddings: templates filled with each class name, embedded, averaged and
    re-normalised (open_clip's build_zero_shot_classifier). Templates use ``{c}``."""
    from open_clip import build_zero_shot_classifier

    fillers = [(lambda c, t=t: t.replace("{c}", c)) for t in templates]
    weights = build_zero_shot_classifier(bundle.model, bundle.tokenizer, list(classnames), fillers,
                                         num_classes_per_batch=10, device=bundle.device)
    return weights.float().cpu().numpy()


# --------------------------------------------------------------------------- metrics


def accuracy(labels: np.ndarray, scores: np.ndarray) -> float:
    """Top-1 accuracy; ``labels`` (N,) class indices, ``scores`` (N, C). Ties -> lowest index."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        return float("nan")
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def mean_average_precision(targets: np.ndarray, scores: np.ndarray) -> float:
    """Mean over classes with >= 1 positive of average precision (sklearn's definition)."""
    from sklearn.metrics import average_precision_score

    targets = np.asarray(targets)
    scores = np.asarray(scores, dtype=np.float64)
    aps = [average_precision_score(targets[:, c], scores[:, c])
           for c in range(targets.shape[1]) if targets[:, c].sum() > 0]
    return float(np.mean(aps)) if aps else float("nan")


def recall_at_k(similarity: np.ndarray, ks: Iterable[int] = DEFAULT_KS) -> dict[str, Any]:
    """Both directions of Recall@K for paired sets (row i of queries matches column i).

    ``similarity[i, j]``: image i vs text j. Returns ``{"image_to_text": {"R@5": ...},
    "text_to_image": {...}, "k_effective": {"R@5": 5, ...}, "mean": ..., "n": N}``.
    """
    sim = np.asarray(similarity, dtype=np.float64)
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1]:
        raise ValueError(f"need a square similarity matrix, got {sim.shape}")
    n = sim.shape[0]
    diag = np.diag(sim)
    rank_i2t = (sim > diag[:, None]).sum(axis=1)   # texts beating the true text, per image
    rank_t2i = (sim > diag[None, :]).sum(axis=0)   # images beating the true image, per text
    out: dict[str, Any] = {"image_to_text": {}, "text_to_image": {}, "k_effective": {}, "n": n}
    for k in ks:
        keff = min(int(k), n)
        out["k_effective"][f"R@{k}"] = keff
        out["image_to_text"][f"R@{k}"] = float(np.mean(rank_i2t < keff)) if n else float("nan")
        out["text_to_image"][f"R@{k}"] = float(np.mean(rank_t2i < keff)) if n else float("nan")
    vals = list(out["image_to_text"].values()) + list(out["text_to_image"].values())
    out["mean"] = float(np.mean(vals)) if vals else float("nan")
    return out


def retrieval_evaluate(bundle: ClipBundle, images: Sequence[Any], captions: Sequence[str],
                       ks: Iterable[int] = DEFAULT_KS, batch_size: int = 64,
                       groups: Sequence[str] | None = None) -> dict[str, Any]:
    """Zero-shot image->text and text->image Recall@K on paired images and captions (Table 2).
    With ``groups`` (one per pair), ``by_group`` holds Recall@K within each group as well."""
    if len(images) != len(captions):
        raise ValueError("images and captions must pair up")
    ks = list(ks)
    img = encode_images(bundle, images, batch_size=batch_size)
    txt = encode_texts(bundle, captions)
    out = recall_at_k(img @ txt.T, ks)
    if groups is not None:
        labels = np.asarray(groups)
        out["by_group"] = {g: recall_at_k(img[labels == g] @ txt[labels == g].T, ks) for g in sorted(set(groups))}
    return out


def retrieval_from_shards(bundle: ClipBundle, shards: Sequence[str | os.PathLike],
                          ks: Iterable[int] = DEFAULT_KS, limit: int | None = None) -> dict[str, Any]:
    """Retrieval on held-out WebDataset shards (``jpg`` + ``txt`` per sample), over all pairs and, in
    ``by_group``, within each domain (the sample's ``json`` ``domain``; Table 2 per modality)."""
    from mednarratives.dataset.webdataset_io import read_shards

    images, captions, domains = [], [], []
    for sample in read_shards(shards):
        img = sample.get("jpg") or sample.get("png") or sample.get("jpeg") or sample.get("webp")
        if img is None or "txt" not in sample:
            continue
        images.append(img)
        captions.append(sample["txt"])
        domains.append(str((sample.get("json") or {}).get("domain") or "unknown"))
        if limit is not None and len(images) >= limit:
            break
    return retrieval_evaluate(bundle, images, captions, ks, groups=domains)


# --------------------------------------------------------------------------- datasets


@dataclass
class LabeledImages:
    """Images with labels: ``labels`` is (N,) class indices, or (N, C) 0/1 when ``multilabel``;
    ``paths`` are image references (file paths or :class:`mednarratives.benchmark.readers.H5Image`)."""

    name: str
    paths: list[Any]
    labels: np.ndarray
    classes: list[str]
    classnames: list[str]
    multilabel: bool = False


def load_dataset(name: str, entry: Mapping[str, Any], base_dir: str | os.PathLike = ".") -> dict[str, LabeledImages]:
    """All splits of one registry entry (see the module docstring and
    :mod:`mednarratives.benchmark.readers`), sharing one class list."""
    from mednarratives.benchmark.readers import read_split, resolve_paths, split_spec

    multilabel = bool(entry.get("multilabel", False))
    if entry.get("format", "imagefolder") == "imagefolder" and multilabel:
        raise ValueError(f"{name}: multi-label datasets must be CSV")
    entry = {**entry, "splits": {k: resolve_paths(v, Path(base_dir)) for k, v in (entry.get("splits") or {}).items()}}
    raw = {split: read_split(split_spec(entry, split)) for split in entry["splits"]}
    classes = [str(c) for c in entry["classes"]] if entry.get("classes") else sorted(
        {lab for items in raw.values() for _, labs in items for lab in labs})
    index = {c: i for i, c in enumerate(classes)}
    mapping = entry.get("classnames") or {}
    classnames = [str(mapping.get(c, c.replace("_", " "))) for c in classes]
    out = {}
    for split, items in raw.items():
        unknown = {lab for _, labs in items for lab in labs if lab not in index}
        if unknown and entry.get("drop_other_classes"):
            items = [(p, [lab for lab in labs if lab in index]) for p, labs in items]
        elif unknown:
            raise ValueError(f"{name}/{split}: labels not in classes: {sorted(unknown)}")
        if not multilabel:
            unlabeled = sum(1 for _, labs in items if not labs)
            if unlabeled:
                log.info("%s/%s: %d images without a class left out", name, split, unlabeled)
            items = [(p, labs) for p, labs in items if labs]
            several = [str(p) for p, labs in items if len(labs) > 1]
            if several:
                raise ValueError(f"{name}/{split}: several labels for single-label images, e.g. {several[0]}")
        if multilabel:
            labels = np.zeros((len(items), len(classes)), np.int64)
            for row, (_, labs) in enumerate(items):
                for lab in labs:
                    labels[row, index[lab]] = 1
        else:
            labels = np.array([index[labs[0]] for _, labs in items], np.int64)
        out[split] = LabeledImages(name=name, paths=[p for p, _ in items], labels=labels, classes=classes,
                                   classnames=classnames, multilabel=multilabel)
    return out


def load_registry(path: str | os.PathLike) -> tuple[dict[str, Any], Path]:
    """``({name: entry}, base_dir)`` of a registry YAML file."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    return dict(doc.get("datasets") or {}), path.parent


# --------------------------------------------------------------------------- tasks


def zero_shot_evaluate(bundle: ClipBundle, data: LabeledImages, templates: Sequence[str],
                       image_features: np.ndarray | None = None) -> dict[str, Any]:
    """Zero-shot accuracy (or mAP for multi-label) of ``data`` with ``templates``."""
    feats = image_features if image_features is not None else encode_images(bundle, data.paths)
    classifier = zero_shot_classifier(bundle, data.classnames, templates)
    scores = feats @ classifier
    if data.multilabel:
        return {"metric": "mAP", "value": mean_average_precision(data.labels, scores), "n": len(data.paths)}
    return {"metric": "accuracy", "value": accuracy(data.labels, scores), "n": len(data.paths)}


def _logreg(C: float, multilabel: bool, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    clf = LogisticRegression(C=C, max_iter=1000, solver="lbfgs", random_state=seed)
    return OneVsRestClassifier(clf) if multilabel else clf


def _probe_score(clf, X: np.ndarray, y: np.ndarray, multilabel: bool) -> float:
    if multilabel:
        return mean_average_precision(y, clf.predict_proba(X))
    return float(np.mean(clf.predict(X) == y))


def linear_probe(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                 val_x: np.ndarray | None = None, val_y: np.ndarray | None = None,
                 Cs: Sequence[float] = DEFAULT_CS, multilabel: bool = False, seed: int = 0,
                 val_fraction: float = 0.2) -> dict[str, Any]:
    """Logistic-regression probe on frozen features; returns ``{"metric", "value", "best_C",
    "val_scores", "n_train", "n_val", "n_test"}`` (accuracy, or mAP when multi-label)."""
    from sklearn.model_selection import train_test_split

    train_x = np.asarray(train_x, np.float64)
    test_x = np.asarray(test_x, np.float64)
    if val_x is None:
        stratify = None
        if not multilabel:
            _, counts = np.unique(train_y, return_counts=True)
            n_val = int(np.ceil(val_fraction * len(train_y)))
            if counts.min() >= 2 and n_val >= len(counts):
                stratify = train_y
        fit_x, val_x, fit_y, val_y = train_test_split(train_x, train_y, test_size=val_fraction,
                                                      random_state=seed, stratify=stratify)
    else:
        fit_x, fit_y = train_x, train_y
        val_x = np.asarray(val_x, np.float64)
    val_scores = {}
    for C in Cs:
        clf = _logreg(C, multilabel, seed).fit(fit_x, fit_y)
        val_scores[float(C)] = _probe_score(clf, val_x, val_y, multilabel)
    best_C = max(val_scores, key=lambda c: (val_scores[c], -list(val_scores).index(c)))
    all_x = np.concatenate([fit_x, val_x])
    all_y = np.concatenate([fit_y, val_y])
    clf = _logreg(best_C, multilabel, seed).fit(all_x, all_y)
    return {"metric": "mAP" if multilabel else "accuracy",
            "value": _probe_score(clf, test_x, test_y, multilabel), "best_C": best_C,
            "val_scores": val_scores, "n_train": int(len(fit_y)), "n_val": int(len(val_y)),
            "n_test": int(len(test_y))}


def linear_probe_evaluate(bundle: ClipBundle, splits: Mapping[str, LabeledImages],
                          Cs: Sequence[float] = DEFAULT_CS, seed: int = 0,
                          features: Callable[[str], np.ndarray] | None = None) -> dict[str, Any]:
    """Linear probe on a dataset's ``train`` [+ ``val``] and ``test`` splits (Table 1); ``features(split)``
    gives a split's image features (default: encoded here)."""
    if "train" not in splits or "test" not in splits:
        raise ValueError("linear probe needs train and test splits")
    features = features or (lambda split: encode_images(bundle, splits[split].paths))
    tr, te = splits["train"], splits["test"]
    va = splits.get("val")
    return linear_probe(features("train"), tr.labels, features("test"), te.labels,
                        features("val") if va else None, va.labels if va else None,
                        Cs=Cs, multilabel=tr.multilabel, seed=seed)


TASKS = ("zeroshot", "linear_probe")


def dataset_tasks(entry: Mapping[str, Any]) -> list[str]:
    """The tasks of a registry entry in :data:`TASKS` order: ``tasks``, else both when it has a train split,
    else zero-shot."""
    tasks = entry.get("tasks") or (TASKS if "train" in (entry.get("splits") or {}) else ["zeroshot"])
    unknown = set(tasks) - set(TASKS)
    if unknown:
        raise ValueError(f"unknown tasks {sorted(unknown)} (one of {', '.join(TASKS)})")
    return [t for t in TASKS if t in tasks]


def evaluate_dataset(bundle: ClipBundle, name: str, entry: Mapping[str, Any], base_dir: str | os.PathLike = ".",
                     templates: Mapping[str, Any] | None = None, Cs: Sequence[float] = DEFAULT_CS,
                     seed: int = 0) -> list[dict[str, Any]]:
    """Every task of one registry dataset -> rows ``{"dataset", "task", "metric", "value", ...}``.
    Zero-shot uses the ``test`` split (or the only split there is)."""
    tdoc = templates or load_templates()
    splits = load_dataset(name, entry, base_dir)
    encoded: dict[str, np.ndarray] = {}

    def features(split: str) -> np.ndarray:   # each split encoded once for both tasks
        if split not in encoded:
            encoded[split] = encode_images(bundle, splits[split].paths)
        return encoded[split]

    rows = []
    for task in dataset_tasks(entry):
        if task == "zeroshot":
            split = "test" if "test" in splits else next(iter(splits))
            res = zero_shot_evaluate(bundle, splits[split], templates_for(name, tdoc, entry.get("template_group")),
                                     image_features=features(split))
        else:
            res = linear_probe_evaluate(bundle, splits, Cs=Cs, seed=seed, features=features)
        rows.append({"dataset": name, "task": task, **res})
    return rows


def evaluate_registry(bundle: ClipBundle, registry_path: str | os.PathLike,
                      templates_path: str | os.PathLike | None = None,
                      Cs: Sequence[float] = DEFAULT_CS, seed: int = 0) -> list[dict[str, Any]]:
    """:func:`evaluate_dataset` over every dataset of a registry file, by name."""
    entries, base = load_registry(registry_path)
    tdoc = load_templates(templates_path)
    return [row for name in sorted(entries)
            for row in evaluate_dataset(bundle, name, entries[name], base, tdoc, Cs=Cs, seed=seed)]
