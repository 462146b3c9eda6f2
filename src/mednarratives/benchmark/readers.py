"""Readers for evaluation datasets in the formats their publishers distribute them in.

A registry entry (docs/benchmark.md) names a ``format``; each of its splits is a path, or a mapping
``{path: ..., images: ..., labels: ..., filter: {...}}`` whose keys override the entry's reader options.
Every reader returns ``[(image, [label, ...])]`` in a deterministic order, where ``image`` is a file
path (PNG/JPEG/TIFF/BMP/WebP or DICOM) or an :class:`H5Image`; :func:`open_image` opens either.

Formats
    imagefolder  ``<path>/[<level>/...]<class>/**/<image>``; ``class_depth`` directory levels between
                 the root and the class folders (0: classes right below), ``pattern`` a file-name glob
                 (e.g. ``image*.png`` to skip masks).
    csv          one row per image (or per image and reader: rows of one image are merged); the image
                 is ``path_template`` filled with the row's columns (default ``{path}``), below
                 ``images`` (default: the CSV's folder), or found by file name anywhere below it
                 (``find_by_name``). Labels: ``label_column`` (default ``label``, ``labels`` when
                 multi-label; ``label_separator`` '|' or ``label_format: list`` for Python-list text),
                 or ``onehot: true`` (one 0/1 column per class, named as the class). ``label_map``
                 renames raw labels (null: no label); ``filter`` keeps rows whose columns match.
    hdf5         images in ``path`` (dataset ``images_key``, N x H x W [x C] uint8), labels in
                 ``labels`` (dataset ``labels_key``, integers indexing ``classes``) -- PatchCamelyon.
"""

from __future__ import annotations

import ast
import csv
import fnmatch
import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")   # a column name in path_template (may hold spaces or dots)

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".dcm", ".dicom")
DICOM_EXTENSIONS = (".dcm", ".dicom")
SPLIT_PATH_KEYS = ("path", "images", "labels")   # split keys that name files or folders
FORMATS = ("imagefolder", "csv", "hdf5")


@dataclass(frozen=True)
class H5Image:
    """Image ``index`` of dataset ``key`` in HDF5 file ``path`` (read when opened)."""

    path: str
    key: str
    index: int


def split_spec(entry: Mapping[str, Any], split: str) -> dict[str, Any]:
    """Reader options of one split: the entry's options overridden by the split's own."""
    value = entry["splits"][split]
    spec = {k: v for k, v in entry.items() if k not in ("splits",)}
    spec.update({"path": value} if isinstance(value, str) else dict(value))
    if "path" not in spec:
        raise ValueError(f"split {split!r} has no path")
    return spec


def resolve_paths(split_value: Any, base: Path) -> Any:
    """A split value with its relative paths made absolute against ``base``."""
    def absolute(p: str) -> str:
        return p if Path(p).is_absolute() else str((base / p).resolve())

    if isinstance(split_value, str):
        return absolute(split_value)
    return {k: absolute(v) if k in SPLIT_PATH_KEYS and isinstance(v, str) else v for k, v in split_value.items()}


def missing_paths(entry: Mapping[str, Any]) -> list[str]:
    """Files and folders an entry (absolute paths) names that do not exist."""
    out = []
    for split in entry.get("splits") or {}:
        spec = split_spec(entry, split)
        out += [spec[k] for k in SPLIT_PATH_KEYS if isinstance(spec.get(k), str) and not Path(spec[k]).exists()]
    return sorted(set(out))


def read_split(spec: Mapping[str, Any]) -> list[tuple[Any, list[str]]]:
    fmt = spec.get("format", "imagefolder")
    if fmt == "imagefolder":
        return _imagefolder(Path(spec["path"]), int(spec.get("class_depth", 0)), spec.get("pattern"))
    if fmt == "csv":
        return _csv(Path(spec["path"]), spec)
    if fmt == "hdf5":
        return _hdf5(spec)
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def _is_image(f: Path, pattern: str | None) -> bool:
    return (f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS
            and (pattern is None or fnmatch.fnmatch(f.name, pattern)))


def _imagefolder(root: Path, class_depth: int, pattern: str | None) -> list[tuple[Any, list[str]]]:
    if not root.is_dir():
        raise FileNotFoundError(f"ImageFolder root {root} not found")
    class_dirs = sorted((p for p in root.glob("/".join(["*"] * (class_depth + 1))) if p.is_dir()),
                        key=lambda p: (p.name, p))
    items = []
    for class_dir in class_dirs:
        items += [(f, [class_dir.name]) for f in sorted(class_dir.rglob("*")) if _is_image(f, pattern)]
    return items


def _parse_labels(raw: str, spec: Mapping[str, Any], multilabel: bool) -> list[str]:
    raw = (raw or "").strip()
    if spec.get("label_format") == "list":
        labels = [str(x) for x in ast.literal_eval(raw)] if raw else []
    elif multilabel:
        labels = raw.split(spec.get("label_separator", "|"))
    else:
        labels = [raw]
    return [x.strip() for x in labels if x.strip()]


def _matches(row: Mapping[str, str], filters: Mapping[str, Any]) -> bool:
    for col, want in (filters or {}).items():
        wanted = want if isinstance(want, list) else [want]
        if row.get(col) not in {str(w) for w in wanted}:
            return False
    return True


def _csv(csv_path: Path, spec: Mapping[str, Any]) -> list[tuple[Any, list[str]]]:
    multilabel = bool(spec.get("multilabel", False))
    images = Path(spec.get("images") or csv_path.parent)
    template = spec.get("path_template", "{path}")
    label_map = spec.get("label_map") or {}
    onehot = [str(c) for c in spec.get("classes") or []] if spec.get("onehot") else None
    by_name: dict[str, Path] = {}
    if spec.get("find_by_name"):
        for f in sorted(images.rglob("*")):
            if _is_image(f, None):
                by_name.setdefault(f.name, f)
                by_name.setdefault(f.stem, f)
    merged: dict[Path, list[str]] = {}
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        col = spec.get("label_column", "labels" if multilabel else "label")
        need = ((onehot if onehot is not None else [col]) + list(spec.get("filter") or {})
                + TEMPLATE_FIELD.findall(template))
        absent = [c for c in need if c not in (reader.fieldnames or [])]
        if absent:
            raise ValueError(f"{csv_path}: columns {absent} not found (has {reader.fieldnames})")
        for row in reader:
            if not _matches(row, spec.get("filter")):
                continue
            rel = TEMPLATE_FIELD.sub(lambda m: row[m.group(1)], template)
            if onehot is not None:
                raw = [c for c in onehot if float(row[c] or 0) > 0]
            else:
                raw = _parse_labels(row[col], spec, multilabel)
            labels = [str(label_map.get(x, x)) for x in raw if label_map.get(x, x) is not None]
            path = (by_name.get(Path(rel).name) or by_name.get(Path(rel).stem)) if by_name else images / rel
            if path is None:
                raise FileNotFoundError(f"{csv_path}: no image named {Path(rel).name!r} below {images}")
            merged.setdefault(path, [])
            merged[path] += [x for x in labels if x not in merged[path]]
    return list(merged.items())


def _hdf5(spec: Mapping[str, Any]) -> list[tuple[Any, list[str]]]:
    import h5py

    classes = [str(c) for c in spec.get("classes") or []]
    if not classes or not spec.get("labels"):
        raise ValueError("hdf5 datasets need `classes` and a `labels` file per split")
    images_key, labels_key = spec.get("images_key", "x"), spec.get("labels_key", "y")
    with h5py.File(spec["path"], "r") as fh:
        n = fh[images_key].shape[0]
    with h5py.File(spec["labels"], "r") as fh:
        labels = np.asarray(fh[labels_key][:]).reshape(-1).astype(np.int64)
    if len(labels) != n:
        raise ValueError(f"{spec['path']}: {n} images but {len(labels)} labels")
    return [(H5Image(str(spec["path"]), images_key, i), [classes[int(y)]]) for i, y in enumerate(labels)]


@functools.lru_cache(maxsize=8)
def _h5_file(path: str):
    import h5py

    return h5py.File(path, "r")


def _dicom_rgb(path: Path):
    """A DICOM image as 8-bit RGB: modality/VOI LUT applied, MONOCHROME1 inverted, min-max scaled."""
    import pydicom
    from PIL import Image
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    if ds.get("PhotometricInterpretation", "") in ("MONOCHROME1", "MONOCHROME2"):
        arr = apply_voi_lut(apply_modality_lut(arr, ds), ds).astype(np.float64)
        if ds.PhotometricInterpretation == "MONOCHROME1":
            arr = arr.max() - arr
        lo, hi = float(arr.min()), float(arr.max())
        arr = ((arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)).round().astype(np.uint8)
    return Image.fromarray(np.asarray(arr, np.uint8)).convert("RGB")


def open_image(image: Any):
    """RGB PIL image of a reader's image reference (file path, DICOM path or :class:`H5Image`)."""
    from PIL import Image

    if isinstance(image, H5Image):
        return Image.fromarray(np.asarray(_h5_file(image.path)[image.key][image.index], np.uint8)).convert("RGB")
    if Path(image).suffix.lower() in DICOM_EXTENSIONS:
        return _dicom_rgb(Path(image))
    with Image.open(image) as im:
        return im.convert("RGB")
