"""Cursor positions in a stable chunk by median-background subtraction (paper 3.2.4, after Quilt-LLaVA).

Steps, all on the chunk's gray frames:
1. background = per-pixel median of the frames;
2. foreground = |frame - background| > threshold, minus masked pixels: faces (MTCNN boxes, so narrator
   motion in a webcam is never taken for the cursor) and flickering distractors (pixels that are
   foreground often AND toggle often, e.g. a blinking icon);
3. ghost repair: a cursor resting for most of the chunk is part of the median; when it moves away, the
   spot where it rested shows up as a persistent still blob next to the moving one. Such a blob, seen
   together with another blob in most of its frames, is background: the background there is re-estimated
   from the frames where the cursor is away, and foreground recomputed;
4. per frame, the blob nearest the previous position (else the largest) is the cursor; its tip is the
   topmost pixel (leftmost among ties), the hot spot of arrow pointers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import ndimage

EIGHT = np.ones((3, 3), bool)  # 8-connectivity: a 1-px diagonal cursor outline stays one blob
FaceDetector = Callable[[np.ndarray], Sequence[Sequence[float]]]  # colour image -> boxes [x0, y0, x1, y1]


@dataclass(frozen=True)
class TraceParams:
    diff_threshold: int = 40       # grey levels between frame and background
    min_blob_px: int = 6           # smaller foreground blobs are noise
    flicker_fraction: float = 0.25  # foreground at least this often ...
    flicker_toggles_per_s: float = 0.5  # ... and toggling at least this often -> distractor, masked
    ghost_fraction: float = 0.15   # a still blob present at least this often is a ghost candidate
    ghost_cooccurrence: float = 0.6  # ... and a ghost if another blob is present in this share of its frames
    face_margin: float = 0.15      # grow face boxes by this share of their size
    batch: int = 128


def face_mask(shape: tuple[int, int], boxes: Sequence[Sequence[float]], margin: float) -> np.ndarray:
    mask = np.zeros(shape, bool)
    h, w = shape
    for x0, y0, x1, y1 in boxes:
        mx, my = (x1 - x0) * margin, (y1 - y0) * margin
        mask[max(0, int(y0 - my)):min(h, int(np.ceil(y1 + my))), max(0, int(x0 - mx)):min(w, int(np.ceil(x1 + mx)))] = True
    return mask


def foreground(gray: np.ndarray, background: np.ndarray, threshold: int, batch: int = 128) -> np.ndarray:
    """Pixels that differ from the background by more than `threshold` grey levels."""
    fg = np.empty(gray.shape, bool)
    bg = background.astype(np.int16)
    for s in range(0, len(gray), batch):
        fg[s:s + batch] = np.abs(gray[s:s + batch].astype(np.int16) - bg) > threshold
    return fg


def _flicker_mask(fg: np.ndarray, fps: float, p: TraceParams) -> np.ndarray:
    fraction = fg.mean(axis=0)
    toggles = np.count_nonzero(fg[1:] != fg[:-1], axis=0)
    duration = len(fg) / fps
    mask = (fraction >= p.flicker_fraction) & (toggles >= p.flicker_toggles_per_s * duration)
    return ndimage.binary_dilation(mask, iterations=2) if mask.any() else mask


def _repair_ghosts(gray: np.ndarray, background: np.ndarray, fg: np.ndarray, p: TraceParams) -> np.ndarray | None:
    """Background with ghost blobs re-estimated, or None when there is no ghost."""
    fraction = fg.mean(axis=0)
    toggles = np.count_nonzero(fg[1:] != fg[:-1], axis=0)
    still = (fraction >= p.ghost_fraction) & (toggles <= 4)
    labels, n = ndimage.label(ndimage.binary_dilation(still, iterations=1), structure=EIGHT)
    repaired = None
    for region in ndimage.find_objects(labels):
        sl = (slice(None),) + region
        inside = labels[region] > 0
        present = fg[sl][:, inside].mean(axis=1) > 0.5          # frames where the still blob shows
        if present.sum() < 2:
            continue
        outside = fg[present].copy()
        outside[(slice(None),) + region] &= ~inside
        others = outside.reshape(int(present.sum()), -1).sum(axis=1) >= p.min_blob_px
        if others.mean() < p.ghost_cooccurrence:
            continue  # the cursor itself resting there, not a ghost
        if repaired is None:
            repaired = background.copy()
        patch = np.median(gray[(slice(None),) + region][present], axis=0).astype(np.uint8)
        repaired[region][inside] = patch[inside]
    return repaired


def track(gray: np.ndarray, fps: float, face_boxes: Sequence[Sequence[float]] = (),
          params: TraceParams = TraceParams()) -> dict:
    """Cursor tip per frame of a chunk's gray frames.

    Returns {"xy": (n, 2) float array, NaN where no cursor; "background": repaired median; "mask": masked pixels}.
    """
    p = params
    background = np.median(gray[:: max(1, len(gray) // 150)], axis=0).astype(np.uint8)
    mask = np.zeros(background.shape, bool)
    if len(face_boxes):
        mask |= face_mask(background.shape, face_boxes, p.face_margin)
    fg = foreground(gray, background, p.diff_threshold, p.batch)
    mask |= _flicker_mask(fg, fps, p)
    fg &= ~mask
    repaired = _repair_ghosts(gray, background, fg, p)
    if repaired is not None:
        background = repaired
        fg = foreground(gray, background, p.diff_threshold, p.batch) & ~mask
    xy = np.full((len(gray), 2), np.nan)
    previous = None
    for i, frame in enumerate(fg):
        ys, xs = np.nonzero(frame)
        if len(ys) < p.min_blob_px:
            continue
        y0, x0 = ys.min(), xs.min()
        labels, n = ndimage.label(frame[y0:ys.max() + 1, x0:xs.max() + 1], structure=EIGHT)
        if n == 0:
            continue
        sizes = np.bincount(labels.ravel())[1:]
        candidates = [k + 1 for k in range(n) if sizes[k] >= p.min_blob_px]
        if not candidates:
            continue
        tips = {}
        for k in candidates:
            by, bx = np.nonzero(labels == k)
            top = by.min()
            tips[k] = (x0 + bx[by == top].min(), y0 + top)
        if previous is not None:
            best = min(candidates, key=lambda k: np.hypot(tips[k][0] - previous[0], tips[k][1] - previous[1]))
        else:
            best = max(candidates, key=lambda k: sizes[k - 1])
        previous = tips[best]
        xy[i] = previous
    return {"xy": xy, "background": background, "mask": mask}


def mtcnn_face_detector(min_prob: float = 0.9) -> FaceDetector:
    """Face boxes from facenet-pytorch's MTCNN, whose weights ship inside the wheel (no download)."""
    from facenet_pytorch import MTCNN

    detector = MTCNN(keep_all=True, device="cpu")

    def detect(image: np.ndarray) -> list[list[float]]:
        boxes, probs = detector.detect(image)
        if boxes is None:
            return []
        boxes = np.asarray(boxes, float)  # numpy 2: MTCNN returns an object array
        return [list(map(float, b)) for b, pr in zip(boxes, probs) if pr is not None and pr >= min_prob]

    return detect
