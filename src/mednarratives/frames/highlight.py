"""A screen recorder's highlight disc found by its constant look, on every frame, moving or not.

Recorders draw a translucent disc of one saturated colour (yellow, red...) and one size centred on the hot
spot. Background subtraction misses it where the cursor rests (it joins the median) or where the content
moves under it (a cine), but its look does not depend on either: per frame, the candidates are the connected
regions of the chroma planes at least `highlight_chroma` codes from grey, of one colour (U and V standard
deviations at most `highlight_max_std` codes: a small dot's rim blends with its halo), round (area at least
`highlight_min_fill` of the disc spanning their larger side) and of a highlight's size (radius at least
`highlight_min_radius_px`: a laser-pointer dot; area at most `max_blob_px`, working px). No colour and no radius
is assumed beyond these bounds: the look is learnt from the recording. A translucent disc over grey content keeps
only its alpha's share of its colour's chroma (100/255: 25-30 codes): regions at `highlight_faint_chroma` codes
from grey are candidates too where they are disc-shaped (`cursor.blob_shape`; a pointed sprite's soft edges round
it out at that level) and apart from every candidate at `highlight_chroma`. A candidate is the highlight once its
look (area within `highlight_area_tol`, mean U and V within `highlight_colour_tol` codes) was met in at least
`highlight_sightings` frames at places at least two minimum radii apart, by sightings that moved (none of them
seen again within `highlight_still_px` of its place in another frame remembered): a coloured structure of the
content that stays put (even several alike ones at several places), or whose size and colour change (a colour
Doppler jet), never qualifies. Its centre is the hot spot. On a frame without it right after one with it,
where it may have merged with another saturated region (a laser dot resting on a coloured button), the samples
at least `highlight_chroma` codes from grey along a confirmed look's hue, within `highlight_look_hue_deg` degrees
of it, are taken apart: a round region there of at least `highlight_merged_share` of the look's area (its rim
blends into the other colour) and at most (1 + `highlight_area_tol`) times it is the highlight. A confirmed
look's sighting is still content, not the highlight, where the same colour (at least `highlight_content_share`
of its samples saturated, mean U and V within `highlight_colour_tol`) filled its place in the latest frame
with a highlight sighting (still content excluded) that has moved since (its box apart from every sighting
now): a static Doppler blob of an orange hand's size and colour, which stays while the hand moves; a resting
highlight's place never shows its colour while the highlight is elsewhere.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from mednarratives.frames.cursor import TraceParams, blob_shape, highlight_hotspot, luma_tip_above, shows_its_shape
from mednarratives.geometry import box_iou

MEMORY = 64  # sightings of not yet confirmed looks remembered
HISTORY = 16  # frames with highlight sightings remembered with their chroma (the still-content check)
HUE_SHIFT = 2  # hue tables (`HighlightFinder._hue_table`) index chroma >> HUE_SHIFT: 4-code bins, 64 x 64 entries
SQUARE_UNIT = 32  # (code - 128)^2 / SQUARE_UNIT fits a byte
_SQUARES = np.minimum(255, (np.arange(256) - 128) ** 2 // SQUARE_UNIT).astype(np.uint8)


@dataclass(frozen=True)
class Sighting:
    index: int
    x: float  # centre, working px
    y: float
    area: float  # working px
    u: float  # mean chroma offsets from grey
    v: float
    blob: tuple  # (boolean box at working scale, x0, y0)
    min_chroma: float  # the level (codes from grey) its region was cut at: highlight_chroma, or the faint one


@dataclass(frozen=True)
class Region:
    """A round connected region of saturated chroma samples, of a disc's size."""
    x0: int  # its box in chroma samples
    y0: int
    box: np.ndarray  # boolean, (h, w) chroma samples
    cx: float  # centroid, chroma samples
    cy: float
    area: float  # working px
    blob: tuple  # (boolean box at working scale, x0, y0)


def saturated(chroma: np.ndarray, min_chroma: float) -> np.ndarray:
    """(h / 2, w / 2) uint8 mask (255) of the chroma samples at least `min_chroma` codes from grey, in a frame's
    chroma planes ((h, w / 2) U over V, as `videos.decode.i420_chroma` gives them)."""
    half = chroma.shape[0] // 2
    # U^2 + V^2 >= min_chroma^2 in units of SQUARE_UNIT codes^2 (table look-ups: 4x cheaper than in int16)
    squares = cv2.LUT(chroma, _SQUARES)
    return cv2.compare(cv2.add(squares[:half], squares[half:]), int(min_chroma * min_chroma / SQUARE_UNIT), cv2.CMP_GE)


def round_regions(mask: np.ndarray, min_radius: float, max_area: float, min_fill: float) -> list[Region]:
    """The connected regions of `mask` (`saturated`; each sample covers 2 x 2 working px) that are round (area
    at least `min_fill` of the disc spanning their larger side) and of a disc's size (radius at least
    `min_radius`, area at most `max_area`, working px)."""
    if cv2.countNonZero(mask) * 4 < np.pi * min_radius ** 2:
        return []
    bx, by, bw, bh = cv2.boundingRect(mask)  # labelled there only
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask[by:by + bh, bx:bx + bw], connectivity=8)
    area4 = 4.0 * stats[:, cv2.CC_STAT_AREA]  # working px
    side = 2.0 * np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = (area4 >= np.pi * min_radius ** 2) & (area4 <= max_area) & (area4 >= min_fill * np.pi * (side / 2) ** 2)
    out = []
    for k in np.flatnonzero(keep[1:]) + 1:
        x0, y0, w, h = (int(s) for s in stats[k, :4])
        box = labels[y0:y0 + h, x0:x0 + w] == k
        cx, cy = centroids[k]
        blob = np.repeat(np.repeat(box, 2, axis=0), 2, axis=1)
        out.append(Region(bx + x0, by + y0, box, bx + cx, by + cy, float(area4[k]), (blob, 2 * (bx + x0), 2 * (by + y0))))
    return out


def one_colour(index: int, chroma: np.ndarray, regions: list[Region], max_std: float, min_chroma: float) -> list[Sighting]:
    """The `regions` (cut at `min_chroma` codes from grey) of one colour in a frame's chroma planes (U and V standard
    deviations at most `max_std` codes), as sightings."""
    half = chroma.shape[0] // 2
    out = []
    for r in regions:
        h, w = r.box.shape
        box = r.box.view(np.uint8)
        (u,), (su,) = (a.ravel() for a in cv2.meanStdDev(chroma[r.y0:r.y0 + h, r.x0:r.x0 + w], mask=box))
        (v,), (sv,) = (a.ravel() for a in cv2.meanStdDev(chroma[half + r.y0:half + r.y0 + h, r.x0:r.x0 + w], mask=box))
        if su > max_std or sv > max_std:
            continue
        out.append(Sighting(index, 2 * r.cx + 0.5, 2 * r.cy + 0.5, r.area, float(u) - 128, float(v) - 128, r.blob,
                            min_chroma))
    return out


def candidates(index: int, chroma: np.ndarray, min_chroma: float, min_radius: float, max_area: float,
               min_fill: float, max_std: float) -> list[Sighting]:
    """Round regions of one saturated colour (U and V standard deviations at most `max_std` codes) in a frame's
    chroma planes ((h, w / 2) U over V, as `videos.decode.i420_chroma` gives them; each sample covers 2 x 2
    working px)."""
    return one_colour(index, chroma, round_regions(saturated(chroma, min_chroma), min_radius, max_area, min_fill),
                      max_std, min_chroma)


def _box(s: Sighting) -> tuple[int, int, int, int]:
    blob, x0, y0 = s.blob
    return x0, y0, x0 + blob.shape[1], y0 + blob.shape[0]


def _apart(a: Sighting, b: Sighting) -> bool:
    """The two sightings' boxes do not overlap."""
    return box_iou(_box(a), _box(b)) == 0


class HighlightFinder:
    """Feed every frame's chroma in order (`add`); it answers the highlight's sighting there, once its look is
    confirmed (see the module docstring)."""

    def __init__(self, p: TraceParams):
        self.min_chroma, self.min_radius, self.max_area = p.highlight_chroma, p.highlight_min_radius_px, p.max_blob_px
        self.min_fill, self.area_tol, self.colour_tol = p.highlight_min_fill, p.highlight_area_tol, p.highlight_colour_tol
        self.sightings, self.max_std, self.still_px = p.highlight_sightings, p.highlight_max_std, p.highlight_still_px
        self.look_hue_deg, self.merged_share = p.highlight_look_hue_deg, p.highlight_merged_share
        self.content_share, self.faint_chroma = p.highlight_content_share, p.highlight_faint_chroma
        self.disc_radius, self.arc_share = p.disc_radius_px, p.disc_arc_share
        self.max_step_px = p.max_step_px
        self._tips = {True: 0, False: 0}  # small regions: background subtraction's tip above them, or not
        self._pointed = {True: 0, False: 0}  # regions that show their shape: pointed (a sprite's tip), or not
        self._tip_offsets: list[tuple[float, float]] = []  # that tip's offsets from their centres, where above
        # per remembered sighting (`_seen`) of a small region: (luma tip above it, its offset from the centre), or None
        self._seen_tips: collections.deque = collections.deque(maxlen=MEMORY)
        self._history: collections.deque = collections.deque(maxlen=HISTORY)  # (highlight sighting, its chroma)
        self._seen: collections.deque = collections.deque(maxlen=MEMORY)
        self._looks: list[Sighting] = []  # confirmed looks
        self._tables: dict[int, np.ndarray] = {}  # their hue tables (`_hue_table`), by id
        self._last: Sighting | None = None
        # by level (highlight_chroma, faint_chroma): the last frame's saturated mask and its round regions (the mask
        # is mostly unchanged from frame to frame, the labelling is not cheap)
        self._masks: dict[float, tuple[np.ndarray, list[Region]]] = {}

    def _alike(self, a: Sighting, b: Sighting) -> bool:
        return (abs(a.area - b.area) <= self.area_tol * max(a.area, b.area)
                and abs(a.u - b.u) <= self.colour_tol and abs(a.v - b.v) <= self.colour_tol)

    def _confirmed(self, s: Sighting, seen: np.ndarray) -> bool:
        """`seen`: (n, 6) index, x, y, area, u, v of the remembered sightings."""
        if any(self._alike(s, look) for look in self._looks):
            return True
        area, u, v = seen[:, 3], seen[:, 4], seen[:, 5]
        alike = seen[(np.abs(area - s.area) <= self.area_tol * np.maximum(area, s.area))
                     & (np.abs(u - s.u) <= self.colour_tol) & (np.abs(v - s.v) <= self.colour_tol)]
        alike = np.vstack([alike, [(s.index, s.x, s.y, s.area, s.u, s.v)]])
        if len(alike) < self.sightings:
            return False
        index, xy = alike[:, 0], alike[:, 1:3]
        near = np.hypot(xy[:, 0] - s.x, xy[:, 1] - s.y) <= self.still_px
        if (near & (index != s.index)).any():  # s seen again at its place: content that stays put
            return False
        near = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)) <= self.still_px
        moved = ~(near & (index[:, None] != index[None])).any(axis=1)
        spread = np.hypot(*(xy[moved] - (s.x, s.y)).T).max()
        if len(set(index[moved])) >= self.sightings and spread >= 2 * self.min_radius:
            self._looks.append(s)
            self._count_earlier_tips(s)
            return True
        return False

    def _hue_table(self, look: Sighting) -> np.ndarray:
        """Flat uint8 table over (U >> HUE_SHIFT, V >> HUE_SHIFT), 255 where the bin's centre lies at least the
        look's level (`Sighting.min_chroma`) from grey along the look's hue and within `look_hue_deg` of it."""
        if id(look) not in self._tables:
            bins = 256 >> HUE_SHIFT
            centre = (np.arange(bins) + 0.5) * (1 << HUE_SHIFT) - 0.5 - 128
            u, v = np.meshgrid(centre, centre, indexing="ij")
            along = (u * look.u + v * look.v) / max(np.hypot(look.u, look.v), 1e-6)
            inside = (along >= look.min_chroma) & (along >= np.cos(np.radians(self.look_hue_deg)) * np.hypot(u, v))
            self._tables[id(look)] = inside.astype(np.uint8).ravel() * 255
        return self._tables[id(look)]

    def _by_colour(self, index: int, chroma: np.ndarray, look: Sighting) -> list[Sighting]:
        """Round regions of the saturated samples along a confirmed look's hue (`_hue_table`), looked for inside
        the box of the frame's samples saturated at its level (the only place they can be)."""
        half = chroma.shape[0] // 2
        saturated_mask = self._masks[look.min_chroma][0]
        bx, by, bw, bh = cv2.boundingRect(saturated_mask)
        if bw * bh * 4 < self.merged_share * look.area:
            return []
        u = chroma[by:by + bh, bx:bx + bw] >> HUE_SHIFT
        v = chroma[half + by:half + by + bh, bx:bx + bw] >> HUE_SHIFT
        mask = np.zeros_like(saturated_mask)
        mask[by:by + bh, bx:bx + bw] = self._hue_table(look)[(u.astype(np.uint16) << (8 - HUE_SHIFT)) | v]
        regions = round_regions(mask, self.min_radius, self.max_area, self.min_fill)
        return one_colour(index, chroma, regions, self.max_std, look.min_chroma)

    def _still_content(self, s: Sighting, now: list[Sighting]) -> bool:
        """True when the place of `s` showed its colour (`content_share`, `colour_tol`) in the latest remembered
        frame with a highlight sighting that has moved since: apart from `s` and from every sighting of this frame
        (`now`). A resting highlight's place never shows its colour while the highlight is elsewhere."""
        blob, x0, y0 = s.blob
        for seen, chroma in reversed(self._history):
            if not any(all(_apart(o, t) for t in [s, *now]) for o in seen):
                continue
            half = chroma.shape[0] // 2
            cy, cx = y0 // 2, x0 // 2
            box = np.ascontiguousarray(blob[::2, ::2]).view(np.uint8)
            u = chroma[cy:cy + box.shape[0], cx:cx + box.shape[1]]
            v = chroma[half + cy:half + cy + box.shape[0], cx:cx + box.shape[1]]
            if u.shape != box.shape:
                return False
            sat = saturated(np.vstack([u, v]), s.min_chroma)
            if cv2.countNonZero(cv2.bitwise_and(sat, sat, mask=box)) < self.content_share * cv2.countNonZero(box):
                return False
            mu, mv = cv2.mean(u, mask=box)[0] - 128, cv2.mean(v, mask=box)[0] - 128
            return abs(mu - s.u) <= self.colour_tol and abs(mv - s.v) <= self.colour_tol
        return False

    def _tip(self, s: Sighting, luma_point: tuple[float, float] | None) -> tuple[bool, tuple[float, float]] | None:
        """(whether `luma_point` lies above the region of `s`, its offset from the centre), or None where the region
        shows its shape or the point lies apart from it (`luma_tip_above`)."""
        blob, x0, y0 = s.blob
        if shows_its_shape(blob, self.disc_radius):
            return None
        above = luma_tip_above(blob, x0, y0, self.disc_radius, luma_point)
        return None if above is None else (above, (luma_point[0] - s.x, luma_point[1] - s.y))

    def _count_tip(self, tip: tuple[bool, tuple[float, float]] | None) -> None:
        if tip is not None:
            self._tips[tip[0]] += 1
            if tip[0]:
                self._tip_offsets.append(tip[1])

    def _count_earlier_tips(self, look: Sighting) -> None:
        """A newly confirmed look's remembered sightings count for `hotspot` as its own: a coloured pointer sprite
        gliding (background subtraction's tip above it) before it came to rest, where its look was confirmed."""
        for k, (seen, tip) in enumerate(zip(self._seen, self._seen_tips)):
            if tip is not None and self._alike(seen, look):
                self._count_tip(tip)
                self._seen_tips[k] = None  # counted once

    def hotspot(self, s: Sighting, luma_point: tuple[float, float] | None) -> tuple[float, float]:
        """The hot spot of sighting `s`: where the region `shows_its_shape`, `cursor.highlight_hotspot`'s tip as long
        as the regions that showed theirs were pointed at least as often as not (a moving disc's region, cut at the
        chroma planes' coarse scale, is pointed now and then: its top is a radius off), else the centre;
        `luma_point`: background subtraction's point in the same frame, if any. Where the region is too small to
        tell its shape, that point counts only once it lay above the regions (`luma_tip_above`) in at least
        `sightings` frames and in most frames where it lay near them (the look's sightings before it was confirmed
        count too, `_count_earlier_tips`): a pointed sprite (a 24 px hand) throughout,
        not a laser dot whose luma tip lies above its coloured core now and then (its faint glow). On a pointed
        sprite's frames where that point is missing (a resting pointer) or not above the region, the tip lies at
        the median offset from the region's centre that the points above it showed; else the centre."""
        blob, x0, y0 = s.blob
        if shows_its_shape(blob, self.disc_radius):
            at = highlight_hotspot(blob, x0, y0, (s.x, s.y), self.disc_radius, self.arc_share)
            pointed = at != (s.x, s.y)
            self._pointed[pointed] += 1
            return at if pointed and self._pointed[True] >= self._pointed[False] else (s.x, s.y)
        tip = self._tip(s, luma_point)
        self._count_tip(tip)
        above = tip is not None and tip[0]
        if not (self._tips[True] >= self.sightings and self._tips[True] > self._tips[False]):  # not a pointed sprite
            return s.x, s.y
        if above:
            return luma_point
        dx, dy = np.median(self._tip_offsets, axis=0)
        return s.x + float(dx), s.y + float(dy)

    def _regions_at(self, chroma: np.ndarray, level: float) -> list[Region]:
        """The round regions of the samples at least `level` codes from grey (kept while the mask is unchanged)."""
        mask = saturated(chroma, level)
        if level not in self._masks or not np.array_equal(mask, self._masks[level][0]):
            self._masks[level] = mask, round_regions(mask, self.min_radius, self.max_area, self.min_fill)
        return self._masks[level][1]

    def _faint_discs(self, index: int, chroma: np.ndarray, found: list[Sighting]) -> list[Sighting]:
        """Translucent discs over grey content, too faint for `min_chroma`: the disc-shaped regions (`blob_shape`)
        at `faint_chroma` apart from every sighting `found` at `min_chroma` (a saturated disc's halo)."""
        discs = [r for r in self._regions_at(chroma, self.faint_chroma)
                 if blob_shape(r.blob[0], self.disc_radius, self.arc_share)[0] == "disc"]
        faint = one_colour(index, chroma, discs, self.max_std, self.faint_chroma)
        return [s for s in faint if all(_apart(s, o) for o in found)]

    def add(self, index: int, chroma: np.ndarray,
            luma_point: Callable[[], tuple[float, float] | None] | None = None,
            cursor: tuple[int, tuple[float, float]] | None = None) -> Sighting | None:
        """The highlight's sighting in frame `index`, if any; `luma_point`: gives background subtraction's point in
        the frame, if any (asked only where a small region is seen: see `hotspot`); `cursor`: (frame, (x, y)) where
        the cursor was last found, if anywhere. A sighting farther than `max_step_px` per frame since from the
        later of that place and the last sighting is not the highlight (a look-alike in a new picture: a green
        scatter dot for a green pointer's fill); of several, the one nearest that place counts."""
        found = one_colour(index, chroma, self._regions_at(chroma, self.min_chroma), self.max_std, self.min_chroma)
        if self.faint_chroma < self.min_chroma:
            found += self._faint_discs(index, chroma, found)
        small = [not shows_its_shape(s.blob[0], self.disc_radius) for s in found]
        point = luma_point() if luma_point is not None and any(small) else None
        tips = [self._tip(s, point) if point is not None else None for s in found]
        hits = []
        if found:  # the remembered sightings as an array, on the frames that need them
            seen = np.array([(o.index, o.x, o.y, o.area, o.u, o.v) for o in self._seen]).reshape(-1, 6)
            hits = [s for s in found if self._confirmed(s, seen)]
        self._seen.extend(found)
        self._seen_tips.extend(None if any(s is h for h in hits) else t for s, t in zip(found, tips))  # hits: `hotspot`
        if not hits and self._last is not None and self._last.index == index - 1:
            # seen on the frame before: merged with another saturated region now (a coloured button)? Taken apart
            hits = [s for look in self._looks for s in self._by_colour(index, chroma, look)
                    if self.merged_share * look.area <= s.area <= (1 + self.area_tol) * look.area]
        hits = [s for s in hits if not self._still_content(s, hits)]
        if hits:
            self._history.append((hits, chroma.copy()))
        near = (self._last.index, (self._last.x, self._last.y)) if self._last is not None else None
        if cursor is not None and (near is None or cursor[0] > near[0]):
            near = cursor
        if near is not None:  # out of the pointer's reach: not it; several: the one nearest the cursor's last place
            hits = sorted((s for s in hits if np.hypot(s.x - near[1][0], s.y - near[1][1])
                           <= self.max_step_px * (index - near[0])), key=lambda s: np.hypot(s.x - near[1][0], s.y - near[1][1]))
        if not hits:
            return None
        self._last = hits[0]
        return hits[0]
