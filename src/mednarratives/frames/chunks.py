"""Stable chunks (paper 3.2.4): spans where the picture stays put while the narrator talks and points.

One pass, bounded memory: each frame gives a change score (share of thumbnail pixels that changed since
the previous frame); the score is smoothed with a Gaussian filter (a short look-ahead buffer), compared
with an adaptive threshold (rolling median + k * MAD, never below a floor), and runs of calm frames are
closed into candidate chunks. A candidate is kept if SSIM on random patches between its first, middle and
last frames confirms the content did not change, and if the area that keeps changing (away from the
run's median in many frames) stays small: both reject moving content such as an ultrasound cine.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d
from skimage.metrics import structural_similarity

from mednarratives import settings
from mednarratives.videos.decode import luma_levels


@dataclass(frozen=True)
@settings.schema_defaults("frames", "stable", seed=("frames", "seed"))
class ChunkParams:
    thumb_block: int  # thumbnail = block means of this size (on the decoded frames)
    pixel_delta: float  # a thumbnail pixel "changed" if it moved by more grey levels (0..255) than this
    sigma_frames: float  # Gaussian smoothing of the change score (erodes cut edges by ~2 frames)
    threshold_floor: float  # never call a frame unstable below this changed share
    mad_k: float  # adaptive threshold = median + k * 1.4826 * MAD of the recent scores
    window_s: float  # recent-score window for the adaptive threshold
    threshold_every: int  # frames between recomputations of that threshold
    min_duration_s: float  # shorter calm runs are not chunks
    max_duration_s: float  # longer calm runs are cut, bounding memory
    ssim_patches: int
    ssim_patch: int
    ssim_min: float
    colour_stride: int  # keep every n-th colour frame of an open run (median image)
    busy_share: float  # a thumbnail pixel is busy if it differs from the run's median this often ...
    max_busy_area: float  # ... and a run with a larger busy area is moving content (cine), not stable
    seed: int


def to_gray(colour: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of (..., 3) uint8 RGB frames, as uint8 (OpenCV's fixed-point conversion, rounded)."""
    flat = np.ascontiguousarray(colour).reshape(-1, 1, 3)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY).reshape(colour.shape[:-1])


def thumbnail(gray: np.ndarray, block: int) -> np.ndarray:
    """Block-mean thumbnails of (n, h, w) uint8 frames (a strided view is fine) -> float32 (n, h//block, w//block).

    A power-of-two block is halved step by step (OpenCV's 2x area resize, 4x faster than one resize by the
    block), each step rounded: within 1.5 grey levels of the exact mean, far below any change threshold."""
    n, h, w = gray.shape
    hb, wb = h // block, w // block
    out = np.zeros((n, hb, wb), np.uint8)
    if not (n and hb and wb):
        return out.astype(np.float32)
    halvings = block.bit_length() - 1 if block & (block - 1) == 0 else 0
    for frame, thumb in zip(gray, out):
        frame = frame[: hb * block, : wb * block]
        for k in range(1, halvings):
            frame = cv2.resize(frame, (wb * block >> k, hb * block >> k), interpolation=cv2.INTER_AREA)
        cv2.resize(frame, (wb, hb), dst=thumb, interpolation=cv2.INTER_AREA)
    return out.astype(np.float32)


@dataclass
class Chunk:
    start: int  # first frame index
    end: int    # exclusive
    ssim: float
    # the frames as views into the decoded batches (not stacked: a chunk holds up to max_duration_s of video)
    gray: list[np.ndarray] = field(repr=False)    # (h, w) every frame of the chunk
    colour: list[np.ndarray] = field(repr=False)  # every `colour_stride`-th frame as decoded (see `rgb`)
    to_rgb: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    chroma: list[np.ndarray] | None = field(default=None, repr=False)  # every frame's chroma planes, when fed

    def rgb(self, indices: np.ndarray) -> np.ndarray:
        """(k, h, w, 3) RGB of the colour frames at `indices`, converted only now (a chunk uses a few)."""
        convert = self.to_rgb or (lambda frame: frame)
        return np.stack([convert(self.colour[i]) for i in indices])


@dataclass
class StableChunker:
    """Feed frame batches in order; `feed` and `close` return the chunks that closed, with their frames."""

    fps: float
    params: ChunkParams = field(default_factory=ChunkParams)
    to_rgb: Callable[[np.ndarray], np.ndarray] | None = None  # colour frame -> RGB (None: they are RGB)
    luma_span: int = 255  # codes from black to white in the gray frames (limited-range video luma: 219)
    scores: list[float] = field(default_factory=list)

    def __post_init__(self):
        p = self.params
        self._radius = int(np.ceil(3 * p.sigma_frames))
        self._kernel = gaussian_filter1d(np.eye(2 * self._radius + 1)[self._radius], p.sigma_frames, mode="constant")
        self._prev_thumb = None
        self._frames: collections.deque = collections.deque()  # (index, gray, thumbnail, colour or None, chroma or None)
        self._raw: collections.deque = collections.deque(maxlen=max(1, int(p.window_s * self.fps)))
        self._pending: list[float] = []  # raw scores awaiting look-ahead
        self._decided = 0  # frames whose stability is decided
        self._run_start: int | None = None
        self._rng = np.random.default_rng(p.seed)
        self._cached: tuple[int, float] | None = None
        self._pixel_delta = luma_levels(p.pixel_delta, self.luma_span)

    @property
    def threshold(self) -> float:
        """Adaptive threshold over the recent raw scores, recomputed every `threshold_every` decided frames."""
        if self._cached is not None and self._decided - self._cached[0] < self.params.threshold_every:
            return self._cached[1]
        self._cached = (self._decided, self._threshold())
        return self._cached[1]

    def _threshold(self) -> float:
        recent = np.asarray(self._raw)
        med = float(np.median(recent)) if recent.size else 0.0
        mad = float(np.median(np.abs(recent - med))) if recent.size else 0.0
        return max(self.params.threshold_floor, med + self.params.mad_k * 1.4826 * mad)

    def feed(self, gray: np.ndarray, first_index: int, colour: np.ndarray, chroma: np.ndarray | None = None) -> list[Chunk]:
        """gray: (n, h, w) uint8 luma of frames starting at frame `first_index`; colour: the same frames as
        the decoder gave them (RGB, or e.g. I420 with `to_rgb`), converted only where a chunk's user asks;
        chroma: optionally the same frames' chroma planes (views, like gray), handed on with the chunk."""
        thumbs = thumbnail(gray, self.params.thumb_block)
        prev = self._prev_thumb if self._prev_thumb is not None else thumbs[:1]
        diffs = np.abs(np.diff(np.concatenate([prev, thumbs]), axis=0)) > self._pixel_delta
        self._prev_thumb = thumbs[-1:]
        stride = self.params.colour_stride
        for i, (frame, thumb, score) in enumerate(zip(gray, thumbs, diffs.mean(axis=(1, 2)))):
            index = first_index + i
            # a copy: a view of the few colour frames kept would hold their whole decoded batch (its memory
            # could not be reused, and fresh pages cost page faults)
            self._frames.append((index, frame, thumb, colour[i].copy() if index % stride == 0 else None,
                                 None if chroma is None else chroma[i]))
            self._pending.append(float(score))
            self.scores.append(float(score))
        closed = []
        while len(self._pending) > 2 * self._radius:  # enough look-ahead to smooth the next frame
            closed += self._decide(self._smoothed(self._decided))
        return closed

    @property
    def settled(self) -> int:
        """Frames before this index lie in a chunk already returned or in none (no open run holds them)."""
        return self._decided if self._run_start is None else self._run_start

    def close(self) -> list[Chunk]:
        closed = []
        while self._decided < len(self.scores):
            closed += self._decide(self._smoothed(self._decided))
        return closed + self._end_run(self._decided)

    def _smoothed(self, index: int) -> float:
        r = self._radius
        lo, hi = index - r, index + r + 1
        window = np.array([self.scores[i] if 0 <= i < len(self.scores) else self.scores[min(max(i, 0), len(self.scores) - 1)]
                           for i in range(lo, hi)])
        return float(window @ self._kernel)

    def _decide(self, smoothed: float) -> list[Chunk]:
        index = self._decided
        self._decided += 1
        self._pending.pop(0)
        self._raw.append(self.scores[index])
        calm = smoothed <= self.threshold
        closed = []
        if calm and self._run_start is None:
            self._run_start = index
        elif not calm and self._run_start is not None:
            closed = self._end_run(index)
        if self._run_start is not None and index + 1 - self._run_start >= self.params.max_duration_s * self.fps:
            closed += self._end_run(index + 1)
        if self._run_start is None:  # nothing open: frames up to here are no longer needed
            while self._frames and self._frames[0][0] <= index:
                self._frames.popleft()
        return closed

    def _end_run(self, end: int) -> list[Chunk]:
        start, self._run_start = self._run_start, None
        if start is None:
            return []
        held = [item for item in self._frames if start <= item[0] < end]
        while self._frames and self._frames[0][0] < end:
            self._frames.popleft()
        if end - start < self.params.min_duration_s * self.fps or len(held) < 2:
            return []
        gray = [item[1] for item in held]
        score = self._patch_ssim(gray)
        thumbs = np.stack([item[2] for item in held[:: max(1, len(held) // 60)]])
        if score < self.params.ssim_min or self.busy_area(thumbs) > self.params.max_busy_area:
            return []
        colour = [item[3] for item in held if item[3] is not None]  # a run >= min_duration spans a stride
        chroma = [item[4] for item in held] if held[0][4] is not None else None
        return [Chunk(start, end, score, gray, colour, self.to_rgb, chroma)]

    def busy_area(self, thumbs: np.ndarray) -> float:
        """Share of the picture that keeps changing: thumbnail pixels away from their median in at least
        `busy_share` of the frames (thumbs: a run's frame thumbnails, about 60 spread over it, as `feed`
        computed them). A cursor or a webcam corner is small; a playing cine is large (the adaptive threshold
        gets used to its steady motion, and its patches may escape the SSIM sample)."""
        away = np.abs(thumbs - np.median(thumbs, axis=0)) > self._pixel_delta
        return float((away.mean(axis=0) >= self.params.busy_share).mean())

    def _patch_ssim(self, frames: list[np.ndarray]) -> float:
        """Lowest SSIM over random patches between the first, middle and last frame."""
        p = self.params
        h, w = frames[0].shape
        size = min(p.ssim_patch, h, w)
        ys = self._rng.integers(0, h - size + 1, p.ssim_patches)
        xs = self._rng.integers(0, w - size + 1, p.ssim_patches)
        first, mid, last = frames[0], frames[len(frames) // 2], frames[-1]
        scores = []
        for y, x in zip(ys, xs):
            a = first[y:y + size, x:x + size]
            for b in (mid[y:y + size, x:x + size], last[y:y + size, x:x + size]):
                scores.append(structural_similarity(a, b, data_range=self.luma_span, win_size=7))
        # A patch the cursor crosses may score low: judge by the median patch, not the worst one.
        return float(np.median(scores))
