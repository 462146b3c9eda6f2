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


MEDIA_STAGE = "videos_full"


def shard_media(filter_jsonl: str | Path, manifest_tsv: str | Path, out_dir: str | Path, out_ledger: str | Path,
                kind: str, download: Mapping[str, Any] | None = None) -> list[Path]:
    """The media of one shard's kept videos in `out_dir` (results/videos/full/{shard}/{video_id}.mp4): a symlink
    to the local file (demo, local), or a full-resolution yt-dlp download (youtube, remuxed to mp4). One ledger
    row per kept video: kept, or dropped ``media_missing`` / ``download_failed`` (the others go on)."""
    import shutil
    import tempfile

    from mednarratives.videos.decide import kept_records, read_tsv
    from mednarratives.videos.download import DownloadOptions, download_one

    urls = {r["video_id"]: r["path_or_url"] for r in read_tsv(manifest_tsv)}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made, rows = [], []
    for rec in kept_records(filter_jsonl):
        vid, out = rec["video_id"], out_dir / f"{rec['video_id']}.mp4"
        if kind in ("demo", "local"):
            src = Path(urls.get(vid, ""))
            if not src.is_file():
                rows.append(ledger.dropped(MEDIA_STAGE, vid, "media_missing", path=str(src)))
                continue
            os.symlink(src.resolve(), out)
        else:
            with tempfile.TemporaryDirectory(prefix=f".full-{vid}-", dir=out_dir) as tmp:
                res = download_one(vid, urls.get(vid, ""), tmp, DownloadOptions.fullres(**dict(download or {})))
                if not res.ok:
                    rows.append(ledger.dropped(MEDIA_STAGE, vid, "download_failed", error=str(res.error)[:500]))
                    continue
                shutil.move(res.path, out)
        made.append(out)
        rows.append(ledger.kept(MEDIA_STAGE, vid))
    ledger.write(out_ledger, rows)
    return made


def media_files(media_dir: str | Path) -> list[tuple[str, str]]:
    """(video_id, path) of every media file `shard_media` wrote, sorted by id: the videos a shard's stages process."""
    return sorted((p.stem, str(p)) for p in Path(media_dir).glob("*.mp4"))
