"""Download candidate videos with yt-dlp's Python API: low resolution for filtering, full resolution for kept ones.

Each video is fetched into a private temporary folder with an output template built from its validated id only
(`<id>.%(ext)s`), then moved into `out_dir`: `<id>.info.json` first, the media file last, each with an atomic
rename, so `<id>.<ext>` exists only when complete. yt-dlp's own retries run inside each attempt (socket timeout,
retries, fragment/extractor retries); around them an own loop retries failed attempts with exponential backoff,
except for permanent errors (404, removed/private video). A wall-clock cap per attempt is enforced from
yt-dlp's progress hooks, and the socket timeout covers a server that sends nothing. A failed download becomes a
ledger row (dropped, "download_failed", error text); `download_batch` never raises for one video's failure.

Local candidates (source "local") are copied, not downloaded, with a minimal info.json, so later stages see
one layout.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlparse

from mednarratives import ledger, settings
from mednarratives.io import atomic_path, write_json
from mednarratives.videos.candidates import Candidate, is_local_id, is_youtube_id, youtube_url

LOWRES_FORMAT = "worst[height>=360]/worst"
FULLRES_FORMAT = "bestvideo[height<=1080]+bestaudio/best[height<=1080]/best"
PERMANENT_ERRORS = re.compile(
    r"HTTP Error (404|410)|Video unavailable|Private video|has been removed|This video is not available|"
    r"Unsupported URL|is not a valid URL|account associated with this video has been terminated", re.I)
SIDE_SUFFIXES = (".info.json", ".part", ".ytdl", ".temp", ".tmp")


class DownloadTimeout(RuntimeError):
    """An attempt ran past DownloadOptions.max_seconds."""


@dataclass(frozen=True)
@settings.schema_defaults("videos", "download")
class DownloadOptions:
    format: str = LOWRES_FORMAT
    attempts: int                   # own attempts (each with yt-dlp's retries inside)
    backoff_s: float                # sleep backoff_s * 2**k after failed attempt k (capped)
    max_backoff_s: float
    socket_timeout: float
    ytdlp_retries: int              # yt-dlp retries / fragment_retries / extractor_retries
    ytdlp_retry_sleep_s: float      # yt-dlp's sleep between its own http/fragment retries
    ratelimit: int | None           # bytes per second, None = unlimited
    max_seconds: float | None       # wall-clock cap per attempt (checked on each progress callback)
    max_filesize: int | None        # bytes
    remux: str | None = "mp4"           # container of the final file (ffmpeg remux, no re-encode); None = as is
    allowed_extractors: tuple[str, ...] | None = None  # e.g. ("youtube",); None = yt-dlp's default set
    extra: Mapping[str, Any] = field(default_factory=dict)  # more YoutubeDL params, applied last

    @classmethod
    def lowres(cls, **kw: Any) -> "DownloadOptions":
        return cls(format=LOWRES_FORMAT, **kw)

    @classmethod
    def fullres(cls, **kw: Any) -> "DownloadOptions":
        return cls(format=FULLRES_FORMAT, **kw)


@dataclass
class DownloadResult:
    video_id: str
    ok: bool
    path: Path | None = None
    info_json: Path | None = None
    attempts: int = 0
    error: str = ""
    seconds: float = 0.0
    cached: bool = False


class _QuietLogger:
    """Collects yt-dlp's messages instead of printing them; the last errors go into the ledger row."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    info = debug

    def warning(self, msg: str) -> None:
        pass

    def error(self, msg: str) -> None:
        self.errors.append(str(msg))


def _default_ydl_factory(params: dict):
    import yt_dlp

    return yt_dlp.YoutubeDL(params)


def ytdlp_params(options: DownloadOptions, outtmpl: str, logger: Any, hooks: list) -> dict:
    params: dict[str, Any] = {
        "format": options.format,
        "outtmpl": {"default": outtmpl},
        "writeinfojson": True,
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": logger,
        "progress_hooks": hooks,
        "cachedir": False,
        "overwrites": True,
        "continuedl": False,
        "socket_timeout": options.socket_timeout,
        "retries": options.ytdlp_retries,
        "fragment_retries": options.ytdlp_retries,
        "extractor_retries": options.ytdlp_retries,
        "file_access_retries": 1,
        "retry_sleep_functions": {"http": lambda n: options.ytdlp_retry_sleep_s,
                                  "fragment": lambda n: options.ytdlp_retry_sleep_s},
    }
    if options.ratelimit:
        params["ratelimit"] = int(options.ratelimit)
    if options.max_filesize:
        params["max_filesize"] = int(options.max_filesize)
    if options.remux:
        params["merge_output_format"] = options.remux
        params["final_ext"] = options.remux
        params["postprocessors"] = [{"key": "FFmpegVideoRemuxer", "preferedformat": options.remux}]
    if options.allowed_extractors:
        params["allowed_extractors"] = list(options.allowed_extractors)
    params.update(options.extra)
    return params


def media_path(out_dir: str | Path, video_id: str) -> Path | None:
    """The finished media file `<id>.<ext>` in out_dir, if any."""
    found = [p for p in Path(out_dir).glob(f"{glob_escape(video_id)}.*")
             if p.is_file() and p.name[len(video_id):].count(".") == 1 and not p.name.endswith(SIDE_SUFFIXES)]
    return sorted(found)[0] if found else None


def glob_escape(text: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def info_json_path(out_dir: str | Path, video_id: str) -> Path:
    return Path(out_dir) / f"{video_id}.info.json"


def _valid_id(video_id: Any) -> bool:
    return is_youtube_id(video_id) or is_local_id(video_id)


def _error_text(exc: BaseException, logger: _QuietLogger) -> str:
    text = str(exc) or type(exc).__name__
    if logger.errors and logger.errors[-1] not in text:
        text = f"{text} | {logger.errors[-1]}"
    return re.sub(r"\x1b\[[0-9;]*m", "", text).strip()[:500]


def _publish(tmp: Path, out_dir: Path, video_id: str) -> tuple[Path, Path | None]:
    """Move the finished media + info.json from tmp into out_dir (media last)."""
    media = [p for p in tmp.iterdir() if p.is_file() and p.name.startswith(f"{video_id}.")
             and not p.name.endswith(SIDE_SUFFIXES)]
    if len(media) != 1:
        raise RuntimeError(f"expected one media file, found {sorted(p.name for p in media)}")
    info = tmp / f"{video_id}.info.json"
    final_info = None
    if info.is_file():
        final_info = out_dir / info.name
        info.replace(final_info)
    old = media_path(out_dir, video_id)
    final = out_dir / media[0].name
    media[0].replace(final)
    if old is not None and old != final:
        old.unlink(missing_ok=True)
    return final, final_info


def download_one(video_id: str, url: str, out_dir: str | Path, options: DownloadOptions = DownloadOptions(),
                 ydl_factory: Callable[[dict], Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> DownloadResult:
    """Download one video; never raises for a download error (the result carries it)."""
    t0 = time.monotonic()
    if not _valid_id(video_id):
        return DownloadResult(str(video_id), False, error="invalid video id")
    if urlparse(url).scheme not in ("http", "https"):
        return DownloadResult(video_id, False, error=f"not an http(s) URL: {url[:200]!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    factory = ydl_factory or _default_ydl_factory
    error = ""
    attempt = 0
    for attempt in range(1, max(1, options.attempts) + 1):
        tmp = Path(tempfile.mkdtemp(prefix=f".dl-{video_id}-", dir=out_dir))
        logger = _QuietLogger()
        deadline = None if options.max_seconds is None else time.monotonic() + options.max_seconds

        def hook(status: dict, deadline=deadline) -> None:
            if deadline is not None and time.monotonic() > deadline:
                raise DownloadTimeout(f"download exceeded {options.max_seconds} s")

        try:
            params = ytdlp_params(options, str(tmp / f"{video_id}.%(ext)s"), logger, [hook])
            with factory(params) as ydl:
                rc = ydl.download([url])
            if rc:
                raise RuntimeError(logger.errors[-1] if logger.errors else f"yt-dlp returned {rc}")
            path, info = _publish(tmp, out_dir, video_id)
            return DownloadResult(video_id, True, path, info, attempt, seconds=time.monotonic() - t0)
        except Exception as exc:  # noqa: BLE001 - any failure of one video is a result, not a crash
            error = _error_text(exc, logger)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if PERMANENT_ERRORS.search(error) or attempt >= options.attempts:
            break
        sleep(min(options.max_backoff_s, options.backoff_s * 2 ** (attempt - 1)))
    return DownloadResult(video_id, False, attempts=attempt, error=error, seconds=time.monotonic() - t0)


def copy_local(candidate: Candidate, out_dir: str | Path) -> DownloadResult:
    """A local candidate: copy its file to `<id><ext>` (atomic) and write a minimal info.json."""
    t0 = time.monotonic()
    src = Path(candidate.url)
    out_dir = Path(out_dir)
    try:
        if not _valid_id(candidate.video_id):
            raise ValueError("invalid video id")
        info = info_json_path(out_dir, candidate.video_id)
        write_json(info, {"id": candidate.video_id, "title": candidate.title, "channel": candidate.channel,
                          "domain": candidate.domain, "source": "local", "original_path": str(src),
                          "ext": src.suffix.lstrip(".").lower()})
        old = media_path(out_dir, candidate.video_id)
        final = out_dir / f"{candidate.video_id}{src.suffix.lower()}"
        with atomic_path(final) as tmp:
            shutil.copyfile(src, tmp)
        if old is not None and old != final:
            old.unlink(missing_ok=True)
        return DownloadResult(candidate.video_id, True, final, info, 1, seconds=time.monotonic() - t0)
    except Exception as exc:  # noqa: BLE001
        return DownloadResult(candidate.video_id, False, attempts=1, error=f"{type(exc).__name__}: {exc}"[:500],
                              seconds=time.monotonic() - t0)


def _as_candidate(item: Candidate | Mapping[str, Any]) -> Candidate:
    return item if isinstance(item, Candidate) else Candidate.from_dict(item)


def download_batch(items: Iterable[Candidate | Mapping[str, Any]], out_dir: str | Path,
                   options: DownloadOptions = DownloadOptions(), stage: str = "download_lowres",
                   ydl_factory: Callable[[dict], Any] | None = None, skip_existing: bool = True,
                   sleep: Callable[[float], None] = time.sleep,
                   on_result: Callable[[DownloadResult], None] | None = None) -> list[dict]:
    """Download (or copy, for local candidates) every item into out_dir; return one ledger row per item:
    kept (file, info_json, attempts) or dropped ("invalid_id" / "download_failed" with the error text).
    Items already present (media + info.json) are kept without a new download when skip_existing."""
    out_dir = Path(out_dir)
    rows = []
    for item in items:
        try:
            cand = _as_candidate(item)
        except Exception as exc:  # noqa: BLE001
            rows.append(ledger.dropped(stage, repr(item)[:80], "invalid_candidate", error=str(exc)[:300]))
            continue
        vid = cand.video_id
        if not _valid_id(vid):
            rows.append(ledger.dropped(stage, str(vid).encode("unicode_escape").decode()[:80] or "<empty>",
                                       "invalid_id"))
            continue
        existing = media_path(out_dir, vid)
        if skip_existing and existing is not None and info_json_path(out_dir, vid).is_file():
            result = DownloadResult(vid, True, existing, info_json_path(out_dir, vid), 0, cached=True)
        elif cand.source == "local":
            result = copy_local(cand, out_dir)
        else:
            url = youtube_url(vid) if cand.source == "youtube" and is_youtube_id(vid) else cand.url
            result = download_one(vid, url, out_dir, options, ydl_factory=ydl_factory, sleep=sleep)
        if on_result is not None:
            on_result(result)
        if result.ok:
            rows.append(ledger.kept(stage, vid, file=result.path.name,
                                    info_json=result.info_json.name if result.info_json else None,
                                    attempts=result.attempts, cached=result.cached))
        else:
            rows.append(ledger.dropped(stage, vid, "download_failed", error=result.error, attempts=result.attempts))
    return rows
