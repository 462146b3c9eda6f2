"""Write image-text pairs as WebDataset tar shards that ``open_clip_train`` reads unmodified.

Layout written by :func:`write_shards` into ``out_dir``::

    out_dir/
      <prefix>-000000.tar      # maxcount samples per shard (the last one may hold fewer)
      <prefix>-000001.tar
      ...
      sizes.json               # {"<prefix>-000000.tar": 1000, ...}: open_clip_train's dataset size file

Each sample is three tar members sharing one key (WebDataset groups members by the part of the
basename before the first dot)::

    <key>.jpg    the image, JPEG (bytes passed through unchanged when the input already is a JPEG)
    <key>.json   the sample's metadata, canonical JSON (sorted keys), plus "key": the original key
    <key>.txt    the caption, UTF-8

open_clip_train's pipeline keeps samples that have a ``txt`` and one of ``jpg/png/jpeg/webp``,
decodes ``pilrgb`` and tokenizes ``txt``; ``json`` is ignored by training and kept for analysis.

Determinism: members are written in a fixed order (jpg, json, txt) with fixed header fields
(mtime 0, uid/gid 0, empty user/group names, mode 0444, PAX format), JPEGs are encoded with fixed
settings (quality 95, 4:4:4 chroma, baseline, not optimised, no metadata), so the same samples give
byte-identical shards and sizes.json with the same Pillow/libjpeg build.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
from PIL import Image

from mednarratives.io import atomic_path

JPEG_QUALITY = 95
JPEG_SUBSAMPLING = 0  # 4:4:4: no chroma subsampling (fine detail, burnt-in text in medical images)
SIZES_FILENAME = "sizes.json"
_SHARD_DIGITS = 6
_KEY_BAD_CHARS = re.compile(r"[^A-Za-z0-9_\-]")
_JPEG_MAGIC = b"\xff\xd8\xff"


# --------------------------------------------------------------------------- images


def _to_pil(image: Any) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, (bytes, bytearray, memoryview)):
        with Image.open(io.BytesIO(bytes(image))) as im:
            im.load()
            return im.copy()
    if isinstance(image, (str, os.PathLike)):
        with Image.open(image) as im:
            im.load()
            return im.copy()
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"image arrays must be uint8, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        return Image.fromarray(np.ascontiguousarray(arr), mode="L")
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return Image.fromarray(np.ascontiguousarray(arr[:, :, :3]), mode="RGB")
    raise ValueError(f"image array must be HxW, HxWx1, HxWx3 or HxWx4, got shape {arr.shape}")


def _jpeg_ready(im: Image.Image) -> Image.Image:
    """An L or RGB image without metadata (EXIF, ICC) so encoding depends on pixels only."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = np.zeros(arr.shape, np.uint8) if hi <= lo else np.round((arr - lo) * (255.0 / (hi - lo)))
        im = Image.fromarray(scaled.astype(np.uint8), mode="L")
    elif im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))  # composite on black
        im = Image.alpha_composite(background, rgba).convert("RGB")
    elif im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    out = Image.frombytes(im.mode, im.size, im.tobytes())  # fresh image: no info/exif/icc carried over
    return out


def encode_jpeg(image: Any, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG bytes for a PIL image, a uint8 array (HxW, HxWx1/3/4), image bytes or an image path.

    Bytes (or a file) that already are a JPEG are returned unchanged; anything else is encoded with
    the fixed settings above. Alpha is composited on black; 16-bit/float images are min-max scaled.
    """
    if isinstance(image, (bytes, bytearray, memoryview)) and bytes(image[:3]) == _JPEG_MAGIC:
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        data = Path(image).read_bytes()
        if data[:3] == _JPEG_MAGIC:
            return data
        image = data
    im = _jpeg_ready(_to_pil(image))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality, subsampling=JPEG_SUBSAMPLING if im.mode == "RGB" else -1,
            optimize=False, progressive=False)
    return buf.getvalue()


# --------------------------------------------------------------------------- keys and json


def sanitize_key(key: str) -> str:
    """A WebDataset-safe key: only ``[A-Za-z0-9_-]`` (dots would split key and extension)."""
    key = str(key)
    if not key:
        raise ValueError("empty sample key")
    return _KEY_BAD_CHARS.sub("_", key)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (os.PathLike,)):
        return os.fspath(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_json_default).encode("utf-8")


# --------------------------------------------------------------------------- tar writing


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name=name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o444
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    tar.addfile(info, io.BytesIO(data))


def _shard_name(prefix: str, index: int) -> str:
    return f"{prefix}-{index:0{_SHARD_DIGITS}d}.tar"


def _shard_regex(prefix: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(prefix)}-(\d{{{_SHARD_DIGITS}}})\.tar$")


def _write_one_shard(path: Path, members: list[tuple[str, bytes]]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            with tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name, data in members:
                    _add_member(tar, name, data)


def write_shards(
    samples: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike,
    prefix: str = "shard",
    maxcount: int = 1000,
    jpeg_quality: int = JPEG_QUALITY,
) -> list[Path]:
    """Write ``samples`` as ``out_dir/<prefix>-NNNNNN.tar`` shards of at most ``maxcount`` samples.

    Each sample is a mapping with ``key`` (str, unique), ``image`` (PIL image, uint8 array, image
    bytes or path; JPEG bytes pass through), ``caption`` (str) and optional ``meta`` (JSON-able dict).
    Samples are written in iteration order. ``sizes.json`` in ``out_dir`` gets one entry per shard
    (entries of other prefixes already there are kept; stale shards of this prefix from an earlier,
    larger write are deleted). Returns the shard paths in order.
    """
    if maxcount < 1:
        raise ValueError("maxcount must be >= 1")
    if not prefix or "/" in prefix or "." in prefix:
        raise ValueError(f"bad shard prefix {prefix!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    shards: list[Path] = []
    sizes: dict[str, int] = {}
    seen: dict[str, str] = {}
    members: list[tuple[str, bytes]] = []
    count = 0

    def flush() -> None:
        nonlocal members, count
        if not count:
            return
        path = out_dir / _shard_name(prefix, len(shards))
        _write_one_shard(path, members)
        shards.append(path)
        sizes[path.name] = count
        members, count = [], 0

    for sample in samples:
        raw_key = str(sample["key"])
        key = sanitize_key(raw_key)
        if key in seen:
            raise ValueError(f"duplicate sample key {key!r} (from {seen[key]!r} and {raw_key!r})")
        seen[key] = raw_key
        caption = sample["caption"]
        if not isinstance(caption, str):
            raise ValueError(f"caption of {raw_key!r} must be a str, got {type(caption).__name__}")
        meta = dict(sample.get("meta") or {})
        meta["key"] = raw_key
        members.append((f"{key}.jpg", encode_jpeg(sample["image"], quality=jpeg_quality)))
        members.append((f"{key}.json", _json_bytes(meta)))
        members.append((f"{key}.txt", caption.encode("utf-8")))
        count += 1
        if count >= maxcount:
            flush()
    flush()

    # Remove shards of this prefix left over from an earlier write with more shards.
    regex = _shard_regex(prefix)
    for old in sorted(out_dir.iterdir()):
        m = regex.match(old.name)
        if m and int(m.group(1)) >= len(shards):
            old.unlink()

    sizes_path = out_dir / SIZES_FILENAME
    merged: dict[str, int] = {}
    if sizes_path.exists():
        merged = {k: int(v) for k, v in json.loads(sizes_path.read_text(encoding="utf-8")).items()
                  if not regex.match(k)}
    merged.update(sizes)
    with atomic_path(sizes_path) as tmp:
        tmp.write_text(json.dumps(merged, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    return shards


# --------------------------------------------------------------------------- reading and patterns


def read_shards(shards: Sequence[str | os.PathLike]) -> Iterator[dict[str, Any]]:
    """Yield ``{"key", "jpg" (bytes), "txt" (str), "json" (dict)}`` per sample, in shard order.

    Plain ``tarfile`` reading (no WebDataset pipeline), for evaluation on held-out shards.
    """
    for shard in shards:
        current: dict[str, Any] | None = None
        with tarfile.open(shard, mode="r") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                base = info.name.rsplit("/", 1)[-1]
                if "." not in base:
                    continue
                key, ext = base.split(".", 1)
                data = tar.extractfile(info).read()
                if current is None or current["key"] != key:
                    if current is not None:
                        yield current
                    current = {"key": key}
                if ext == "txt":
                    current["txt"] = data.decode("utf-8")
                elif ext == "json":
                    current["json"] = json.loads(data.decode("utf-8"))
                else:
                    current[ext] = data
        if current is not None:
            yield current


def shard_pattern(shards: Sequence[str | os.PathLike]) -> str:
    """One ``--train-data`` string for open_clip_train: brace notation when the shards are the
    consecutive shards of one prefix in one directory (``dir/p-{000000..000003}.tar``), otherwise
    the paths joined with ``::`` (WebDataset's multi-source separator)."""
    paths = [os.fspath(s) for s in shards]
    if not paths:
        raise ValueError("no shards")
    if len(paths) == 1:
        return paths[0]
    m0 = re.match(rf"^(.*)-(\d{{{_SHARD_DIGITS}}})\.tar$", paths[0])
    if m0:
        stem, first = m0.group(1), int(m0.group(2))
        expected = [f"{stem}-{first + i:0{_SHARD_DIGITS}d}.tar" for i in range(len(paths))]
        if paths == expected:
            last = first + len(paths) - 1
            return f"{stem}-{{{first:0{_SHARD_DIGITS}d}..{last:0{_SHARD_DIGITS}d}}}.tar"
    return "::".join(paths)


def shards_num_samples(shards: Sequence[str | os.PathLike]) -> int:
    """Total sample count of ``shards`` from the ``sizes.json`` beside each shard."""
    total = 0
    cache: dict[Path, dict[str, int]] = {}
    for shard in shards:
        shard = Path(shard)
        sizes = cache.get(shard.parent)
        if sizes is None:
            sizes_path = shard.parent / SIZES_FILENAME
            if not sizes_path.exists():
                raise FileNotFoundError(f"{sizes_path} not found (write shards with write_shards)")
            sizes = cache[shard.parent] = json.loads(sizes_path.read_text(encoding="utf-8"))
        if shard.name not in sizes:
            raise KeyError(f"{shard.name} missing from {shard.parent / SIZES_FILENAME}")
        total += int(sizes[shard.name])
    return total
