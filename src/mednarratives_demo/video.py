"""Deterministic narrated teaching videos with exact ground truth (the demo corpus's video half).

A video is a deck of lecture slides (title, medical images or an ultrasound cine, bullets, outro) with
hard cuts between them, narrated by espeak-ng (mednarratives.speech.espeak). A cursor rests, drifts and, while an
ROI sentence is spoken, scribbles around the region it names; each video draws one style of it (CURSOR_STYLES:
X arrow, hand, I-beam, or what screen recorders add: a highlight disc or ring around the arrow, a laser dot in
its place), and the truth is its hot spot. A stack segment is a scrolling viewer: a stack of slices pages
under the cursor before the picture stays still. Distractors the later stages must ignore:
a webcam face that moves and flickers every frame, a blinking REC icon, and blocky +-2 grey-level noise.

Frames are composed with numpy (each slide's noisy backgrounds precomputed once; per frame only the
webcam, icon and cursor are pasted onto a reused canvas, and their boxes restored after the write), converted
to YUV 4:2:0 as ffmpeg would (yuv420: each background once, then only the pasted boxes) and piped into one
ffmpeg process with bit-exact flags, so the same (spec, seed) gives byte-identical mp4 and truth files.
x264 is about 80 % of a video's CPU time (benchmarks/bench_demo_video.py).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import math
import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from PIL import Image, ImageDraw, ImageFont

from mednarratives import assets
from mednarratives.speech import espeak
from mednarratives.io import atomic_path, write_json
from mednarratives_demo import yuv420

REF_W, REF_H = 1280, 720  # layout is designed at this size and scaled to the requested one
THEMES = {  # background, heading, body text, accent
    "dark": ((16, 20, 28), (236, 238, 244), (196, 202, 214), (72, 142, 222)),
    "light": ((246, 246, 242), (24, 34, 56), (62, 66, 78), (30, 100, 180)),
}
KIND_EXPECTATION = {  # video kind -> (expected, expected_reason)
    "positive": ("keep", None), "no_speech": ("drop", "no_speech"),
    "non_medical": ("drop", "not_medical"), "too_short": ("drop", "too_short"),
}
FACE_CROP = (97, 0, 353, 192)  # the narrator's head in scikit-image's astronaut portrait (4:3)
ARROW = [(0, 0), (0, 16), (4, 12), (7, 19), (10, 18), (7, 11), (12, 11)]  # pointer outline, tip at (0, 0)
NOISE_TILES, NOISE_BLOCK, NOISE_AMP, NOISE_SHARE = 4, 8, 2, 0.15
CINE_STEP = 2            # video frames per cine frame (30-frame loop at 15 fps)
PICTURES = ("image", "cine", "stack")  # segment kinds that show a picture
STACK_START, STACK_STEP, STACK_PAGES = 0.4, 6, 12  # stack: scroll from 0.4 s, a page every 6 frames, 12 pages
LEAD, GAP, POINT_GAP, TAIL = 1.5, 1.2, 1.5, 1.5  # s: silence before, between, before ROI, after speech
HOLD = 1.2               # s the cursor stays still after a cut and after pointing
MIN_IMAGE_S = 12.0       # image segments last at least this long unless the spec says min_duration
ROI_RADIUS = (22.0, 36.0)  # base radius of the scribble (reference px); modulation keeps it in 20-60 px


# ---- plan ---------------------------------------------------------------------------------------

def load_plan(path: str | os.PathLike, narration: str | os.PathLike | None = None) -> list[dict]:
    """The video specs of a plan file, each with the narration (the plan's `narration:` file) attached."""
    path = Path(path)
    plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    narration_path = Path(narration) if narration else path.parent / plan["narration"]
    texts = yaml.safe_load(narration_path.read_text(encoding="utf-8"))
    specs = [dict(video, narration=texts) for video in plan["videos"]]
    ids = [s["id"] for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate video ids in {path}")
    for s in specs:
        if s["kind"] not in KIND_EXPECTATION:
            raise ValueError(f"{s['id']}: unknown kind {s['kind']!r}")
        if s.get("cursor", "arrow") not in CURSOR_STYLES:
            raise ValueError(f"{s['id']}: unknown cursor {s['cursor']!r} (one of {sorted(CURSOR_STYLES)})")
    return specs


def video_seed(seed: int, video_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{video_id}".encode()).digest()[:8], "little")


# ---- layout and drawing -------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    width: int
    height: int

    def px(self, v: float) -> int:
        return int(round(v * self.width / REF_W))

    def box(self, x0, y0, x1, y1) -> tuple[int, int, int, int]:
        return self.px(x0), int(round(y0 * self.height / REF_H)), self.px(x1), int(round(y1 * self.height / REF_H))

    @property
    def image_area(self):
        return self.box(40, 104, 940, 664)

    @property
    def webcam_size(self):
        return self.px(200), self.px(150)

    @property
    def webcam_origin(self):  # top-left at zero offset; the face moves by up to +-3 px around it
        w, h = self.webcam_size
        return self.width - self.px(20) - w - 3, self.height - self.px(20) - h - 3

    def cursor_region(self, style: "CursorStyle"):
        """Where a pointer's hot spot may go: its sprite stays inside the frame and left of the webcam column."""
        m, (left, up, right, down) = self.px(12), style.extent()
        return m + left, m + up, self.webcam_origin[0] - self.px(30) - right - 1, self.height - m - down - 1


def _font(size: float, bold: bool = False) -> ImageFont.FreeTypeFont:
    return assets.dejavu_font("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", max(8, int(round(size))))


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


@dataclass(frozen=True)
class CursorStyle:
    """A pointer as a screen recorder captures it: RGB, opacity (1 = opaque; a highlight is semi-transparent)
    and the hot spot (the pixel the pointer designates, the truth point) inside the sprite."""
    name: str
    rgb: np.ndarray     # (h, w, 3) uint8
    alpha: np.ndarray   # (h, w) float32 in [0, 1]
    hotspot: tuple[int, int]

    @property
    def opaque(self) -> bool:
        return bool(np.isin(self.alpha, (0.0, 1.0)).all())

    def extent(self) -> tuple[int, int, int, int]:
        """Pixels the sprite reaches left, up, right and down of the hot spot (the hot spot's own excluded)."""
        (h, w), (hx, hy) = self.alpha.shape, self.hotspot
        return hx, hy, w - 1 - hx, h - 1 - hy


def _pointer(outline: list, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A white pointer with a 1 px black outline (X cursor themes): RGB and opacity."""
    img = Image.new("L", size, 0)
    ImageDraw.Draw(img).polygon(outline, fill=255, outline=128)
    a = np.asarray(img)
    return np.repeat(np.where(a == 128, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2), (a > 0).astype(np.float32)


def _layers(size: int, hotspot: tuple[int, int], layers: list) -> tuple[np.ndarray, np.ndarray]:
    """Composite (rgb, alpha, (x0, y0)) layers, bottom first, onto a transparent size x size canvas ("over")."""
    rgb, alpha = np.zeros((size, size, 3), np.float32), np.zeros((size, size), np.float32)
    for top_rgb, top_a, (x0, y0) in layers:
        h, w = top_a.shape
        box = np.s_[y0:y0 + h, x0:x0 + w]
        a = top_a[:, :, None]
        out_a = top_a + alpha[box] * (1 - top_a)
        rgb[box] = np.where(out_a[:, :, None] > 0, (top_rgb * a + rgb[box] * alpha[box][:, :, None] * (1 - a))
                            / np.maximum(out_a, 1e-6)[:, :, None], 0)
        alpha[box] = out_a
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    crop = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return (np.round(rgb[crop]).astype(np.uint8), alpha[crop]), (int(hotspot[0] - cols[0]), int(hotspot[1] - rows[0]))


def _circle(size: int, radius: float, width: float | None = None) -> np.ndarray:
    """Anti-aliased coverage of a disc (or a ring of `width`) centred on the middle pixel of a size x size box."""
    c = (size - 1) / 2
    yy, xx = np.mgrid[:size, :size]
    d = np.hypot(xx - c, yy - c)
    cover = np.clip(radius + 0.5 - d, 0, 1)
    if width is not None:
        cover = np.minimum(cover, np.clip(d - (radius - width) + 0.5, 0, 1))
    return cover.astype(np.float32)


def _styles() -> dict[str, CursorStyle]:
    """The pointers real recordings show: X cursors (arrow, hand, I-beam) and what recorders draw around or
    instead of them (a semi-transparent highlight disc, a ring, a laser-pointer dot), at their usual pixel sizes."""
    arrow_rgb, arrow_a = _pointer(ARROW, SPRITE_SIZE)
    hand_rgb, hand_a = _pointer(HAND, (17, 22))
    ibeam_a = np.zeros((19, 9), np.float32)  # black bar and serifs in a 1 px white halo
    ibeam_rgb = np.full((19, 9, 3), 255, np.uint8)
    for box in (np.s_[0:3, 0:9], np.s_[0:19, 3:6], np.s_[16:19, 0:9]):
        ibeam_a[box] = 1.0
    for box in (np.s_[1:2, 1:8], np.s_[1:18, 4:5], np.s_[17:18, 1:8]):
        ibeam_rgb[box] = 0
    styles = {
        "arrow": CursorStyle("arrow", arrow_rgb, arrow_a, (0, 0)),
        "hand": CursorStyle("hand", hand_rgb, hand_a, HAND_HOTSPOT),
        "ibeam": CursorStyle("ibeam", ibeam_rgb, ibeam_a, (4, 9)),
    }
    size = 2 * max(HIGHLIGHT_RADIUS, RING_RADIUS) + 3 + 2 * max(SPRITE_SIZE)
    c = size // 2  # the hot spot: the centre of the circles, the arrow's tip

    def circle(colour, cover):  # a layer centred on the hot spot
        return np.broadcast_to(np.float32(colour), (*cover.shape, 3)), cover, (c - cover.shape[1] // 2, c - cover.shape[0] // 2)

    arrow = (arrow_rgb.astype(np.float32), arrow_a, (c, c))
    disc = circle(HIGHLIGHT_RGB, _circle(2 * HIGHLIGHT_RADIUS + 3, HIGHLIGHT_RADIUS) * HIGHLIGHT_ALPHA)
    ring = circle(RING_RGB, _circle(2 * RING_RADIUS + 3, RING_RADIUS, RING_WIDTH))
    glow = 2 * LASER_RADIUS + 7
    laser = circle(LASER_RGB, np.maximum(_circle(glow, LASER_RADIUS), 0.35 * _circle(glow, LASER_RADIUS + 2)))
    for name, layers in (("disc", [disc, arrow]), ("ring", [ring, arrow]), ("laser", [laser])):
        (rgb, alpha), hotspot = _layers(size, (c, c), layers)
        styles[name] = CursorStyle(name, rgb, alpha, hotspot)
    return styles


SPRITE_SIZE = (14, 22)
HAND = [(5, 0), (8, 0), (9, 1), (9, 7), (11, 7), (13, 8), (15, 9), (16, 11), (16, 16), (14, 21), (5, 21), (1, 14),
        (0, 11), (1, 10), (4, 12), (4, 1)]  # pointing hand, index finger up
HAND_HOTSPOT = (6, 0)  # the fingertip
HIGHLIGHT_RADIUS, HIGHLIGHT_RGB, HIGHLIGHT_ALPHA = 20, (255, 220, 0), 0.45  # a recorder's yellow disc
RING_RADIUS, RING_WIDTH, RING_RGB = 22, 3, (230, 30, 30)
LASER_RADIUS, LASER_RGB = 5, (255, 20, 20)  # the dot replaces the pointer; a faint glow around it
CURSOR_STYLES = _styles()


def _icon(layout: Layout) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]:
    """Blinking 'REC' badge in the top-right corner: box, mask, RGB."""
    x0, y0, x1, y1 = layout.box(1150, 18, 1256, 50)
    img = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    h = y1 - y0
    d.rounded_rectangle([0, 0, x1 - x0 - 1, h - 1], radius=h // 4, fill=(20, 20, 20, 255))
    r = h * 0.28
    d.ellipse([h / 2 - r, h / 2 - r, h / 2 + r, h / 2 + r], fill=(230, 30, 30, 255))
    d.text((h, h / 2), "REC", font=_font(h * 0.6, bold=True), fill=(245, 245, 245, 255), anchor="lm")
    a = np.asarray(img)
    return (x0, y0, x1, y1), a[:, :, 3] > 0, np.ascontiguousarray(a[:, :, :3])


def _webcam(layout: Layout) -> np.ndarray:
    w, h = layout.webcam_size
    face = Image.fromarray(np.asarray(assets.load_face())).crop(FACE_CROP).resize((w, h), Image.LANCZOS)
    d = ImageDraw.Draw(face)
    d.rectangle([0, 0, w - 1, h - 1], outline=(40, 40, 40), width=max(1, layout.px(2)))
    return np.asarray(face).astype(np.float32)


@dataclass(frozen=True)
class Fit:
    """A source image cropped by `zoom` around `center` (fractions) and scaled to fit an area, centred."""
    src_size: tuple[int, int]                  # w, h of the source
    crop: tuple[float, float, float, float]    # source pixels
    box: tuple[int, int, int, int]             # frame pixels [x0, y0, x1, y1)

    @classmethod
    def of(cls, src: np.ndarray, zoom: float, center, area) -> "Fit":
        h, w = src.shape[:2]
        cw, ch = w / zoom, h / zoom
        cx0 = min(max(center[0] * w - cw / 2, 0.0), w - cw)
        cy0 = min(max(center[1] * h - ch / 2, 0.0), h - ch)
        ax0, ay0, ax1, ay1 = area
        s = min((ax1 - ax0) / cw, (ay1 - ay0) / ch)
        dw, dh = int(round(cw * s)), int(round(ch * s))
        x0, y0 = ax0 + (ax1 - ax0 - dw) // 2, ay0 + (ay1 - ay0 - dh) // 2
        return cls((w, h), (cx0, cy0, cx0 + cw, cy0 + ch), (x0, y0, x0 + dw, y0 + dh))

    def to_frame(self, u: float, v: float) -> np.ndarray:
        (w, h), (cx0, cy0, cx1, cy1), (x0, y0, x1, y1) = self.src_size, self.crop, self.box
        return np.array([x0 + (u * w - cx0) * (x1 - x0) / (cx1 - cx0), y0 + (v * h - cy0) * (y1 - y0) / (cy1 - cy0)])

    def render(self, src: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        return np.asarray(Image.fromarray(src).resize((x1 - x0, y1 - y0), Image.LANCZOS, box=self.crop))


def _slide(layout: Layout, theme: str, seg: "Segment", spec: dict, n_segments: int) -> Image.Image:
    """The static slide of a segment (for images: everything except the picture itself)."""
    bg, head, body, accent = THEMES[theme]
    img = Image.new("RGB", (layout.width, layout.height), bg)
    d = ImageDraw.Draw(img)
    px, W = layout.px, layout.width
    if seg.kind == "title":
        d.text((W / 2, layout.box(0, 300, 0, 300)[1]), spec["title"], font=_font(px(50), True), fill=head, anchor="ms")
        d.line([layout.box(340, 330, 940, 330)[:2], layout.box(340, 330, 940, 330)[2:]], fill=accent, width=px(4))
        d.text((W / 2, layout.box(0, 390, 0, 390)[1]), spec["channel"], font=_font(px(30)), fill=body, anchor="ms")
        d.text((W / 2, layout.box(0, 440, 0, 440)[1]), spec.get("subtitle", "Teaching series"), font=_font(px(24)), fill=body, anchor="ms")
        return img
    if seg.kind == "outro":
        d.text((W / 2, layout.box(0, 320, 0, 320)[1]), "Thank you for watching", font=_font(px(48), True), fill=head, anchor="ms")
        d.text((W / 2, layout.box(0, 390, 0, 390)[1]), f"Subscribe to {spec['channel']} for more cases",
               font=_font(px(28)), fill=body, anchor="ms")
        return img
    d.text(layout.box(40, 26, 0, 0)[:2], seg.heading, font=_font(px(34), True), fill=head)
    d.line([layout.box(40, 82, 1120, 82)[:2], layout.box(40, 82, 1120, 82)[2:]], fill=accent, width=max(1, px(3)))
    d.text(layout.box(40, 690, 0, 0)[:2], f"{spec['channel']}  |  {seg.index + 1} / {n_segments}", font=_font(px(16)), fill=body)
    if seg.kind == "text":
        for i, line in enumerate(seg.bullets):
            y = layout.box(0, 150 + 80 * i, 0, 0)[1]
            d.ellipse([px(70), y + px(12), px(82), y + px(24)], fill=accent)
            d.text((px(100), y), line, font=_font(px(34)), fill=body)
        return img
    x, y = layout.box(970, 112, 0, 0)[:2]
    d.text((x, y), "Case notes", font=_font(px(24), True), fill=head)
    font = _font(px(20))
    lines = _wrap(assets.BY_NAME[seg.source].description.capitalize(), font, px(270))
    if seg.zoom != 1:
        lines.append(f"Magnified view x{seg.zoom:g}")
    for i, line in enumerate(lines):
        d.text((x, y + px(44 + 30 * i)), line, font=font, fill=body)
    return img


def _stack_pages(seg: "Segment", layout: Layout) -> list[np.ndarray]:
    """The pictures of a stack segment (its `stack` slices, then its source), each fitted like the source, with a
    viewer's "Im k / N" counter in the bottom-left corner."""
    names = seg.stack + [seg.source]
    pages = []
    for k, name in enumerate(names):
        fit = Fit.of(assets.load_image(name), seg.zoom, seg.center, layout.image_area)
        if fit.box != seg.fit.box:
            raise ValueError(f"stack slice {name} does not fill the box of {seg.source} (another aspect ratio)")
        page = Image.fromarray(fit.render(assets.load_image(name)))
        ImageDraw.Draw(page).text((layout.px(8), page.height - layout.px(8)), f"Im {k + 1} / {len(names)}",
                                  font=_font(layout.px(18)), fill=(235, 235, 235), anchor="ld")
        pages.append(np.asarray(page))
    return pages


# ---- script and timeline ------------------------------------------------------------------------

@dataclass
class Segment:
    index: int
    kind: str
    source: str | None = None
    zoom: float = 1.0
    center: tuple[float, float] = (0.5, 0.5)
    min_duration: float = 0.0
    heading: str = ""
    bullets: list[str] = field(default_factory=list)
    lines: list[tuple[str, bool]] = field(default_factory=list)  # (sentence, is_roi) in speaking order
    stack: list[str] = field(default_factory=list)  # stack segments: the slices paged before `source`
    fit: Fit | None = None           # where the picture goes (image, cine and stack segments)
    roi: np.ndarray | None = None    # ROI centre in frame pixels
    start_frame: int = 0
    end_frame: int = 0

    @property
    def image_box(self):
        return self.fit.box if self.fit else None

    def pages(self, fps: int) -> list[tuple[int, int]]:
        """Stack segments: (first frame, index into stack + [source]) of every page shown, the scroll ending on the
        source; other kinds: none."""
        if self.kind != "stack":
            return []
        last = len(self.stack)
        down = [abs(k % (2 * last) - last) if last else 0 for k in range(STACK_PAGES)]  # ping-pong from the source
        f0 = self.start_frame + int(round(STACK_START * fps))
        return [(f0 + k * STACK_STEP, i) for k, i in enumerate(reversed(down))]

    def still_frames(self, fps: int) -> tuple[int, int] | None:
        """[first, end) frames over which the picture stays still (None: a cine, whose picture always moves)."""
        if self.kind == "cine":
            return None
        pages = self.pages(fps)
        return (pages[-1][0] if pages else self.start_frame), self.end_frame


class _Picker:
    """Draws sentences from narration pools without repeating one within a video."""

    def __init__(self, rng: np.random.Generator):
        self.rng, self.used = rng, set()

    def __call__(self, pool: list, key=lambda x: x):
        fresh = [x for x in pool if key(x) not in self.used]
        if not fresh:
            raise ValueError(f"narration pool exhausted: {[key(x) for x in pool]}")
        choice = fresh[int(self.rng.integers(len(fresh)))]
        self.used.add(key(choice))
        return choice


def _script(spec: dict, layout: Layout, pick: _Picker) -> list[Segment]:
    """Segments with their sentences, picture placement and ROI position."""
    domains, images = spec["narration"]["domains"], spec["narration"]["images"]
    texts = domains[spec["domain"]]
    segments, visible = [], {}
    for i, s in enumerate(spec["segments"]):
        seg = Segment(i, s["kind"], s.get("source"), float(s.get("zoom", 1.0)), tuple(s.get("center", (0.5, 0.5))),
                      min_duration=float(s.get("min_duration", MIN_IMAGE_S if s["kind"] in PICTURES else 0.0)),
                      stack=list(s.get("stack", [])))
        if seg.kind == "title":
            seg.lines = [(pick(texts["intro"]), False)]
        elif seg.kind == "outro":
            seg.lines = [(pick(texts["outro"]), False)]
        elif seg.kind == "text":
            slide = pick(texts["slides"], key=lambda x: x["heading"])
            seg.heading, seg.bullets, seg.lines = slide["heading"], slide["bullets"], [(slide["say"], False)]
        elif seg.kind in PICTURES:
            seg.heading = s.get("heading") or spec["title"]
            seg.fit = Fit.of(assets.load_image(seg.source), seg.zoom, seg.center, layout.image_area)
            x0, y0, x1, y1 = seg.fit.box
            m = layout.px(40)  # an ROI needs room around it for the scribble
            visible[i] = [r for r in images[seg.source]["roi"]
                          if x0 + m <= seg.fit.to_frame(*r["at"])[0] <= x1 - m
                          and y0 + m <= seg.fit.to_frame(*r["at"])[1] <= y1 - m]
            describe = [(pick(images[seg.source]["describe"]), False) for _ in range(int(s.get("sentences", 3)) - 1)]
            seg.lines = describe[:1] + [("", True)] + describe[1:]  # the ROI sentence comes second (or alone)
        else:
            raise ValueError(f"{spec['id']}: unknown segment kind {seg.kind!r}")
        segments.append(seg)
    for i in sorted(visible, key=lambda i: (len(visible[i]), i)):  # scarcest ROI choice first
        roi = pick(visible[i], key=lambda r: r["text"])
        segments[i].roi = segments[i].fit.to_frame(*roi["at"])
        segments[i].lines = [(roi["text"], True) if is_roi else (t, False) for t, is_roi in segments[i].lines]
    return segments


def _schedule(segments: list[Segment], utterances: dict, fps: int) -> list[tuple[Segment, float, espeak.Utterance, bool]]:
    """Place every sentence (absolute start time on the audio clock) and set segment frame ranges."""
    placed, frame = [], 0
    for seg in segments:
        t = LEAD if seg.kind in PICTURES else 0.8
        start = frame / fps
        for k, (text, roi) in enumerate(seg.lines):
            if k:
                t += POINT_GAP if roi else GAP
            u = utterances[text]
            t0 = round((start + t) * espeak.SAMPLE_RATE) / espeak.SAMPLE_RATE
            placed.append((seg, t0, u, roi))
            t = t0 - start + u.duration
        length = max(t + TAIL, seg.min_duration)
        seg.start_frame, seg.end_frame = frame, frame + int(math.ceil(length * fps))
        frame = seg.end_frame
    return placed


# ---- cursor -------------------------------------------------------------------------------------

class _Path:
    """Cursor tip as a function of time: pieces (t0, t1, f); after a piece ends the tip holds still."""

    def __init__(self, start: tuple[float, float], region):
        self.pieces: list = []
        self.pos, self.t = np.asarray(start, float), 0.0
        self.region = region

    def clamp(self, p):
        x0, y0, x1, y1 = self.region
        return np.array([min(max(p[0], x0), x1), min(max(p[1], y0), y1)], float)

    def move(self, target, t0: float, t1: float, rng: np.random.Generator) -> None:
        """Smooth curved move (quadratic Bezier, ease in-out) from the current point to `target`."""
        a, b = self.pos, self.clamp(target)
        normal = np.array([a[1] - b[1], b[0] - a[0]])
        ctrl = self.clamp((a + b) / 2 + normal * rng.uniform(-0.2, 0.2))

        def f(t):
            s = np.clip((t - t0) / (t1 - t0), 0, 1)
            s = s * s * (3 - 2 * s)
            return ((1 - s) ** 2)[:, None] * a + (2 * s * (1 - s))[:, None] * ctrl + (s * s)[:, None] * b

        self._add(t0, t1, f)

    def scribble(self, center, t0: float, t1: float, radius: float, rng: np.random.Generator) -> None:
        """Loops around `center` from t0 to t1 (radius modulated +-30 %, slightly elliptic)."""
        period, phase = rng.uniform(1.0, 1.6), rng.uniform(0, 2 * np.pi)
        direction, aspect, wobble = rng.choice([-1.0, 1.0]), rng.uniform(0.8, 1.2), rng.uniform(0.7, 1.1)
        c = np.asarray(center, float)

        def f(t):
            tt = t - t0
            r = radius * (1 + 0.3 * np.sin(2 * np.pi * tt / wobble + phase))
            ang = phase + direction * 2 * np.pi * tt / period
            return c + np.stack([r * np.cos(ang), aspect * r * np.sin(ang)], axis=1)

        self._add(t0, t1, f)

    def _add(self, t0, t1, f) -> None:
        if t0 < self.t - 1e-9:
            raise ValueError("cursor pieces must be in time order")
        self.pieces.append((t0, t1, f))
        self.pos, self.t = f(np.array([t1]))[0], t1

    def sample(self, n_frames: int, fps: int, start) -> tuple[np.ndarray, np.ndarray]:
        t = np.arange(n_frames) / fps
        xy = np.tile(np.asarray(start, float), (n_frames, 1))
        for t0, t1, f in self.pieces:
            m = t >= t0
            xy[m] = f(np.minimum(t[m], t1))
        x0, y0, x1, y1 = self.region
        return (np.clip(np.round(xy[:, 0]), x0, x1).astype(int), np.clip(np.round(xy[:, 1]), y0, y1).astype(int))


def _random_point(rng, box, margin=0) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([rng.uniform(x0 + margin, x1 - margin), rng.uniform(y0 + margin, y1 - margin)])


def _plan_cursor(segments, placed, layout: Layout, fps: int, rng, style: CursorStyle) -> tuple[_Path, np.ndarray]:
    """Hot spot program: still after each cut, slow drifts, approach + scribble over each ROI sentence; before a
    stack segment it comes to rest over the stack's picture, which then pages under it."""
    region = layout.cursor_region(style)
    start = _random_point(rng, region, layout.px(60))
    path = _Path(start, region)
    speed = layout.px(300)  # px/s of unhurried moves
    for seg, nxt in zip(segments, segments[1:] + [None]):
        t_end = seg.end_frame / fps
        t_free = seg.start_frame / fps + HOLD
        box = seg.image_box or layout.box(80, 120, 900, 560)
        for t0, u, roi in [(t0, u, roi) for s, t0, u, roi in placed if s is seg]:
            if roi:
                radius = layout.px(rng.uniform(*ROI_RADIUS))
                center = np.clip(seg.roi, np.add(box[:2], 1.6 * radius), np.subtract(box[2:], 1.6 * radius))
                angle = rng.uniform(0, 2 * np.pi)
                approach = min(max(t_free, t0 - 0.8), t0 - 0.3)
                if seg.kind == "stack" and approach * fps < seg.still_frames(fps)[0]:
                    raise ValueError(f"segment {seg.index}: the stack still pages when the cursor must point")
                path.move(center + radius * np.array([np.cos(angle), np.sin(angle)]), approach, t0, rng)
                path.scribble(center, t0, t0 + u.duration, radius, rng)
                t_free = t0 + u.duration + HOLD
            elif t_free + 1.0 < t0 + u.duration:  # drift a little while describing the whole slide
                step = rng.uniform(0.3, 1.0) * layout.px(220) * np.array([np.cos(a := rng.uniform(0, 2 * np.pi)), np.sin(a)])
                target = np.clip(path.pos + step, np.add(box[:2], 10), np.subtract(box[2:], 10))
                dur = max(0.8, float(np.hypot(*(target - path.pos))) / speed)
                path.move(target, t_free, t_free + dur, rng)
                t_free += dur
        rest = nxt.image_box if nxt is not None and nxt.kind == "stack" else region
        target = _random_point(rng, rest, layout.px(40))  # come to rest before the next cut
        dur = max(1.0, float(np.hypot(*(target - path.pos))) / speed)
        if t_free + dur < t_end - 0.3:
            path.move(target, t_free, t_free + dur, rng)
    return path, start


# ---- audio and encoding -------------------------------------------------------------------------

def _audio(placed, n_samples: int, spoken: bool) -> np.ndarray:
    """The narration track (int16); without narration a soft mains hum at about -40 dBFS."""
    if not spoken:
        t = np.arange(n_samples) / espeak.SAMPLE_RATE
        hum = 0.008 * np.sin(2 * np.pi * 100 * t) + 0.004 * np.sin(2 * np.pi * 200 * t)
        return np.round(hum * 32767).astype(np.int16)
    track = np.zeros(n_samples, np.int16)
    for _, t0, u, _ in placed:
        s = int(round(t0 * espeak.SAMPLE_RATE))
        track[s:s + len(u.audio)] = u.audio
    return track


def _ffmpeg(out: Path, wav: Path, fps: int, size, pix_fmt: str) -> subprocess.Popen:
    w, h = size
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0",
           "-i", str(wav), "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-threads", "2",
           "-c:a", "aac", "-b:a", "96k", "-ar", "44100", "-ac", "1",
           "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1",
           "-movflags", "+faststart", "-f", "mp4", str(out)]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)


def _noise(rng, h: int, w: int) -> list[np.ndarray]:
    """Compression-like luma noise tiles: a random NOISE_SHARE of 8x8 blocks offset by +-NOISE_AMP grey levels
    (sparse, so that x264 stays fast)."""
    bh, bw = -(-h // NOISE_BLOCK), -(-w // NOISE_BLOCK)
    tiles = []
    for _ in range(NOISE_TILES):
        blocks = rng.integers(-NOISE_AMP, NOISE_AMP + 1, size=(bh, bw)).astype(np.int16)
        blocks *= rng.random((bh, bw)) < NOISE_SHARE
        tiles.append(np.kron(blocks, np.ones((NOISE_BLOCK, NOISE_BLOCK), np.int16))[:h, :w, None])
    return tiles


def _noisy(img: np.ndarray, tile: np.ndarray) -> np.ndarray:
    return np.clip(img.astype(np.int16) + tile, 0, 255).astype(np.uint8)


# ---- build --------------------------------------------------------------------------------------

def build_video(spec: dict, seed: int, out_mp4: str, out_truth: str, fps: int = 30, size: tuple = (1280, 720)) -> None:
    """Render one video of the plan and its ground truth; both files are written atomically."""
    rng = np.random.default_rng(video_seed(seed, spec["id"]))
    layout = Layout(int(size[0]), int(size[1]))
    segments = _script(spec, layout, _Picker(rng))
    narration = spec["narration"]
    texts = sorted({text for seg in segments for text, _ in seg.lines})
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # each synthesis is its own process
        utterances = dict(zip(texts, pool.map(lambda t: espeak.synthesize(t, narration["voice"], narration["rate"]), texts)))
    placed = _schedule(segments, utterances, fps)
    n_frames = segments[-1].end_frame
    n_samples = int(round(n_frames / fps * espeak.SAMPLE_RATE))

    # static pictures: slide backgrounds, fitted images, ROI positions in frame pixels
    slides, pictures = [], []
    for seg in segments:
        slide = _slide(layout, spec.get("theme", "dark"), seg, spec, len(segments))
        frames = None
        if seg.kind == "stack":
            frames = _stack_pages(seg, layout)
            slide.paste(Image.fromarray(frames[seg.pages(fps)[0][1]]), seg.image_box[:2])
        elif seg.fit:
            cine = assets.load_cine(seg.source) if seg.kind == "cine" else [assets.load_image(seg.source)]
            frames = [seg.fit.render(f) for f in cine]
            slide.paste(Image.fromarray(frames[0]), seg.image_box[:2])
        slides.append(np.asarray(slide))
        pictures.append(frames)

    style = CURSOR_STYLES[spec.get("cursor", "arrow")]
    path, start = _plan_cursor(segments, placed, layout, fps, rng, style)
    cx, cy = path.sample(n_frames, fps, start)
    noise = _noise(rng, layout.height, layout.width)
    spoken = spec["kind"] != "no_speech"
    audio = _audio(placed, n_samples, spoken)

    face = _webcam(layout)
    fh, fw = face.shape[:2]
    wx, wy = layout.webcam_origin
    frames_t = np.arange(n_frames) / fps
    phase = rng.uniform(0, 2 * np.pi, size=3)
    dx = np.round(3 * np.sin(2 * np.pi * frames_t / 2.3 + phase[0])).astype(int)
    dy = np.round(2 * np.sin(2 * np.pi * frames_t / 1.7 + phase[1])).astype(int)
    gain = 1 + 0.05 * np.sin(2 * np.pi * frames_t / 0.9 + phase[2])
    face_buf = np.empty(face.shape, np.result_type(face, gain))  # the flickering face, in float64 like face * gain[f]
    icon_box, icon_mask, icon_rgb = _icon(layout)
    icon_on = (np.arange(n_frames) // max(1, round(fps / 2))) % 2 == 0
    (sh, sw), (hx, hy) = style.alpha.shape, style.hotspot
    sprite_mask = style.alpha[:, :, None] > 0
    sprite_over = style.rgb * style.alpha[:, :, None]  # semi-transparent styles: out = frame * (1 - alpha) + over
    sprite_keep = 1 - style.alpha[:, :, None]
    sprite_opaque = style.opaque  # (an np.isin over the sprite: once, not per frame)

    yuv = yuv420.converter()  # None: RGB frames piped, ffmpeg converts them whole (the same bytes, more CPU)
    with tempfile.TemporaryDirectory() as tmp, atomic_path(out_mp4) as tmp_mp4, yuv or contextlib.nullcontext():
        wav = Path(tmp) / "narration.wav"
        with wave.open(str(wav), "wb") as fh_wav:
            fh_wav.setnchannels(1)
            fh_wav.setsampwidth(2)
            fh_wav.setframerate(espeak.SAMPLE_RATE)
            fh_wav.writeframes(audio.tobytes())
        proc = _ffmpeg(tmp_mp4, wav, fps, (layout.width, layout.height), "rgb24" if yuv is None else "yuv420p")
        n_pixels = layout.width * layout.height
        out = np.empty(n_pixels * 3 // 2, np.uint8)  # the frame written: Y, U, V planes
        out_planes = (out[:n_pixels].reshape(layout.height, layout.width),
                      *out[n_pixels:].reshape(2, layout.height // 2, layout.width // 2))
        try:
            ix0, iy0, ix1, iy1 = icon_box
            for seg, slide, pics in zip(segments, slides, pictures):
                bases = {}  # (noise tile, picture) -> the YUV planes of the frame before its moving parts are drawn
                backgrounds = [_noisy(slide, tile) for tile in noise]
                canvases = [b.copy() for b in backgrounds]  # drawn on, written, then the drawn boxes restored
                if seg.kind == "cine":  # each cine frame gets its own noise tile
                    x0, y0, x1, y1 = seg.image_box
                    pics = [_noisy(p, noise[c % NOISE_TILES][y0:y1, x0:x1]) for c, p in enumerate(pics)]
                if seg.kind == "stack":  # each page with each frame's noise tile, like the rest of the slide
                    x0, y0, x1, y1 = seg.image_box
                    pics = [[_noisy(p, tile[y0:y1, x0:x1]) for tile in noise] for p in pics]
                    page = np.empty(seg.end_frame - seg.start_frame, int)  # per frame of the segment
                    for k, (f0, i) in enumerate(seg.pages(fps)):
                        page[f0 - seg.start_frame if k else 0:] = i  # the first page shows from the cut
                for f in range(seg.start_frame, seg.end_frame):
                    frame, background = canvases[f % NOISE_TILES], backgrounds[f % NOISE_TILES]
                    picture = None
                    if seg.kind == "cine":  # the picture box is redrawn every frame: nothing to restore
                        picture = ((f - seg.start_frame) // CINE_STEP) % len(pics)
                        frame[y0:y1, x0:x1] = pics[picture]
                    elif seg.kind == "stack":
                        picture = page[f - seg.start_frame]
                        frame[y0:y1, x0:x1] = pics[picture][f % NOISE_TILES]
                    if yuv is not None and (f % NOISE_TILES, picture) not in bases:
                        bases[f % NOISE_TILES, picture] = yuv.convert(frame)
                    x, y = wx + dx[f], wy + dy[f]
                    drawn = [np.s_[y:y + fh, x:x + fw], np.s_[cy[f] - hy:cy[f] - hy + sh, cx[f] - hx:cx[f] - hx + sw]]
                    np.multiply(face, gain[f], out=face_buf)
                    np.clip(face_buf, 0, 255, out=face_buf)
                    frame[drawn[0]] = face_buf
                    if icon_on[f]:
                        drawn.append(np.s_[iy0:iy1, ix0:ix1])
                        np.copyto(frame[drawn[-1]], icon_rgb, where=icon_mask[:, :, None])
                    if sprite_opaque:
                        np.copyto(frame[drawn[1]], style.rgb, where=sprite_mask)
                    else:
                        frame[drawn[1]] = np.round(frame[drawn[1]] * sprite_keep + sprite_over)
                    if yuv is None:
                        proc.stdin.write(frame.data)
                    else:
                        for plane, base in zip(out_planes, bases[f % NOISE_TILES, picture]):
                            np.copyto(plane, base)
                        for box in drawn:
                            yuv.update(out_planes, frame, box)
                        proc.stdin.write(out.data)
                    for box in drawn:
                        frame[box] = background[box]
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early: its message is raised below
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait() != 0 or err:
            raise RuntimeError(f"ffmpeg failed: {err}")

    write_json(out_truth, _truth(spec, seed, segments, placed, spoken, style, cx, cy, fps, layout,
                                 [wx + dx.min(), wy + dy.min(), wx + dx.max() + fw, wy + dy.max() + fh], icon_box))


def _truth(spec, seed, segments, placed, spoken, style, cx, cy, fps, layout, webcam_box, icon_box) -> dict:
    r3 = lambda v: round(float(v), 3)  # noqa: E731
    expected, reason = KIND_EXPECTATION[spec["kind"]]
    sources_domain = lambda seg: assets.BY_NAME[seg.source].domain if seg.source else None  # noqa: E731
    seg_truth = [{
        "index": seg.index, "kind": seg.kind, "start": r3(seg.start_frame / fps), "end": r3(seg.end_frame / fps),
        "start_frame": seg.start_frame, "end_frame": seg.end_frame, "source": seg.source, "domain": sources_domain(seg),
        "medical": bool(seg.source) and sources_domain(seg) != "non_medical",
        "image_box": [int(v) for v in seg.image_box] if seg.image_box else None,
        "still_frames": list(seg.still_frames(fps)) if seg.still_frames(fps) else None,
        "pages": [[f, (seg.stack + [seg.source])[i]] for f, i in seg.pages(fps)],
    } for seg in segments]
    speech_truth, pointing = [], []
    for seg, t0, u, roi in (placed if spoken else []):
        speech_truth.append({
            "start": r3(t0), "end": r3(t0 + u.duration), "text": u.text, "roi": roi, "segment": seg.index,
            "words": [{"word": w.word, "start": r3(t0 + w.start), "end": r3(t0 + w.end)} for w in u.words],
        })
        if roi:
            start, end = speech_truth[-1]["start"], speech_truth[-1]["end"]
            f0, f1 = math.ceil(start * fps - 1e-6), math.floor(end * fps + 1e-6)
            pointing.append({
                "segment": seg.index, "start": start, "end": end, "utterance": len(speech_truth) - 1,
                "box": [int(cx[f0:f1 + 1].min()), int(cy[f0:f1 + 1].min()), int(cx[f0:f1 + 1].max()), int(cy[f0:f1 + 1].max())],
                "image_box": [int(v) for v in seg.image_box], "source": seg.source,
            })
    n_frames = segments[-1].end_frame
    return {
        "video_id": spec["id"], "kind": spec["kind"], "expected": expected, "expected_reason": reason,
        "domain": spec["domain"], "static_domain": spec["domain"] in assets.STATIC_DOMAINS,
        "title": spec["title"], "channel": spec["channel"], "query_domain": spec.get("query_domain", spec["domain"]),
        "fps": fps, "width": layout.width, "height": layout.height, "n_frames": n_frames, "duration": r3(n_frames / fps),
        "seed": seed, "segments": seg_truth,
        "scene_cuts": [s["start"] for s in seg_truth[1:]],
        "stable_intervals": [[r3(s["still_frames"][0] / fps), s["end"]] for s in seg_truth if s["still_frames"]],
        "speech": speech_truth, "cursor": {"style": style.name, "x": [int(v) for v in cx], "y": [int(v) for v in cy]},
        "pointing": pointing, "webcam_box": [int(v) for v in webcam_box], "icon_box": [int(v) for v in icon_box],
    }
