"""Assemble the dataset (paper 3.4): merge samples, near-duplicate removal, split, shards, exports, tables.

Inputs are sample JSONL files (docs/data_contract.md "Sample"). Every sample ends in the ledger as kept
(``train``/``heldout``) or dropped (``bad_record``, ``missing_image``, ``empty_caption``, ``duplicate_id``,
``near_duplicate``). Deterministic: samples are sorted by id, the split is a hash of the group id (video or
article) with a seed, so all samples of one video/article land on one side.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image

from mednarratives import ledger, settings
from mednarratives.dataset.webdataset_io import write_shards
from mednarratives.io import atomic_path, read_jsonl, write_jsonl
from mednarratives.narratives.localized import from_sample

log = logging.getLogger("mednarratives.dataset")
STAGE = "dataset_assemble"

CONFIG = settings.defaults("dataset")  # the defaults of the keyword arguments below


# --------------------------------------------------------------------------- perceptual hash


def phash(image: Image.Image | str | os.PathLike, hash_size: int = 8, highfreq_factor: int = 4) -> int:
    """DCT perceptual hash: grey, resize to 32x32, 2-D DCT-II, keep the top-left 8x8 block, bit = coefficient >
    median. Returns a 64-bit int. imagehash.phash takes the same steps with an unnormalised DCT, whose first row
    and column weigh sqrt(2) more against the median: its hashes differ from these by 1-4 bits on 3-8% of images
    (4 of the demo's 86), so the dataset's hashes stay these."""
    from scipy.fft import dctn

    if not isinstance(image, Image.Image):
        with Image.open(image) as im:
            im.load()
            image = im.copy()
    size = hash_size * highfreq_factor
    grey = np.asarray(image.convert("L").resize((size, size), Image.Resampling.LANCZOS), dtype=np.float64)
    low = dctn(grey, type=2, norm="ortho")[:hash_size, :hash_size]
    bits = (low > np.median(low)).ravel()
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


# --------------------------------------------------------------------------- split


def group_id(sample: Mapping[str, Any]) -> str:
    """The unit that must not straddle the split: the video or the article."""
    prov = sample.get("provenance") or {}
    gid = prov.get("video_id") or prov.get("article_id")
    if gid:
        return f"{sample.get('source', '')}:{gid}"
    parts = str(sample["sample_id"]).split(":")
    return ":".join(parts[:2])


def split_of(gid: str, heldout_fraction: float, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}:{gid}".encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0 ** 64
    return "heldout" if u < heldout_fraction else "train"


def assign_splits(gids: Sequence[str], heldout_fraction: float, seed: int,
                  min_heldout_groups: int = CONFIG["min_heldout_groups"]) -> dict[str, str]:
    """Hash split per group; when the hash leaves fewer than ``min_heldout_groups`` groups held out (tiny
    corpora), the groups with the smallest hash values are moved there (still deterministic), and at least
    one group stays in train."""
    groups = sorted(set(gids))
    out = {g: split_of(g, heldout_fraction, seed) for g in groups}
    want = min(min_heldout_groups, max(len(groups) - 1, 0))
    if sum(v == "heldout" for v in out.values()) < want:
        ranked = sorted(groups, key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
        for g in ranked[:want]:
            out[g] = "heldout"
    return out


# --------------------------------------------------------------------------- merge + dedup


def load_samples(paths: Iterable[str | os.PathLike]) -> tuple[list[dict], list[dict]]:
    """All sample records of ``paths`` (missing/unreadable files are ledgered), sorted by sample id."""
    samples, rows = [], []
    for path in sorted(map(str, paths)):
        try:
            recs = read_jsonl(path) if os.path.getsize(path) else []
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the run
            rows.append(ledger.dropped(STAGE, f"file:{path}", "unreadable_file", error=str(exc)[:200]))
            continue
        for i, rec in enumerate(recs):
            if not isinstance(rec, dict) or not rec.get("sample_id"):
                rows.append(ledger.dropped(STAGE, f"file:{path}#{i}", "bad_record"))
                continue
            samples.append(rec)
    samples.sort(key=lambda s: str(s["sample_id"]))
    return samples, rows


def _check(sample: dict) -> tuple[str | None, Image.Image | None]:
    if not str(sample.get("caption") or "").strip():
        return "empty_caption", None
    img = sample.get("image")
    if not img or not Path(img).is_file():
        return "missing_image", None
    try:
        with Image.open(img) as im:
            im.load()
            return None, im.convert("RGB")
    except Exception:  # noqa: BLE001
        return "bad_image", None


def select(samples: Sequence[dict], max_hamming: int = 4) -> tuple[list[tuple[dict, Image.Image, int]], list[dict]]:
    """Validate and deduplicate (exact id, then pHash within ``max_hamming`` bits of a kept image).
    Returns ([(sample, image, phash)], ledger rows of the dropped)."""
    kept: list[tuple[dict, Image.Image, int]] = []
    rows: list[dict] = []
    seen_ids: set[str] = set()
    # Multi-index hashing: split the 64 bits into max_hamming + 1 bands; by pigeonhole two hashes within
    # max_hamming bits agree exactly on at least one band, so only hashes sharing a band are compared.
    nbands = max(1, min(max_hamming + 1, 64))
    edges = [round(i * 64 / nbands) for i in range(nbands + 1)]
    index: list[dict[int, list[tuple[int, str]]]] = [{} for _ in range(nbands)]

    def bands(h: int) -> list[int]:
        return [(h >> edges[i]) & ((1 << (edges[i + 1] - edges[i])) - 1) for i in range(nbands)]

    for s in samples:
        sid = str(s["sample_id"])
        if sid in seen_ids:
            rows.append(ledger.dropped(STAGE, ledger.sample_unit(sid), "duplicate_id", sample=sid))
            continue
        seen_ids.add(sid)
        reason, im = _check(s)
        if reason:
            rows.append(ledger.dropped(STAGE, ledger.sample_unit(sid), reason, sample=sid))
            continue
        h = phash(im)
        hb = bands(h)
        dup = None
        if max_hamming >= 0:
            cands = sorted({c for i, b in enumerate(hb) for c in index[i].get(b, [])}, key=lambda c: c[1])
            dup = next((other for oh, other in cands if hamming(h, oh) <= max_hamming), None)
        if dup is not None:
            rows.append(ledger.dropped(STAGE, ledger.sample_unit(sid), "near_duplicate", sample=sid, of=dup))
            continue
        for i, b in enumerate(hb):
            index[i].setdefault(b, []).append((h, sid))
        kept.append((s, im, h))
    return kept, rows


# --------------------------------------------------------------------------- tables


def _words(text: str) -> int:
    return len(str(text or "").split())


def _duration(s: Mapping[str, Any]) -> float:
    prov = s.get("provenance") or {}
    try:
        return max(float(prov.get("end", 0) or 0) - float(prov.get("start", 0) or 0), 0.0)
    except (TypeError, ValueError):
        return 0.0


def characterize(samples: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Tables 8-9 style rows per domain (+ "all"): images, pairs, sources, duration (s), trace points,
    boxes, mean words per caption, split counts."""
    by: dict[str, list] = {}
    for s in samples:
        by.setdefault(str(s.get("domain") or "unknown"), []).append(s)
    by["all"] = list(samples)
    rows = []
    for dom in sorted(k for k in by if k != "all") + ["all"]:
        group = by[dom]
        words = [_words(s.get("caption")) for s in group]
        rows.append({
            "domain": dom,
            "images": len({s.get("image") for s in group}),
            "pairs": len(group),
            "videos": len({(s.get("provenance") or {}).get("video_id") for s in group if s.get("source") == "video"}),
            "articles": len({(s.get("provenance") or {}).get("article_id") for s in group if s.get("source") == "article"}),
            "duration_s": round(sum(_duration(s) for s in group if s.get("source") == "video"), 3),
            "trace_points": sum(len(seg) for s in group for seg in (s.get("traces") or [])),
            "boxes": sum(len(s.get("boxes") or []) for s in group),
            "words_per_caption": round(float(np.mean(words)) if words else 0.0, 3),
            "train": sum(s.get("split") == "train" for s in group),
            "heldout": sum(s.get("split") == "heldout" for s in group),
        })
    return rows


def write_csv(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], fields: Sequence[str] | None = None,
              delimiter: str = ",") -> None:
    fields = list(fields or (rows[0].keys() if rows else []))
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, delimiter=delimiter, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, "") for k in fields})


TABLE_FIELDS = ("sample_id", "split", "source", "domain", "group", "image", "width", "height", "phash",
                "caption_words", "trace_points", "boxes", "roi_text", "caption")


def _table_rows(items: Sequence[dict]) -> list[dict]:
    return [{"sample_id": s["sample_id"], "split": s["split"], "source": s.get("source", ""),
             "domain": s.get("domain", ""), "group": s["group"], "image": s.get("image", ""),
             "width": s.get("width", ""), "height": s.get("height", ""), "phash": f"{s['phash']:016x}",
             "caption_words": _words(s.get("caption")),
             "trace_points": sum(len(seg) for seg in (s.get("traces") or [])),
             "boxes": len(s.get("boxes") or []), "roi_text": s.get("roi_text", ""),
             "caption": " ".join(str(s.get("caption", "")).split())} for s in items]


def write_samples_table(path: str | os.PathLike, rows: Sequence[dict]) -> None:
    """Parquet when pyarrow is importable, else TSV (same columns) at the same path."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        write_csv(path, rows, TABLE_FIELDS, delimiter="\t")
        return
    table = pa.Table.from_pylist(list(rows)) if rows else pa.table({k: [] for k in TABLE_FIELDS})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


# --------------------------------------------------------------------------- main entry


def assemble(sample_files: Iterable[str | os.PathLike], out_dir: str | os.PathLike, ledger_path: str | os.PathLike,
             heldout_fraction: float = CONFIG["heldout_fraction"], seed: int = CONFIG["seed"],
             max_hamming: int = CONFIG["phash_max_hamming"], maxcount: int = CONFIG["shard_size"],
             min_heldout_groups: int = CONFIG["min_heldout_groups"],
             dataset_id: str = CONFIG["dataset_id"]) -> dict[str, Any]:
    """Write into ``out_dir``: wds/{train,heldout}-NNNNNN.tar + sizes.json, localized_narratives.jsonl +
    .sidecar.jsonl, samples.parquet (TSV without pyarrow), table8.csv (per domain, videos), table9.csv
    (per domain, articles), characterization.csv (all), splits.json; ledger rows to ``ledger_path``."""
    out = Path(out_dir)
    samples, rows = load_samples(sample_files)
    kept, drop_rows = select(samples, max_hamming)
    rows += drop_rows
    splits = assign_splits([group_id(s) for s, _, _ in kept], heldout_fraction, seed, min_heldout_groups)
    items = []
    for s, im, h in kept:
        s = dict(s)
        s["group"] = group_id(s)
        s["split"] = splits[s["group"]]
        s["phash"] = h
        s.setdefault("width", im.width)
        s.setdefault("height", im.height)
        items.append((s, im))
        rows.append(ledger.kept(STAGE, ledger.sample_unit(s["sample_id"]), sample=s["sample_id"], split=s["split"]))

    wds = out / "wds"
    shards: dict[str, list[str]] = {}
    for split in ("train", "heldout"):
        part = [(s, im) for s, im in items if s["split"] == split]
        paths = write_shards(({"key": s["sample_id"], "image": s["image"], "caption": s["caption"],
                               "meta": {k: s.get(k) for k in ("sample_id", "source", "domain", "roi_text", "group", "split")}}
                              for s, _ in part), wds, prefix=split, maxcount=maxcount)
        shards[split] = [str(p) for p in paths]

    ln, side = [], []
    for s, _ in items:
        rec, sc = from_sample(s, dataset_id=dataset_id)
        sc["split"] = s["split"]
        ln.append(rec)
        side.append(sc)
    write_jsonl(out / "localized_narratives.jsonl", ln)
    write_jsonl(out / "localized_narratives.sidecar.jsonl", side)
    flat = [s for s, _ in items]
    write_samples_table(out / "samples.parquet", _table_rows(flat))
    write_csv(out / "table8.csv", characterize([s for s in flat if s.get("source") == "video"]))
    write_csv(out / "table9.csv", characterize([s for s in flat if s.get("source") == "article"]))
    write_csv(out / "characterization.csv", characterize(flat))
    summary = {"shards": shards, "counts": {k: sum(s["split"] == k for s in flat) for k in ("train", "heldout")},
               "dropped": len([r for r in rows if r["decision"] == ledger.DROPPED]),
               "groups": {g: splits[g] for g in sorted(splits)}}
    with atomic_path(out / "splits.json") as tmp:
        tmp.write_text(json.dumps(summary, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    ledger.write(ledger_path, rows)
    log.info("assembled %s", summary["counts"])
    return summary
