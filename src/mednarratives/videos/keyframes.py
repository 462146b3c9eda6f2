"""Key-frames of a video in one cheap decoding pass (appendix 7.2).

- static domains (CT, MRI, X-ray): ffmpeg scene detection, `select='eq(n,0)+gt(scene,T)'` on a downscaled stream;
- non-static domains: PySceneDetect's AdaptiveDetector (merges camera motion / cine loops into one shot).

Either way the video is decoded once, at low resolution (`width` px wide), and we also keep a small grey thumbnail
track at `thumb_fps` (for the narrative streak check: frames that follow a key-frame). Per-domain parameters come
from config (`videos.keyframes`), defaults below.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from mednarratives import settings
from mednarratives.domains import STATIC_DOMAINS
from mednarratives.videos.decode import DecodeError, iter_batches, scaled_size, stream_info

_PTS = re.compile(r"\bn:\s*(\d+)\b.*?\bpts_time:\s*([-0-9.eE+]+)")


class KeyframeError(RuntimeError):
    """The video could not be decoded."""


@dataclass
class Keyframes:
    method: str                      # "ffmpeg_scene" | "adaptive"
    times: list[float]               # key-frame times (s): the first frame, then every detected cut
    images: np.ndarray               # (k, h, w, 3) uint8 RGB at decode size
    thumb_times: np.ndarray          # (m,) seconds
    thumbs: np.ndarray               # (m, s, s) uint8 grey
    params: dict = field(default_factory=dict)

    @property
    def cuts(self) -> list[float]:
        return self.times[1:]


def params_for(domain: str, config: Mapping[str, Any] | None = None) -> dict:
    """The schema's `videos.keyframes.default` <- config['default'] <- config['domains'][domain]."""
    config = config or {}
    out = settings.defaults("videos", "keyframes", "default")
    out.update(config.get("default") or {})
    out.update((config.get("domains") or {}).get(domain) or {})
    return out


def is_static(domain: str) -> bool:
    return domain in STATIC_DOMAINS


def _thumb(frames: np.ndarray, size: int) -> np.ndarray:
    """(n, h, w, 3) uint8 -> (n, size, size) uint8 grey by block averaging (cheap, deterministic)."""
    grey = frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    n, h, w = grey.shape
    ys = (np.arange(size + 1) * h) // size
    xs = (np.arange(size + 1) * w) // size
    rows = np.add.reduceat(grey, ys[:-1], axis=1) / np.diff(ys)[None, :, None]
    cells = np.add.reduceat(rows, xs[:-1], axis=2) / np.diff(xs)[None, None, :]
    return np.clip(np.round(cells), 0, 255).astype(np.uint8)


def _ffmpeg_scene(path: Path, size: tuple[int, int], fps: float, p: dict) -> Keyframes:
    w, h = size
    s = int(p["thumb_size"])
    thr = float(p["ffmpeg_threshold"])
    with tempfile.TemporaryDirectory(prefix="kf-") as tmp:
        kf_file, th_file = Path(tmp) / "key.rgb", Path(tmp) / "thumb.gray"
        graph = (f"[0:v]scale={w}:{h}:flags={p['scale_flags']},split=2[a][b];"
                 f"[a]select='eq(n\\,0)+gt(scene\\,{thr})',showinfo[k];"
                 f"[b]fps={float(p['thumb_fps'])},scale={s}:{s}:flags=area,format=gray[t]")
        cmd = ["ffmpeg", "-v", "info", "-nostdin", "-threads", "1", "-filter_threads", "1", "-i", str(path),
               "-filter_complex", graph,
               "-map", "[k]", "-fps_mode", "vfr", "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", str(kf_file),
               "-map", "[t]", "-f", "rawvideo", "-pix_fmt", "gray", "-y", str(th_file)]
        proc = subprocess.run(cmd, capture_output=True, timeout=4 * 3600)
        err = proc.stderr.decode(errors="replace")
        if proc.returncode != 0:
            raise KeyframeError(f"ffmpeg failed on {path}: {err.strip()[-500:]}")
        times = [float(m.group(2)) for line in err.splitlines() if "Parsed_showinfo" in line
                 for m in [_PTS.search(line)] if m]
        images = np.fromfile(kf_file, np.uint8)
        images = images[: (len(images) // (w * h * 3)) * w * h * 3].reshape(-1, h, w, 3)
        thumbs = np.fromfile(th_file, np.uint8)
        thumbs = thumbs[: (len(thumbs) // (s * s)) * s * s].reshape(-1, s, s)
    n = min(len(times), len(images))
    times, images = times[:n], images[:n]
    thumb_times = np.arange(len(thumbs)) / float(p["thumb_fps"])
    return Keyframes("ffmpeg_scene", [round(t, 3) for t in times], images, thumb_times, thumbs, p)


def _iter_frames(path: Path, size: tuple[int, int], fps_out: float, flags: str, batch: int = 64):
    """uint8 RGB batches of the video at `size`, resampled to fps_out (0 = every frame), one ffmpeg process."""
    try:
        yield from iter_batches(path, size, batch=batch, fps=fps_out, flags=flags)
    except DecodeError as exc:
        raise KeyframeError(str(exc)) from exc


def _adaptive(path: Path, size: tuple[int, int], fps: float, p: dict) -> Keyframes:
    from scenedetect.common import FrameTimecode
    from scenedetect.detectors import AdaptiveDetector

    if float(p["analysis_fps"] or 0) and float(p["analysis_fps"]) < fps:
        fps_out = float(p["analysis_fps"])
        fps = fps_out
    else:
        fps_out = 0.0

    det = AdaptiveDetector(adaptive_threshold=float(p["adaptive_threshold"]),
                           min_scene_len=max(1, int(round(float(p["min_scene_s"]) * fps))),
                           window_width=int(p["window_width"]), min_content_val=float(p["min_content_val"]))
    s = int(p["thumb_size"])
    delay = max(0, int(round(float(p["image_delay_s"]) * fps)))
    thumb_step = max(1, int(round(fps / float(p["thumb_fps"]))))
    keep_back = int(p["window_width"]) + 2
    cut_frames: list[int] = [0]
    images: dict[int, np.ndarray] = {}
    want: dict[int, int] = {0: 0}        # frame index whose image we want -> cut frame it belongs to
    recent: dict[int, np.ndarray] = {}
    thumbs, thumb_idx = [], []
    n = 0
    for batch in _iter_frames(path, size, fps_out, str(p["scale_flags"])):
        bgr = batch[..., ::-1]
        for i in range(len(batch)):
            frame_no = n + i
            recent[frame_no] = batch[i]
            recent.pop(frame_no - keep_back - delay - 1, None)
            for cut in det.process_frame(FrameTimecode(frame_no, fps), np.ascontiguousarray(bgr[i])):
                c = int(cut.frame_num)
                if c > 0 and len(cut_frames) < int(p["max_keyframes"]):
                    cut_frames.append(c)
                    want[c + delay] = c
            for target in [t for t in want if t <= frame_no]:
                src = recent.get(target, batch[i])
                images[want.pop(target)] = src.copy()
        sel = np.arange(n + (-n % thumb_step), n + len(batch), thumb_step)
        if len(sel):
            thumbs.append(_thumb(batch[sel - n], s))
            thumb_idx.extend(sel.tolist())
        n += len(batch)
    if n == 0:
        raise KeyframeError(f"no frames decoded from {path}")
    last = recent[max(recent)]
    for target, c in sorted(want.items()):   # image delay runs past the end: take the last frame
        images[c] = last.copy()
    cut_frames = sorted(set(cut_frames))
    w, h = size
    stack = np.stack([images[c] for c in cut_frames]) if cut_frames else np.zeros((0, h, w, 3), np.uint8)
    return Keyframes("adaptive", [round(c / fps, 3) for c in cut_frames], stack,
                     np.asarray(thumb_idx, np.float64) / fps,
                     np.concatenate(thumbs) if thumbs else np.zeros((0, s, s), np.uint8), p)


def extract(path: str | Path, domain: str, config: Mapping[str, Any] | None = None,
            method: str | None = None) -> Keyframes:
    """Key-frames of `path` with the method and parameters of `domain` (method overrides: ffmpeg_scene/adaptive)."""
    path = Path(path)
    p = params_for(domain, config)
    try:
        info = stream_info(path)
    except Exception as exc:  # noqa: BLE001
        raise KeyframeError(f"cannot probe {path}: {exc}") from exc
    width = min(int(p["width"]), info.width)
    size = scaled_size(info.width, info.height, width / info.width)
    method = method or ("ffmpeg_scene" if is_static(domain) else "adaptive")
    fps = info.fps or 25.0
    try:
        kf = _ffmpeg_scene(path, size, fps, p) if method == "ffmpeg_scene" else _adaptive(path, size, fps, p)
    except KeyframeError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise KeyframeError(f"{type(exc).__name__}: {exc}"[:500]) from exc
    kf.params = dict(p, method=method, decode_size=list(size))
    return kf


def following_thumbs(kf: Keyframes, t: float, n: int = 3, gap_s: float = 1.0, skip_s: float = 0.5) -> np.ndarray:
    """`n` thumbnails after time t (t + skip_s, then every gap_s); fewer when the video ends."""
    out = []
    for k in range(n):
        target = t + skip_s + k * gap_s
        i = int(np.searchsorted(kf.thumb_times, target - 1e-6))
        if i >= len(kf.thumbs):
            break
        out.append(kf.thumbs[i])
    return np.stack(out) if out else np.zeros((0,) + kf.thumbs.shape[1:], np.uint8)


def thumb_at(kf: Keyframes, t: float) -> np.ndarray | None:
    if not len(kf.thumbs):
        return None
    i = min(len(kf.thumbs) - 1, int(np.searchsorted(kf.thumb_times, t - 1e-6)))
    return kf.thumbs[i]


# ---------------------------------------------------------------------------------------------- scoring


def match_cuts(pred: Sequence[float], truth: Sequence[float], tolerance: float = 0.5) -> dict:
    """Greedy one-to-one matching of predicted cut times to true ones within `tolerance` seconds:
    {recall, precision, matched, n_pred, n_truth, missed}."""
    pred = sorted(float(x) for x in pred)
    used = [False] * len(pred)
    matched, missed = 0, []
    for t in sorted(float(x) for x in truth):
        best, best_d = None, None
        for i, x in enumerate(pred):
            d = abs(x - t)
            if not used[i] and d <= tolerance and (best_d is None or d < best_d):
                best, best_d = i, d
        if best is None:
            missed.append(t)
        else:
            used[best] = True
            matched += 1
    n_truth, n_pred = len(truth), len(pred)
    return {"recall": matched / n_truth if n_truth else 1.0, "precision": matched / n_pred if n_pred else 1.0,
            "matched": matched, "n_pred": n_pred, "n_truth": n_truth, "missed": missed}
