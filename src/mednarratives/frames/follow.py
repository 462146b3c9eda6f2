"""The cursor on every frame: followed by its appearance where background subtraction gives no point.

Background subtraction (`frames.cursor.track`) needs a stable picture, so it finds the cursor in stable chunks
only, and not even there where the cursor merges with a UI change. Every frame where it found the cursor is an
anchor: the cursor's pixels there (the blob it picked, in Y, U and V) are a template, with the hot spot at a
known offset. An anchor counts once confirmed, when the same look is met again elsewhere (a UI change or a
cine structure picked by mistake rarely repeats itself): a confirmed template matches it, or the previous
anchor's template does and the two lie apart. The templates of the last confirmed anchors (a bank: the
cursor's look at the working scale changes with its sub-pixel position) are looked for in every other frame
(a scroll, a window change, a cine loop, a lost frame inside a chunk), forwards from the last position found
and backwards from the next confirmed anchor; a match counts when the root-mean-square difference over the
template's pixels is at most `follow_max_rms` codes, and the better of the two directions wins. The search
looks within `follow_near_px` of the last position first (a masked match costs the area searched), then
within `max_step_px` by every template, the most successful first (each only where a luma-only match shows it
can be good enough), and stops after `lost_frames` frames without a match; a match after frames without one counts
only within `reacquire_max_rms` (a look-alike spot of the picture fits loosely). Lost for longer, the cursor is
looked for over the whole frame every `lost_frames` + 1 frames (it came to rest out of reach of its last position
while the picture changed: a slide change), from such a close match. Only the cursor's own pixels are
compared, so whatever changes around it (a scrolled stack, a playing video, a hover highlight, a counter)
neither helps nor disturbs the match. A match is dropped when the same look fits
the same spot in a frame where the cursor was elsewhere (`content_ratio`): still content that resembles the cursor
(a faint highlight over a smooth picture), where a follow would stay put while the cursor moves on. A frame whose
point was never confirmed (background subtraction picked a UI change while the pointer rested) is followed back
like a frame without a point, from a close match only (`dropped_max_rms`).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import cv2
import numpy as np

from mednarratives.frames.cursor import TraceParams

SCREEN_SLACK = 0.01  # `find` skips a window only when its luma score is 1% past the limit (float32 errors: ~1e-6)

@dataclass(frozen=True)
class Template:
    pixels: np.ndarray  # (h, w, 3) float32: Y, U, V over the blob's box
    mask: np.ndarray    # (h, w, 3) float32: 1 on the cursor's pixels
    hot: tuple[float, float]  # hot spot relative to the box's top-left pixel
    count: int          # cursor pixels x channels
    contrast: float = 0.0  # standard deviation of the luma over the cursor's pixels (codes)


def yuv(gray: np.ndarray, chroma: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """(y1 - y0, x1 - x0, 3) float32 Y, U, V of the box of a frame (chroma: its (h, w / 2) U-over-V planes, as
    `videos.decode.i420_chroma` gives them; each chroma sample covers 2 x 2 luma pixels)."""
    half = chroma.shape[0] // 2
    cy0, cy1, cx0, cx1 = y0 // 2, (y1 + 1) // 2, x0 // 2, (x1 + 1) // 2
    dy, dx = y0 % 2, x0 % 2
    u, v = (cv2.resize(plane[cy0:cy1, cx0:cx1], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
            [dy:dy + y1 - y0, dx:dx + x1 - x0] for plane in (chroma[:half], chroma[half:]))
    return cv2.merge([gray[y0:y1, x0:x1], u, v]).astype(np.float32)


def template(gray: np.ndarray, chroma: np.ndarray, blob: np.ndarray, x0: int, y0: int,
             point: tuple[float, float]) -> Template:
    """The cursor's appearance in a frame: its blob (a boolean box at x0, y0) and hot spot `point`."""
    h, w = blob.shape
    mask = np.repeat(blob[..., None], 3, axis=2).astype(np.float32)
    pixels = yuv(gray, chroma, y0, y0 + h, x0, x0 + w)
    contrast = float(pixels[..., 0][blob].std()) if blob.any() else 0.0
    return Template(pixels, mask, (point[0] - x0, point[1] - y0), int(mask.sum()), contrast)


def find(tpl: Template, gray: np.ndarray, chroma: np.ndarray, near: tuple[float, float],
         reach: float, within: float | None = None) -> tuple[float, float, float] | None:
    """(hot spot x, y, rms difference) of the best match of `tpl` whose hot spot lies within `reach` pixels
    (per axis) of `near`, or None when the template does not fit there, or (`within` given) when no match there
    can be within `within` rms: checked first on the luma alone (a third of the cost), whose masked sum of squares
    never exceeds the one over Y, U and V, so the check drops no match (`SCREEN_SLACK` covers float32 rounding)."""
    th, tw = tpl.mask.shape[:2]
    H, W = gray.shape
    r = int(np.ceil(reach))
    ox, oy = int(round(near[0] - tpl.hot[0])), int(round(near[1] - tpl.hot[1]))  # the template's origin there
    x0, x1 = max(0, ox - r), min(W - tw, ox + r)
    y0, y1 = max(0, oy - r), min(H - th, oy + r)
    if x1 < x0 or y1 < y0:
        return None
    if within is not None:
        luma = cv2.matchTemplate(gray[y0:y1 + th, x0:x1 + tw].astype(np.float32),
                                 np.ascontiguousarray(tpl.pixels[..., 0]), cv2.TM_SQDIFF,
                                 mask=np.ascontiguousarray(tpl.mask[..., 0]))
        if cv2.minMaxLoc(luma)[0] > within * within * tpl.count * (1 + SCREEN_SLACK):
            return None
    window = yuv(gray, chroma, y0, y1 + th, x0, x1 + tw)
    scores = cv2.matchTemplate(window, tpl.pixels, cv2.TM_SQDIFF, mask=tpl.mask)
    best, _, (bx, by), _ = cv2.minMaxLoc(scores)
    return x0 + bx + tpl.hot[0], y0 + by + tpl.hot[1], float(np.sqrt(max(0.0, best) / tpl.count))


Frame = tuple[np.ndarray, np.ndarray]  # (luma, chroma planes)


@dataclass
class Anchor:
    index: int
    frame: Frame
    blob: tuple  # (boolean box, x0, y0)
    point: tuple[float, float]
    confirmed: bool
    template: Template | None = None
    forward: tuple[float, float, float] | None = None  # the bank's match on its frame, followed forwards
    matched: int = 0  # good matches it gave (the bank tries the most successful template first)

    def appearance(self) -> Template:
        if self.template is None:
            self.template = template(*self.frame, *self.blob, self.point)
        return self.template


class Follower:
    """Feed every frame in order (`add`), with the cursor found by background subtraction where there is one;
    `xy` then holds the cursor's hot spot on every frame where it was found or followed.

    Only a confirmed anchor is followed: a template of the cursor matches it where it was found (within 1.5 px),
    or its predecessor's does and the two lie apart (the same appearance met at two places is the cursor; a UI
    change or a cine structure picked by mistake rarely repeats itself elsewhere). The templates of the last
    `follow_templates` confirmed anchors where the cursor had moved are tried (the cursor's look at the working scale
    changes with its sub-pixel position), the best match counts (`_match`). Frames without a point wait (at most
    `max_pending` of them; the oldest then keep their forward match) for the next anchor, which follows the
    cursor back through them once it is confirmed (by the anchor after it, when it is not already). A `trusted`
    anchor (a highlight disc whose look recurred, `frames.highlight`) is confirmed at once."""

    def __init__(self, p: TraceParams, max_pending: int):
        self.max_step_px, self.max_rms, self.max_pending = p.max_step_px, p.follow_max_rms, max_pending
        self.dropped_max_rms, self.content_ratio = p.follow_dropped_max_rms, p.follow_content_ratio
        self.near_px, self.lost_frames = p.follow_near_px, p.lost_frames
        self.reacquire_max_rms, self.change_codes = p.follow_reacquire_max_rms, p.follow_change_codes
        self.confirm_contrast = p.follow_confirm_contrast
        self.xy: dict[int, tuple[float, float]] = {}
        self._anchor: Anchor | None = None
        # confirmed anchors: the cursor's looks
        self._bank: collections.deque = collections.deque(maxlen=p.follow_templates)
        self._last: tuple | None = None  # (frame index, position, frame) last found going forwards
        self._searched: Frame | None = None  # the frame last searched whole (`_reacquire`)
        self._pending: collections.deque = collections.deque()  # (frame, (luma, chroma), forward match or None)
        self._held: tuple[Anchor, list] | None = None  # an unconfirmed anchor and the frames before it

    def _match(self, frame: Frame, near: tuple[float, float], reach: float, templates: int | None = None,
               screen: bool = False, contrast: bool = False):
        """The best match of the bank's templates (the first `templates` of them) within `reach` of `near`, if
        good enough, and the anchor whose template gave it. The most successful template is tried first, and a
        match within half the limit is taken at once (the cost is per template and searched area). `contrast`:
        a template's match also counts up to `confirm_contrast` times its own luma contrast (`_limit`)."""
        best, by = None, None
        for anchor in sorted(self._bank, key=lambda a: -a.matched)[:templates]:
            found = find(anchor.appearance(), *frame, near, reach, self.max_rms if screen else None)
            if found is not None and contrast and found[2] <= self._limit(anchor.appearance()):
                found = (found[0], found[1], min(found[2], self.max_rms))
            if found is not None and (best is None or found[2] < best[2]):
                best, by = found, anchor
                if found[2] <= self.max_rms / 2:
                    anchor.matched += 1
                    break
        return (best, by) if best is not None and best[2] <= self.max_rms else (None, None)

    def _limit(self, tpl: Template) -> float:
        """The rms a bank template's match may reach at an anchor's point to confirm it: `max_rms`, or
        `confirm_contrast` times the template's luma contrast where that is more (a large black-and-white sprite's
        edges shift with its sub-pixel position and differ by more than `max_rms` between two frames of the same
        look; the previous anchor's unconfirmed template keeps `max_rms`)."""
        return max(self.max_rms, self.confirm_contrast * tpl.contrast)

    def _content(self, found: tuple[float, float, float], by: Anchor, last: tuple | None = None) -> bool:
        """True when the look `by` matched at `found` fits the same spot as a match (within `max_rms`) and nearly
        as well (rms at most `content_ratio` times the match's) in the frame of the latest confirmed anchor where
        the cursor was elsewhere (farther than `near_px`), or in the frame `last` (frame index, (x, y), frame) the
        follow comes from, where that holds there: the picture, not the cursor (a faint highlight, or a pointer's
        look met by still content, where a follow stays put while the cursor moves on; `last` shows a picture the
        bank's frames never showed: a light arrow flicked out of reach, the follow catching a light patch of the
        new picture)."""
        def fits(frame: Frame, point: tuple[float, float]) -> bool | None:
            if np.hypot(point[0] - found[0], point[1] - found[1]) <= self.near_px:
                return None
            there = find(by.appearance(), *frame, found[:2], 1)
            return there is not None and there[2] <= self.max_rms and there[2] <= self.content_ratio * found[2]

        if last is not None and fits(last[2], last[1]):
            return True
        for anchor in reversed(self._bank):
            if (there := fits(anchor.frame, anchor.point)) is not None:
                return there
        return False

    def _follow(self, frame: Frame, index: int, last: tuple[int, tuple[float, float], Frame]):
        """The cursor in `frame` from its position `last` (frame index, (x, y), frame): first within `near_px` by every
        template, then within `max_step_px` by every template (luma-screened); nothing once it was lost for more than
        `lost_frames` frames (the next anchor follows it back), where the look matched is the picture's
        (`_content`), or where a loose match (beyond `reacquire_max_rms`) comes after frames without one and the
        picture changed since (`_changed`)."""
        gap = abs(index - last[0])
        if gap > self.lost_frames + 1:
            return None
        found, by = self._match(frame, last[1], min(self.near_px, self.max_step_px * gap))
        if found is None:
            found, by = self._match(frame, last[1], self.max_step_px, screen=True)
        if found is not None and gap > 1 and found[2] > self.reacquire_max_rms and self._changed(last[2], frame):
            return None  # re-found across a change of the picture: a close match only (a look-alike spot of it)
        return None if found is None or self._content(found, by, last) else found

    def _changed(self, a: Frame, b: Frame) -> bool:
        """Whether the picture changed between two frames: their luma differs by `change_codes` on average."""
        return cv2.mean(cv2.absdiff(a[0], b[0]))[0] >= self.change_codes

    def _reacquire(self, frame: Frame, index: int):
        """The cursor lost for longer than `lost_frames` frames (out of reach of its last position: it came to rest
        elsewhere while the picture changed, where background subtraction cannot see it), looked for by the most
        successful template over the whole frame: on the first frame the follow gives up on, then on every
        (`lost_frames` + 1)-th frame where the picture changed (`_changed`) since the last search (a search costs
        the frame's area: once per loss and per change); only a close match (`reacquire_max_rms`) that is not the
        picture's (`_content`) counts."""
        gap = index - self._last[0] - self.lost_frames - 2  # 0: the first frame the follow gives up on
        if gap < 0 or gap % (self.lost_frames + 1):
            return None
        if gap > 0 and self._searched is not None and not self._changed(self._searched, frame):
            return None
        self._searched = frame
        h, w = frame[0].shape
        found, by = self._match(frame, (w / 2, h / 2), max(w, h) / 2, templates=1, screen=True)
        if found is None or found[2] > self.reacquire_max_rms or self._content(found, by):
            return None
        return found

    def _confirms(self, anchor: Anchor) -> bool:
        def at(found) -> bool:
            return found is not None and np.hypot(found[0] - anchor.point[0], found[1] - anchor.point[1]) <= 1.5

        if at(self._match(anchor.frame, anchor.point, 2, contrast=True)[0]):
            return True
        previous = self._anchor
        if previous is None or np.hypot(anchor.point[0] - previous.point[0], anchor.point[1] - previous.point[1]) < 1:
            return False
        found = find(previous.appearance(), *anchor.frame, anchor.point, 2)
        return at(found) and found[2] <= self.max_rms

    def _bank_add(self, anchor: Anchor) -> None:
        anchor.confirmed = True
        if not self._bank or self._bank[-1].point != anchor.point:
            self._bank.append(anchor)

    def add(self, index: int, frame: Frame, point: tuple[float, float] | None = None, blob: tuple | None = None,
            trusted: bool = False) -> None:
        """Frame `index` (luma, chroma); `point` and `blob` ((boolean box, x0, y0)): the cursor found there;
        `trusted`: confirmed already (a highlight whose look recurred, `frames.highlight`)."""
        if point is not None:
            anchor = Anchor(index, frame, blob, point, False)
            previous = self._anchor
            if trusted:
                self._bank_add(anchor)
            elif self._confirms(anchor):
                if previous is not None and not previous.confirmed:
                    self._bank_add(previous)  # it matched: the anchor before was the cursor too
                self._bank_add(anchor)
            items = []  # frames before this anchor still without a point, in order
            if self._held is not None:  # the held anchor (the previous one) is the cursor when this one matched it
                held, items = self._held
                self._held = None
                if held.confirmed:
                    self._backward(held, items)
                    items = []
            if previous is not None and not previous.confirmed and not self._keep_forward(previous):
                items.append((previous.index, previous.frame, None, True))  # without a point after all
            items += list(self._pending)
            self._pending.clear()
            if items:
                if anchor.confirmed:
                    self._backward(anchor, items)
                else:
                    for item in items[:-self.max_pending]:
                        self._commit(item)
                    self._held = (anchor, items[-self.max_pending:])
            self._anchor = anchor
            self.xy[index] = point
            if anchor.confirmed:
                self._last = (index, point, frame)
            elif self._bank and self._last is not None:  # in case it is never confirmed: the bank's match
                anchor.forward = self._follow(frame, index, self._last)
                if anchor.forward is not None:
                    self._last = (index, anchor.forward[:2], frame)
            return
        found = None
        if self._bank and self._last is not None:
            found = self._follow(frame, index, self._last) or self._reacquire(frame, index)
            if found is not None:
                self._last = (index, found[:2], frame)
        self._pending.append((index, frame, found, False))
        while len(self._pending) > self.max_pending:
            self._commit(self._pending.popleft())

    @property
    def awaiting(self) -> bool:
        """Whether the latest anchor is not confirmed yet (the next one may confirm it)."""
        return self._anchor is not None and not self._anchor.confirmed

    @property
    def last(self) -> tuple[int, tuple[float, float]] | None:
        """(frame index, (x, y)) where the cursor was last found going forwards, if anywhere."""
        return None if self._last is None else self._last[:2]

    def lost(self, index: int) -> bool:
        """Whether frame `index` is more than `lost_frames` frames past the last one where the cursor was found going
        forwards (or there is none): a follow from there stops."""
        return self._last is None or index - self._last[0] > self.lost_frames

    def _keep_forward(self, anchor: Anchor) -> bool:
        """An anchor never met again is not taken for the cursor: the bank's match there stands instead (True) when
        it lies within `near_px` of it (the same spot, better placed); else (False) the frame has no point yet (a
        match elsewhere contradicts the anchor): the next confirmed anchor follows the cursor back through it (a
        pointer resting where background subtraction picked a UI change)."""
        forward = anchor.forward
        self.xy.pop(anchor.index, None)
        if forward is not None and np.hypot(forward[0] - anchor.point[0], forward[1] - anchor.point[1]) <= self.near_px:
            self.xy[anchor.index] = forward[:2]
            return True
        return False

    def finish(self) -> None:
        items = self._held[1] if self._held is not None else []
        anchor = self._anchor
        if anchor is not None and not anchor.confirmed and not self._keep_forward(anchor):
            items.append((anchor.index, anchor.frame, None, True))
        self._held = None
        for item in items + list(self._pending):
            self._commit(item)
        self._pending.clear()

    def _commit(self, item) -> None:
        index, _, found, _ = item
        if found is not None:
            self.xy[index] = found[:2]

    def _backward(self, anchor: Anchor, items: list) -> None:
        """The frames `items` (in order, all before `anchor`) followed back from it; per frame the better of
        that and the forward match."""
        last = (anchor.index, anchor.point, anchor.frame)
        for i, frame, forward, dropped in reversed(items):
            back = self._follow(frame, i, last)
            if back is not None and dropped and back[2] > self.dropped_max_rms:
                back = None
            if back is not None:
                last = (i, back[:2], frame)
            best = min((m for m in (forward, back) if m is not None), key=lambda m: m[2], default=None)
            if best is not None:
                self.xy[i] = best[:2]
