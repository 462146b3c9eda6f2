"""Candidate videos: domain-specific YouTube search (appendix 7.1) or a local folder / manifest.

YouTube search is video-first: each query "<domain keyword> <priority word>" returns videos; the channel of
every accepted video is then listed and exploited, with early stop (a channel whose first `early_stop` listed
videos all fail the medical filter is skipped) and a subscriber cap (channels with >= 1M followers are dropped,
with every video of theirs). Candidates are deduplicated by video id, sorted by id, and written as fixed-size
JSONL shards plus an index, so a DAG over hundreds of thousands of videos stays at ~1 job per shard.

The yt-dlp object is injected (`ydl`): anything with `extract_info(url, download=False) -> dict` in yt-dlp's
flat-extraction shape. Without one, `make_search_ydl` builds a real `yt_dlp.YoutubeDL`.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import yaml

from mednarratives import ledger, settings
from mednarratives.domains import DOMAINS
from mednarratives.io import atomic_path, dumps_json, read_jsonl

YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
LOCAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_-]{22}")
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v")
YOUTUBE = settings.defaults("videos", "youtube")  # the defaults of the keyword arguments below
MAX_SUBSCRIBERS = YOUTUBE["max_subscribers"]
SHARD_SIZE = settings.defaults("videos", "shard_size")

# is_medical(entry, domain) -> bool: the medical filter of a search result / channel video (entry is a
# yt-dlp flat entry dict: id, title, description, channel, channel_id, duration, ...).
MedicalFilter = Callable[[Mapping[str, Any], str], bool]


def is_youtube_id(value: Any) -> bool:
    return isinstance(value, str) and YOUTUBE_ID.fullmatch(value) is not None


def is_local_id(value: Any) -> bool:
    return isinstance(value, str) and LOCAL_ID.fullmatch(value) is not None


def youtube_url(video_id: str) -> str:
    if not is_youtube_id(video_id):
        raise ValueError(f"not a YouTube video id: {video_id!r}")
    return f"https://www.youtube.com/watch?v={video_id}"


def channel_videos_url(channel_id: str) -> str:
    if not (isinstance(channel_id, str) and CHANNEL_ID.fullmatch(channel_id)):
        raise ValueError(f"not a YouTube channel id: {channel_id!r}")
    return f"https://www.youtube.com/channel/{channel_id}/videos"


def _unit(value: Any) -> str:
    """A printable ledger unit for a possibly hostile id."""
    text = value if isinstance(value, str) else repr(value)
    return text.encode("unicode_escape").decode("ascii")[:80] or "<empty>"


@dataclass(frozen=True)
class Candidate:
    video_id: str
    source: str                  # "youtube" or "local"
    url: str                     # watch URL built from the id, or an absolute local path
    title: str = ""
    channel: str = ""
    channel_id: str = ""
    domain: str = ""             # domain whose search accepted it, or the manifest's domain_hint ("" = unknown)
    query: str = ""              # the search query, "channel:<id>", or "local"
    duration: float | None = None
    channel_follower_count: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Candidate":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


# ---------------------------------------------------------------------------------------------- keywords


def load_keywords(path: str | Path) -> tuple[dict[str, list[str]], list[str]]:
    """Read resources/domain_keywords.yaml -> ({domain: [keyword, ...]}, [priority word, ...])."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    domains = {str(d): [str(k) for k in kws] for d, kws in (data.get("domains") or {}).items()}
    unknown = sorted(set(domains) - set(DOMAINS))
    if unknown:
        raise ValueError(f"{path}: unknown domains {unknown}; expected {DOMAINS}")
    return domains, [str(p) for p in data.get("priority_words") or []]


def build_queries(keywords: Sequence[str], priority_words: Sequence[str]) -> list[str]:
    """Every keyword x priority word, keyword-major, deduplicated case-insensitively; a keyword alone if no
    priority words are given."""
    out, seen = [], set()
    for kw in keywords:
        for pw in (priority_words or [""]):
            q = " ".join(f"{kw} {pw}".split())
            if q and q.lower() not in seen:
                seen.add(q.lower())
                out.append(q)
    return out


def make_keyword_filter(keywords: Mapping[str, Sequence[str]]) -> MedicalFilter:
    """A cheap text filter: the entry's title/description mentions one of the domain's keywords (case-insensitive,
    word-bounded). A stand-in for the paper's key-frame classifier where only metadata is at hand."""
    patterns = {d: re.compile(r"\b(" + "|".join(re.escape(k.lower()) for k in kws) + r")\b")
                for d, kws in keywords.items() if kws}

    def is_medical(entry: Mapping[str, Any], domain: str) -> bool:
        pat = patterns.get(domain)
        text = f"{entry.get('title') or ''} {entry.get('description') or ''}".lower()
        return bool(pat and pat.search(text))

    return is_medical


# ---------------------------------------------------------------------------------------------- YouTube


def make_search_ydl(per_query: int, channel_videos: int,
                    socket_timeout: float = settings.defaults("videos", "download", "socket_timeout"), **extra: Any):
    """A real yt_dlp.YoutubeDL for flat search and channel listing (no download, no media requests)."""
    import yt_dlp

    opts = {
        "extract_flat": "in_playlist", "skip_download": True, "quiet": True, "no_warnings": True,
        "noprogress": True, "cachedir": False, "socket_timeout": socket_timeout, "extractor_retries": 3,
        "playlistend": max(per_query, channel_videos), "lazy_playlist": False,
    }
    opts.update(extra)
    return yt_dlp.YoutubeDL(opts)


def _entries(info: Mapping[str, Any] | None) -> list[dict]:
    """Flat entries of a playlist-like result (search, channel tab), one level of nesting resolved."""
    out = []
    for e in (info or {}).get("entries") or []:
        if not isinstance(e, Mapping):
            continue
        if e.get("_type") == "playlist" and e.get("entries") is not None:  # a channel's nested tab
            out.extend(x for x in e["entries"] if isinstance(x, Mapping))
        else:
            out.append(dict(e))
    return out


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


class _Search:
    def __init__(self, ydl, is_medical, per_query, channel_videos, early_stop, max_subscribers, stage):
        self.ydl, self.is_medical = ydl, is_medical
        self.per_query, self.channel_videos = per_query, channel_videos
        self.early_stop, self.max_subscribers, self.stage = early_stop, max_subscribers, stage
        self.accepted: dict[str, Candidate] = {}
        self.rejected: dict[str, tuple[str, dict]] = {}
        self.evaluated: set[tuple[str, str]] = set()
        self.banned: set[str] = set()
        self.listings: dict[str, tuple[list[dict], int | None] | str] = {}
        self.visited: set[tuple[str, str]] = set()
        self.rows: list[dict] = []

    def too_big(self, followers: Any) -> bool:
        return isinstance(followers, (int, float)) and followers >= self.max_subscribers

    def ban(self, channel_id: str, followers: Any) -> None:
        self.banned.add(channel_id)
        for vid in [v for v, c in self.accepted.items() if c.channel_id == channel_id]:
            del self.accepted[vid]
            self.rejected[vid] = ("too_many_subscribers", {"channel_id": channel_id, "followers": followers})

    def consider(self, entry: Mapping[str, Any], domain: str, via: str, followers: Any = None) -> bool:
        vid = entry.get("id")
        if not is_youtube_id(vid):
            self.rejected.setdefault(_unit(vid), ("invalid_id", {"query": via}))
            return False
        if vid in self.accepted:
            return True
        prior = self.rejected.get(vid)
        if prior and prior[0] != "not_medical":
            return False
        channel_id = entry.get("channel_id") or ""
        followers = followers if followers is not None else entry.get("channel_follower_count")
        if channel_id in self.banned or self.too_big(followers):
            if channel_id:
                self.ban(channel_id, followers)
            self.rejected[vid] = ("too_many_subscribers", {"channel_id": channel_id, "followers": followers})
            return False
        if (vid, domain) in self.evaluated:
            return False
        self.evaluated.add((vid, domain))
        if self.is_medical is not None and not self.is_medical(entry, domain):
            self.rejected.setdefault(vid, ("not_medical", {"domain": domain, "query": via}))
            return False
        self.rejected.pop(vid, None)
        duration = entry.get("duration")
        self.accepted[vid] = Candidate(
            video_id=vid, source="youtube", url=youtube_url(vid), title=str(entry.get("title") or ""),
            channel=str(entry.get("channel") or entry.get("uploader") or ""), channel_id=channel_id,
            domain=domain, query=via, duration=float(duration) if isinstance(duration, (int, float)) else None,
            channel_follower_count=int(followers) if isinstance(followers, (int, float)) else None,
        )
        return True

    def search(self, query: str, domain: str) -> list[str]:
        """Run one query; return the channel ids of accepted hits, in result order."""
        unit = f"{domain}:{query}"
        try:
            info = self.ydl.extract_info(f"ytsearch{self.per_query}:{query}", download=False)
        except Exception as exc:  # noqa: BLE001 - a failed query is a ledger row, not a crash
            self.rows.append(ledger.dropped(f"{self.stage}_query", unit, "search_failed", error=_error_text(exc)))
            return []
        entries = _entries(info)[: self.per_query]
        channels = []
        n_ok = 0
        for e in entries:
            if self.consider(e, domain, query):
                n_ok += 1
                ch = self.accepted[e["id"]].channel_id
                if ch and ch not in channels:
                    channels.append(ch)
        self.rows.append(ledger.kept(f"{self.stage}_query", unit, results=len(entries), accepted=n_ok))
        return channels

    def listing(self, channel_id: str) -> tuple[list[dict], int | None] | str:
        if channel_id not in self.listings:
            try:
                info = self.ydl.extract_info(channel_videos_url(channel_id), download=False)
                entries = _entries(info)[: self.channel_videos]
                followers = (info or {}).get("channel_follower_count")
                for e in entries:
                    e.setdefault("channel_id", channel_id)
                    e.setdefault("channel", (info or {}).get("channel") or (info or {}).get("uploader") or "")
                self.listings[channel_id] = (entries, followers)
            except Exception as exc:  # noqa: BLE001
                self.listings[channel_id] = _error_text(exc)
        return self.listings[channel_id]

    def exploit(self, channel_id: str, domain: str) -> None:
        if (channel_id, domain) in self.visited:
            return
        self.visited.add((channel_id, domain))
        stage, unit = f"{self.stage}_channel", f"{domain}:{channel_id}"
        if channel_id in self.banned:
            self.rows.append(ledger.dropped(stage, unit, "too_many_subscribers"))
            return
        listing = self.listing(channel_id)
        if isinstance(listing, str):
            self.rows.append(ledger.dropped(stage, unit, "channel_listing_failed", error=listing))
            return
        entries, followers = listing
        if self.too_big(followers):
            self.ban(channel_id, followers)
            self.rows.append(ledger.dropped(stage, unit, "too_many_subscribers", followers=followers))
            return
        n_pass = 0
        for i, e in enumerate(entries, 1):
            n_pass += self.consider(e, domain, f"channel:{channel_id}", followers)
            if i >= self.early_stop and n_pass == 0:
                self.rows.append(ledger.dropped(stage, unit, "early_stop", evaluated=i, followers=followers))
                return
        self.rows.append(ledger.kept(stage, unit, listed=len(entries), accepted=n_pass, followers=followers))

    def finish(self) -> tuple[list[Candidate], list[dict]]:
        rows = list(self.rows)
        rows += [ledger.kept(self.stage, vid, domain=c.domain, query=c.query, channel_id=c.channel_id)
                 for vid, c in self.accepted.items()]
        rows += [ledger.dropped(self.stage, vid, reason, **detail) for vid, (reason, detail) in self.rejected.items()]
        return sorted(self.accepted.values(), key=lambda c: c.video_id), rows


def discover_youtube(
    keywords: Mapping[str, Sequence[str]],
    priority_words: Sequence[str],
    *,
    domains: Iterable[str] | None = None,
    is_medical: MedicalFilter | None = None,
    ydl: Any = None,
    per_query: int = YOUTUBE["per_query"],
    channel_videos: int = YOUTUBE["channel_videos"],
    early_stop: int = YOUTUBE["early_stop"],
    max_subscribers: int = MAX_SUBSCRIBERS,
    exploit_channels: bool = YOUTUBE["exploit_channels"],
    stage: str = "search",
) -> tuple[list[Candidate], list[dict]]:
    """Video-first search, then channel exploitation, over `domains` (default: every domain in `keywords`,
    in DOMAINS order). Returns (candidates sorted by id, ledger rows).

    Ledger stages: `<stage>` per video id (kept, or dropped: invalid_id / not_medical / too_many_subscribers),
    `<stage>_query` per "domain:query" (kept, or search_failed), `<stage>_channel` per "domain:channel_id"
    (kept, or early_stop / too_many_subscribers / channel_listing_failed). A channel whose follower count is
    unknown is kept; its videos carry channel_follower_count=None.
    """
    if ydl is None:
        ydl = make_search_ydl(per_query, channel_videos)
    order = [d for d in DOMAINS if d in keywords] if domains is None else list(domains)
    state = _Search(ydl, is_medical, per_query, channel_videos, early_stop, max_subscribers, stage)
    for domain in order:
        channels: list[str] = []
        for query in build_queries(keywords.get(domain, ()), priority_words):
            channels += [c for c in state.search(query, domain) if c not in channels]
        if exploit_channels:
            for channel_id in channels:
                if CHANNEL_ID.fullmatch(channel_id):
                    state.exploit(channel_id, domain)
    return state.finish()


# ---------------------------------------------------------------------------------------------- local


def _local_record(video_id: str, path: Path, title: str, channel: str, domain: str) -> Candidate:
    return Candidate(video_id=video_id, source="local", url=str(path.resolve()), title=title or video_id,
                     channel=channel, domain=domain, query="local")


def local_candidates(source: str | Path, domain_hint: str = "", stage: str = "search"
                     ) -> tuple[list[Candidate], list[dict]]:
    """Candidates from a folder of video files (id = file stem) or a manifest TSV with columns
    video_id, path, title, channel, domain_hint (paths relative to the manifest's folder).

    Rows with an invalid id, a missing file, an unknown domain or a repeated id are dropped with a ledger row.
    A manifest without the video_id/path columns raises ValueError (that is a configuration error).
    """
    source = Path(source)
    if domain_hint and domain_hint not in DOMAINS:
        raise ValueError(f"domain_hint {domain_hint!r} is not one of {DOMAINS}")
    out: dict[str, Candidate] = {}
    rows: list[dict] = []
    if source.is_dir():
        for path in sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS):
            vid = path.stem
            if not is_local_id(vid):
                rows.append(ledger.dropped(stage, _unit(path.name), "invalid_id", path=str(path)))
            elif vid in out:
                rows.append(ledger.dropped(stage, _unit(path.name), "duplicate_id", first=out[vid].url))
            else:
                out[vid] = _local_record(vid, path, vid, "", domain_hint)
    else:
        with open(source, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            missing = {"video_id", "path"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{source}: manifest lacks columns {sorted(missing)}")
            for line, rec in enumerate(reader, 2):
                vid = (rec.get("video_id") or "").strip()
                domain = (rec.get("domain_hint") or "").strip() or domain_hint
                rel = (rec.get("path") or "").strip()
                path = (source.parent / rel) if rel else None
                if not is_local_id(vid):
                    rows.append(ledger.dropped(stage, _unit(vid), "invalid_id", line=line))
                elif vid in out:
                    rows.append(ledger.dropped(stage, f"{vid}#line{line}", "duplicate_id", line=line))
                elif path is None or not path.is_file():
                    rows.append(ledger.dropped(stage, vid, "missing_file", path=rel, line=line))
                elif domain and domain not in DOMAINS:
                    rows.append(ledger.dropped(stage, vid, "unknown_domain", domain=domain, line=line))
                else:
                    out[vid] = _local_record(vid, path, (rec.get("title") or "").strip(),
                                             (rec.get("channel") or "").strip(), domain)
    rows += [ledger.kept(stage, vid, source="local", domain=c.domain) for vid, c in out.items()]
    return sorted(out.values(), key=lambda c: c.video_id), rows


# ---------------------------------------------------------------------------------------------- shards


def ids_digest(ids: Iterable[str]) -> str:
    """Stable digest of a shard's ids (for a Snakemake `params:` that reruns only a changed shard)."""
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()[:16]


def write_shards(candidates: Sequence[Candidate], out_dir: str | Path, shard_size: int = SHARD_SIZE
                 ) -> list[Path]:
    """Sort by id, split into `shard-NNNNN.jsonl` files of `shard_size` records, write `index.tsv`
    (shard, n, first_id, last_id, digest), and remove stale shards of an earlier, larger run."""
    if shard_size < 1:
        raise ValueError("shard_size must be >= 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = sorted(candidates, key=lambda c: c.video_id)
    ids = [c.video_id for c in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate video ids in candidates")
    paths, index = [], ["shard\tn\tfirst_id\tlast_id\tdigest"]
    for k, start in enumerate(range(0, len(ordered), shard_size)):
        chunk = ordered[start:start + shard_size]
        path = out_dir / f"shard-{k:05d}.jsonl"
        with atomic_path(path) as tmp:
            tmp.write_text("".join(dumps_json(c.to_dict()) + "\n" for c in chunk), encoding="utf-8")
        paths.append(path)
        index.append(f"{path.stem}\t{len(chunk)}\t{chunk[0].video_id}\t{chunk[-1].video_id}\t"
                     f"{ids_digest(c.video_id for c in chunk)}")
    for stale in sorted(set(out_dir.glob("shard-*.jsonl")) - set(paths)):
        stale.unlink()
    with atomic_path(out_dir / "index.tsv") as tmp:
        tmp.write_text("\n".join(index) + "\n", encoding="utf-8")
    return paths


def read_shard(path: str | Path) -> list[Candidate]:
    return [Candidate.from_dict(d) for d in read_jsonl(path)]


def read_index(out_dir: str | Path) -> list[dict]:
    with open(Path(out_dir) / "index.tsv", encoding="utf-8", newline="") as fh:
        return [dict(r, n=int(r["n"])) for r in csv.DictReader(fh, delimiter="\t")]
