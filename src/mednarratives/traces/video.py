"""Decode a video once and turn every stable chunk into a representative image and a cursor trace."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mednarratives.frames.chunks import Chunk, ChunkParams, StableChunker
from mednarratives.frames.decode import iter_batches, scaled_size, stream_info
from mednarratives.traces.cursor import FaceDetector, TraceParams, foreground, track


@dataclass(frozen=True)
class VideoTraceParams:
    scale: float = 0.5            # working resolution relative to the video (traces are mapped back)
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
    trace: list[list[float]]     # [x, y, t] in video pixels and seconds
    face_boxes: list[list[float]]  # in video pixels


def representative_image(chunk: Chunk, background: np.ndarray, stride: int, threshold: int, samples: int) -> np.ndarray:
    """Per-pixel median of the chunk's colour frames, ignoring pixels covered by the cursor."""
    first = chunk.start + (-chunk.start) % stride  # colour frames sit at indices divisible by stride
    pick = np.unique(np.linspace(0, len(chunk.colour) - 1, min(samples, len(chunk.colour))).round().astype(int))
    colour = chunk.colour[pick].astype(np.float32)
    gray = chunk.gray[(first + pick * stride) - chunk.start]
    covered = foreground(gray, background, threshold)
    colour[covered] = np.nan
    image = np.nanmedian(colour, axis=0)
    fallback = np.median(chunk.colour[pick], axis=0)
    return np.where(np.isnan(image), fallback, image).round().astype(np.uint8)


def trace_video(path: str, params: VideoTraceParams = VideoTraceParams(),
                face_detector: FaceDetector | None = None) -> dict:
    info = stream_info(path)
    size = scaled_size(info.width, info.height, params.scale)
    sx, sy = info.width / size[0], info.height / size[1]
    chunker = StableChunker(info.fps, params.chunk)
    results: list[ChunkResult] = []

    def process(chunk: Chunk) -> None:
        median = np.median(chunk.colour, axis=0).astype(np.uint8)
        faces = face_detector(median) if face_detector is not None else []
        tracked = track(chunk.gray, info.fps, face_boxes=faces, params=params.trace)
        image = representative_image(chunk, tracked["background"], params.chunk.colour_stride,
                                     params.trace.diff_threshold, params.median_samples)
        trace = [[(x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, (chunk.start + i) / info.fps]
                 for i, (x, y) in enumerate(tracked["xy"]) if not np.isnan(x)]
        results.append(ChunkResult(chunk.start, chunk.end, chunk.start / info.fps, chunk.end / info.fps, chunk.ssim,
                                   image, trace, [[b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy] for b in faces]))

    index = 0
    for batch in iter_batches(path, size):
        for chunk in chunker.feed(batch, index):
            process(chunk)
        index += len(batch)
    for chunk in chunker.close():
        process(chunk)
    return {"width": info.width, "height": info.height, "fps": info.fps, "n_frames": index,
            "work_size": list(size), "chunks": results}
