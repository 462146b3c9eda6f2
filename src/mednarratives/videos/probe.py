"""ffprobe facts of a downloaded video and the duration heuristic (appendix 7.2: 1 minute <= d <= 2 hours)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from mednarratives import ledger, settings

MIN_DURATION_S = settings.defaults("videos", "duration", "min_s")
MAX_DURATION_S = settings.defaults("videos", "duration", "max_s")


class ProbeError(RuntimeError):
    """ffprobe could not run, timed out, or found no usable duration/stream in the file."""


@dataclass(frozen=True)
class ProbeInfo:
    duration: float          # seconds
    size: int                # bytes on disk
    fps: float | None        # average frame rate of the first video stream
    width: int | None
    height: int | None
    has_video: bool
    has_audio: bool
    video_codec: str | None
    audio_codec: str | None
    format_name: str

    def to_dict(self) -> dict:
        return asdict(self)


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "N/A"):
        return None
    num, _, den = text.partition("/")
    try:
        value = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _float(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if v == v and v >= 0 else None  # not NaN


def probe(path: str | Path, timeout: float = 60.0) -> ProbeInfo:
    """Run ffprobe (list argv, no shell) and return the facts; raise ProbeError on any failure."""
    path = Path(path)
    if not path.is_file():
        raise ProbeError(f"no such file: {path}")
    cmd = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ProbeError(f"ffprobe timed out after {timeout} s on {path}") from exc
    except OSError as exc:
        raise ProbeError(f"ffprobe could not run: {exc}") from exc
    if proc.returncode != 0:
        raise ProbeError(f"ffprobe failed on {path}: {proc.stderr.strip()[:500]}")
    try:
        meta = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise ProbeError(f"ffprobe printed no JSON for {path}") from exc
    streams = meta.get("streams") or []
    fmt = meta.get("format") or {}
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise ProbeError(f"no audio or video stream in {path}")
    duration = _float(fmt.get("duration"))
    if duration is None:
        candidates = [_float(s.get("duration")) for s in (video, audio) if s]
        duration = max((d for d in candidates if d is not None), default=None)
    if duration is None:
        raise ProbeError(f"no duration in {path}")
    return ProbeInfo(
        duration=duration,
        size=int(_float(fmt.get("size")) or path.stat().st_size),
        fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")) if video else None,
        width=int(video["width"]) if video and video.get("width") else None,
        height=int(video["height"]) if video and video.get("height") else None,
        has_video=video is not None,
        has_audio=audio is not None,
        video_codec=video.get("codec_name") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        format_name=str(fmt.get("format_name") or ""),
    )


def duration_reason(duration: float, min_s: float = MIN_DURATION_S, max_s: float = MAX_DURATION_S) -> str | None:
    """None if min_s <= duration <= max_s, else "too_short" / "too_long"."""
    if duration < min_s:
        return "too_short"
    if duration > max_s:
        return "too_long"
    return None


MIN_SIDE_PX, MAX_PIXELS, MAX_ASPECT = 32, 7680 * 4320, 4.0  # up to 8K UHD; wider than 32:9 is not a lecture


def resolution_reason(width: int | None, height: int | None) -> str | None:
    """None for a frame size a lecture can have, else "bad_resolution" (also guards decoders against pixel bombs)."""
    if not width or not height:
        return None  # unknown size: the decoder decides
    if min(width, height) < MIN_SIDE_PX or width * height > MAX_PIXELS or max(width, height) / min(width, height) > MAX_ASPECT:
        return "bad_resolution"
    return None


def probe_filter(video_id: str, path: str | Path, stage: str = "probe", min_s: float = MIN_DURATION_S,
                 max_s: float = MAX_DURATION_S, require_video: bool = True, timeout: float = 60.0
                 ) -> tuple[ProbeInfo | None, dict]:
    """Probe one video and apply the duration and frame-size rules: (info or None, ledger row). Reasons:
    probe_failed, no_video, bad_resolution, too_short, too_long. A missing audio stream is recorded (has_audio) and left to the speech check."""
    try:
        info = probe(path, timeout=timeout)
    except ProbeError as exc:
        return None, ledger.dropped(stage, video_id, "probe_failed", error=str(exc))
    detail = {"duration": round(info.duration, 3), "fps": round(info.fps, 3) if info.fps else None,
              "size": info.size, "has_audio": info.has_audio, "video_codec": info.video_codec,
              "audio_codec": info.audio_codec, "width": info.width, "height": info.height}
    if require_video and not info.has_video:
        return info, ledger.dropped(stage, video_id, "no_video", **detail)
    reason = resolution_reason(info.width, info.height) or duration_reason(info.duration, min_s, max_s)
    if reason:
        return info, ledger.dropped(stage, video_id, reason, **detail)
    return info, ledger.kept(stage, video_id, **detail)
