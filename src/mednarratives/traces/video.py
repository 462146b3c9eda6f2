"""Decode a video once and turn every stable chunk into a representative image and a cursor trace.

One ffmpeg pass at a reduced working scale feeds the stable-chunk detector; each closed chunk is tracked
right away (its frames are then dropped, so memory stays bounded by the longest chunk). Frames at requested
times (the filter stage's keyframes) are grabbed on the way, for scenes without a stable chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from mednarratives.frames.chunks import Chunk, ChunkParams, StableChunker
from mednarratives.frames.decode import iter_batches, scaled_size, stream_info
from mednarratives.traces.cursor import FaceDetector, TraceParams, foreground, track


@dataclass(frozen=True)
class VideoTraceParams:
    scale: float = 0.5            # working resolution relative to the video (images and traces live there)
    median_samples: int = 25      # colour frames per chunk for the representative image
    chunk: ChunkParams = field(default_factory=ChunkParams)
    trace: TraceParams = field(default_factory=TraceParams)


@dataclass
class ChunkResult:
    start: int
    end: int
    t0: float
    t1: float
    ssim: float
    image: np.ndarray            # representative image (working resolution, cursor removed)
    trace: list[list[float]]     # [x, y, t]: working-image pixels (pixel centres) and seconds on the video clock
    face_boxes: list[list[float]]  # working-image pixels


def representative_image(chunk: Chunk, background: np.ndarray, stride: int, threshold: int, samples: int) -> np.ndarray:
    """Per-pixel median of the chunk's colour frames, ignoring pixels covered by the cursor."""
    first = chunk.start + (-chunk.start) % stride  # colour frames sit at indices divisible by stride
    pick = np.unique(np.linspace(0, len(chunk.colour) - 1, min(samples, len(chunk.colour))).round().astype(int))
    colour = chunk.colour[pick].astype(np.float32)
    gray = chunk.gray[(first + pick * stride) - chunk.start]
    covered = foreground(gray, background, threshold)
    fallback = np.median(chunk.colour[pick], axis=0)
    never = covered.all(axis=0)  # covered in every sample: the plain median
    covered[:, never] = False
    colour[covered] = np.nan
    image = _nanmedian0(colour)
    return np.where(np.isnan(image), fallback, image).round().astype(np.uint8)


def _nanmedian0(values: np.ndarray) -> np.ndarray:
    """np.nanmedian(values, axis=0), without numpy's slow masked-array path: sort (NaNs last), pick the middle."""
    ordered = np.sort(values, axis=0)
    valid = np.count_nonzero(~np.isnan(values), axis=0)
    lo = np.clip((valid - 1) // 2, 0, None)[None]
    hi = np.clip(valid // 2, 0, None)[None]
    med = 0.5 * (np.take_along_axis(ordered, lo, 0)[0] + np.take_along_axis(ordered, hi, 0)[0])
    return np.where(valid > 0, med, np.nan)


def trace_video(path: str, params: VideoTraceParams = VideoTraceParams(),
                face_detector: FaceDetector | None = None, grab_times: Sequence[float] = ()) -> dict:
    """{"width", "height", "fps", "n_frames", "work_size", "chunks": [ChunkResult], "grabs": {t: image}}."""
    info = stream_info(path)
    size = scaled_size(info.width, info.height, params.scale)
    chunker = StableChunker(info.fps, params.chunk)
    results: list[ChunkResult] = []
    wanted = {}
    for t in sorted(set(grab_times)):
        wanted.setdefault(max(0, int(round(t * info.fps))), []).append(t)
    grabs: dict[float, np.ndarray] = {}

    def process(chunk: Chunk) -> None:
        median = np.median(chunk.colour, axis=0).astype(np.uint8)
        faces = face_detector(median) if face_detector is not None else []
        tracked = track(chunk.gray, info.fps, face_boxes=faces, params=params.trace)
        image = representative_image(chunk, tracked["background"], params.chunk.colour_stride,
                                     params.trace.diff_threshold, params.median_samples)
        trace = [[float(x), float(y), (chunk.start + i) / info.fps]
                 for i, (x, y) in enumerate(tracked["xy"]) if not np.isnan(x)]
        results.append(ChunkResult(chunk.start, chunk.end, chunk.start / info.fps, chunk.end / info.fps, chunk.ssim,
                                   image, trace, [list(map(float, b)) for b in faces]))

    index = 0
    last = None
    for batch in iter_batches(path, size):
        for f in [f for f in wanted if index <= f < index + len(batch)]:
            for t in wanted.pop(f):
                grabs[t] = batch[f - index].copy()
        for chunk in chunker.feed(batch, index):
            process(chunk)
        index += len(batch)
        last = batch[-1]
    for chunk in chunker.close():
        process(chunk)
    for times in wanted.values():  # asked past the last frame (rounding at the end): the last frame
        for t in times:
            if last is not None:
                grabs[t] = last.copy()
    return {"width": info.width, "height": info.height, "fps": info.fps, "n_frames": index,
            "work_size": list(size), "chunks": results, "grabs": grabs}
