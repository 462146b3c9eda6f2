"""Decode a video once with ffmpeg into numpy frame batches at a chosen scale."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np


class DecodeError(RuntimeError):
    """ffmpeg/ffprobe could not read the video."""


@dataclass(frozen=True)
class StreamInfo:
    width: int
    height: int
    fps: float
    n_frames: int | None
    duration: float


def stream_info(path: str | Path, timeout: float = 60) -> StreamInfo:
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
           "stream=width,height,avg_frame_rate,nb_frames:format=duration", "-of", "json", "--", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise DecodeError(f"ffprobe failed on {path}: {proc.stderr.strip()[:500]}")
    meta = json.loads(proc.stdout)
    if not meta.get("streams"):
        raise DecodeError(f"no video stream in {path}")
    stream = meta["streams"][0]
    num, _, den = stream.get("avg_frame_rate", "0/1").partition("/")
    fps = float(num) / float(den or 1) if float(den or 1) else 0.0
    nb = stream.get("nb_frames")
    return StreamInfo(int(stream["width"]), int(stream["height"]), fps,
                      int(nb) if nb and nb.isdigit() else None, float(meta.get("format", {}).get("duration", 0.0)))


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """Even output size for a scale factor (ffmpeg's yuv scalers want even sizes)."""
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def iter_batches(path: str | Path, size: tuple[int, int], gray: bool = False, batch: int = 64,
                 threads: int = 1, timeout: float = 3600, fps: float = 0, flags: str = "area") -> Iterator[np.ndarray]:
    """Yield uint8 frame batches (n, h, w[, 3]) of the whole video, scaled to `size` = (w, h) with the ffmpeg
    scaler `flags` (area averaging by default), resampled to `fps` frames per second (0 = every frame)."""
    w, h = size
    channels = 1 if gray else 3
    vf = (f"fps={fps}," if fps else "") + f"scale={w}:{h}:flags={flags}"
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-threads", str(threads), "-i", str(path),
           "-vf", vf, "-f", "rawvideo", "-pix_fmt", "gray" if gray else "rgb24", "-"]
    frame_bytes = w * h * channels
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while True:
            buf = proc.stdout.read(frame_bytes * batch)
            if not buf:
                break
            n = len(buf) // frame_bytes
            arr = np.frombuffer(buf, np.uint8, count=n * frame_bytes)
            yield arr.reshape((n, h, w) if gray else (n, h, w, 3))
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait(timeout=timeout) != 0:
            raise DecodeError(f"ffmpeg failed on {path}: {err.strip()[:500]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def read_all(path: str | Path, size: tuple[int, int], gray: bool = False) -> np.ndarray:
    batches = list(iter_batches(path, size, gray=gray))
    if not batches:
        raise DecodeError(f"no frames decoded from {path}")
    return np.concatenate(batches)
