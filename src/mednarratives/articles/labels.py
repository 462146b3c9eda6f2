"""OCR of drawn panel labels ("A", "(b)") with Tesseract (Debian package tesseract-ocr), paper appendix 8.5.

Whole-figure OCR finds almost no lone panel letters, so labels are looked for where authors put them: the
corners of each detected panel and the strip just above it. In each place both polarities (dark text on light,
light on dark) and, where the place holds colour, the saturation (a yellow "(A)" on a grey scan) are binarised
(Otsu) and connected components that look like a lone glyph (size, aspect, fill,
isolated: clear background around them) become candidates, nearest to the corner first. Each candidate is cut
out with a margin, upscaled x4 (the paper's factor), made black on white, and read by Tesseract as a single
character (`--psm 10`, letter whitelist). All candidates of a shard go to ONE tesseract process (a list file:
one page per image), so the process start is paid once. A panel's label is its most confident letter; the
pairing step applies the paper's 95% / 80% thresholds.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image
from scipy import ndimage

from mednarratives import settings
from mednarratives.geometry import same_column, same_row

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CASELESS = set("cosvwxz")  # letters whose capital is their small letter enlarged: one glyph reads as either
WORD_GAP = 0.8  # characters of one word or label stand less than this share of their height apart


@dataclass(frozen=True)
@settings.schema_defaults("articles", "subfigures", "letters")
class LetterOptions:
    """The thresholds of reading a figure's panel letters (find_anchors): config articles.subfigures.letters."""
    min_conf: float
    disorder: float
    lined_up: float
    rounds: int
    line_heights: list[int]
    lower_h: float


@dataclass
class LabelCandidate:
    panel: int                 # index of the panel in the figure's panel list
    place: str                 # top_left | top_right | bottom_left | bottom_right | above | leaf | line | bracketed
    polarity: str              # dark | light | colour (of the text: darker, lighter, more colourful)
    box: list[int]             # glyph box in figure pixels
    distance: float            # from the place's corner, pixels
    mask: np.ndarray | None = field(default=None, repr=False)   # the glyph's pixels inside `box`
    image: Image.Image | None = field(default=None, repr=False)
    text: str = ""
    conf: float = 0.0          # 0..1


def _otsu(gray: np.ndarray) -> float:
    hist = np.bincount(gray.ravel(), minlength=256).astype(float)
    total = hist.sum()
    if total == 0:
        return 128.0
    levels = np.arange(256)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    mt = m0[-1]
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mt * w0 / total - m0) ** 2 / (w0 * w1)
    between = np.nan_to_num(between)
    return float(np.argmax(between))


def _regions(box: Sequence[int], width: int, height: int, others: Sequence[Sequence[int]] = ()
             ) -> list[tuple[str, list[int], tuple[float, float]]]:
    """(place, region [x0, y0, x1, y1], corner point) where a panel's label may sit; the strip above a panel
    stops at any other panel above it."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    rw, rh = max(24, min(int(0.3 * w), 96)), max(24, min(int(0.3 * h), 96))
    out = [("top_left", [x0, y0, x0 + rw, y0 + rh], (x0, y0)),
           ("top_right", [x1 - rw, y0, x1, y0 + rh], (x1, y0)),
           ("bottom_left", [x0, y1 - rh, x0 + rw, y1], (x0, y1)),
           ("bottom_right", [x1 - rw, y1 - rh, x1, y1], (x1, y1))]
    top = max(0, y0 - 56)
    for o in others:
        if o[3] <= y0 + 2 and o[0] < x0 + rw and o[2] > x0 - 4:
            top = max(top, o[3])
    if y0 - top >= 10:
        out.append(("above", [max(0, x0 - 4), top, x0 + rw, y0], (x0, y0)))
    return [(p, [max(0, r[0]), max(0, r[1]), min(width, r[2]), min(height, r[3])], c) for p, r, c in out
            if min(width, r[2]) - max(0, r[0]) >= 8 and min(height, r[3]) - max(0, r[1]) >= 8]


def saturation(image: Image.Image) -> np.ndarray:
    """Colourfulness of each pixel (largest minus smallest RGB channel), 0 on grey: a yellow letter on a grey
    MRI or on a red heat map has about the brightness of its background, not its colourfulness."""
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    return (rgb.max(axis=2) - rgb.min(axis=2)).astype(np.uint8)


def _views(reg: np.ndarray, sat: np.ndarray | None, contrast: int = 40) -> list[tuple[str, np.ndarray]]:
    """(polarity, text mask) binarisations (Otsu) of a label region: dark and light text on the grey levels,
    and, where the region holds colour (`sat`, saturation()), colourful text."""
    out = []
    if reg.max() - reg.min() >= contrast:
        t = _otsu(reg)
        out += [("dark", reg <= t), ("light", reg > t)]
    if sat is not None and sat.size and sat.max() - sat.min() >= contrast:
        out.append(("colour", sat > _otsu(sat)))
    return out


def _glyph_components(mask: np.ndarray, min_h: int, max_h: int, most: int = 400):
    """(row slice, column slice, the component's pixels) of the connected components of a text mask that look
    like a lone glyph: `min_h`..`max_h` high, of a letter's aspect and fill, with a clear ring of background
    around them; none where the mask holds more than `most` components (texture, not text)."""
    lab, n = ndimage.label(mask)
    if n == 0 or n > most:
        return
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        ys, xs = sl
        gh, gw = ys.stop - ys.start, xs.stop - xs.start
        if not (min_h <= gh <= max_h) or not (0.15 * gh <= gw <= 1.6 * gh):
            continue
        comp = lab[sl] == k
        if not 0.12 <= comp.mean() <= 0.85:
            continue
        # isolated: a clear ring around the glyph (background of the same polarity)
        pad = max(2, gh // 8)
        a0, a1 = max(0, ys.start - pad), min(mask.shape[0], ys.stop + pad)
        b0, b1 = max(0, xs.start - pad), min(mask.shape[1], xs.stop + pad)
        ring = mask[a0:a1, b0:b1].copy()
        ring[ys.start - a0:ys.stop - a0, xs.start - b0:xs.stop - b0] = False
        if ring.mean() > 0.2:
            continue
        yield ys, xs, comp


def find_candidates(gray: np.ndarray, boxes: Sequence[Sequence[int]], per_place: int = 2,
                    min_h: int = 7, max_h: int = 64, sat: np.ndarray | None = None) -> list[LabelCandidate]:
    """Glyph-like connected components near each panel's corners (both polarities, and colourful ones where
    `sat`, the figure's saturation(), is given), nearest first."""
    H, W = gray.shape
    out: list[LabelCandidate] = []
    for pi, box in enumerate(boxes):
        others = [b for j, b in enumerate(boxes) if j != pi]
        for place, (rx0, ry0, rx1, ry1), (cx, cy) in _regions(box, W, H, others):
            reg = gray[ry0:ry1, rx0:rx1]
            if reg.size == 0:
                continue
            for polarity, mask in _views(reg, None if sat is None else sat[ry0:ry1, rx0:rx1]):
                found = []
                for ys, xs, comp in _glyph_components(mask, min_h, max_h):
                    gx0, gy0 = rx0 + xs.start, ry0 + ys.start
                    gbox = [gx0, gy0, rx0 + xs.stop, ry0 + ys.stop]
                    d = float(np.hypot((gbox[0] + gbox[2]) / 2 - cx, (gbox[1] + gbox[3]) / 2 - cy))
                    found.append((d, gbox, comp))
                for d, gbox, comp in sorted(found, key=lambda f: f[0])[:per_place]:
                    out.append(LabelCandidate(pi, place, polarity, gbox, d, mask=comp))
    return out


def glyph_image(gray: np.ndarray, cand: LabelCandidate, height: int = 32) -> Image.Image:
    """The candidate glyph alone (its component's pixels, nothing around it), scaled to `height` pixels
    (small labels are upscaled x2-x4: Tesseract reads single glyphs best at about 30 px), black on white, with
    a margin."""
    x0, y0, x1, y1 = cand.box
    if cand.mask is not None:
        bw = np.where(cand.mask, 0, 255).astype(np.uint8)
    else:
        reg = gray[y0:y1, x0:x1].astype(np.float32)
        if cand.polarity == "light":
            reg = 255 - reg
        t = _otsu(reg.astype(np.uint8))
        bw = np.where(reg <= t, 0, 255).astype(np.uint8)
    img = Image.fromarray(bw)
    s = height / img.size[1]
    img = img.resize((max(1, round(img.size[0] * s)), height), Image.Resampling.BICUBIC)
    pad = max(8, height // 3)
    border = Image.new("L", (img.size[0] + 2 * pad, img.size[1] + 2 * pad), 255)
    border.paste(img, (pad, pad))
    return border


def _one_letter(text: str) -> str:
    """'C' -> 'C'; 'Cc' (Tesseract doubling a lone glyph) -> 'C'; anything else -> ''."""
    if len(text) == 1 and text.isalpha():
        return text
    if 1 < len(text) <= 3 and text.isalpha() and len(set(text.lower())) == 1:
        return text[0]
    return ""


@functools.lru_cache(maxsize=1)
def tesseract_version() -> str:
    exe = shutil.which("tesseract")
    if not exe:
        return ""
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].strip() if first else "tesseract"


def available() -> bool:
    return bool(tesseract_version())


def read_glyphs(images: Sequence[Image.Image], whitelist: str = LETTERS, psm: int = 10,
                timeout: float = 600.0) -> list[tuple[str, float]]:
    """(text, confidence 0..1) for each image, from one tesseract process (one page per image)."""
    if not images:
        return []
    exe = shutil.which("tesseract")
    if not exe:
        raise RuntimeError("tesseract not found: install the Debian package tesseract-ocr")
    results: list[tuple[str, float]] = [("", 0.0)] * len(images)
    with tempfile.TemporaryDirectory(prefix="mn-ocr-") as d:
        paths = []
        for i, img in enumerate(images):
            p = Path(d) / f"{i:06d}.png"
            img.save(p)
            paths.append(str(p))
        lst = Path(d) / "list.txt"
        lst.write_text("\n".join(paths) + "\n")
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        proc = subprocess.run([exe, str(lst), "stdout", "--psm", str(psm), "-c",
                               f"tessedit_char_whitelist={whitelist}", "tsv"],
                              capture_output=True, text=True, timeout=timeout, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"tesseract failed ({proc.returncode}): {proc.stderr[-500:]}")
        best: dict[int, tuple[str, float]] = {}
        for row in csv.DictReader(io.StringIO(proc.stdout), delimiter="\t", quoting=csv.QUOTE_NONE):
            try:
                level, page, conf = int(row["level"]), int(row["page_num"]), float(row["conf"])
            except (KeyError, TypeError, ValueError):
                continue
            text = (row.get("text") or "").strip()
            if level != 5 or not text or conf < 0:
                continue
            idx = page - 1
            if 0 <= idx < len(images) and conf / 100 > best.get(idx, ("", -1.0))[1]:
                best[idx] = (text, conf / 100)
        for idx, v in best.items():
            results[idx] = v
    return results


def read_figure_labels(figures: Sequence[tuple[Image.Image, Sequence[Sequence[int]]]], height: int = 32,
                       per_place: int = 2) -> list[list[list[LabelCandidate]]]:
    """For each (figure image, panel boxes): per panel, its label candidates with text and confidence, most
    confident first. One tesseract process for all of them."""
    all_cands: list[tuple[int, LabelCandidate]] = []
    images = []
    for fi, (img, boxes) in enumerate(figures):
        gray = np.asarray(img.convert("L"))
        for c in find_candidates(gray, boxes, per_place=per_place, sat=saturation(img)):
            c.image = glyph_image(gray, c, height)
            all_cands.append((fi, c))
            images.append(c.image)
    reads = read_glyphs(images)
    out: list[list[list[LabelCandidate]]] = [[[] for _ in boxes] for _, boxes in figures]
    for (fi, c), (text, conf) in zip(all_cands, reads):
        c.text, c.conf, c.image, c.mask = _one_letter(text), conf, None, None
        if c.text:
            out[fi][c.panel].append(c)
    for fig in out:
        for lst in fig:
            lst.sort(key=lambda c: (-c.conf, c.distance))
    return out


def with_layout_letters(reads: Sequence[list[LabelCandidate]],
                        letters: Sequence[Sequence[tuple[str, float, list[int]]]]) -> list[list[LabelCandidate]]:
    """A figure's per-panel OCR reads (read_figure_labels) with the letters the layout analysis read for each
    panel first (Detector.detect_letters: (text, conf, glyph box), read among the caption's labels, in reading
    order): place "layout"."""
    return [[LabelCandidate(pi, "layout", "", list(box), 0.0, text=t, conf=c)
             for t, c, box in sorted(extra, key=lambda x: -x[1])] + list(own)
            for pi, (own, extra) in enumerate(zip(reads, letters))]


def _key(text: str) -> str:
    return text.strip().strip("()[].,:").lower()


def anchor_candidates(gray: np.ndarray, leaves: Sequence[Sequence[int]], min_h: int = 7,
                      max_h: int = 64, sat: np.ndarray | None = None) -> list[LabelCandidate]:
    """Where a figure's panel letters may be: layout leaves that are one glyph (letters stand apart from the
    panel's title and content) and start their line (follows_text), and the glyph-like components at the corners
    of the larger leaves (letters drawn inside a photo or plot)."""
    out: list[LabelCandidate] = []
    big = []
    for i, (x0, y0, x1, y1) in enumerate(leaves):
        h, w = y1 - y0, x1 - x0
        if min_h <= h <= max_h and 0.15 * h <= w <= 1.6 * h:
            if follows_text(leaves[i], leaves):
                continue
            reg = gray[y0:y1, x0:x1]
            if reg.size and reg.max() - reg.min() >= 40:
                t = _otsu(reg)
                dark = reg <= t
                # the glyph is what the background around the leaf (the line of pixels outside it) is not; at
                # the figure's border, what the leaf's own edge is not
                H, W = gray.shape
                ring = np.concatenate([gray[y0 - 1, x0:x1] if y0 else [], gray[y1, x0:x1] if y1 < H else [],
                                       gray[y0:y1, x0 - 1] if x0 else [], gray[y0:y1, x1] if x1 < W else []])
                edge = np.concatenate([dark[0], dark[-1], dark[:, 0], dark[:, -1]])
                light_around = np.median(ring) > t if ring.size else edge.mean() <= 0.5
                mask = dark if light_around else ~dark
                inner = _inside_brackets(mask)
                if inner is None and (before := _before_full_stop(mask)) is not None:  # "a." as one leaf
                    ys, xs, mask = before
                    box = [x0 + xs.start, y0 + ys.start, x0 + xs.stop, y0 + ys.stop]
                    out.append(LabelCandidate(i, "leaf", "dark", box, 0.0, mask=mask))
                elif inner is not None:  # "(A)" as one leaf: the letter alone, Tesseract misreads the brackets
                    ys, xs, mask = inner
                    out.append(LabelCandidate(i, "bracketed", "dark", [x0 + xs.start, y0 + ys.start, x0 + xs.stop,
                                                                       y0 + ys.stop], 0.0, mask=mask))
                else:
                    place = "bracketed" if between_brackets([x0, y0, x1, y1], leaves) else "leaf"
                    out.append(LabelCandidate(i, place, "dark", [x0, y0, x1, y1], 0.0, mask=mask))
        elif h > max_h or w > max_h:
            big.append(list(leaves[i]))
    out += find_candidates(gray, big, per_place=3, min_h=min_h, max_h=max_h, sat=sat)
    return out


def follows_text(box: Sequence[int], leaves: Sequence[Sequence[int]], word_gap: float = WORD_GAP) -> bool:
    """The glyph `box` comes right after text on its line: a leaf of text height (at most half as high again),
    beside it for more than half its height, ends less than `word_gap` of its height left of it, and is no
    bracket. A panel letter starts its line (a title may follow it); such a glyph is a character of a word or a
    label ("Family-Wide": the d)."""
    h = box[3] - box[1]
    return any(o is not box and o[3] - o[1] <= 1.5 * h and min(box[3], o[3]) - max(box[1], o[1]) > 0.5 * h
               and 0 <= box[0] - o[2] < word_gap * h and not is_bracket(o[3] - o[1], o[2] - o[0], h) for o in leaves)


def is_bracket(h: int, w: int, glyph_h: int) -> bool:
    """A component h x w is a bracket beside a glyph `glyph_h` high: thin (under 0.45 of its height) and taller than
    the glyph by a tenth (brackets reach above and below a letter; a "1" or an "l" beside it does not)."""
    return w <= 0.45 * h and h >= 1.1 * glyph_h


def _components_by_x(mask: np.ndarray, edge: str) -> tuple[np.ndarray, list[tuple[tuple[slice, slice], int]]]:
    """(label image, [(slices, label)] of the mask's connected components, left to right by their `edge`: "start"
    (left edge) or "stop" (right edge))."""
    lab, _ = ndimage.label(mask)
    objs = [(sl, k) for k, sl in enumerate(ndimage.find_objects(lab), start=1) if sl is not None]
    return lab, sorted(objs, key=lambda t: getattr(t[0][1], edge))


def _tight(lab: np.ndarray, parts: list[tuple[tuple[slice, slice], int]]) -> tuple[slice, slice, np.ndarray]:
    """(rows, columns, pixels) of the components `parts` of a label image, cropped tight around them."""
    x0, x1 = min(sl[1].start for sl, _ in parts), max(sl[1].stop for sl, _ in parts)
    y0, y1 = min(sl[0].start for sl, _ in parts), max(sl[0].stop for sl, _ in parts)
    return slice(y0, y1), slice(x0, x1), np.isin(lab[y0:y1, x0:x1], [k for _, k in parts])


def _before_full_stop(mask: np.ndarray, dot: float = 0.35) -> tuple[slice, slice, np.ndarray] | None:
    """(rows, columns, pixels) of the glyph before a full stop in a glyph mask drawn as "a." (its last component,
    left to right, is a dot: at most `dot` of the mask's height high and wide, on its baseline, right of the rest),
    tight; None otherwise. Tesseract reads a letter with its full stop at no confidence."""
    lab, objs = _components_by_x(mask, "stop")
    if len(objs) < 2:
        return None
    (last, _), rest = objs[-1], objs[:-1]
    h = mask.shape[0]
    x1 = max(sl[1].stop for sl, _ in rest)
    if last[0].stop - last[0].start > dot * h or last[1].stop - last[1].start > dot * h or last[0].stop < 0.8 * h \
            or last[1].start < x1:
        return None
    return _tight(lab, rest)


def _inside_brackets(mask: np.ndarray) -> tuple[slice, slice, np.ndarray] | None:
    """(rows, columns, pixels) of the letter between the brackets of a glyph mask drawn as "(A)" (its first and
    last components, left to right, are brackets: is_bracket), tight; None otherwise."""
    lab, objs = _components_by_x(mask, "start")
    if len(objs) < 3:
        return None
    (first, _), (last, _), inner = objs[0], objs[-1], objs[1:-1]
    ys, xs, keep = _tight(lab, inner)
    if not all(is_bracket(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start, ys.stop - ys.start)
               for sl in (first, last)) or first[1].stop > xs.start or last[1].start < xs.stop:
        return None
    return ys, xs, keep


def between_brackets(box: Sequence[int], leaves: Sequence[Sequence[int]], gap: float = 0.5) -> bool:
    """The glyph `box` stands between two bracket leaves (is_bracket) within `gap` of its height on its left and its
    right: a letter drawn "(A)" whose brackets the layout cut apart."""
    h = box[3] - box[1]

    def side(right: bool) -> bool:
        return any(is_bracket(b[3] - b[1], b[2] - b[0], h) and min(b[3], box[3]) - max(b[1], box[1]) >= 0.5 * h
                   and 0 <= (b[0] - box[2] if right else box[0] - b[2]) <= gap * h for b in leaves)
    return side(False) and side(True)


def _alone_on_line(mask: np.ndarray, ys: slice, xs: slice, word_gap: float = WORD_GAP, bracket: float = 0.45
                   ) -> bool:
    """The glyph at (ys, xs) of a text mask has no other character within `word_gap` of its height beside it on
    its line (it is no character of a title or a word), brackets ("(C)": text narrower than `bracket` of its
    height, next to the glyph) aside."""
    h = ys.stop - ys.start
    reach = int(round(word_gap * h))
    for lo, hi in ((max(0, xs.start - reach), xs.start), (xs.stop, min(mask.shape[1], xs.stop + reach))):
        cols = np.flatnonzero(mask[ys, lo:hi].any(axis=0))
        if cols.size and cols[-1] - cols[0] + 1 > bracket * h:
            return False
    return True


def line_candidates(gray: np.ndarray, glyphs: Sequence[Sequence[int]], sat: np.ndarray | None = None,
                    min_h: int = 7, shortest: float = 0.75) -> list[LabelCandidate]:
    """Glyph-like components in the row and the column of each letter glyph read (`glyphs`), of its height
    (`shortest` of it to a third more), lined up with it and apart from it (_in_line): panel letters drawn inside
    a large image or plot, where no corner of a layout leaf reaches them. A band one letter high (wide) with a
    margin, across the figure."""
    H, W = gray.shape
    out: list[LabelCandidate] = []
    seen: set[tuple] = set()
    for g in glyphs:
        h = g[3] - g[1]
        m = max(2, h // 2)
        for across, (x0, y0, x1, y1) in ((0, [0, max(0, g[1] - m), W, min(H, g[3] + m)]),
                                          (1, [max(0, g[0] - m), 0, min(W, g[2] + m), H])):
            for polarity, mask in _views(gray[y0:y1, x0:x1], None if sat is None else sat[y0:y1, x0:x1]):
                for ys, xs, comp in _glyph_components(mask, max(min_h, int(shortest * h)), int(1.34 * h), most=4000):
                    cut = (ys.start, ys.stop) if across == 0 else (xs.start, xs.stop)
                    if cut[0] == 0 or cut[1] == mask.shape[across]:  # cut by the band's edge: a larger shape
                        continue
                    box = [x0 + xs.start, y0 + ys.start, x0 + xs.stop, y0 + ys.stop]
                    if tuple(box) not in seen and _in_line(g, box) and _alone_on_line(mask, ys, xs):
                        seen.add(tuple(box))
                        out.append(LabelCandidate(-1, "line", polarity, box, 0.0, mask=comp))
    return out


def _follows(a: Sequence[int], b: Sequence[int]) -> bool:
    """Glyph b comes after glyph a in reading order: to its right on the same line, or below it."""
    h = max(a[3] - a[1], b[3] - b[1])
    return (abs(b[1] - a[1]) <= h and b[0] > a[2]) or b[1] > a[1] + 0.5 * h


def find_anchors(image: Image.Image, leaves: Sequence[Sequence[int]], label_set: Sequence[str] | None = None,
                 options: LetterOptions | None = None, height: int = 32,
                 reads_out: dict[str, tuple[str, float]] | None = None) -> dict[str, list[int]]:
    """The panel letters drawn in a figure: letter (lower case; those of `label_set`, the caption's labels,
    when given) -> glyph box. Candidate glyphs are read by Tesseract (one process per call); where a letter is
    read on several glyphs, the labels are chosen jointly: the most confident reads whose letters follow one
    another in reading order (A left of B on its line or above it), each break of that order costing
    `disorder` (column-major layouts pay it once per column), each letter in line with the one before it
    (_in_line: a row or a column of panels) gaining `lined_up` (these thresholds: `options`, LetterOptions, the
    config's by default). Where two or more letters are read between
    brackets ("(A)"), the figure draws its letters so: only the bracketed reads are chosen from (a capital of a
    map title or a word reads more confidently than some bracketed letters). Where caption letters are not read,
    glyphs alone on the rows and columns of the letters read are read too (line_candidates, at `line_heights`; up
    to `rounds` times: letters inside a large image or plot that no leaf corner reaches), down to `lower_h` of
    the letters' height where most are lower case (x-height letters beside ascenders). Of four or more letters,
    one in line with no other is dropped (a misread; the layout step places the letters not read). `reads_out`,
    when given, receives each chosen letter's read: letter -> (text as read, in its case; Tesseract's
    confidence)."""
    opt = options or LetterOptions()
    gray, sat = np.asarray(image.convert("L")), saturation(image)
    wanted = {_key(x) for x in label_set} if label_set else None
    by_letter: dict[str, dict[tuple, float]] = {}
    upper: set[tuple] = set()
    in_brackets: set[tuple] = set()

    def pool() -> dict[str, dict[tuple, float]]:  # the reads to choose from
        if sum(any(b in in_brackets for b in v) for v in by_letter.values()) >= 2:
            return {k: {b: c for b, c in v.items() if b in in_brackets} for k, v in by_letter.items()}
        return by_letter

    def choose() -> dict[str, list[int]]:
        scored = pool()
        chosen = _choose_in_order(scored, opt.disorder, opt.lined_up)
        if len(chosen) < 3:
            return chosen
        # a figure's letters share one size and one case: glyphs of another height or case than most chosen ones
        # lose (Tesseract reads either case of the letters drawn alike: c, o, s, v, w, x, z)
        med = float(np.median([b[3] - b[1] for b in chosen.values()]))
        n_upper = sum(tuple(b) in upper for b in chosen.values())
        case = None if 2 * n_upper == len(chosen) else 2 * n_upper > len(chosen)
        return _choose_in_order({k: {b: c - min(1.0, abs((b[3] - b[1]) / med - 1)) for b, c in v.items()
                                     if case is None or (b in upper) == case or k in CASELESS}
                                 for k, v in scored.items()},
                                opt.disorder, opt.lined_up)

    def read(cands: list[LabelCandidate], heights: Sequence[int]) -> dict[str, list[int]]:  # chosen with these too
        reads = read_glyphs([glyph_image(gray, c, h) for h in heights for c in cands])
        for i, c in enumerate(cands):  # the most confident of its reads at each height
            text, conf = max(reads[i::len(cands)], key=lambda r: (bool(_one_letter(r[0])), r[1]))
            t = _one_letter(text)
            k = _key(t)
            if not k or conf < opt.min_conf or (wanted is not None and k not in wanted):
                continue
            seen = by_letter.setdefault(k, {})
            seen[tuple(c.box)] = max(conf, seen.get(tuple(c.box), 0.0))
            if t.isupper():
                upper.add(tuple(c.box))
            if c.place == "bracketed":
                in_brackets.add(tuple(c.box))
        return choose()

    chosen = read(anchor_candidates(gray, leaves, sat=sat), [height])
    searched: set[tuple] = set()
    for _ in range(opt.rounds):
        # letters not read (or dropped by the size and case check): look along the rows and columns of the letters
        # read in line with another one (a lone read may be a misread; where none is, of all), each glyph read at
        # `line_heights` (Tesseract misses some glyphs at one scale and reads them at another)
        lined = [b for b in chosen.values() if _in_line_with_any(b, chosen.values())]
        seeds = [b for b in lined or chosen.values() if tuple(b) not in searched]
        if wanted is None or not seeds or set(chosen) >= wanted:
            break
        searched |= {tuple(b) for b in seeds}
        known = {b for v in by_letter.values() for b in v}
        # lower-case letters: "c" is an x-height short of "b" or "d"
        shortest = 0.75 if 2 * sum(tuple(b) in upper for b in chosen.values()) >= len(chosen) else opt.lower_h
        chosen = read([c for c in line_candidates(gray, seeds, sat, shortest=shortest) if tuple(c.box) not in known],
                      opt.line_heights)
    chosen = _more_in_line(chosen, pool(), upper)
    if len(chosen) >= 4:  # panel letters sit in rows and columns: a letter in line with no other is a misread
        chosen = {k: b for k, b in chosen.items() if _in_line_with_any(b, chosen.values())}
    if reads_out is not None:
        reads_out.update({k: (k.upper() if tuple(b) in upper else k, by_letter[k][tuple(b)])
                          for k, b in chosen.items()})
    return chosen


def _more_in_line(chosen: dict[str, list[int]], by_letter: dict[str, dict[tuple, float]], upper: set[tuple],
                  close: float = 0.1) -> dict[str, list[int]]:
    """The letters chosen, each replaced by another glyph read as it, of its case, size (within a quarter) and
    confidence (within `close`), that is in line (_in_line) with more of the other letters and keeps its place in reading order
    (follows the letter before, is followed by the one after): of two near-equal reads, the one in the figure's
    rows and columns."""
    out = dict(chosen)
    keys = sorted(out)
    for i, k in enumerate(keys):
        others = [out[j] for j in keys if j != k]
        cur = tuple(out[k])
        n_cur = sum(_in_line(cur, o) for o in others)
        for b, c in by_letter[k].items():
            if b == cur or c < by_letter[k][cur] - close or (b in upper) != (cur in upper) \
                    or abs((b[3] - b[1]) / max(1, cur[3] - cur[1]) - 1) > 0.25:
                continue
            before, after = (out[keys[i - 1]] if i else None), (out[keys[i + 1]] if i + 1 < len(keys) else None)
            n_b = sum(_in_line(b, o) for o in others)
            if (before is None or _follows(before, b)) and (after is None or _follows(b, after)) and n_b > n_cur:
                out[k], cur, n_cur = list(b), b, n_b
    return out


def _in_line_with_any(box: Sequence[int], boxes) -> bool:
    """`box` is in line (_in_line) with another of `boxes`."""
    return any(_in_line(box, o) for o in boxes if o is not box)


def _in_line(a: Sequence[int], b: Sequence[int], apart: float = 3.0) -> bool:
    """Glyphs a and b share their top edge (a row of panels) or their left edge (a column), within half a glyph,
    and stand apart (more than `apart` glyph heights: not two characters of one word or number)."""
    h = max(a[3] - a[1], b[3] - b[1])
    far = max(b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3]) > apart * h
    return far and (same_row(a, b, h) or same_column(a, b, h))


def _choose_in_order(by_letter: dict[str, dict[tuple, float]], disorder: float, lined_up: float
                     ) -> dict[str, list[int]]:
    """Dynamic programme over the letters in alphabetical order (state: the last chosen glyph): one glyph or
    none per letter, maximising the reads' scores less `disorder` per break of the reading order (a break is
    taken where the letters after it follow again) plus `lined_up` per letter in line with the one before."""
    states: dict[tuple | None, tuple[float, dict]] = {None: (0.0, {})}
    for k in sorted(by_letter):
        nxt: dict[tuple | None, tuple[float, dict]] = {}
        for last, (score, chosen) in states.items():
            for box, conf in by_letter[k].items():
                gain = conf - (disorder if last is not None and not _follows(last, box) else 0.0) \
                    + (lined_up if last is not None and _in_line(last, box) else 0.0)
                if score + gain > nxt.get(box, (-1e9, {}))[0]:
                    nxt[box] = (score + gain, {**chosen, k: list(box)})
            if score > nxt.get(last, (-1e9, {}))[0]:  # letter not drawn (or not read)
                nxt[last] = (score, chosen)
        states = nxt
    return max(states.values(), key=lambda v: v[0])[1] if states else {}
