"""Decode a video once and turn every stable chunk into a representative image and a cursor trace, and
follow the cursor on every frame.

One ffmpeg pass at a reduced working scale feeds the stable-chunk detector; each closed chunk is tracked
right away (its frames are then dropped, so memory stays bounded by the longest chunk). Frames at requested
times (the filter stage's keyframes) are grabbed on the way, for scenes without a stable chunk. The points
found in stable chunks anchor the per-frame track (`frames.follow`): the frames between them (scrolls,
window changes, cine loops, and frames of a chunk where the cursor was lost) are handed on in order as
soon as no open run of the chunker can claim them. Where the stable chunks give the follower no lead (before the
first one, or the cursor lost), short windows of still content between quick changes (`frames.windows`) anchor
it instead, confirmed like a chunk's points (they are no stable chunks: chunk traces are the chunks' own). A
screen recorder's highlight disc, found on any frame by its recurring look (`frames.highlight`), is a confirmed
anchor there, in place of the chunk's point, and its centre replaces the chunk's trace point on the frames where
it is seen (or adds one): where the cursor rests, the content moves under it, or a disc circling one place makes
its pixels toggle like a blinking distractor, background subtraction picks the wrong blob (the disc's rim as a
tip) or none.
"""

from __future__ import annotations

import collections

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from mednarratives import settings
from mednarratives.frames.chunks import Chunk, ChunkParams, StableChunker
from mednarratives.videos.decode import (LIMITED_LUMA_SPAN, StreamInfo, i420_chroma, i420_luma, i420_to_rgb, iter_batches,
                                         scaled_size, stream_info)
from mednarratives.frames.median import median_u8
from mednarratives.frames.cursor import (FaceDetector, TraceParams, diff_threshold, faces_in_regions, foreground,
                                         track)
from mednarratives.frames.follow import Follower
from mednarratives.frames.highlight import HighlightFinder
from mednarratives.frames.windows import ShortWindows


@dataclass(frozen=True)
@settings.schema_defaults("frames")
class VideoTraceParams:
    scale: float  # working resolution relative to the video (images and traces live there)
    median_samples: int  # colour frames per chunk for the representative image
    loop_filter: bool  # decode with the in-loop deblocking filter (30% slower decode; see config)
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


def colour_sample(chunk: Chunk, samples: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to `samples` colour frames spread evenly over the chunk, as RGB, and the gray of the same frames."""
    pick = np.unique(np.linspace(0, len(chunk.colour) - 1, min(samples, len(chunk.colour))).round().astype(int))
    first = chunk.start + (-chunk.start) % stride  # colour frames sit at indices divisible by stride
    return chunk.rgb(pick), np.stack([chunk.gray[i] for i in first - chunk.start + pick * stride])


def representative_image(colour: np.ndarray, gray: np.ndarray, plain: np.ndarray, background: np.ndarray,
                         threshold: int) -> np.ndarray:
    """Per-pixel (lower) median of colour frames, ignoring pixels covered by the cursor (gray: the same
    frames' luma, against the chunk's background); plain: their median without that mask."""
    covered = foreground(gray, background, threshold)
    covered[:, covered.all(axis=0)] = False  # covered in every sample: the plain median
    return median_u8(colour, ~covered, unmasked=plain)[0]


class _Tracer:
    """trace_video's state between decoded batches: the stable chunker, each closed chunk tracked and turned into a
    ChunkResult, and every frame handed on in order to the per-frame follower with its anchor (a highlight disc, a
    chunk's point or a short window's), once no open run of the chunker can claim it."""

    def __init__(self, info: StreamInfo, params: VideoTraceParams, face_detector: FaceDetector | None):
        self.info, self.params, self.face_detector = info, params, face_detector
        tp = params.trace
        self.chunker = StableChunker(info.fps, params.chunk, to_rgb=i420_to_rgb, luma_span=LIMITED_LUMA_SPAN)
        self.follower = Follower(tp, max_pending=max(1, int(params.chunk.max_duration_s * info.fps)))
        self.highlights = HighlightFinder(tp)
        self.windows = ShortWindows(info.fps, tp, int(params.chunk.min_duration_s * info.fps), LIMITED_LUMA_SPAN)
        self.results: list[ChunkResult] = []
        self.waiting: collections.deque = collections.deque()  # (frame, luma, chroma) not yet handed to the follower
        self.chunk_of: dict[int, int] = {}  # frame -> index into results of the stable chunk holding it
        self.last_anchor_was_chunk = False  # whether the last point handed to the follower was a stable chunk's

    def feed(self, index: int, batch: np.ndarray) -> None:
        """Decoded I420 frames `index`, `index + 1`, ..."""
        luma, chroma = i420_luma(batch), i420_chroma(batch)
        self.waiting.extend(zip(range(index, index + len(batch)), luma, chroma))
        closed = self.chunker.feed(luma, index, batch, chroma)
        for i in range(index, index + len(batch)):  # before the chunks are handed on: their windows are complete
            self.windows.add(i, luma[i - index], chroma[i - index], self.chunker.scores[i])
        for chunk in closed:
            self.process(chunk)
        self.hand_on(min(self.chunker.settled, self.windows.settled))

    def finish(self, n_frames: int) -> None:
        for chunk in self.chunker.close():
            self.process(chunk)
        self.windows.close()
        self.hand_on(n_frames)
        self.follower.finish()

    def window_point(self, i: int) -> tuple | None:
        """The cursor in frame `i` (in no stable chunk) by its short window (`frames.windows`), where the stable chunks
        give the follower no lead: before the first chunk, or with the cursor lost (a window's few frames give a
        rougher look than a chunk's, and would displace a chunk's point that awaits the next chunk to confirm it)."""
        if ((self.results and self.results[0].start <= i and not self.follower.lost(i))
                or (self.last_anchor_was_chunk and self.follower.awaiting)):
            return None
        return self.windows.point(i)

    def luma_point(self, i: int, k: int, xy: np.ndarray | None) -> tuple[float, float] | None:
        """Background subtraction's point in frame `i`: its stable chunk's (`k`: the frame's index there, `xy` the
        chunk's points), or outside every chunk its short window's pick (a coloured pointer sprite gliding between
        rests, whose tip the highlight finder learns from it)."""
        if k >= 0:
            return None if np.isnan(xy[k, 0]) else (float(xy[k, 0]), float(xy[k, 1]))
        picked = self.windows.point(i)
        return picked[0] if picked is not None else None

    def hand_on(self, end: int, chunk: Chunk | None = None, xy: np.ndarray | None = None,
                blobs: dict | None = None) -> dict:
        """Frames before `end` to the follower, with the points of `chunk` (its tracked `xy` and `blobs`); returns
        {frame: (x, y) hot spot of the highlight disc} of the frames where one was seen."""
        discs = {}
        follower = self.follower
        while self.waiting and self.waiting[0][0] < end:
            i, luma, chroma = self.waiting.popleft()
            k = i - chunk.start if chunk is not None else -1
            if k >= 0:
                self.chunk_of[i] = len(self.results) - 1
            disc = self.highlights.add(i, chroma, lambda: self.luma_point(i, k, xy), follower.last)
            found = k >= 0 and not np.isnan(xy[k, 0])
            if disc is not None:  # the recorder's highlight: the hot spot by its own look
                discs[i] = self.highlights.hotspot(disc, self.luma_point(i, k, xy))
                follower.add(i, (luma, chroma), discs[i], disc.blob, trusted=True)
            elif found:
                follower.add(i, (luma, chroma), (float(xy[k, 0]), float(xy[k, 1])), blobs[k])
                self.last_anchor_was_chunk = True
            elif k < 0 and (found := self.window_point(i)) is not None:
                follower.add(i, (luma, chroma), *found)
                self.last_anchor_was_chunk = False
            else:
                follower.add(i, (luma, chroma))
        self.windows.drop(end)
        return discs

    def process(self, chunk: Chunk) -> None:
        """Track a closed chunk, make its representative image and trace, and hand its frames on."""
        params, fps = self.params, self.info.fps
        colour, gray = colour_sample(chunk, params.median_samples, params.chunk.colour_stride)
        plain = median_u8(colour)[0]
        find_faces = (None if self.face_detector is None
                      else (lambda regions: faces_in_regions(self.face_detector, plain, regions)))
        tracked = track(chunk.gray, fps, params=params.trace, luma_span=LIMITED_LUMA_SPAN, find_faces=find_faces,
                        chroma=chunk.chroma)
        self.windows.mask_also(tracked["mask"])
        image = representative_image(colour, gray, plain, tracked["background"],
                                     diff_threshold(params.trace, LIMITED_LUMA_SPAN))
        self.results.append(ChunkResult(chunk.start, chunk.end, chunk.start / fps, chunk.end / fps, chunk.ssim,
                                        image, [], tracked["faces"]))
        xy = tracked["xy"].copy()
        for i, at in self.hand_on(chunk.end, chunk, tracked["xy"], tracked["blobs"]).items():
            if i >= chunk.start:
                xy[i - chunk.start] = at
        self.results[-1].trace = [[float(x), float(y), (chunk.start + i) / fps] for i, (x, y) in enumerate(xy)
                                  if not np.isnan(x)]


def trace_video(path: str, params: VideoTraceParams = VideoTraceParams(),
                face_detector: FaceDetector | None = None, grab_times: Sequence[float] = (),
                info: StreamInfo | None = None) -> dict:
    """{"width", "height", "fps", "n_frames", "work_size", "chunks": [ChunkResult], "grabs": {t: image},
    "track": (n_frames, 2) hot spot per frame in working pixels (NaN: not found), "track_chunk": (n_frames,) index
    into "chunks" of the stable chunk holding the frame, -1 outside}. `info`: the video's `stream_info`, when the
    caller has it."""
    info = info or stream_info(path)
    size = scaled_size(info.width, info.height, params.scale)
    tracer = _Tracer(info, params, face_detector)
    wanted = {}
    for t in sorted(set(grab_times)):
        wanted.setdefault(max(0, int(round(t * info.fps))), []).append(t)
    grabs: dict[float, np.ndarray] = {}
    index = 0
    last = None
    for batch in iter_batches(path, size, "yuv420p", loop_filter=params.loop_filter):  # the cheapest decode: luma for tracking, colour on demand
        for f in [f for f in wanted if index <= f < index + len(batch)]:
            for t in wanted.pop(f):
                grabs[t] = i420_to_rgb(batch[f - index])
        tracer.feed(index, batch)
        index += len(batch)
        last = batch[-1]
    tracer.finish(index)
    per_frame = np.full((index, 2), np.nan)
    for i, xy in tracer.follower.xy.items():
        per_frame[i] = xy
    track_chunk = np.full(index, -1)
    for i, k in tracer.chunk_of.items():
        track_chunk[i] = k
    for times in wanted.values():  # asked past the last frame (rounding at the end): the last frame
        for t in times:
            if last is not None:
                grabs[t] = i420_to_rgb(last)
    return {"width": info.width, "height": info.height, "fps": info.fps, "n_frames": index,
            "work_size": list(size), "chunks": tracer.results, "grabs": grabs, "track": per_frame,
            "track_chunk": track_chunk}
