"""Video manifest shards (docs/data_contract.md): `results/videos/manifest/{shard}.tsv` with the columns
video_id, path_or_url, title, channel, query_domain, subscribers, from one of three sources:

- demo: the demo corpus index (data/demo/videos.tsv, a local manifest);
- local: a folder of video files (id = file stem) or a manifest TSV (video_id, path, title, channel, domain_hint);
- youtube: yt-dlp keyword search with channel exploitation (mednarratives.videos.candidates.discover_youtube).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from mednarratives import ledger
from mednarratives.videos import candidates as cand
from mednarratives.videos.decide import MANIFEST_FIELDS, write_tsv

STAGE = "videos_manifest"


def shard_name(k: int) -> str:
    return f"s{k:05d}"


def _path_text(url: str, root: Path) -> str:
    """Local paths inside the workflow directory are written relative to it (same bytes on every machine)."""
    p = Path(url)
    if not p.is_absolute():
        return url
    try:
        return os.path.relpath(p, root) if p.resolve().is_relative_to(root.resolve()) else str(p)
    except ValueError:
        return str(p)


def manifest_rows(candidates: Sequence[cand.Candidate], root: str | Path = ".") -> list[dict]:
    root = Path(root)
    return [{"video_id": c.video_id,
             "path_or_url": _path_text(c.url, root) if c.source == "local" else c.url,
             "title": " ".join(c.title.split()), "channel": " ".join(c.channel.split()),
             "query_domain": c.domain,
             "subscribers": "" if c.channel_follower_count is None else int(c.channel_follower_count)}
            for c in sorted(candidates, key=lambda c: c.video_id)]


def collect(kind: str, path: str = "", domain_hint: str = "", youtube: Mapping[str, Any] | None = None,
            ydl: Any = None) -> tuple[list[cand.Candidate], list[dict]]:
    """Candidates and ledger rows (stage videos_manifest) of the configured source."""
    if kind in ("demo", "local"):
        if not path:
            raise ValueError("videos.source.path is required for a local source")
        return cand.local_candidates(path, domain_hint, stage=STAGE)
    if kind == "youtube":
        yt = dict(youtube or {})
        keywords, priority = cand.load_keywords(yt["keywords"])
        domains = yt.get("domains") or None
        return cand.discover_youtube(
            keywords, yt.get("priority_words") or priority, domains=domains,
            is_medical=cand.make_keyword_filter(keywords) if yt.get("title_filter", True) else None, ydl=ydl,
            per_query=int(yt.get("per_query", 20)), channel_videos=int(yt.get("channel_videos", 100)),
            early_stop=int(yt.get("early_stop", 10)), max_subscribers=int(yt.get("max_subscribers", 1_000_000)),
            exploit_channels=bool(yt.get("exploit_channels", True)), stage=STAGE)
    raise ValueError(f"unknown videos.source.kind {kind!r}")


def write_manifest(candidates: Sequence[cand.Candidate], rows: Sequence[dict], out_dir: str | Path,
                   out_ledger: str | Path, shard_size: int, root: str | Path = ".") -> list[Path]:
    """Sorted, sharded manifest (s00000.tsv, ...) + the source ledger. An empty source still writes one
    empty shard so the downstream rules have something to read."""
    if shard_size < 1:
        raise ValueError("shard_size must be >= 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = manifest_rows(candidates, root)
    chunks = [table[i:i + shard_size] for i in range(0, len(table), shard_size)] or [[]]
    paths = []
    for k, chunk in enumerate(chunks):
        path = out_dir / f"{shard_name(k)}.tsv"
        write_tsv(path, MANIFEST_FIELDS, chunk)
        paths.append(path)
    for stale in sorted(set(out_dir.glob("s*.tsv")) - set(paths)):
        stale.unlink()
    ledger.write(out_ledger, rows)
    return paths


def make_media_for(kind: str, lowres_dir: str | Path = "results/videos/lowres", download: Mapping[str, Any] | None = None):
    """row -> local media path to filter: the file itself (demo/local), or a low-res download (youtube; a failed
    download raises, which the shard filter ledgers as filter_failed with the error)."""
    if kind in ("demo", "local"):
        def local(row: Mapping[str, str]) -> str:
            p = row["path_or_url"]
            if not Path(p).is_file():
                raise FileNotFoundError(f"missing media {p}")
            return p
        return local

    from mednarratives.videos.download import DownloadOptions, download_one, media_path

    opts = DownloadOptions.lowres(**dict(download or {}))

    def remote(row: Mapping[str, str]) -> str:
        vid = row["video_id"]
        have = media_path(lowres_dir, vid)
        if have is not None:
            return str(have)
        res = download_one(vid, row["path_or_url"], lowres_dir, opts)
        if not res.ok:
            raise RuntimeError(f"download_failed: {res.error}")
        return str(res.path)
    return remote


def find_row(manifest_dir: str | Path, video_id: str) -> dict:
    from mednarratives.videos.decide import read_tsv

    for shard in sorted(Path(manifest_dir).glob("s*.tsv")):
        for row in read_tsv(shard):
            if row["video_id"] == video_id:
                return row
    raise KeyError(f"{video_id} is not in {manifest_dir}")


def full_media(video_id: str, kept_tsv: str | Path, manifest_dir: str | Path, out: str | Path, kind: str,
               download: Mapping[str, Any] | None = None) -> Path:
    """The media file of a kept video at `out` (results/videos/full/{video_id}.mp4): a symlink to the local file,
    or a full-resolution yt-dlp download (remuxed to mp4). Raises for a video that was not kept."""
    import shutil
    import tempfile

    from mednarratives.videos.decide import read_tsv
    from mednarratives.videos.download import DownloadOptions, download_one

    if video_id not in {r["video_id"] for r in read_tsv(kept_tsv)}:
        raise KeyError(f"{video_id} was not kept by the video filter")
    row = find_row(manifest_dir, video_id)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind in ("demo", "local"):
        tmp = out.with_name(f".{out.name}.lnk")
        tmp.unlink(missing_ok=True)
        os.symlink(Path(row["path_or_url"]).resolve(), tmp)
        os.replace(tmp, out)
        return out
    with tempfile.TemporaryDirectory(prefix=f".full-{video_id}-", dir=out.parent) as tmp:
        res = download_one(video_id, row["path_or_url"], tmp, DownloadOptions.fullres(**dict(download or {})))
        if not res.ok:
            raise RuntimeError(f"full-resolution download of {video_id} failed: {res.error}")
        os.replace(res.path, out)
    return out
