"""Sub-figure detection (paper appendix 8.3): a YOLO detector (ultralytics) trained on sub-figure boxes, crops
upscaled x4 (the paper's factor, for label OCR and the dataset image).

Training data: YOLO-format folders (images/{train,val}, labels/{train,val}, data.yaml) made either from
MedICaT / ImageCLEF 2016 style box annotations (`dataset_from_annotations`: one JSON line per figure with
`image` and `boxes` [[x0, y0, x1, y1], ...] in pixels) or, offline, from synthetic compound figures
(`synthetic_dataset`): the demo article generator's layouts with their own seed and ids, never the demo articles
themselves, mixed with realistic layouts (`articles.subfigures.train.realistic_share`).

Offline: the model is built from the packaged architecture yaml (`yolov8n.yaml`), `pretrained=False`,
`amp=False` (the AMP check downloads a model), `plots=False` (plots download a font); YOLO_OFFLINE and
YOLO_AUTOINSTALL=false are set before ultralytics is imported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from PIL import Image

from mednarratives import settings
from mednarratives.articles import labels
from mednarratives.geometry import box_iou, same_column, same_row, transposed
from mednarratives.io import atomic_path, file_digest, write_json

CONFIG = settings.defaults("articles", "subfigures")  # the defaults of the keyword arguments below
CLASS_NAMES = ("subfigure",)


def _offline_env(config_dir: str | os.PathLike | None = None) -> None:
    os.environ["YOLO_OFFLINE"] = "true"
    os.environ["YOLO_AUTOINSTALL"] = "false"
    os.environ.setdefault("YOLO_VERBOSE", "false")
    if config_dir is not None:
        Path(config_dir).mkdir(parents=True, exist_ok=True)
        os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    elif "YOLO_CONFIG_DIR" not in os.environ:
        d = Path(os.environ.get("TMPDIR", "/tmp")) / "mednarratives-ultralytics"
        d.mkdir(parents=True, exist_ok=True)
        os.environ["YOLO_CONFIG_DIR"] = str(d)


def _yolo():
    _offline_env()
    from ultralytics import YOLO  # noqa: PLC0415 (import after the environment is set)
    from ultralytics.utils import SETTINGS
    off = {k: False for k in ("sync", "clearml", "comet", "dvc", "mlflow", "raytune", "tensorboard", "wandb")
           if SETTINGS.get(k)}
    if off:  # no usage events, no experiment trackers
        SETTINGS.update(off)
    return YOLO


# ------------------------------------------------------------------------------------------ datasets

def _yolo_line(box: Sequence[float], w: int, h: int, cls: int = 0) -> str:
    x0, y0, x1, y1 = (max(0.0, min(float(v), lim)) for v, lim in zip(box, (w, h, w, h)))
    return f"{cls} {(x0 + x1) / 2 / w:.6f} {(y0 + y1) / 2 / h:.6f} {(x1 - x0) / w:.6f} {(y1 - y0) / h:.6f}"


def _write_split(root: Path, split: str, items: list[tuple[str, Image.Image, list]]) -> None:
    (root / "images" / split).mkdir(parents=True, exist_ok=True)
    (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    for name, img, boxes in items:
        img.convert("RGB").save(root / "images" / split / f"{name}.jpg", quality=92)
        (root / "labels" / split / f"{name}.txt").write_text(
            "".join(_yolo_line(b, img.size[0], img.size[1]) + "\n" for b in boxes))


def _write_data_yaml(root: Path, meta: dict) -> Path:
    import yaml
    data = {"path": str(root.resolve()), "train": "images/train", "val": "images/val",
            "names": {i: n for i, n in enumerate(CLASS_NAMES)}}
    (root / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=True))
    write_json(root / "meta.json", meta)
    return root / "data.yaml"


def synthetic_dataset(out_dir: str | os.PathLike, n_figures: int, seed: int, realistic_share: float,
                      val_fraction: float = CONFIG["train"]["val_fraction"]) -> Path:
    """A YOLO dataset of synthetic compound figures (`synthetic.training_figures`) in out_dir (replaced); returns
    data.yaml."""
    from mednarratives.articles.synthetic import training_figures
    root = Path(out_dir)
    if root.exists():
        shutil.rmtree(root)
    items = list(training_figures(n_figures, seed, realistic_share))
    n_val = max(1, int(round(len(items) * val_fraction))) if len(items) > 1 else 0
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    val = {order[i] for i in range(n_val)}
    _write_split(root, "train", [it for i, it in enumerate(items) if i not in val])
    _write_split(root, "val", [it for i, it in enumerate(items) if i in val] or items[:1])
    return _write_data_yaml(root, {"source": "synthetic", "n_figures": len(items), "seed": seed,
                                   "n_boxes": sum(len(b) for _, _, b in items)})


def dataset_from_annotations(annotation_files: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
                             seed: int, val_fraction: float = CONFIG["train"]["val_fraction"], max_side: int = 1280) -> Path:
    """A YOLO dataset from JSON-lines box annotations (MedICaT / ImageCLEF 2016 figure separation converted to
    {"image": path (relative to the file's folder or absolute), "boxes": [[x0, y0, x1, y1], ...]}).
    Unreadable images or lines without boxes are skipped and counted in meta.json."""
    root = Path(out_dir)
    if root.exists():
        shutil.rmtree(root)
    items, skipped = [], 0
    for af in annotation_files:
        af = Path(af)
        for line in af.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                path = Path(rec["image"])
                path = path if path.is_absolute() else af.parent / path
                img = Image.open(path).convert("RGB")
                boxes = [list(map(float, b)) for b in rec["boxes"]]
                if not boxes:
                    raise ValueError("no boxes")
            except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
                skipped += 1
                continue
            s = min(1.0, max_side / max(img.size))
            if s < 1.0:
                img = img.resize((round(img.size[0] * s), round(img.size[1] * s)), Image.Resampling.LANCZOS)
                boxes = [[v * s for v in b] for b in boxes]
            name = hashlib.sha1(str(path).encode()).hexdigest()[:16]
            items.append((name, img, boxes))
    items.sort(key=lambda it: it[0])
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    n_val = max(1, int(round(len(items) * val_fraction))) if len(items) > 1 else 0
    val = {order[i] for i in range(n_val)}
    _write_split(root, "train", [it for i, it in enumerate(items) if i not in val])
    _write_split(root, "val", [it for i, it in enumerate(items) if i in val] or items[:1])
    return _write_data_yaml(root, {"source": [str(a) for a in annotation_files], "n_figures": len(items),
                                   "skipped": skipped, "seed": seed})


# ------------------------------------------------------------------------------------------ training

@dataclass(frozen=True)
@settings.schema_defaults("articles", "subfigures", "train")
class TrainOptions:
    architecture: str
    epochs: int
    imgsz: int
    batch: int
    seed: int
    workers: int
    device: str
    patience: int
    mosaic: float
    close_mosaic: int


def train(data_yaml: str | os.PathLike, out_weights: str | os.PathLike, options: TrainOptions,
          work_dir: str | os.PathLike, metrics_path: str | os.PathLike | None = None) -> dict:
    """Train from scratch (no download) and copy the best weights to out_weights; returns val metrics."""
    _offline_env(Path(work_dir) / "config")
    YOLO = _yolo()
    model = YOLO(options.architecture)
    run_dir = Path(work_dir).resolve() / "run"  # absolute: ultralytics nests relative projects in its runs_dir
    if run_dir.exists():
        shutil.rmtree(run_dir)
    model.train(data=str(data_yaml), epochs=options.epochs, imgsz=options.imgsz, batch=options.batch,
                seed=options.seed, deterministic=True, workers=options.workers, device=options.device,
                pretrained=False, amp=False, plots=False, val=True, patience=options.patience,
                mosaic=options.mosaic, close_mosaic=options.close_mosaic, project=str(run_dir.parent),
                name=run_dir.name, exist_ok=True, verbose=False, fliplr=0.0)
    best = run_dir / "weights" / "best.pt"
    if not best.exists():
        best = run_dir / "weights" / "last.pt"
    export_weights(best, out_weights)
    metrics = validate(out_weights, data_yaml, options.imgsz, options.device, work_dir)
    metrics.update(options=options.__dict__, weights_sha256=file_digest(out_weights))
    if metrics_path:
        write_json(metrics_path, metrics)
    return metrics


def export_weights(src: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Copy an ultralytics checkpoint without what differs between two identical trainings (its save date, the
    git state of the working directory, the optimizer, the per-epoch times, the absolute path of the working
    directory), so equal training gives equal bytes wherever the workflow runs."""
    import torch
    ckpt = torch.load(src, map_location="cpu", weights_only=False)
    ckpt["date"] = None
    # ultralytics keeps its project and save folders absolute, in train_args and in each model's args
    for args in [ckpt.get("train_args")] + [getattr(ckpt.get(k), "args", None) for k in ("model", "ema")]:
        if isinstance(args, dict):
            for key, value in args.items():
                if isinstance(value, str) and os.path.isabs(value) and Path(value).is_relative_to(Path.cwd()):
                    args[key] = os.path.relpath(value)
    ckpt.pop("git", None)
    ckpt["optimizer"] = None
    ckpt.pop("train_results", None)  # holds epoch wall times
    buf = io.BytesIO()  # torch names the archive's root folder after the file: save to memory, not a temp name
    torch.save(ckpt, buf)
    with atomic_path(dest) as tmp:
        tmp.write_bytes(buf.getvalue())


def validate(weights, data_yaml, imgsz: int, device: str, work_dir) -> dict:
    YOLO = _yolo()
    res = YOLO(str(weights)).val(data=str(data_yaml), imgsz=imgsz, device=device, plots=False, verbose=False,
                                 project=str(Path(work_dir).resolve()), name="val", exist_ok=True, workers=0)
    return {"map50": float(res.box.map50), "map50_95": float(res.box.map), "precision": float(res.box.mp),
            "recall": float(res.box.mr)}


# ------------------------------------------------------------------------------------------ inference

def _contained(inner: Sequence[float], outer: Sequence[float]) -> float:
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return _intersection(inner, outer) / area if area > 0 else 0.0


def clean_boxes(dets: list[tuple[list[float], float]], width: int, height: int, min_side: int = 8,
                contain: float = 0.85) -> list[tuple[list[int], float]]:
    """Clip to the image, drop tiny boxes, boxes mostly inside a higher-scoring one and boxes that hold two or
    more higher-scoring ones (merged panels); integer pixels."""
    out: list[tuple[list[int], float]] = []
    for box, score in sorted(dets, key=lambda d: -d[1]):
        x0, y0 = max(0, int(round(box[0]))), max(0, int(round(box[1])))
        x1, y1 = min(width, int(round(box[2]))), min(height, int(round(box[3])))
        if x1 - x0 < min_side or y1 - y0 < min_side:
            continue
        b = [x0, y0, x1, y1]
        if any(_contained(b, o) >= contain or box_iou(b, o) >= 0.6 for o, _ in out):
            continue
        out.append((b, round(float(score), 4)))
    # a box around two or more better-scored boxes merges panels: drop it
    return [(b, sc) for b, sc in out
            if sum(_contained(o, b) >= contain for o, s2 in out if s2 > sc and o is not b) < 2]


def reading_order(boxes: Sequence[Sequence[float]]) -> list[int]:
    """Indices of boxes in reading order: rows (boxes whose vertical centre lies inside the row's first box),
    top to bottom, each row left to right. A tall panel spanning rows sits in the row where it starts."""
    idx = sorted(range(len(boxes)), key=lambda i: (boxes[i][1], boxes[i][0]))
    rows: list[list[int]] = []
    for i in idx:
        b = boxes[i]
        cy = (b[1] + b[3]) / 2
        for row in rows:
            r = boxes[row[0]]
            top = max(boxes[j][1] for j in row)
            if r[1] - 1e-6 <= b[1] < min(boxes[j][3] for j in row) and (cy <= max(boxes[j][3] for j in row)
                                                                      or b[1] <= top + 0.25 * (r[3] - r[1])):
                row.append(i)
                break
        else:
            rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda j: boxes[j][0])]


def _background(rgb: np.ndarray) -> np.ndarray:
    """The figure's background colour: the most common (quantised) colour of its outer border."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(int)
    q = border // 8
    keys, counts = np.unique(q[:, 0] * 1024 + q[:, 1] * 32 + q[:, 2], return_counts=True)
    k = keys[np.argmax(counts)]
    sel = border[(q[:, 0] * 1024 + q[:, 1] * 32 + q[:, 2]) == k]
    return np.median(sel, axis=0)


def _runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """[start, end) stretches of the lines not flagged as separators, split where `gap` or more flagged lines
    stand between two of them."""
    idx = np.flatnonzero(~flags)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    return list(zip(starts.tolist(), ends.tolist()))


def _xy_cut(W: int, H: int, stretches: Callable[[int, int, int, int], tuple[list, list]], max_depth: int,
            blank: Callable[[int, int, int, int], list[int] | None] | None = None,
            frame: Callable[[int, int, int, int], int] | None = None,
            frames_out: list[tuple[int, int, list[int]]] | None = None) -> list[list[int]]:
    """Recursive X-Y cut of a W x H figure, the one recursion of xy_cut and layout_leaves.

    `stretches(x0, y0, x1, y1)` gives the block's content stretches along y and along x (`_runs`, relative to the
    block). A block splits along the first axis with two or more stretches (its own axis first; rows first at the
    top) down to `max_depth`; one that does not split is a leaf [x0, y0, x1, y1], cut to its content. A block
    without content gives `blank(block)` where that is a box. `frame(leaf)` > 0: a frame that wide is drawn around
    the leaf, and what is inside it replaces the leaf where that splits in two or more; `frames_out` receives
    (first, end, leaf) for each: out[first:end] are the leaves inside the frame."""
    out: list[list[int]] = []

    def rec(x0: int, y0: int, x1: int, y1: int, axis: int, depth: int) -> None:
        rows, cols = stretches(x0, y0, x1, y1)
        if not rows or not cols:
            box = blank(x0, y0, x1, y1) if blank else None
            if box:
                out.append(box)
            return
        ty0, ty1, tx0, tx1 = y0 + rows[0][0], y0 + rows[-1][1], x0 + cols[0][0], x0 + cols[-1][1]
        if depth < max_depth:
            for ax in (axis, 1 - axis):
                parts = rows if ax == 0 else cols
                if len(parts) > 1:
                    for a, b in parts:
                        if ax == 0:
                            rec(tx0, y0 + a, tx1, y0 + b, 1, depth + 1)
                        else:
                            rec(x0 + a, ty0, x0 + b, ty1, 0, depth + 1)
                    return
            k = frame(tx0, ty0, tx1, ty1) if frame else 0
            if k:
                n = len(out)
                rec(tx0 + k, ty0 + k, tx1 - k, ty1 - k, axis, depth + 1)
                if len(out) - n > 1:
                    if frames_out is not None:
                        frames_out.append((n, len(out), [int(tx0), int(ty0), int(tx1), int(ty1)]))
                    return
                del out[n:]
        out.append([int(tx0), int(ty0), int(tx1), int(ty1)])

    rec(0, 0, W, H, 0, 0)
    return out


def background_mask(image: Image.Image, tol: int = 14) -> np.ndarray:
    """H x W bool: the pixels within `tol` of the figure's background colour (_background) in every channel."""
    rgb = np.asarray(image.convert("RGB"))
    return np.all(np.abs(rgb.astype(int) - _background(rgb)) <= tol, axis=2)


def xy_cut(image: Image.Image, tol: int = 14, min_gap: int = 2, min_area: float = 0.03,
           max_depth: int = 6) -> list[list[int]]:
    """Recursive X-Y cut of a compound figure along full-length runs of background colour (the classical
    figure-separation heuristic): panel boxes [x0, y0, x1, y1]; pieces under `min_area` of the figure (drawn
    labels above panels, specks) are dropped. [] when nothing separates."""
    bg = background_mask(image, tol)
    H, W = bg.shape
    if H < 8 or W < 8:
        return []

    def stretches(x0: int, y0: int, x1: int, y1: int) -> tuple[list, list]:
        sub = bg[y0:y1, x0:x1]
        return _runs(sub.all(axis=1), min_gap), _runs(sub.all(axis=0), min_gap)

    out = [b for b in _xy_cut(W, H, stretches, max_depth) if (b[2] - b[0]) * (b[3] - b[1]) >= min_area * W * H]
    return out if len(out) > 1 else []


def refine_with_xycut(dets: list[tuple[list[int], float]], cuts: list[list[int]], min_iou: float = 0.3,
                      cover: float = 0.6, grid: float = CONFIG["grid_similarity"]
                      ) -> tuple[list[tuple[list[int], float]], bool]:
    """Replace detections by X-Y cut panels when the cut agrees with the detector: every detection overlaps
    a cut panel (IoU >= min_iou) and no confident detection spans two cut panels (which would mean the cut
    split a panel along a dark/bright band inside it), unless the cut panels form a regular grid (smallest
    area >= `grid` x the largest: a grid the detector returned as one or two boxes). Cut panels take the score
    of the detection they match, or the lowest detection score when the detector missed them.
    Returns (boxes, used_cut)."""
    if len(cuts) < 2 or not dets:
        return dets, False
    areas = [_area(c) for c in cuts]
    regular = min(areas) >= grid * max(areas)
    for box, score in dets:
        spans = sum(_contained(c, box) >= cover for c in cuts) > 1
        if spans and regular:
            continue
        if max(box_iou(box, c) for c in cuts) < min_iou or (score >= 0.5 and spans):
            return dets, False
    floor = min(s for _, s in dets)
    out = []
    for c in cuts:
        best = max(dets, key=lambda d: box_iou(c, d[0]))
        out.append((c, best[1] if box_iou(c, best[0]) >= 0.5 else round(floor * 0.5, 4)))
    order = reading_order([b for b, _ in out])
    return [out[i] for i in order], True


def refine_with_blocks(dets: list[tuple[list[int], float]], blocks: list[list[int]], ground: np.ndarray,
                       inside: float = 0.8, cover: float = 0.6, grid: float = CONFIG["grid_similarity"],
                       tiled: float = CONFIG["blocks_tiled"], loose: float = CONFIG["blocks_loose"]
                       ) -> tuple[list[tuple[list[int], float]], bool]:
    """Replace detections by the layout's blocks (layout_detect without letters: content between background
    gutters; disjoint, else they joined labels shared across a gutter) where every detection is explained by
    them: it lies (`inside` of its area) in a block, alone or with others that do not tile the block (less than
    `tiled` of its area: boxes cut across a block of touching images), or it is a loose box around blocks of
    similar size (it holds them, `cover` of each; their smallest area >= `grid` x the largest) with hardly any
    content beside them (at most `loose` of the rest of the box is not `ground`: background or the layout's
    leaves, _explained; a panel's own ground, e.g. light grey, makes it no loose box). A detection lying alone
    in a block is the panel's image or plot, the block the whole panel (titles, tick labels). Blocks take the
    score of the detection they match (IoU >= 0.5), or half the lowest. Returns (boxes, used_blocks)."""
    if len(blocks) < 2 or not dets or any(_intersection(a, b) > 0 for i, a in enumerate(blocks) for b in blocks[:i]):
        return dets, False
    homes: dict[int, list[list[int]]] = {}
    for box, _ in dets:
        home = next((j for j, b in enumerate(blocks) if _contained(box, b) >= inside), None)
        held = [b for b in blocks if _contained(b, box) >= cover]
        if home is not None:
            homes.setdefault(home, []).append(box)
            continue
        if not held or min(map(_area, held)) < grid * max(map(_area, held)):
            return dets, False
        x0, y0, x1, y1 = (int(v) for v in box)
        rest = ~ground[y0:y1, x0:x1]
        for b in held:
            rest[max(0, b[1] - y0):max(0, b[3] - y0), max(0, b[0] - x0):max(0, b[2] - x0)] = False
        if rest.sum() > loose * max(1.0, _area(box) - sum(map(_area, held))):
            return dets, False
    for j, boxes in homes.items():  # touching panels the detector split apart: they tile their block
        if len(boxes) > 1 and _union_area(boxes, blocks[j]) >= tiled * _area(blocks[j]):
            return dets, False
    floor = min(s for _, s in dets)
    out = [(b, max((s for d, s in dets if box_iou(b, d) >= 0.5), default=round(0.5 * floor, 4))) for b in blocks]
    return [out[i] for i in reading_order(blocks)], True


def _explained(image: Image.Image, leaves: Sequence[Sequence[int]]) -> np.ndarray:
    """H x W bool: the pixels the layout accounts for, background (background_mask) or inside a layout leaf."""
    mask = background_mask(image)
    for b in leaves:
        mask[b[1]:b[3], b[0]:b[2]] = True
    return mask


def _union_area(boxes: Sequence[Sequence[int]], clip: Sequence[int]) -> int:
    """Area of the union of `boxes` inside `clip`."""
    x0, y0, x1, y1 = (int(v) for v in clip)
    mask = np.zeros((max(0, y1 - y0), max(0, x1 - x0)), bool)
    for b in boxes:
        mask[max(0, int(b[1]) - y0):max(0, int(b[3]) - y0), max(0, int(b[0]) - x0):max(0, int(b[2]) - x0)] = True
    return int(mask.sum())


def _nested(dets: Sequence[tuple[Sequence[float], float]], panels: Sequence[Sequence[float]],
            share: float = 0.8) -> bool:
    """Every detection lies (`share` of its area) inside a panel of its own: the detector found the panels'
    images or plots, the layout the whole panels around them (axes, titles, letters)."""
    homes = [next((j for j, p in enumerate(panels) if _contained(b, p) >= share), None) for b, _ in dets]
    return None not in homes and len(set(homes)) == len(homes)


@dataclass(frozen=True)
@settings.schema_defaults("articles", "subfigures")
class SubfigureOptions:
    """The sub-figure stage's parameters: config articles.subfigures (its `weights` and `train` are the training
    rules'). Detection and refinement (Detector, layout_detect), then crops upscaled by `crop_scale`."""
    imgsz: int
    conf: float
    iou: float
    refine: str
    grid_similarity: float
    layout_small: float
    layout_tol: int
    layout_thin: float
    layout_corner: int
    blocks_tiled: float
    blocks_loose: float
    edge_step: int
    edge_share: float
    crop_scale: float
    letters: labels.LetterOptions = field(default_factory=labels.LetterOptions)


class Detector:
    """A trained sub-figure detector; `detect(image)` -> [(box [x0, y0, x1, y1] int pixels, score)] in
    reading order. No box: the whole figure is one panel. `options`: the config's by default."""

    def __init__(self, weights: str | os.PathLike, options: SubfigureOptions | None = None, device: str = "cpu"):
        YOLO = _yolo()
        self.weights, self.options, self.device = str(weights), options or SubfigureOptions(), device
        self.model = YOLO(self.weights)
        self.sha256 = file_digest(weights)

    def detect(self, image: Image.Image, caption_labels: Sequence[str] = ()) -> list[tuple[list[int], float]]:
        """Panels of one figure (detect_letters without the letters)."""
        return self.detect_letters(image, caption_labels)[0]

    def detect_letters(self, image: Image.Image, caption_labels: Sequence[str] = ()
                       ) -> tuple[list[tuple[list[int], float]], list[list[tuple[str, float, list[int]]]]]:
        """(panels of one figure, per panel the letters that the layout analysis read for it: [(text, conf, glyph
        box)]).
        The letters are read among the caption's labels and in reading order (labels.find_anchors), so they are
        better votes for the pairing than a panel's own OCR.

        With refine `layout` and a caption naming fewer than two panels, the layout's large blocks (layout_detect
        without labels) replace the detections where they are more and agree with them (refine_with_xycut). With
        refine `layout` and a caption naming two or more panels (`caption_labels`) that the detector does not
        find as many of, or whose letters are all read, or whose detections lie one each inside the layout's
        panels (_nested), the layout analysis (layout_detect) gives the boxes where
        it finds two or more panels, each scored by the detection it overlaps (IoU >= 0.5) or by half the lowest
        detection score; the panel letters it reads put the panels in letter_order."""
        o = self.options
        boxes = self._detect(image)
        keys = sorted({k for k in (str(x).strip().strip("()[].,:").lower() for x in caption_labels) if k})
        if o.refine != "layout":
            return boxes, [[] for _ in boxes]
        if len(keys) < 2:  # no count to go by: the layout's blocks where they agree with the detector
            leaves: list[list[int]] = []
            blocks, _ = layout_detect(image, (), o, leaves_out=leaves)
            refined, used = refine_with_xycut(boxes, blocks, grid=o.grid_similarity) \
                if len(blocks) > len(boxes) else (boxes, False)
            boxes = refined if used else refine_with_blocks(boxes, blocks, _explained(image, leaves),
                                                            grid=o.grid_similarity, tiled=o.blocks_tiled,
                                                            loose=o.blocks_loose)[0]
            return boxes, [[] for _ in boxes]
        reads: dict[str, tuple[str, float]] = {}
        panels, anchors = layout_detect(image, keys, o, reads_out=reads)
        W, H = image.size
        # every panel built around its letter, none of them only a letter (a letter read elsewhere than its panel)
        sized = len(panels) == len(keys) and all(_panel_sized(p, W, H, o.layout_small) for p in panels)
        lettered = sized and len(anchors) == len(keys)
        if len(panels) >= 2 and (lettered or len(boxes) != len(keys) or (sized and _nested(boxes, panels))):
            floor = round(0.5 * min((s for _, s in boxes), default=0.5), 4)
            boxes = [(p, max((s for b, s in boxes if box_iou(p, b) >= 0.5), default=floor)) for p in panels]
        boxes = [boxes[i] for i in letter_order([b for b, _ in boxes], anchors, keys)]
        letters: list[list[tuple[str, float, list[int]]]] = [[] for _ in boxes]
        for k, (text, conf) in reads.items():
            if (i := _letter_panel([b for b, _ in boxes], anchors[k])) is not None:
                letters[i].append((text, conf, anchors[k]))
        return boxes, letters

    def _detect(self, image: Image.Image) -> list[tuple[list[int], float]]:
        rgb = np.asarray(image.convert("RGB"))[:, :, ::-1]  # ultralytics takes BGR arrays
        o = self.options
        res = self.model.predict(rgb, imgsz=o.imgsz, conf=o.conf, iou=o.iou, device=self.device, verbose=False)[0]
        dets = [(list(map(float, b)), float(s)) for b, s in zip(res.boxes.xyxy.tolist(), res.boxes.conf.tolist())]
        boxes = clean_boxes(dets, image.size[0], image.size[1])
        cuts = xy_cut(image) if o.refine in ("xycut", "layout") else []
        if not boxes:
            if cuts:  # the detector found nothing, the layout is plainly separated by background
                order = reading_order(cuts)
                return [(cuts[i], 0.05) for i in order]
            return [([0, 0, image.size[0], image.size[1]], 0.0)]
        order = reading_order([b for b, _ in boxes])
        boxes = [boxes[i] for i in order]
        if cuts:
            boxes, _ = refine_with_xycut(boxes, cuts, grid=o.grid_similarity)
        return boxes

    def provenance(self) -> dict:
        return {"name": "ultralytics-yolo", "weights": self.weights, "sha256": self.sha256,
                **dataclasses.asdict(self.options)}


def crop(image: Image.Image, box: Sequence[int], scale: float = CONFIG["crop_scale"]) -> Image.Image:
    """The panel cut out of the figure, upscaled by `scale` (bicubic)."""
    c = image.crop(tuple(int(v) for v in box))
    if scale and scale != 1:
        c = c.resize((max(1, round(c.size[0] * scale)), max(1, round(c.size[1] * scale))), Image.Resampling.BICUBIC)
    return c


# ------------------------------------------------------------------------------------------ layout analysis
#
# Real compound figures rarely have the clean background gutters the X-Y cut above needs: panels sit on white,
# black or grey, touch each other, share axes, carry legends and colour bars beside them and letters above.
# `layout_leaves` cuts along one-colour lines of white or of the figure's own background; `layout_panels` regroups the
# leaves into panels around the panel letters read in the figure (labels.find_anchors), or, without letters,
# around the large leaves.


def layout_leaves(image: Image.Image, tol: int = CONFIG["layout_tol"], min_gap: int | None = None,
                  max_depth: int = 24, thin_share: float = CONFIG["layout_thin"],
                  corner: int = CONFIG["layout_corner"], framed_out: list[list[int]] | None = None
                  ) -> list[list[int]]:
    """Recursive X-Y cut along full-length runs of uniform rows / columns of a background colour (every pixel of
    the line within `tol` of the line's median colour, that is white or the colour of the figure's border, e.g.
    white gutters between electron micrographs that fill the border), and, across large blocks, along the thin
    gutters that JPEG blurred or that jog by a pixel (`thin_share`, see thin()): the layout's smallest blocks
    [x0, y0, x1, y1], content-tight. Blocks of one non-background colour (legend swatches, header bars) stay.
    The inside of a drawn frame is cut too (frame()); `framed_out` receives the leaves with each outermost frame
    that was cut kept whole instead (a panel drawn as a framed box)."""
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    H, W = rgb.shape[:2]
    gap = min_gap or max(2, round(0.002 * max(W, H)))
    big = 0.1 * max(W, H)
    backgrounds = np.array([_background(rgb), [255, 255, 255]], dtype=float)  # the figure's and white

    def uniform(sub: np.ndarray, axis: int) -> np.ndarray:
        """Per line along `axis` (0: rows, 1: columns): True where the line is one background colour."""
        lines = sub if axis == 0 else sub.transpose(1, 0, 2)
        med = np.median(lines, axis=1, keepdims=True)
        is_bg = np.abs(med - backgrounds[None]).max(axis=2).min(axis=1) <= tol
        return (np.abs(lines - med).max(axis=2) <= tol).all(axis=1) & is_bg

    is_bg = np.abs(rgb[:, :, None, :] - backgrounds).max(3).min(2) <= tol

    def thin(m: np.ndarray) -> np.ndarray:
        """Per row of the background mask m: a gutter one or two pixels wide that JPEG blurred or that shifts by
        a pixel along its length (each of its pixels, or a neighbour across the line, is background; most of
        its own are), at least `big` from the block's ends (so no letter or word is cut)."""
        near = m.copy()
        near[1:] |= m[:-1]
        near[:-1] |= m[1:]
        out = near.all(axis=1) & (m.mean(axis=1) >= thin_share)
        out[:int(big)] = False
        out[max(0, len(out) - int(big)):] = False
        return out

    def stretches(x0: int, y0: int, x1: int, y1: int) -> tuple[list, list]:
        # a one-pixel line of one colour across a large block is a gutter; across a small one, a text gap
        sub, m = rgb[y0:y1, x0:x1], is_bg[y0:y1, x0:x1]
        rows = uniform(sub, 0) | (thin(m) if x1 - x0 >= big else False)
        cols = uniform(sub, 1) | (thin(m.T) if y1 - y0 >= big else False)
        return _runs(rows, 1 if x1 - x0 >= big else gap), _runs(cols, 1 if y1 - y0 >= big else gap)

    def blank(x0: int, y0: int, x1: int, y1: int) -> list[int] | None:
        """One colour (or a gradient) throughout: background, unless its colour is no background's (a legend
        swatch, a header bar, a colour bar)."""
        fg = np.abs(rgb[y0:y1, x0:x1, None, :] - backgrounds).max(3).min(2) > tol
        fg_rows, fg_cols = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
        if fg_rows.size and fg_cols.size:
            return [int(x0 + fg_cols[0]), int(y0 + fg_rows[0]), int(x0 + fg_cols[-1] + 1), int(y0 + fg_rows[-1] + 1)]
        return None

    def drawn(colour: np.ndarray) -> bool:
        """A colour that is no background's nor a blend of the two (the edge of a resampled block)."""
        b0, b1 = backgrounds
        t = np.clip(np.dot(colour - b0, b1 - b0) / max(1.0, np.dot(b1 - b0, b1 - b0)), 0.0, 1.0)
        return bool(np.abs(colour - (b0 + t * (b1 - b0))).max() > tol)

    def frame(x0: int, y0: int, x1: int, y1: int, most: int = 6) -> int:
        """Width of a frame of one-colour lines around the block (0: none). A drawn frame (drawn()) may have
        rounded or JPEG-blurred corners: the `corner` pixels at each end of its lines, and of the lines inside
        it (its JPEG halo on the background), do not count."""
        def one_colour(e: np.ndarray, inside: bool) -> bool:
            med = np.median(e, axis=0)
            return bool(np.abs((e[corner:len(e) - corner] if inside or drawn(med) else e) - med).max() <= tol)

        k = 0
        while k < most and x1 - x0 > 2 * k + 16 and y1 - y0 > 2 * k + 16:
            edges = (rgb[y0 + k, x0 + k:x1 - k], rgb[y1 - 1 - k, x0 + k:x1 - k], rgb[y0 + k:y1 - k, x0 + k],
                     rgb[y0 + k:y1 - k, x1 - 1 - k])
            if not all(one_colour(e, k > 0 and drawn(np.median(rgb[y0, x0:x1], axis=0))) for e in edges):
                break
            k += 1
        return k

    frames: list[tuple[int, int, list[int]]] = []
    leaves = _xy_cut(W, H, stretches, max_depth, blank, frame, frames)
    if framed_out is not None:  # the outermost frames replace the leaves inside them
        framed_out[:] = leaves
        for first, end, box in sorted(frames, key=lambda f: f[0] - f[1]):
            if all(framed_out[i] is leaves[i] for i in range(first, end)):
                framed_out[first:end] = [box] + [None] * (end - first - 1)
        framed_out[:] = [b for b in framed_out if b is not None]
    return leaves


def _union(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def _area(b: Sequence[float]) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _intersection(a: Sequence[float], b: Sequence[float]) -> float:
    return _area([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])])


def _panel_sized(b, W: int, H: int, small: float):
    """A box of a panel's size: at least `small` of the W x H figure's area, and no side shorter than half the side
    of a square that large (a strip that thin is a header, an axis or a colour bar, not a panel). `b`: one box
    (a bool) or an array of boxes, one per row (an array of bools)."""
    b = np.asarray(b, dtype=float)
    w, h = np.maximum(0.0, b[..., 2] - b[..., 0]), np.maximum(0.0, b[..., 3] - b[..., 1])
    return (w * h >= small * W * H) & (np.minimum(w, h) >= 0.5 * np.sqrt(small * W * H))


def _holds(box: Sequence[float], glyph: Sequence[float]) -> bool:
    """`box` holds the centre of `glyph` (a letter's box)."""
    return box[0] <= (glyph[0] + glyph[2]) / 2 <= box[2] and box[1] <= (glyph[1] + glyph[3]) / 2 <= box[3]


def _gap(a: Sequence[float], b: Sequence[float]) -> float:
    return max(0.0, a[0] - b[2], b[0] - a[2]) + max(0.0, a[1] - b[3], b[1] - a[3])


def _split_by_anchors(leaf: list[int], anchors: Sequence[Sequence[int]], band: float) -> list[list[int]]:
    """A leaf that several panel letters head (letters side by side along its top, or stacked along its left
    edge: touching panels) cut at the letters, each piece again at the letters heading it: columns first, or rows
    first where that leaves fewer pieces holding two letters or more (a row of wide panels under a row of
    narrow ones, all touching: the columns of the top row would cut the panels below)."""
    x0, y0, x1, y1 = leaf
    top = sorted(a[0] for a in anchors if x0 - band <= a[0] < x1 - band and y0 - band <= a[1] <= y0 + band)
    left = sorted(a[1] for a in anchors if y0 - band <= a[1] < y1 - band and x0 - band <= a[0] <= x0 + band)

    def cut(axis: int, at: list[int]) -> list[list[int]]:
        lo, hi = (x0, x1) if axis == 0 else (y0, y1)
        cuts = [lo] + [max(lo, a - 2) for a in at[1:]] + [hi]
        pieces = [[a, y0, b, y1] if axis == 0 else [x0, a, x1, b] for a, b in zip(cuts, cuts[1:]) if b - a > band]
        return [q for p in pieces for q in (_split_by_anchors(p, anchors, band) if p != leaf else [p])]

    tries = [cut(axis, at) for axis, at in ((0, top), (1, left)) if len(at) >= 2]
    if not tries:
        return [leaf]
    return min(tries, key=lambda pieces: sum(sum(_holds(p, a) for a in anchors) > 1 for p in pieces))


def _panels_from_letters(W: int, H: int, leaves: list[list[int]], anchors: dict[str, Sequence[int]],
                         small: float, grow: float = 1.6) -> list[list[int]]:
    """Every panel letter found: each leaf joins the letter it holds or, else, the nearest letter above-left of
    its centre (city-block distance between top-left corners: panels are labelled at their top-left) whose panel
    it does not grow over another letter (a panel holds one letter: an arrow or a zoom line drawn from one panel
    to the next belongs to neither); leaves no letter claims stay panels when large, else join the nearest panel
    when that does not swell it by more than `grow` (legends, colour bars, headers), and are dropped otherwise (a
    legend or title shared by several panels)."""
    groups: dict[str, list[int]] = {}
    loose: list[list[int]] = []
    for leaf in leaves:
        cx, cy = (leaf[0] + leaf[2]) / 2, (leaf[1] + leaf[3]) / 2
        inside = [k for k, a in anchors.items() if _holds(leaf, a)]
        if len(inside) == 1:
            owner = inside[0]
        else:
            above = sorted((k for k, a in anchors.items() if a[0] <= cx and a[1] <= cy),
                           key=lambda k: abs(leaf[0] - anchors[k][0]) + 2 * abs(leaf[1] - anchors[k][1]))
            owner = next((k for k in above if not any(
                _holds(_union(_union(groups.get(k, anchors[k]), anchors[k]), leaf), a)
                for j, a in anchors.items() if j != k)), None)
        if owner is None:
            loose.append(leaf)
        else:
            groups[owner] = _union(groups[owner], leaf) if owner in groups else list(leaf)
    for k, a in anchors.items():
        groups[k] = _union(groups[k], a) if k in groups else [int(v) for v in a]
    return _join_small(list(groups.values()) + [b for b in loose if _panel_sized(b, W, H, small)],
                       [b for b in loose if not _panel_sized(b, W, H, small)], grow)


def _join_small(panels: list[list[int]], pieces: Sequence[Sequence[int]], grow: float) -> list[list[int]]:
    """Each piece (largest first) joins the panel nearest to it where that does not swell the panel by more than
    `grow` (its legend, colour bar, header or row label), and is dropped otherwise (shared by several)."""
    for b in sorted(pieces, key=_area, reverse=True):
        j = min(range(len(panels)), key=lambda i: _gap(panels[i], b))
        u = _union(panels[j], b)
        if _area(u) <= grow * _area(panels[j]):
            panels[j] = u
    return panels


def layout_panels(image: Image.Image, anchors: dict[str, Sequence[int]] | None = None,
                  leaves: list[list[int]] | None = None, n_panels: int | None = None,
                  stop_gap: float = 0.012, small: float = CONFIG["layout_small"], grow: float = 1.6,
                  join_small: bool = False) -> list[list[int]]:
    """Panel boxes from the layout leaves by constrained agglomerative grouping: the two groups nearest to
    each other (gap between their boxes; groups under `small` of the figure's area, i.e. legends, colour bars,
    titles and letters, count nearer) merge first, but never two groups holding different panel letters
    (`anchors`: letter -> glyph box, labels.find_anchors). Merging stops at `n_panels` groups (the caption's
    label count) or, without it, when the nearest groups are `stop_gap` of the figure's size apart. With
    `join_small`, merging stops as soon as `n_panels` groups are of a panel's size (`small`); the smaller ones
    then join the nearest panel or are dropped (_join_small): row labels, shared legends.
    [] when fewer than two panels come out."""
    W, H = image.size
    leaves = layout_leaves(image) if leaves is None else leaves
    anchors = dict(anchors or {})
    band = max(6.0, 0.02 * max(W, H))
    if len(anchors) >= 2:
        leaves = [p for leaf in leaves for p in _split_by_anchors(leaf, list(anchors.values()), band)]
    if n_panels and len(anchors) == n_panels:
        return _panels_from_letters(W, H, leaves, anchors, small)
    boxes = [list(map(float, b)) for b in leaves]
    owner: list[str | None] = [None] * len(boxes)
    for k, a in anchors.items():
        hit = [i for i, b in enumerate(boxes) if _holds(b, a) and owner[i] is None]
        if hit:
            owner[min(hit, key=lambda i: _area(boxes[i]))] = k
        else:
            boxes.append(list(map(float, a)))
            owner.append(k)
    n = len(boxes)
    if n < 2:
        return []
    B = np.array(boxes)
    alive = np.ones(n, bool)
    small_area = small * W * H

    def dist_row(i: int) -> np.ndarray:
        b = B[i]
        dx = np.maximum(0.0, np.maximum(B[:, 0] - b[2], b[0] - B[:, 2]))
        dy = np.maximum(0.0, np.maximum(B[:, 1] - b[3], b[1] - B[:, 3]))
        area = (B[:, 2] - B[:, 0]) * (B[:, 3] - B[:, 1])
        smaller = np.minimum(area, (b[2] - b[0]) * (b[3] - b[1]))
        d = (dx + dy) * (0.25 + 0.75 * np.minimum(1.0, smaller / small_area))
        d[~alive] = np.inf
        d[i] = np.inf
        if owner[i] is not None:
            d[[j for j in range(n) if owner[j] is not None and owner[j] != owner[i]]] = np.inf
        return d

    D = np.stack([dist_row(i) for i in range(n)])
    target = n_panels if n_panels and n_panels >= 2 else None
    limit = stop_gap * max(W, H)
    def sized() -> np.ndarray:  # the groups alive of a panel's size
        idx = np.flatnonzero(alive)
        return idx[_panel_sized(B[idx], W, H, small)]

    while alive.sum() > (target or 1):
        if target and join_small and len(sized()) == target:  # the rest are legends, headers, row labels
            break
        flat = int(np.argmin(D))
        i, j = divmod(flat, n)
        if not np.isfinite(D[i, j]) or (target is None and D[i, j] > limit):
            break
        B[i] = [min(B[i, 0], B[j, 0]), min(B[i, 1], B[j, 1]), max(B[i, 2], B[j, 2]), max(B[i, 3], B[j, 3])]
        owner[i] = owner[i] or owner[j]
        alive[j] = False
        D[j, :] = np.inf
        D[:, j] = np.inf
        D[i, :] = dist_row(i)
        D[:, i] = D[i, :]
        # the owners changed: rows of other owners must not reach i
        if owner[i] is not None:
            for k in np.flatnonzero(alive):
                if owner[k] is not None and owner[k] != owner[i]:
                    D[k, i] = D[i, k] = np.inf
    out = [[int(round(v)) for v in B[i]] for i in np.flatnonzero(alive)]
    if target and join_small and alive.sum() > target and len(sized()) == target:
        big = [[int(round(v)) for v in B[i]] for i in sized()]
        out = _join_small(big, [b for b in out if b not in big], grow)
    return out if len(out) > 1 else []


def layout_quality(panels: Sequence[Sequence[int]], anchors: dict[str, Sequence[int]], n_panels: int,
                   W: int, H: int, small: float, cross: float = 0.1) -> tuple[int, int, int, float, float]:
    """How well a grouping fits the caption's count, larger is better: (as many panels as the caption names and
    no fault; minus the faults: panels under `small` of the figure's area (a legend, a glyph or a letter alone)
    and pairs of panels that overlap by more than `cross` of the smaller one (a panel cut in two, one half
    grouped with its neighbour); letters that head a panel of their own; minus how far the letters lie from
    a corner of their panel, in panel diagonals (letters are drawn at a corner; a letter read mid-panel is a
    character of a word); minus the area the panels overlap, as a share of the figure)."""
    pairs = [(a, b) for i, a in enumerate(panels) for b in panels[i + 1:]]
    faults = (sum(not _panel_sized(p, W, H, small) for p in panels)
              + sum(_intersection(a, b) > cross * min(_area(a), _area(b)) for a, b in pairs))
    own = sum(1 for a in anchors.values() if sum(_holds(p, a) for p in panels) == 1
              and all(not _holds(p, b) for p in panels if _holds(p, a) for b in anchors.values() if b is not a))
    overlap = sum(_intersection(a, b) for a, b in pairs)
    off = 0.0
    for a in anchors.values():
        p = next((p for p in panels if _holds(p, a)), None)
        if p is not None:
            corner = min(abs(a[0] - p[0]), abs(p[2] - a[2])) + min(abs(a[1] - p[1]), abs(p[3] - a[3]))
            off += corner / max(1.0, float(np.hypot(p[2] - p[0], p[3] - p[1])))
    return int(len(panels) == n_panels and not faults), -faults, own, -round(off, 2), -overlap / (W * H)


def choose_layout(image: Image.Image, anchors: dict[str, Sequence[int]], leaves: list[list[int]], n_panels: int,
                  small: float = CONFIG["layout_small"], framed: list[list[int]] | None = None
                  ) -> tuple[list[list[int]], dict[str, Sequence[int]]]:
    """(panels, the letters they were grouped around): layout_panels around the letters read, the plain grouping
    or the one with `join_small`, of `leaves` or, where given, of `framed` (the leaves with each drawn frame kept
    whole: layout_leaves' framed_out; panels drawn as framed boxes), whichever scores better (layout_quality;
    `leaves` on a tie); where that does not give `n_panels` panels of a panel's size, each heading its own (a
    letter read in a word, a legend or a tick label takes a panel's place and leaves its own letter alone), the
    letter whose dropping improves the grouping most is dropped, one at a time, while that improves it."""
    W, H = image.size

    def grouped(kept: dict[str, Sequence[int]]):
        return max(((layout_quality(panels, kept, n_panels, W, H, small), panels, kept) for panels in
                    (layout_panels(image, kept, ls, n_panels=n_panels, small=small, join_small=j)
                     for ls in ([leaves, framed] if framed else [leaves]) for j in (False, True))), key=lambda t: t[0])

    best = grouped(dict(anchors))
    while best[2] and not (best[0][0] and best[0][2] == len(best[2])):
        tries = [grouped({k: a for k, a in best[2].items() if k != drop}) for drop in best[2]]
        top = max(tries, key=lambda t: t[0])
        if top[0] <= best[0]:
            break
        best = top
    return best[1], best[2]


def layout_detect(image: Image.Image, caption_labels: Sequence[str], options: SubfigureOptions | None = None,
                  max_side: int = 1000, reads_out: dict[str, tuple[str, float]] | None = None,
                  leaves_out: list[list[int]] | None = None
                  ) -> tuple[list[list[int]], dict[str, list[int]]]:
    """(panel boxes, panel letters read: letter -> glyph box) of a figure whose caption names `caption_labels`
    (as many panels): layout leaves, the panel letters read among them (Tesseract, when installed; reads
    following another too closely or lined up with no other letter dropped, unread letters placed by
    placed_letters, or by letter_grid where the letters make a full grid), then choose_layout; without
    caption labels, the cells of touching grids (touching_cells, `edge_step`, `edge_share`) and the large leaves
    with the small ones joined to them, headers and row labels of a grid dropped (_drop_grid_labels), grown to
    their own ground where the figure's border is not white (_with_ground). Computed on a copy at most
    `max_side` pixels wide or high, boxes in the figure's pixels. `options`: the layout_* and edge_* thresholds
    and those of reading the letters (`letters`), the config's by default. `reads_out` receives the letters read
    (not placed): letter -> (text as read, confidence); `leaves_out` the layout leaves (the cells of touching
    grids among them where there are no caption labels)."""
    o = options or SubfigureOptions()
    s = min(1.0, max_side / max(image.size))
    copy = image if s == 1.0 else image.resize((round(image.size[0] * s), round(image.size[1] * s)),
                                               Image.Resampling.LANCZOS)
    framed: list[list[int]] = []
    leaves = layout_leaves(copy, tol=o.layout_tol, thin_share=o.layout_thin, corner=o.layout_corner,
                           framed_out=framed)
    names = [k for k in caption_labels if len(k) == 1 and k.isalpha()]
    reads: dict[str, tuple[str, float]] = {}
    anchors = labels.find_anchors(copy, leaves, names, o.letters, reads_out=reads) \
        if len(names) >= 2 and labels.available() else {}
    if 2 <= len(anchors) <= len(names) == len(caption_labels):
        anchors = _aligned_letters(_spaced_letters(anchors), leaves)
        reads = {k: v for k, v in reads.items() if k in anchors}  # placed letters (letter_slots) were not read
        missing = [k for k in names if k not in anchors]
        slots = placed_letters(leaves, anchors, missing)
        anchors = {**anchors, **(letter_grid(leaves, anchors, list(slots.values()), missing) or slots)}
    if caption_labels:
        panels, anchors = choose_layout(copy, anchors, leaves, len(caption_labels), o.layout_small,
                                        framed if len(framed) < len(leaves) else None)
        if reads_out is not None:  # choose_layout may drop letters read in words or legends
            reads_out.update({k: v for k, v in reads.items() if k in anchors})
    else:  # no count, no letters: the cells of touching grids and the large blocks are the panels
        leaves = touching_cells(copy, leaves, tol=o.layout_tol, step=o.edge_step, share=o.edge_share)
        panels = _panels_from_letters(copy.size[0], copy.size[1], _drop_grid_labels(leaves), {}, o.layout_small)
        panels = _with_ground(copy, panels, o.layout_tol) if len(panels) > 1 else []
    scale = lambda b: [int(round(v / s)) for v in b]  # noqa: E731
    if leaves_out is not None:
        leaves_out[:] = [scale(b) for b in leaves]
    return [scale(p) for p in panels], {k: scale(a) for k, a in anchors.items()}


def touching_cells(image: Image.Image, leaves: list[list[int]], tol: int = CONFIG["layout_tol"],
                   step: int = CONFIG["edge_step"], share: float = CONFIG["edge_share"], same: float = 0.1,
                   flat: float = 0.8) -> list[list[int]]:
    """`leaves` with each large leaf made of touching images of one size (no background gutter between them)
    cut into its cells: the leaf's straight image edges (lines across the whole leaf where at least `share` of
    the pixel pairs step by more than `step` in a channel, a one-pixel separator line included) and its ends
    must lie on a regular pitch along an axis (every distance between neighbouring lines a whole multiple,
    within `same`, of the smallest; an edge is missing where two neighbouring cells are blank); the grid's
    cells, cut to their content, replace the leaf where there are two or more and most are images, not a heat
    map's flat cells (their two most common colours cover less than `flat` of the pixels); blank cells (nothing
    but background inside their edge lines) go."""
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    H, W = rgb.shape[:2]
    big = 0.1 * max(W, H)
    backgrounds = np.array([_background(rgb), [255, 255, 255]], dtype=float)

    def pitch(sub: np.ndarray) -> list[int]:
        """Column positions of the grid lines of sub (its ends included), or [0, width] where there is none."""
        d = np.abs(np.diff(sub, axis=1)).max(axis=2) > step
        near = np.zeros(sub.shape[:2], bool)
        near[:, 1:] |= d
        near[:, :-1] |= d
        n = sub.shape[1]
        lines = [0] + [(a + b) // 2 for a, b in _runs(near.mean(axis=0) < share, 1)] + [n]
        lines = [x for i, x in enumerate(lines) if i == 0 or x - lines[i - 1] > 0.5 * big]
        lines[-1] = n
        gaps = np.diff(lines)
        if len(gaps) < 2 or gaps.min() < 0.5 * big:
            return [0, n]
        k = np.round(gaps / gaps.min())
        if np.any(np.abs(gaps - k * gaps.min()) > same * gaps.min()):
            return [0, n]
        return [int(round(a + (b - a) * i / m))
                for a, b, m in zip(lines, lines[1:], k.astype(int)) for i in range(m)] + [n]

    out: list[list[int]] = []
    for leaf in leaves:
        x0, y0, x1, y1 = leaf
        if x1 - x0 < big or y1 - y0 < big:
            out.append(leaf)
            continue
        sub = rgb[y0:y1, x0:x1]
        cols, rows = pitch(sub), pitch(sub.transpose(1, 0, 2))
        if len(cols) * len(rows) < 6:  # no grid of two or more cells
            out.append(leaf)
            continue
        is_bg = np.abs(sub[:, :, None, :] - backgrounds).max(3).min(2) <= tol
        cells = []
        for a, b in zip(rows, rows[1:]):
            for c, d in zip(cols, cols[1:]):
                fg = ~is_bg[a:b, c:d]
                ys, xs = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
                if fg[3:-3, 3:-3].any():  # not blank inside its edge lines
                    cells.append([x0 + c + int(xs[0]), y0 + a + int(ys[0]), x0 + c + int(xs[-1]) + 1,
                                  y0 + a + int(ys[-1]) + 1])
        if len(cells) >= 2 and np.median([_top_colours(rgb[p[1]:p[3], p[0]:p[2]]) for p in cells]) < flat:
            out.extend(cells)
        else:
            out.append(leaf)
    return out


def _top_colours(pixels: np.ndarray, n: int = 2) -> float:
    """Share of the pixels in the n most common colours (quantised to 8 levels a channel)."""
    q = (pixels // 32).reshape(-1, 3).astype(int)
    counts = np.bincount(q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2], minlength=512)
    return float(np.sort(counts)[-n:].sum() / max(1, len(q)))


def _with_ground(image: Image.Image, panels: list[list[int]], tol: int, inside: float = 0.9) -> list[list[int]]:
    """On a figure whose border is not white, the panels grown to their own ground: where white gutters alone
    (lines within `tol` of white) cut the figure into blocks that each hold one panel (`inside` of it), those
    blocks (a black scan on its black ground, between white gutters)."""
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    if np.abs(_background(rgb) - 255).max() <= tol:
        return panels
    white = (np.abs(rgb - 255).max(axis=2) <= tol)

    def stretches(x0: int, y0: int, x1: int, y1: int) -> tuple[list, list]:
        m = white[y0:y1, x0:x1]
        return _runs(m.all(axis=1), 1), _runs(m.all(axis=0), 1)

    blocks = _xy_cut(rgb.shape[1], rgb.shape[0], stretches, 6)
    homes = [[b for b in blocks if _contained(p, b) >= inside] for p in panels]
    if any(len(h) != 1 for h in homes) or len({tuple(h[0]) for h in homes}) < len(panels):
        return panels
    return [h[0] for h in homes]


def _drop_grid_labels(leaves: list[list[int]], same: float = 0.1) -> list[list[int]]:
    """`leaves` less the headers and row labels of a grid: the cells are the leaves of the most common size
    (sides within `same` of the median of the leaves at least half the largest); a leaf above a column of two or
    more cells (under most of its width), with no leaf between the first two (a title repeated over every
    cell), names the column, not a panel, and so do the leaves above a cell on its line (a header over a column
    whose upper cells are blank); likewise a leaf left of a row of cells names the row."""
    if len(leaves) < 3:
        return leaves
    largest = max(map(_area, leaves))
    large = [b for b in leaves if _area(b) >= 0.5 * largest]
    w, h = np.median([b[2] - b[0] for b in large]), np.median([b[3] - b[1] for b in large])
    cells = [b for b in large if abs(b[2] - b[0] - w) <= same * w and abs(b[3] - b[1] - h) <= same * h]

    def headers(cells: list, others: list, h: float) -> list:
        def column(p: Sequence[int]) -> list:  # the cells below p, under most of its width, top to bottom
            return sorted((c for c in cells
                           if c[1] >= p[3] and min(p[2], c[2]) - max(p[0], c[0]) > 0.5 * (p[2] - p[0])),
                          key=lambda c: c[1])

        found = [p for p in others if len(col := column(p)) >= 2 and not any(
            o[1] >= col[0][3] and o[3] <= col[1][1] and min(o[2], col[1][2]) > max(o[0], col[1][0]) for o in others)]
        return [p for p in others if p in found or (column(p) and any(
            abs(p[1] - q[1]) <= same * h and abs(p[3] - q[3]) <= same * h for q in found))]

    others = [b for b in leaves if b not in cells]  # transposed, row labels are the headers of the rows
    drop = headers(cells, others, h) + [transposed(b) for b in headers([transposed(c) for c in cells],
                                                                      [transposed(o) for o in others], w)]
    return [b for b in leaves if b not in drop]


def _lined_up(b: Sequence[int], others: Iterable[Sequence[int]], h: float, rows_only: bool = False) -> bool:
    """Glyph b shares its top or (unless `rows_only`) its left edge, within h / 2, with one of `others`."""
    return any(same_row(a, b, h) or (not rows_only and same_column(a, b, h)) for a in others)


def _lone_glyphs(leaves: Sequence[Sequence[int]], h: float) -> list[list[int]]:
    """Leaves that are one glyph `h` high (within a third) standing alone: no glyph-sized leaf beside them on their
    line (not a character of a word or a number) but, for a glyph between brackets, its brackets."""
    def glyph(b: Sequence[int]) -> bool:
        bh, bw = b[3] - b[1], b[2] - b[0]
        return 0.75 * h <= bh <= 1.33 * h and 0.15 * bh <= bw <= 1.6 * bh

    def alone(b: Sequence[int]) -> bool:  # the brackets of a glyph between brackets ("(A)") aside
        aside = labels.between_brackets(b, leaves)
        return not any(o is not b and o[3] - o[1] <= 1.5 * h and min(b[3], o[3]) - max(b[1], o[1]) > 0.5 * h
                       and max(o[0] - b[2], b[0] - o[2]) < labels.WORD_GAP * h
                       and not (aside and labels.is_bracket(o[3] - o[1], o[2] - o[0], b[3] - b[1]))
                       for o in leaves)

    return [list(b) for b in leaves if glyph(b) and alone(b)]


def _unread_glyphs(leaves: Sequence[Sequence[int]], anchors: dict[str, Sequence[int]]
                   ) -> tuple[float, list[list[int]]]:
    """(the letters' height h: the median of those read, the lone glyphs of height h (_lone_glyphs) that hold no
    letter read): where letters OCR did not read may be."""
    h = float(np.median([a[3] - a[1] for a in anchors.values()]))
    return h, [b for b in _lone_glyphs(leaves, h) if not any(_contained(b, a) > 0 for a in anchors.values())]


def _spaced_letters(anchors: dict[str, Sequence[int]], room: float = 4.0) -> dict[str, Sequence[int]]:
    """The letters read less those that follow another one on its line (same top, or same left edge, within
    h / 2; h the letters' median height) closer than `room` letter heights: no panel is that narrow or low, so
    the later one is a character of the title or label that the panel's letter heads ("B IHC": the C)."""
    out = dict(anchors)
    h = float(np.median([a[3] - a[1] for a in anchors.values()])) if anchors else 0.0
    for k, a in sorted(anchors.items(), key=lambda t: (t[1][1], t[1][0])):
        for j, b in out.items():
            if j != k and ((same_row(a, b, h) and 0 < a[0] - b[0] < room * h)
                           or (same_column(a, b, h) and 0 < a[1] - b[1] < room * h)):
                del out[k]
                break
    return out


def _aligned_letters(anchors: dict[str, Sequence[int]], leaves: Sequence[Sequence[int]] = ()
                     ) -> dict[str, Sequence[int]]:
    """Of three or more letters read, those lined up with another one, or with a lone glyph of their size (a
    letter OCR did not read) that lines up with another one: panel letters sit in rows and columns, a lone
    read elsewhere is a character of a label or of a word."""
    if len(anchors) < 3:
        return anchors
    h, lone = _unread_glyphs(leaves, anchors)
    out = {}
    for k, a in anchors.items():
        others = [b for j, b in anchors.items() if j != k]
        if _lined_up(a, others + [g for g in lone if _lined_up(g, others, h)], h):
            out[k] = a
    return out


def letter_slots(leaves: Sequence[Sequence[int]], anchors: dict[str, Sequence[int]],
                 missing: Sequence[str]) -> dict[str, list[int]]:
    """Where the panel letters that OCR did not read are drawn: lone glyphs of the read letters' height
    (_lone_glyphs) lined up with a read letter (same top or same left edge; where that finds more glyphs than
    letters are missing, those between brackets, "(B)", or else same top only: tick labels line up under a letter
    too; or else those in line with the most letters: a letter is in its row's and its column's, a tick label in
    one by chance). At most as many as `missing`, they take those letters in the order the letters run
    (name_slots); else {}."""
    if not missing or len(anchors) < 2:
        return {}
    h, lone = _unread_glyphs(leaves, anchors)
    slots = [b for b in lone if _lined_up(b, anchors.values(), h)]
    if len(slots) > len(missing):
        lined = [sum(_lined_up(b, [a], h) for a in anchors.values()) for b in slots]
        slots = ([b for b in slots if labels.between_brackets(b, leaves)]
                 or [b for b in slots if _lined_up(b, anchors.values(), h, rows_only=True)]
                 or [b for b, n in zip(slots, lined) if n == max(lined)])
    if len(slots) > len(missing):
        return {}
    return name_slots(anchors, slots, missing)


def placed_letters(leaves: Sequence[Sequence[int]], read: dict[str, Sequence[int]], missing: Sequence[str]
                   ) -> dict[str, list[int]]:
    """letter_slots, again with the glyphs placed as letters too, until no more are placed: a glyph in line with
    a glyph placed (E beside D, under a row A B C of which only A is above D) is a letter as well."""
    slots: dict[str, list[int]] = {}
    while more := letter_slots(leaves, {**read, **slots}, [k for k in missing if k not in slots]):
        slots.update(more)
    return slots


def name_slots(read: dict[str, Sequence[int]], slots: Sequence[Sequence[int]], missing: Sequence[str]
               ) -> dict[str, list[int]]:
    """The unread letters (`missing`) given to the glyphs placed for them (`slots`): the letters read and the slots,
    in reading order (rows first) or in column-major order (reading order of the boxes transposed), each slot
    taking the first missing letter not yet given that falls between the letters read just before and just after
    it; of the two orders, the one naming more slots (rows on a tie). A slot with no letter between its neighbours
    stays unnamed (the letters do not run that way, or the slot is no letter)."""
    keys = sorted(read)
    glyphs = [read[k] for k in keys] + [list(b) for b in slots]

    def named(order: list[int]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for pos, i in enumerate(order):
            if i < len(keys):
                continue
            before = next((keys[j] for j in reversed(order[:pos]) if j < len(keys)), "")
            after = next((keys[j] for j in order[pos + 1:] if j < len(keys)), None)
            free = [k for k in sorted(missing) if k not in out and before < k and (after is None or k < after)]
            if free:
                out[free[0]] = glyphs[i]
        return out

    rows = named(reading_order(glyphs))
    cols = named(reading_order([transposed(b) for b in glyphs]))
    return cols if len(cols) > len(rows) else rows


def _lines(values: Sequence[float], h: float) -> list[float]:
    """The lines (rows or columns) that `values` (letter tops or left edges) fall on: runs of sorted values less
    than h / 2 apart, each at its first value."""
    out: list[float] = []
    last = None
    for v in sorted(values):
        if last is None or v - last > 0.5 * h:
            out.append(v)
        last = v
    return out


def letter_grid(leaves: Sequence[Sequence[int]], read: dict[str, Sequence[int]], placed: Sequence[Sequence[int]],
                missing: Sequence[str]) -> dict[str, list[int]]:
    """Where the letters not read (`missing`) are drawn when the letters read and the glyphs placed for some of
    them (`placed`, letter_slots), two or more, stand in a grid of as many rows times columns as there are letters
    (tops on R rows, left edges on C columns, R x C panels, one letter per grid node): the glyphs placed and, at
    the empty nodes, each the leaf starting there (within a letter height; the glyph OCR did not read, or the
    panel's content) or, where none does, a letter-sized box at the node (the glyph touches its neighbour's
    content). They take the missing letters in the order the letters run (name_slots); {} where the letters do
    not make such a grid."""
    known = list(read.values()) + list(placed)
    if not missing or len(known) < 2:
        return {}
    h, w = float(np.median([a[3] - a[1] for a in known])), float(np.median([a[2] - a[0] for a in known]))
    rows, cols = _lines([a[1] for a in known], h), _lines([a[0] for a in known], h)
    if len(rows) * len(cols) != len(read) + len(missing):
        return {}
    node = lambda a: (max(i for i, r in enumerate(rows) if r <= a[1]),  # noqa: E731
                      max(i for i, c in enumerate(cols) if c <= a[0]))
    taken = {node(a) for a in known}
    if len(taken) < len(known):
        return {}
    slots = [list(b) for b in placed]
    for r, y in enumerate(rows):
        for c, x in enumerate(cols):
            if (r, c) in taken:
                continue
            near = [b for b in leaves if abs(b[0] - x) <= h and abs(b[1] - y) <= h]
            slots.append(list(min(near, key=lambda b: (abs(b[0] - x) + abs(b[1] - y), _area(b)))) if near
                         else [int(x), int(y), int(round(x + w)), int(round(y + h))])
    return name_slots(read, slots, missing)


def _letter_panel(panels: Sequence[Sequence[float]], a: Sequence[int]) -> int | None:
    """The panel a letter glyph `a` labels: the one holding its centre or, where none does, the nearest one whose
    box grown by two letter heights to the left and up holds it (letters drawn left of or above their panel)."""
    inside = [i for i, p in enumerate(panels) if _holds(p, a)]
    if inside:
        return min(inside, key=lambda i: _area(panels[i]))
    m, cx, cy = 2 * (a[3] - a[1]), (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    near = [(_gap(p, a), i) for i, p in enumerate(panels) if p[0] - m <= cx <= p[2] and p[1] - m <= cy <= p[3]]
    return min(near)[1] if near else None


def letter_order(panels: Sequence[Sequence[float]], anchors: dict[str, Sequence[int]],
                 caption_labels: Sequence[str]) -> list[int]:
    """Indices of panels in reading order, except that the panels holding exactly one of the letters read
    (`anchors`) take the places of the lettered panels in the caption's letter order (column-major layouts,
    letters placed out of rows): the order the pairing step reads as the prior."""
    order = reading_order(panels)
    rank = {k: i for i, k in enumerate(caption_labels)}
    held: dict[int, int] = {}
    for i, p in enumerate(panels):
        inside = [k for k, a in anchors.items() if k in rank and _holds(p, a)]
        if len(inside) == 1:
            held[i] = rank[inside[0]]
    slots = [j for j, i in enumerate(order) if i in held]
    for j, i in zip(slots, sorted((i for i in order if i in held), key=held.get)):
        order[j] = i
    return order
