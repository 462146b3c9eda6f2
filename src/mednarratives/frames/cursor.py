"""Cursor positions in a stable chunk by median-background subtraction (paper 3.2.4, after Quilt-LLaVA).

Steps, on the chunk's gray frames (and its chroma planes, when given):
1. background = per-pixel median of frames spread over the chunk;
2. foreground = |frame - background| > threshold in luma or (`chroma_threshold`) in U or V, minus masked pixels: faces (MTCNN boxes, looked for
   around the pixels that are ever foreground, so narrator motion in a webcam is never taken for the
   cursor) and flickering distractors (pixels that are foreground often AND toggle often, e.g. a blinking
   icon);
3. ghost repair: a cursor resting for most of the chunk is part of the median; when it moves away, the
   spot where it rested shows up as a still blob (a ghost). Each hypothesis (no ghost, or still blob k is
   the ghost) predicts where the one cursor is in every frame (a real blob while shown, a ghost while NOT
   shown, a moving blob elsewhere while seen); the hypothesis with exactly one cursor in the most frames
   wins. The ghost's background is re-estimated from the frames where it shows, and foreground recomputed;
4. UI changes are not the cursor: pixels that toggle many times at one place (counters, live read-outs,
   hover highlights flipping back and forth) are masked with the flicker, and blobs larger than
   `max_blob_px` (a scrolled stack, a playing video inside a slide) are never candidates;
5. per frame, among the blobs whose area is within `area_ratio` of the cursor's recent area (the median of
   the last blobs picked, once there are 5) and which lie within `max_step_px` per elapsed frame of the last
   cursor position (none: no point rather than a UI change; none for more than `lost_frames` frames: the
   cursor is looked for afresh), and among those the moving ones when there are any (a still blob while
   something else moves is a UI element that changed once, like a slice counter; the cursor at rest is the
   only blob), the one nearest the previous position (ties: the first tip in raster order) is the cursor.
   It is (re)acquired on the largest MOVING blob only (when anything in the chunk moves): a still blob that
   appears meanwhile is a UI change; the frames before the first pick are followed backwards from it (a
   cursor at rest before it first moved). Its hot spot follows its shape (`hotspot`): the centre of a highlight disc or ring
   (also of a ring's arc), the middle of an I-beam or of a laser dot, else the tip, the topmost pixel (leftmost among
   ties): the hot spot of arrow and hand pointers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np
from scipy import ndimage

from mednarratives import settings
from mednarratives.videos.decode import luma_levels
from mednarratives.frames.median import median_u8

EIGHT = np.ones((3, 3), bool)  # 8-connectivity: a 1-px diagonal cursor outline stays one blob
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
FaceDetector = Callable[[np.ndarray], Sequence[Sequence[float]]]  # colour image -> boxes [x0, y0, x1, y1]
Region = tuple[slice, slice]
FaceFinder = Callable[[Sequence[Region]], Sequence[Sequence[float]]]  # regions of the chunk -> face boxes


@dataclass(frozen=True)
@settings.schema_defaults("traces", "cursor")
class TraceParams:
    background_samples: int  # frames spread evenly over the chunk for the median background
    diff_threshold: int  # grey levels (0..255) between frame and background
    chroma_threshold: int  # or chroma codes (U or V) between frame and background: a red dot over grey tissue
    min_blob_px: int  # smaller foreground blobs are noise
    flicker_fraction: float  # foreground at least this often ...
    flicker_toggles_per_s: float  # ... and toggling at least this often -> distractor, masked ...
    flicker_min_toggles: int  # ... and at least this many times (a cursor resting once toggles twice)
    ghost_fraction: float  # a still blob present at least this often is a ghost candidate
    ghost_min_run: int  # on/off runs of a still blob shorter than this are debounced
    ghost_ring_px: int  # the moving cursor is looked for beyond this margin around still blobs
    bimodal_fraction: float  # foreground in at least this share of frames -> distractor, masked
    grow_min_fraction: float  # activity connected to a face box (the whole webcam) is masked too ...
    grow_gap_px: int  # ... when it lies within this many pixels of it
    face_margin: float  # grow face boxes by this share of their size
    face_search_px: int  # faces are looked for this far around the pixels that were ever foreground
    busy_toggles_per_s: float  # a pixel switching this often (and at least busy_min_toggles times) is a
    busy_min_toggles: int  # changing UI element (counter, read-out), masked
    join_px: int  # foreground pixels up to 2 x join_px apart are one blob (broken rings)
    max_blob_px: int  # larger blobs are UI changes (scrolls, videos), never the cursor
    area_ratio: float  # candidates: area within this factor of the cursor's recent area ...
    max_step_px: float  # ... and at most this far per frame from the last cursor position
    lost_frames: int  # after this many frames without a candidate in reach, re-acquire
    disc_radius_px: float  # a round blob of at least this radius is a highlight disc / ring ...
    disc_arc_share: float  # ... with this share of its upper-left arc covered (`blob_shape`)
    follow_max_rms: float  # frames.follow: a template match counts up to this rms difference (codes) ...
    follow_templates: int  # ... of the best of the templates of this many recent confirmed anchors
    follow_near_px: float  # looked for this close to the last position first, then up to max_step_px a frame
    follow_dropped_max_rms: float  # a frame of a pick never confirmed: the followed cursor from a match this close only
    follow_confirm_contrast: float  # an anchor is confirmed by a match up to this x the template's luma contrast too
    follow_content_ratio: float  # a match fitting a cursor-less frame's spot within this x its rms is the picture
    follow_reacquire_max_rms: float  # re-found after frames without a match (a gap; lost: whole frame): this close only
    follow_change_codes: float  # ... across a picture change: mean luma difference from the frame last found in
    highlight_chroma: float  # frames.highlight: a highlight disc's pixels lie this far (U, V codes) from grey ...
    highlight_min_radius_px: float  # ... its radius at least this (working px: a laser dot) ...
    highlight_max_std: float  # ... its U and V standard deviations at most this (codes: one colour) ...
    highlight_min_fill: float  # ... its region fills this share of the disc spanning its larger side ...
    highlight_area_tol: float  # ... and its look recurs: area within this share ...
    highlight_colour_tol: float  # ... mean U and V within this many codes ...
    highlight_sightings: int  # ... in this many frames, at places two minimum radii apart ...
    highlight_still_px: float  # ... by sightings never seen again this close to their place (content stays put)
    highlight_look_hue_deg: float  # merged with another colour: saturated samples this close (degrees) to a look's hue ...
    highlight_merged_share: float  # ... in a round region of at least this share of its area
    highlight_content_share: float  # a sighting is still content where this share of its place had its colour elsewhere
    highlight_faint_chroma: float  # a translucent disc over grey content: pixels this far from grey, disc-shaped regions
    window_max_change: float  # frames.windows: outside stable chunks, frames changed at most this share ...
    window_min_frames: int  # ... this many in a row: a short window, whose background subtraction anchors the follower
    window_busy_toggles: int  # ... where a pixel switching this often is a changing UI element, masked


def face_mask(shape: tuple[int, int], boxes: Sequence[Sequence[float]], margin: float) -> np.ndarray:
    mask = np.zeros(shape, bool)
    h, w = shape
    for x0, y0, x1, y1 in boxes:
        mx, my = (x1 - x0) * margin, (y1 - y0) * margin
        mask[max(0, int(y0 - my)):min(h, int(np.ceil(y1 + my))), max(0, int(x0 - mx)):min(w, int(np.ceil(x1 + mx)))] = True
    return mask


def dilate(mask: np.ndarray, iterations: int) -> np.ndarray:
    """scipy's `binary_dilation(mask, iterations=iterations)` (4-connected steps, nothing from beyond the
    border), by OpenCV: 5-10x faster."""
    if not iterations:
        return mask.copy()
    return cv2.dilate(mask.view(np.uint8), _CROSS, iterations=iterations).view(bool)


def foreground(gray: np.ndarray, background: np.ndarray, threshold: int) -> np.ndarray:
    """Pixels that differ from the background by more than `threshold` grey levels."""
    fg = np.empty(gray.shape, bool)
    for i, frame in enumerate(gray):
        np.greater(cv2.absdiff(frame, background), threshold, out=fg[i])
    return fg


@dataclass(frozen=True)
class Activity:
    """Per-pixel statistics of a chunk's foreground frames."""
    frequency: np.ndarray  # share of the frames in which the pixel is foreground
    toggles: np.ndarray    # how often it switches on or off between consecutive frames
    frames: int


def crop(gray: Sequence[np.ndarray], box: tuple[slice, slice]) -> np.ndarray:
    """(n, box h, box w): the box of every frame."""
    return np.stack([frame[box] for frame in gray])


def _largest_difference(frames: Sequence[np.ndarray], background: np.ndarray) -> np.ndarray:
    """Per pixel, the largest |frame - background| over the frames."""
    diff = np.empty(background.shape, np.uint8)
    largest = np.zeros(background.shape, np.uint8)
    for frame in frames:
        cv2.max(largest, cv2.absdiff(frame, background, dst=diff), dst=largest)
    return largest


def _compare(frames: Sequence[np.ndarray], background: np.ndarray, pixels: np.ndarray, threshold: int,
             out: np.ndarray | None = None) -> np.ndarray:
    """(n, k) bool: |frame - background| > threshold at the flat indices `pixels` of every frame."""
    out = np.empty((len(frames), len(pixels)), bool) if out is None else out
    reference = background.reshape(-1)[pixels]
    for frame, row in zip(frames, out):
        seen = np.take(frame.reshape(-1), pixels)
        np.greater(np.maximum(seen, reference) - np.minimum(seen, reference), threshold, out=row)
    return out


@dataclass(frozen=True)
class Chroma:
    """A chunk's chroma planes (I420: U and V at half the luma's width and height, stacked as (h, w/2) per
    frame, `videos.decode.i420_chroma`), their median background and threshold. Luma alone misses colour on
    grey of about the same brightness: a red laser dot or ring, a yellow highlight disc on mid-grey tissue."""
    frames: Sequence[np.ndarray]  # (h, w // 2) per frame
    background: np.ndarray
    threshold: int

    def upsampled(self, planes: np.ndarray) -> np.ndarray:
        """(h, w) per luma pixel: the larger of its U and V values in `planes` (h, w // 2)."""
        h = planes.shape[0]
        larger = np.maximum(planes[: h // 2], planes[h // 2:])
        return cv2.resize(larger, (2 * planes.shape[1], h), interpolation=cv2.INTER_NEAREST)

    def indices(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices into a chroma frame of the U and V samples of the luma pixels `pixels`."""
        h, half = self.background.shape
        y, x = np.divmod(pixels, 2 * half)
        u = (y // 2) * half + x // 2
        return u, u + (h // 2) * half

    def dense(self, box: tuple[slice, slice]) -> np.ndarray:
        """(n, box h, box w) bool: chroma foreground inside the luma `box`."""
        return np.stack([self.upsampled(cv2.absdiff(frame, self.background))[box] > self.threshold
                         for frame in self.frames])


@dataclass(frozen=True)
class ActiveForeground:
    """A chunk's foreground kept at the pixels that are foreground in some frame only: a cursor sweeps a few
    percent of the picture, so per-pixel statistics and per-frame blob search need only these columns, and
    no frame-sized boolean array per frame is ever stored."""
    shape: tuple[int, int]  # (h, w) of the frames
    pixels: np.ndarray      # (k,) ascending flat indices of the active pixels
    values: np.ndarray      # (n, k) bool: foreground per frame at those pixels

    @classmethod
    def of(cls, gray: Sequence[np.ndarray], background: np.ndarray, threshold: int,
           chroma: Chroma | None = None) -> ActiveForeground:
        """`foreground(gray, background, threshold)` (or the chroma's foreground), in two passes: find the
        active pixels (the largest difference from the background over the frames is above the threshold),
        then compare the frames at those pixels only."""
        largest = _largest_difference(gray, background)
        active = largest > threshold
        if chroma is not None:
            active |= chroma.upsampled(_largest_difference(chroma.frames, chroma.background)) > chroma.threshold
        pixels = np.flatnonzero(active)
        values = np.empty((len(gray), len(pixels)), bool)
        _compare(gray, background, pixels, threshold, values)
        if chroma is not None:
            u, v = chroma.indices(pixels)
            for index in (u, v):
                values |= _compare(chroma.frames, chroma.background, index, chroma.threshold)
        return cls(background.shape, pixels, values)

    @classmethod
    def from_dense(cls, fg: np.ndarray) -> ActiveForeground:
        """From a dense (n, h, w) boolean foreground."""
        active = fg.any(axis=0).reshape(-1)
        return cls(fg.shape[1:], np.flatnonzero(active), np.compress(active, fg.reshape(len(fg), -1), axis=1))

    def without(self, mask: np.ndarray) -> ActiveForeground:
        """The foreground minus the pixels where `mask` (h, w) is True."""
        kept = ~mask.reshape(-1)[self.pixels]
        return ActiveForeground(self.shape, self.pixels[kept], self.values[:, kept])

    def dense(self, box: tuple[slice, slice]) -> np.ndarray:
        """(n, box h, box w) boolean foreground inside `box` (clipped to the frame, like numpy slicing)."""
        (y0, y1, _), (x0, x1, _) = box[0].indices(self.shape[0]), box[1].indices(self.shape[1])
        out = np.zeros((len(self.values), y1 - y0, x1 - x0), bool)
        ys, xs = np.divmod(self.pixels, self.shape[1])
        inside = (ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1)
        out[:, ys[inside] - y0, xs[inside] - x0] = self.values[:, inside]
        return out

    def with_box(self, box: tuple[slice, slice], fg: np.ndarray) -> ActiveForeground:
        """The foreground with `box` replaced by the dense foreground `fg` (n, box h, box w)."""
        inside = np.zeros(self.shape, bool)
        inside[box] = True
        rest = self.without(inside)
        local = ActiveForeground.from_dense(fg)
        ys, xs = np.divmod(local.pixels, fg.shape[2])
        y0, x0 = box[0].indices(self.shape[0])[0], box[1].indices(self.shape[1])[0]
        pixels = (ys + y0) * self.shape[1] + xs + x0
        order = np.argsort(np.concatenate([rest.pixels, pixels]), kind="stable")
        return ActiveForeground(self.shape, np.concatenate([rest.pixels, pixels])[order],
                                np.concatenate([rest.values, local.values], axis=1)[:, order])


def activity(fg: ActiveForeground) -> Activity:
    """Counts over the active pixels (all others are never foreground: frequency and toggles 0)."""
    n = len(fg.values)
    on = np.zeros(fg.shape, np.uint32)
    switches = np.zeros(fg.shape, np.uint32)
    on.reshape(-1)[fg.pixels] = fg.values.sum(axis=0)
    switches.reshape(-1)[fg.pixels] = np.not_equal(fg.values[1:], fg.values[:-1]).sum(axis=0)
    return Activity(on / max(1, n), switches, n)


def _flicker_mask(act: Activity, fps: float, p: TraceParams) -> np.ndarray:
    """Distractor pixels: foreground often and toggling often (blinking icons, webcams), or foreground in
    most frames (a pixel that disagrees with its own median most of the time flips between several states:
    a cursor can cover a pixel for at most half the chunk without becoming part of the median)."""
    duration = act.frames / fps
    mask = (((act.frequency >= p.flicker_fraction) & (act.toggles >= max(p.flicker_min_toggles, p.flicker_toggles_per_s * duration)))
            | (act.frequency >= p.bimodal_fraction)
            | (act.toggles >= max(p.busy_min_toggles, p.busy_toggles_per_s * duration)))
    return dilate(mask, 2) if mask.any() else mask


def _grow_mask(act: Activity, seed: np.ndarray, p: TraceParams) -> np.ndarray:
    """Seed mask grown over the activity connected to it (a webcam around the face MTCNN found), as boxes."""
    if not seed.any():
        return seed
    active = act.frequency >= p.grow_min_fraction
    joined = dilate(active | seed, p.grow_gap_px)
    labels, _ = ndimage.label(joined, structure=EIGHT)
    grown = seed.copy()
    for k in np.unique(labels[seed]):
        if k == 0:
            continue
        ys, xs = np.nonzero(labels == k)
        grown[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
    return grown


def active_regions(act: Activity, pad: int, min_px: int) -> list[Region]:
    """Boxes around the groups of pixels that were ever foreground (at least `min_px` of them), grown by `pad`,
    overlapping boxes merged: the only places where a face can change the trace (a face that never differs
    from the background masks nothing)."""
    active = act.frequency > 0
    if not active.any():
        return []
    grown = cv2.dilate(active.view(np.uint8), np.ones((2 * pad + 1, 2 * pad + 1), np.uint8))
    labels, _ = ndimage.label(grown, structure=EIGHT)
    counts = np.bincount(labels[active], minlength=labels.max() + 1)
    boxes = [box for k, box in enumerate(ndimage.find_objects(labels), start=1) if counts[k] >= min_px]
    while True:  # boxes of separate groups may overlap: fill them and relabel until they do not
        filled = np.zeros(active.shape, bool)
        for box in boxes:
            filled[box] = True
        labels, n = ndimage.label(filled)
        if n == len(boxes):
            return sorted(boxes, key=lambda box: (box[0].start, box[1].start))
        boxes = ndimage.find_objects(labels)


def faces_in_regions(detector: FaceDetector, image: np.ndarray, regions: Sequence[Region]) -> list[list[float]]:
    """Face boxes [x0, y0, x1, y1] (image pixels) that `detector` finds in each region of `image`."""
    boxes = []
    for ys, xs in regions:
        boxes += [[x0 + xs.start, y0 + ys.start, x1 + xs.start, y1 + ys.start]
                  for x0, y0, x1, y1 in detector(np.ascontiguousarray(image[ys, xs]))]
    return boxes


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


def _repair_ghosts(gray: Sequence[np.ndarray], background: np.ndarray, fg: ActiveForeground, act: Activity, p: TraceParams,
                   distractors: np.ndarray | None = None, faces: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(background with the ghost re-estimated, the repaired pixels grown by the ring), or None without ghost.

    Still blobs are either the cursor resting off the median (real) or the spot where it rests in the median,
    uncovered while it is away (ghost); at most one spot can hold the cursor in more than half the frames, so
    at most one blob is a ghost. There is exactly one cursor in every frame: a real blob holds it while
    present, a ghost while ABSENT, and a moving blob elsewhere holds it while seen. Each hypothesis (no ghost,
    or blob k is the ghost) predicts a cursor count per frame; the one giving exactly one cursor in the most
    frames wins (ties: no ghost).
    """
    still = (act.frequency >= p.ghost_fraction) & (act.toggles <= 4)
    labels, _ = ndimage.label(dilate(still, 1), structure=EIGHT)
    pad = p.ghost_ring_px
    candidates = []  # (box, shape, present)
    covered = np.zeros(fg.shape, bool)
    for k, region in enumerate(ndimage.find_objects(labels), start=1):
        if region is None:
            continue
        box = tuple(slice(max(0, s.start - pad), s.stop + pad) for s in region)
        inside = labels[box] == k
        sub = fg.dense(box)
        core = inside & still[box]  # the still pixels themselves (the dilated region also holds background)
        present = _debounce(sub[:, core].mean(axis=1) > 0.5, p.ghost_min_run)
        if present.sum() < 2 or present.all():
            continue
        shape = dilate((sub[present].mean(axis=0) > 0.5) | core, 1)
        if faces is not None and faces[box][shape].mean() > 0.3:
            continue  # a webcam edge, masked anyway (flicker is no reason: a ghost's edges toggle)
        candidates.append((box, shape, present))
        covered[box] |= dilate(shape, pad)
    if not candidates:
        return None
    outside = ~covered if distractors is None else ~(covered | distractors)
    moving = fg.without(~outside).values.sum(axis=1) >= p.min_blob_px
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
    where[box] |= dilate(shape, pad)
    patch = np.median(crop(gray, box)[present], axis=0).astype(np.uint8)
    target = repaired[box]
    target[shape] = patch[shape]
    return repaired, where


SPLIT_AREA = 32768  # labelling a box this large costs about what cutting the pixels into groups costs
SPLIT_GAP = 8       # cut only at this many empty lines: narrower gaps save less labelling than a group costs


def _split(coords: np.ndarray) -> np.ndarray:
    """Group number per pixel along one axis: a new group after SPLIT_GAP or more empty lines (8-connected
    blobs never cross one empty line)."""
    offsets = coords - coords.min()
    lines = np.flatnonzero(np.bincount(offsets))
    return np.searchsorted(lines[1:][np.diff(lines) > SPLIT_GAP], offsets, side="right")


def _groups(ys: np.ndarray, xs: np.ndarray, min_px: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The pixels cut into groups apart by wide empty gaps between columns, then rows; groups of fewer than
    `min_px` pixels hold no blob that large and are left out (most of them are specks far from the cursor)."""
    by_column = _split(xs)
    for column_group in np.flatnonzero(np.bincount(by_column) >= min_px):
        inside = by_column == column_group
        gy, gx = ys[inside], xs[inside]
        by_row = _split(gy)
        for row_group in np.flatnonzero(np.bincount(by_row) >= min_px):
            inside = by_row == row_group
            yield gy[inside], gx[inside]


def blob_tips(ys: np.ndarray, xs: np.ndarray, min_px: int, join: int = 0) -> list[tuple[int, int, int]]:
    """(tip x, tip y, area) of the 8-connected blobs of at least `min_px` of the pixels (ys, xs) (in raster
    order, as np.nonzero gives them), in raster order of their tips; the tip is the topmost pixel, leftmost
    among ties. `join` > 0: pixels up to 2 x join apart belong to one blob (a highlight ring broken where it
    matches the background); area and tip count the pixels themselves. Labelling costs the area of the
    pixels' box: a box larger than SPLIT_AREA (a cursor and a far webcam) is cut into groups labelled in
    their own boxes."""
    large = (np.ptp(ys) + 1) * (np.ptp(xs) + 1) > SPLIT_AREA
    blobs = []
    for gy, gx in _groups(ys, xs, min_px) if large else [(ys, xs)]:
        y0, x0 = gy.min() - join, gx.min() - join  # a margin of `join` for the dilation
        group = np.zeros((gy.max() - y0 + 1 + join, gx.max() - x0 + 1 + join), np.uint8)
        group[gy - y0, gx - x0] = 1
        if not join:
            _, labels, stats, _ = cv2.connectedComponentsWithStats(group, connectivity=8)
            for k in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_px) + 1:
                top, left = stats[k, cv2.CC_STAT_TOP], stats[k, cv2.CC_STAT_LEFT]
                row = labels[top, left:left + stats[k, cv2.CC_STAT_WIDTH]]
                blobs.append((int(x0 + left + np.argmax(row == k)), int(y0 + top), int(stats[k, cv2.CC_STAT_AREA])))
            continue
        _, labels = cv2.connectedComponents(cv2.dilate(group, np.ones((2 * join + 1, 2 * join + 1), np.uint8)),
                                            connectivity=8)
        of = labels[gy - y0, gx - x0]
        areas = np.bincount(of)
        first = np.empty(len(areas), np.intp)
        first[of[::-1]] = np.arange(len(of) - 1, -1, -1)  # raster order: each label's first pixel is its tip
        for k in np.flatnonzero(areas >= min_px):
            blobs.append((int(gx[first[k]]), int(gy[first[k]]), int(areas[k])))
    return sorted(blobs, key=lambda b: (b[1], b[0]))


def hotspot(blob: np.ndarray, disc_radius: float, arc_share: float) -> tuple[float, float]:
    """(x, y) hot spot of one blob (a boolean box around it) by its shape (`blob_shape`)."""
    return blob_shape(blob, disc_radius, arc_share)[1:]


def shows_its_shape(blob: np.ndarray, disc_radius: float) -> bool:
    """Whether a highlight region's longer side reaches a disc's diameter: smaller on both sides, it is too coarse
    at the chroma planes' scale to tell its shape (a laser dot's and a 24 px hand's look alike)."""
    return max(blob.shape) >= 2 * disc_radius + 2


def highlight_hotspot(blob: np.ndarray, x0: int, y0: int, centre: tuple[float, float], disc_radius: float,
                      arc_share: float) -> tuple[float, float]:
    """(x, y) hot spot of a highlight sighting (its region `blob` at (x0, y0), its `centre`): the centre, unless the
    region is pointed, not round (`blob_shape`: a tip), and `shows_its_shape`: a cursor sprite of one saturated
    colour (an orange hand, taller than wide), whose hot spot is its tip."""
    if not shows_its_shape(blob, disc_radius):
        return centre
    kind, hx, hy = blob_shape(blob, disc_radius, arc_share)
    return (x0 + hx, y0 + hy) if kind == "tip" else centre


def luma_tip_above(blob: np.ndarray, x0: int, y0: int, disc_radius: float,
                   luma_point: tuple[float, float] | None) -> bool | None:
    """Whether background subtraction's tip `luma_point` lies above a highlight region (`blob` at (x0, y0)): at most
    a disc's diameter above its top row, across its box grown by a disc's radius (a sprite's uncoloured outline and
    thin fingertip stick out above its coloured fill: 1-2.5 working px on a 24 px amber hand, 8-10 on a 32 px
    Chameleon hand, whose coloured fill is its cuff); False where it lies on or below the region, within a disc's
    radius (a laser dot's luma tip on its halo, or its middle); None where it lies farther or there is none."""
    if luma_point is None:
        return None
    x, y = luma_point
    h, w = blob.shape
    if not (x0 - disc_radius <= x <= x0 + w + disc_radius and y0 - 2 * disc_radius <= y <= y0 + h + disc_radius):
        return None
    return y < y0


def blob_shape(blob: np.ndarray, disc_radius: float, arc_share: float) -> tuple[str, float, float]:
    """(kind, x, y): the kind of one blob (a boolean box around it) by its shape, and its hot spot:
    - "disc": highlight disc or ring (box at least 2 x disc_radius + 2 on both sides, about square, its top not
      at the left edge; when in one piece (`_one_piece`), holes or not, at least `arc_share` of its upper-left arc
      between its top and left side covered, `_upper_left_arc`: not a hand pointer, whose fingertip and thumb leave a
      notch there, even where its fill matches a light background and leaves holes): the circle's
      centre, x from its topmost rows, y from its leftmost columns (pointers stick out to the right and down, so the
      top and left belong to the circle, even where a ring is broken);
    - "ibeam": thin upright blob whose top and bottom rows are centred: the middle of its box;
    - "arc": an arc of a ring (at least a disc's diameter long; most of its pixels within 1 px of one circle of at
      least the disc's radius, over at least 135 degrees of it: a ring broken where its pixels were masked or
      matched the background, maybe with the pointer inside): that circle's centre;
    - "dot": round blob (empty box corners), the same upside down and mirrored (a laser-pointer dot): its middle;
    - else "tip": the topmost pixel (leftmost among ties): arrow and hand pointers."""
    h, w = blob.shape
    rows = np.flatnonzero(blob.any(axis=1))
    top_xs = np.flatnonzero(blob[rows[0]])
    if min(w, h) >= 2 * disc_radius + 2 and 0.75 <= w / h <= 1.34 and top_xs.mean() >= 0.3 * w:
        cx = float(np.nonzero(blob[:2])[1].mean())
        cy = float(np.nonzero(blob[:, :2])[0].mean())
        if not _one_piece(blob) or _upper_left_arc(blob, cx, cy, arc_share):
            return "disc", cx, cy
    centre = (w - 1) / 2
    if w * 2 <= h and abs(top_xs.mean() - centre) <= 1.0 and abs(np.flatnonzero(blob[h - 1]).mean() - centre) <= 1.0:
        return "ibeam", centre, (h - 1) / 2
    if max(w, h) >= 2 * disc_radius + 2:
        arc = _circle_through(blob)
        if arc is not None and disc_radius <= arc[2] <= max(w, h):
            return "arc", arc[0], arc[1]
    round_ = not (blob[0, 0] or blob[0, -1] or blob[-1, 0] or blob[-1, -1])  # empty corners: no box, no pointer
    if 0.75 <= w / h <= 1.34 and round_ and min(_overlap(blob, blob[::-1]), _overlap(blob, blob[:, ::-1])) >= 0.8:
        return "dot", centre, (h - 1) / 2
    return "tip", float(top_xs[0]), 0.0


def _one_piece(blob: np.ndarray) -> bool:
    """Whether the blob is one piece (8-connected), holes or not: a cursor sprite, even where its fill matches the
    background (a white hand over a light panel), not the pieces of a disc or ring over content (those are judged
    by their top rows and left columns alone)."""
    return ndimage.label(blob, np.ones((3, 3), bool))[1] == 1


def _upper_left_arc(blob: np.ndarray, cx: float, cy: float, min_share: float) -> bool:
    """Whether at least `min_share` of the points of the circle about (cx, cy) through the box's top and left
    edges (radius: the mean of cx and cy), between them (100-170 degrees), lie within 1 px of a blob pixel."""
    r = (cx + cy) / 2
    a = np.radians(np.arange(100, 171, 5))
    xs = np.clip(np.round(cx + r * np.cos(a)).astype(int), 0, blob.shape[1] - 1)
    ys = np.clip(np.round(cy - r * np.sin(a)).astype(int), 0, blob.shape[0] - 1)
    near = ndimage.binary_dilation(blob, np.ones((3, 3), bool))
    return float(near[ys, xs].mean()) >= min_share


def _circle_through(blob: np.ndarray, max_residual: float = 1.0, min_share: float = 0.6) -> tuple[float, float, float] | None:
    """(x, y, radius) of the least-squares circle through most of the blob's pixels (refitted twice without those
    more than 1.5 px off it: the pointer inside a ring), or None when fewer than `min_share` of them lie on it or
    they stray from it by more than `max_residual` px (rms)."""
    ys, xs = np.nonzero(blob)
    on = np.ones(len(xs), bool)
    for _ in range(3):
        if on.sum() < 3:
            return None
        x, y = xs[on].astype(float), ys[on].astype(float)
        (d, e, f), *_ = np.linalg.lstsq(np.column_stack([x, y, np.ones(len(x))]), -(x * x + y * y), rcond=None)
        cx, cy = -d / 2, -e / 2
        if cx * cx + cy * cy - f <= 0:
            return None
        r = float(np.sqrt(cx * cx + cy * cy - f))
        off = np.abs(np.hypot(xs - cx, ys - cy) - r)
        on = off <= 1.5
    residual = float(np.sqrt(np.mean(off[on] ** 2))) if on.any() else np.inf
    sectors = np.unique((np.arctan2(ys[on] - cy, xs[on] - cx) // (np.pi / 8)).astype(int))  # of 16
    if on.mean() < min_share or residual > max_residual or len(sectors) < 6:
        return None
    return float(cx), float(cy), r


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks of one shape."""
    return float((a & b).sum() / max(1, (a | b).sum()))


def _blob_at(frame_pixels: tuple[np.ndarray, np.ndarray], tip: tuple[int, int], reach: int,
             join: int) -> tuple[np.ndarray, int, int]:
    """(boolean box of the blob whose tip is `tip`, joined as by blob_tips, box x0, box y0), looked for
    within `reach`."""
    ys, xs = frame_pixels
    near = (np.abs(xs - tip[0]) <= reach) & (ys >= tip[1]) & (ys <= tip[1] + 2 * reach)
    ys, xs = ys[near], xs[near]
    y0, x0 = ys.min() - join, xs.min() - join  # a margin of `join` for the dilation
    grid = np.zeros((ys.max() - y0 + 1 + join, xs.max() - x0 + 1 + join), np.uint8)
    grid[ys - y0, xs - x0] = 1
    _, labels = cv2.connectedComponents(cv2.dilate(grid, np.ones((2 * join + 1, 2 * join + 1), np.uint8)),
                                        connectivity=8)
    blob = (labels == labels[tip[1] - y0, tip[0] - x0]) & (grid > 0)
    rows, cols = np.flatnonzero(blob.any(axis=1)), np.flatnonzero(blob.any(axis=0))
    return blob[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], int(x0 + cols[0]), int(y0 + rows[0])


def diff_threshold(params: TraceParams, luma_span: int = 255) -> int:
    """The foreground threshold in the codes of gray frames whose black-to-white span is `luma_span`."""
    return int(luma_levels(params.diff_threshold, luma_span))  # differences are whole codes: '> 34.4' is '> 34'


def track(gray: Sequence[np.ndarray], fps: float, face_boxes: Sequence[Sequence[float]] = (),
          params: TraceParams = TraceParams(), luma_span: int = 255, find_faces: FaceFinder | None = None,
          chroma: Sequence[np.ndarray] | None = None, known: np.ndarray | None = None) -> dict:
    """Cursor tip per frame of a chunk's gray frames ((n, h, w) array, or a list of (h, w) frames) whose
    black-to-white span is `luma_span` codes (full range 255, limited-range video luma 219). Faces: the
    `face_boxes` given, else those `find_faces` returns for the chunk's `active_regions`. `chroma`: the same
    frames' chroma planes (`Chroma.frames`), when colour is to count as well as luma. `known`: (h, w) pixels masked
    besides (distractors found elsewhere: stable chunks' masks, for a few frames too short to show them, `frames.windows`).

    Returns {"xy": (n, 2) float array, NaN where no cursor; "background": repaired median; "mask": masked
    pixels; "faces": the face boxes; "blobs": {frame: (boolean box of the cursor's blob, box x0, box y0)} where
    a cursor was found (its appearance, for `frames.follow`)}.
    """
    p = params
    threshold = diff_threshold(p, luma_span)
    picks = np.unique(np.linspace(0, len(gray) - 1, min(len(gray), p.background_samples)).round().astype(int))
    background = median_u8(np.stack([gray[i] for i in picks]))[0]  # a list of frames: only the sample is stacked
    colour = None
    if chroma is not None:
        colour = Chroma(chroma, median_u8(np.stack([chroma[i] for i in picks]))[0], p.chroma_threshold)
    fg = ActiveForeground.of(gray, background, threshold, colour)
    act = activity(fg)
    if find_faces is not None and not len(face_boxes):
        regions = active_regions(act, p.face_search_px, p.min_blob_px)
        face_boxes = list(find_faces(regions)) if regions else []
    seed = face_mask(background.shape, face_boxes, p.face_margin) if len(face_boxes) else None
    faces = _grow_mask(act, seed, p) if seed is not None else None
    distractors = _flicker_mask(act, fps, p) | (faces if faces is not None else False) | (known if known is not None else False)
    repaired = _repair_ghosts(gray, background, fg, act, p, distractors, faces)
    if repaired is None:
        mask = distractors
    else:
        background, ghosts = repaired
        before = fg
        box = ndimage.find_objects(ghosts.view(np.uint8))[0]  # the background changed inside it only
        redone = foreground(crop(gray, box), background[box], threshold)
        fg = fg.with_box(box, redone if colour is None else redone | colour.dense(box))  # luma repaired only
        # flicker is judged on the frames as first seen, but not where a ghost was: its on/off edges toggle,
        # and after the repair the cursor resting there may legitimately cover it most of the time
        mask = _flicker_mask(activity(before.without(ghosts)), fps, p) & ~ghosts
        if seed is not None:
            mask |= _grow_mask(activity(fg), seed, p)
        if known is not None:
            mask |= known
    fg = fg.without(mask)
    pixel_y, pixel_x = np.divmod(fg.pixels, fg.shape[1])
    xy = np.full((len(gray), 2), np.nan)
    frames = np.flatnonzero(fg.values.sum(axis=1) >= p.min_blob_px)
    per_frame = []
    for k, i in enumerate(frames):  # a frame whose foreground repeats the previous one's has its blobs
        if k and np.array_equal(fg.values[i], fg.values[frames[k - 1]]):
            per_frame.append(per_frame[-1])
            continue
        on = fg.values[i]
        tips = blob_tips(pixel_y[on], pixel_x[on], p.min_blob_px, p.join_px)
        per_frame.append([b for b in tips if b[2] <= p.max_blob_px])
    final = activity(fg)
    still = dilate((final.frequency >= p.ghost_fraction) & (final.toggles <= 4), 1)
    moves = any(not still[b[1], b[0]] for blobs in per_frame for b in blobs)
    picks = _follow(list(zip(frames, per_frame)), still, p, acquire_moving=moves)
    if picks:  # the frames before the first pick, backwards from it: a cursor resting before it first moved
        first = min(picks)
        earlier = [(i, blobs) for i, blobs in zip(frames, per_frame) if i < first][::-1]
        picks.update(_follow(earlier, still, p, start=(first, picks[first]), acquire_moving=True))
    blobs = {}
    previous = None  # (frame, pick) of the last blob cut out: the same pick in the same foreground is the same blob
    for i, best in picks.items():
        on = fg.values[i]
        if previous is None or previous[1] != best or not np.array_equal(on, fg.values[previous[0]]):
            blob, x0, y0 = _blob_at((pixel_y[on], pixel_x[on]), best[:2], int(np.sqrt(p.max_blob_px)) + 2, p.join_px)
            hx, hy = hotspot(blob, p.disc_radius_px, p.disc_arc_share)
        previous = i, best
        xy[i] = (x0 + hx, y0 + hy)
        blobs[int(i)] = (blob, x0, y0)
    return {"xy": xy, "background": background, "mask": mask, "faces": [list(map(float, b)) for b in face_boxes],
            "blobs": blobs}


def _follow(frames: Sequence[tuple[int, list[tuple[int, int, int]]]], still: np.ndarray, p: TraceParams,
            start: tuple[int, tuple[int, int, int]] | None = None, acquire_moving: bool = False) -> dict[int, tuple[int, int, int]]:
    """{frame: picked blob (tip x, tip y, area)} over `frames` [(frame index, its candidate blobs)] in the
    order given (backwards too), from the blob `start` (frame, blob) when given. `acquire_moving`: the
    cursor is (re)acquired on a moving blob only: a still blob that appears while the cursor is not being
    followed is a UI element that changed (a slice counter, a cine frame), and a cursor at rest is found by
    following it back from where it moved."""
    picks = {}
    picked_areas: list[int] = [start[1][2]] if start else []
    previous, previous_i = (start[1][:2], start[0]) if start else (None, 0)
    for i, blobs in frames:
        reference = float(np.median(picked_areas[-25:])) if len(picked_areas) >= 5 else None
        if reference is not None:
            blobs = [b for b in blobs if reference / p.area_ratio <= b[2] <= reference * p.area_ratio]
        if previous is not None:  # no teleporting: the cursor moves at most max_step_px per frame
            reach = p.max_step_px * abs(i - previous_i)
            near = [b for b in blobs if np.hypot(b[0] - previous[0], b[1] - previous[1]) <= reach]
            if near or abs(i - previous_i) <= p.lost_frames:
                blobs = near
            else:
                previous = None  # lost for longer: look for it afresh
        moving = [b for b in blobs if not still[b[1], b[0]]]  # a still blob beside a moving one: a UI change
        blobs = moving if moving or (previous is None and acquire_moving) else blobs
        if not blobs:
            continue  # the cursor merged with a UI change, or hidden: no point rather than a wrong one
        if previous is not None:
            best = min(blobs, key=lambda b: np.hypot(b[0] - previous[0], b[1] - previous[1]))
        else:  # (re)acquired: the largest
            best = max(blobs, key=lambda b: b[2])
        previous, previous_i = best[:2], i
        picked_areas.append(best[2])
        picks[i] = best
    return picks


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
