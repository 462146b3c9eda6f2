"""Anchors for the follower where the picture never holds still long enough for a stable chunk.

A stack scrolled every 0.4 s, a page turned every 0.8 s: no stable chunk (`frames.chunks` needs
`min_duration_s`), so background subtraction never runs and the follower (`frames.follow`) has nothing to
follow. Between two such changes the content stays identical for a few frames while the pointer moves: a short
window. Background subtraction (`frames.cursor.track`, the median of the window's own frames as background) finds
the cursor there; its points are handed to the follower like a chunk's, as anchors that count only once the
follower confirms them (the same look met at places apart), and never become stable chunks or chunk traces.

A window is a run of consecutive frames each of which changed by at most `window_max_change` (the chunker's
change score: share of thumbnail pixels changed since the previous frame) and at least `window_min_frames`
long; a run is cut at `max_frames` (a longer calm run is the chunker's to judge). Where background subtraction picks
the cursor in at most half of a window's frames, the pointer rests through the rest, in the window's median: a pick
counts there only where it is the pointer drawn in that frame apart from its resting spot (`_drawn_apart`), not that
spot's ghost; the follower carries the pointer on through the frames where it rests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from scipy import ndimage

from mednarratives.frames.cursor import TraceParams, diff_threshold, track


@dataclass
class Window:
    start: int
    luma: list = field(default_factory=list)
    chroma: list = field(default_factory=list)
    found: dict | None = None  # {frame: (hot spot (x, y), blob)} once tracked

    @property
    def end(self) -> int:
        return self.start + len(self.luma)


def _drawn_apart(frame: np.ndarray, median: np.ndarray, blob: tuple, threshold: int, min_px: int) -> bool:
    """Whether a pick's blob (boolean box, x0, y0) is the pointer drawn in the frame, apart from its resting spot in
    the window's median. Where the pointer rests through most of a window, a frame where it moved shows two blobs of
    its shape: the pointer itself (the sprite in the frame, the content in the median) and its resting spot (the
    content in the frame, the sprite in the median: a ghost). The pick is the pointer when the luma over it and a
    1 px ring around it (a sprite's outline against what lies around it) varies more in the frame than in the
    median, and no other `min_px` pixels differ by `threshold` within its own size around it (a ghost beside it:
    a pointer that moved less than its size from its rest, which hides the part of it that still overlaps)."""
    box, x0, y0 = blob
    h, w = box.shape
    m = max(h, w)
    top, left = max(0, y0 - m), max(0, x0 - m)
    bottom, right = min(frame.shape[0], y0 + h + m), min(frame.shape[1], x0 + w + m)
    own = np.zeros((bottom - top, right - left), bool)
    own[y0 - top:y0 - top + h, x0 - left:x0 - left + w] = box
    own = ndimage.binary_dilation(own, np.ones((3, 3), bool))
    seen, rest = frame[top:bottom, left:right], median[top:bottom, left:right]
    if float(seen[own].std()) <= float(rest[own].std()):
        return False
    return int((cv2.absdiff(seen, rest)[~own] > threshold).sum()) < min_px


class ShortWindows:
    """Feed every frame in order with its change score (`add`); `point` gives the cursor background subtraction
    found in a frame's short window (tracked only when first asked: frames of stable chunks never ask)."""

    def __init__(self, fps: float, p: TraceParams, max_frames: int, luma_span: int = 255):
        self.fps, self.luma_span = fps, luma_span
        # a window's busy pixels: those switching window_busy_toggles times (a pointer passing switches a pixel twice)
        self.params = replace(p, busy_min_toggles=p.window_busy_toggles, busy_toggles_per_s=0.0)
        self.max_frames = max(p.window_min_frames, max_frames)
        self._windows: list[Window] = []  # closed windows not yet dropped, in order
        self._known: np.ndarray | None = None  # the stable chunks' masks so far (blinking icons, the narrator's webcam)
        self._open: Window | None = None

    def add(self, index: int, luma: np.ndarray, chroma: np.ndarray, change: float) -> None:
        """Frame `index` (luma, chroma planes); `change`: its change score since the previous frame."""
        if self._open is not None and (change > self.params.window_max_change or len(self._open.luma) >= self.max_frames):
            self._close()
        if self._open is None:
            self._open = Window(index)
        self._open.luma.append(luma)
        self._open.chroma.append(chroma)

    def _close(self) -> None:
        if self._open is not None and len(self._open.luma) >= self.params.window_min_frames:
            self._windows.append(self._open)
        self._open = None

    def mask_also(self, mask: np.ndarray) -> None:
        """Pixels a stable chunk masked (`frames.cursor.track`'s mask): distractors that stay where they are, which a
        few frames cannot show (a recording light blinking once a second is still or gone in a window)."""
        self._known = mask.copy() if self._known is None else self._known | mask

    def close(self) -> None:
        """No more frames: the open window is complete."""
        self._close()

    @property
    def settled(self) -> int:
        """Frames before this index lie in a complete window or in none."""
        return self._open.start if self._open is not None else np.iinfo(np.int64).max

    def point(self, index: int) -> tuple[tuple[float, float], tuple] | None:
        """(hot spot (x, y), blob (boolean box, x0, y0)) of the cursor found in frame `index` (settled) by
        background subtraction over its window, or None (no window, or the cursor not found there: at rest in
        the window's median, or lost)."""
        for window in self._windows:
            if window.start <= index < window.end:
                if window.found is None:
                    window.found = self._track(window)
                return window.found.get(index)
        return None

    def _track(self, window: Window) -> dict:
        """{frame: (hot spot, blob)} of the window's picks that are anchors."""
        tracked = track(window.luma, self.fps, params=self.params, luma_span=self.luma_span, chroma=window.chroma,
                        known=self._known)
        picks = tracked["blobs"]
        if 2 * len(picks) <= len(window.luma):  # the pointer may rest in the median: its spot shows as a ghost
            threshold = diff_threshold(self.params, self.luma_span)
            picks = {k: blob for k, blob in picks.items()  # the pointer where it moved, not its resting spot
                     if _drawn_apart(window.luma[k], tracked["background"], blob, threshold, self.params.min_blob_px)}
        areas = {k: int(blob[0].sum()) for k, blob in picks.items()}
        floor = max(areas.values(), default=0) / self.params.area_ratio  # a scrap of a pointer half in the median
        return {window.start + k: ((float(tracked["xy"][k, 0]), float(tracked["xy"][k, 1])), blob)
                for k, blob in picks.items() if areas[k] >= floor}

    def drop(self, before: int) -> None:
        """Forget the windows ending before frame `before` (their frames were handed on)."""
        self._windows = [w for w in self._windows if w.end > before]
