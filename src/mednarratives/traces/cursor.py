"""Cursor positions in a stable chunk by median-background subtraction (paper 3.2.4, after Quilt-LLaVA).

Steps, all on the chunk's gray frames:
1. background = per-pixel median of the frames;
2. foreground = |frame - background| > threshold, minus masked pixels: faces (MTCNN boxes, so narrator
   motion in a webcam is never taken for the cursor) and flickering distractors (pixels that are
   foreground often AND toggle often, e.g. a blinking icon);
3. ghost repair: a cursor resting for most of the chunk is part of the median; when it moves away, the
   spot where it rested shows up as a still blob (a ghost). Each hypothesis (no ghost, or still blob k is
   the ghost) predicts where the one cursor is in every frame (a real blob while shown, a ghost while NOT
   shown, a moving blob elsewhere while seen); the hypothesis with exactly one cursor in the most frames
   wins. The ghost's background is re-estimated from the frames where it shows, and foreground recomputed;
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
    ghost_min_run: int = 3         # on/off runs of a still blob shorter than this are debounced
    ghost_ring_px: int = 6         # the moving cursor is looked for beyond this margin around still blobs
    bimodal_fraction: float = 0.5  # foreground in at least this share of frames -> distractor, masked
    grow_min_fraction: float = 0.01  # activity connected to a face box (the whole webcam) is masked too ...
    grow_gap_px: int = 4           # ... when it lies within this many pixels of it
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
    """Distractor pixels: foreground often and toggling often (blinking icons, webcams), or foreground in
    most frames (a pixel that disagrees with its own median most of the time flips between several states:
    a cursor can cover a pixel for at most half the chunk without becoming part of the median)."""
    fraction = fg.mean(axis=0)
    toggles = np.count_nonzero(fg[1:] != fg[:-1], axis=0)
    duration = len(fg) / fps
    mask = ((fraction >= p.flicker_fraction) & (toggles >= p.flicker_toggles_per_s * duration)) | (fraction >= p.bimodal_fraction)
    return ndimage.binary_dilation(mask, iterations=2) if mask.any() else mask


def _grow_mask(fg: np.ndarray, seed: np.ndarray, p: TraceParams) -> np.ndarray:
    """Seed mask grown over the activity connected to it (a webcam around the face MTCNN found), as boxes."""
    if not seed.any():
        return seed
    active = fg.mean(axis=0) >= p.grow_min_fraction
    joined = ndimage.binary_dilation(active | seed, iterations=p.grow_gap_px)
    labels, _ = ndimage.label(joined, structure=EIGHT)
    grown = seed.copy()
    for k in np.unique(labels[seed]):
        if k == 0:
            continue
        ys, xs = np.nonzero(labels == k)
        grown[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
    return grown


def _runs(present: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], present.astype(np.int8), [0]]))
    return list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]))


def _debounce(present: np.ndarray, min_run: int) -> np.ndarray:
    """Fill gaps and drop runs shorter than `min_run` frames (a cursor brushing past is not an edge)."""
    out = present.copy()
    for s, e in _runs(~present):
        if e - s < min_run and s > 0 and e < len(present):
            out[s:e] = True
    for s, e in _runs(out):
        if e - s < min_run:
            out[s:e] = False
    return out


def _repair_ghosts(gray: np.ndarray, background: np.ndarray, fg: np.ndarray, p: TraceParams,
                   distractors: np.ndarray | None = None, faces: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(background with the ghost re-estimated, the repaired pixels grown by the ring), or None without ghost.

    Still blobs are either the cursor resting off the median (real) or the spot where it rests in the median,
    uncovered while it is away (ghost); at most one spot can hold the cursor in more than half the frames, so
    at most one blob is a ghost. There is exactly one cursor in every frame: a real blob holds it while
    present, a ghost while ABSENT, and a moving blob elsewhere holds it while seen. Each hypothesis (no ghost,
    or blob k is the ghost) predicts a cursor count per frame; the one giving exactly one cursor in the most
    frames wins (ties: no ghost).
    """
    n = len(fg)
    fraction = fg.mean(axis=0)
    toggles = np.count_nonzero(fg[1:] != fg[:-1], axis=0)
    still = (fraction >= p.ghost_fraction) & (toggles <= 4)
    labels, _ = ndimage.label(ndimage.binary_dilation(still, iterations=1), structure=EIGHT)
    pad = p.ghost_ring_px
    candidates = []  # (box, shape, present)
    covered = np.zeros(fg.shape[1:], bool)
    for k, region in enumerate(ndimage.find_objects(labels), start=1):
        if region is None:
            continue
        box = tuple(slice(max(0, s.start - pad), s.stop + pad) for s in region)
        inside = labels[box] == k
        sub = fg[(slice(None),) + box]
        core = inside & still[box]  # the still pixels themselves (the dilated region also holds background)
        present = _debounce(sub[:, core].mean(axis=1) > 0.5, p.ghost_min_run)
        if present.sum() < 2 or present.all():
            continue
        shape = ndimage.binary_dilation((sub[present].mean(axis=0) > 0.5) | core, iterations=1)
        if faces is not None and faces[box][shape].mean() > 0.3:
            continue  # a webcam edge, masked anyway (flicker is no reason: a ghost's edges toggle)
        candidates.append((box, shape, present))
        covered[box] |= ndimage.binary_dilation(shape, iterations=pad)
    if not candidates:
        return None
    outside = ~covered if distractors is None else ~(covered | distractors)
    moving = np.array([np.count_nonzero(frame & outside) >= p.min_blob_px for frame in fg])
    presents = np.stack([c[2] for c in candidates]).astype(int)
    real = presents.sum(axis=0) + moving
    best, best_score = None, float((real == 1).mean())
    for k in range(len(candidates)):
        count = real - presents[k] + (1 - presents[k])  # blob k holds the cursor while absent
        score = float((count == 1).mean())
        if score > best_score + 1e-9:
            best, best_score = k, score
    if best is None:
        return None
    box, shape, present = candidates[best]
    repaired, where = background.copy(), np.zeros(background.shape, bool)
    where[box] |= ndimage.binary_dilation(shape, iterations=pad)
    patch = np.median(gray[(slice(None),) + box][present], axis=0).astype(np.uint8)
    target = repaired[box]
    target[shape] = patch[shape]
    return repaired, where


def track(gray: np.ndarray, fps: float, face_boxes: Sequence[Sequence[float]] = (),
          params: TraceParams = TraceParams()) -> dict:
    """Cursor tip per frame of a chunk's gray frames.

    Returns {"xy": (n, 2) float array, NaN where no cursor; "background": repaired median; "mask": masked pixels}.
    """
    p = params
    step = max(1, len(gray) // 151)
    sample = gray[::step]
    background = np.median(sample[: len(sample) - (len(sample) + 1) % 2], axis=0).astype(np.uint8)  # odd count: a value, not a mean of two
    fg = foreground(gray, background, p.diff_threshold, p.batch)
    faces = _grow_mask(fg, face_mask(background.shape, face_boxes, p.face_margin), p) if len(face_boxes) else None
    distractors = _flicker_mask(fg, fps, p) | (faces if faces is not None else False)
    repaired = _repair_ghosts(gray, background, fg, p, distractors, faces)
    if repaired is not None:
        background, ghosts = repaired
        before = fg
        fg = foreground(gray, background, p.diff_threshold, p.batch)
        # flicker is judged on the frames as first seen, but not where a ghost was: its on/off edges toggle,
        # and after the repair the cursor resting there may legitimately cover it most of the time
        mask = _flicker_mask(before & ~ghosts, fps, p) & ~ghosts
    else:
        mask = _flicker_mask(fg, fps, p)
    if len(face_boxes):
        mask |= _grow_mask(fg, face_mask(background.shape, face_boxes, p.face_margin), p)
    fg &= ~mask
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
