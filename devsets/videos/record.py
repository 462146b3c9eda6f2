"""Build the real video dev set: screen recordings of a real Tk application under Xvfb, captured by ffmpeg's
x11grab with the real X cursor drawn (-draw_mouse 1), plus the public POCUS clips.

Every frame is captured on its own after the pointer was warped (XWarpPointer) and the application redrew,
so the cursor hotspot of every frame is exact: it is the X pointer position read back from the server.
Highlight discs and a laser-pointer dot are drawn afterwards at the hotspot, as screen recorders do.

Round 2 (`cursor_r2_*`, recorded 2026-12-07 for an unseen measurement of the tracker, see README.md): other X
cursor themes and sizes (each such recording runs in its own process, as libXcursor reads XCURSOR_THEME and
XCURSOR_SIZE once per process), other highlight styles, faster and slower pointer paths, light backgrounds.

Needs: Debian xvfb, dmz-cursor-theme (round 2: xcursor-themes, breeze-cursor-theme, bibata-cursor-theme,
chameleon-cursor-theme; round 10: comixcursors-righthanded, oxygencursors, yaru-theme-icon, and for its `core`
theme no theme at all; round 11: crystalcursors, oxygencursors, xcursor-themes; round 12: adwaita-icon-theme,
comixcursors-righthanded, dmz-cursor-theme, and no theme for `core`); ffmpeg with x11grab. Run from the repository root:

    python devsets/videos/record.py [--only NAME ...]

Writes devsets/videos/clips/NAME.mp4, devsets/videos/cursor/NAME.json (hotspot per frame) and
devsets/videos/labels.tsv (label, domain, origin, narration, sha256 of every clip).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import inspect
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
W, H = 1280, 720  # the screen, unless a recording's opts name another ("screen": (w, h), round 11)
FPS = 10
POCUS = Path("/work/shared/realdata/video")
warnings.filterwarnings("ignore")


# ---------------------------------------------------------------------------------------------- real images


@functools.lru_cache(maxsize=None)
def _read(name: str):
    import pydicom
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file(name))
    return ds, ds.pixel_array


def dicom(name: str, frame: int | None = None, window: tuple[float, float] | None = None) -> np.ndarray:
    """A test DICOM of pydicom / pydicom-data as 8-bit RGB (window: (centre, width) in stored values, as CT
    viewers set it, else the 1st-99th percentile)."""
    from pydicom.pixels import apply_color_lut

    ds, arr = _read(name)
    if ds.get("PhotometricInterpretation") == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
        arr = (arr / max(1, arr.max()) * 255).astype(np.uint8)
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        arr = arr[frame or 0]
    if arr.ndim == 2:
        lo, hi = np.percentile(arr, [1, 99]) if window is None else (window[0] - window[1] / 2, window[0] + window[1] / 2)
        arr = np.clip((arr - lo) / max(1e-6, hi - lo) * 255, 0, 255).astype(np.uint8)
        if ds.get("PhotometricInterpretation") == "MONOCHROME1":
            arr = 255 - arr
        arr = np.stack([arr] * 3, -1)
    return np.ascontiguousarray(arr[..., :3].astype(np.uint8))


def skimage_image(name: str) -> np.ndarray:
    from skimage import io
    import skimage

    im = io.imread(Path(skimage.__file__).parent / "data" / name)
    if im.ndim == 2:
        im = np.stack([im] * 3, -1)
    return np.ascontiguousarray(im[..., :3].astype(np.uint8))


def plot_image(kind: str) -> np.ndarray:
    """A matplotlib chart of a real scikit-learn data set (a data-visualisation lecture)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn import datasets

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=100)
    if kind == "iris":
        d = datasets.load_iris()
        for k, name in enumerate(d.target_names):
            sel = d.target == k
            ax.scatter(d.data[sel, 0], d.data[sel, 2], label=name)
        ax.set_xlabel("sepal length (cm)"), ax.set_ylabel("petal length (cm)"), ax.legend(), ax.set_title("Iris")
    elif kind == "wine":
        d = datasets.load_wine()
        ax.boxplot([d.data[d.target == k, 0] for k in range(3)], tick_labels=list(d.target_names))
        ax.set_title("Wine: alcohol by cultivar")
    else:
        d = datasets.load_digits()
        ax.imshow(np.hstack([d.images[i] for i in range(10)]), cmap="gray_r"), ax.set_title("Handwritten digits")
    fig.tight_layout()
    fig.canvas.draw()
    im = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return im


# ---------------------------------------------------------------------------------------------- the application


class Viewer:
    """A viewer / slide / editor window filling the screen. `pages` are shown in turn on a canvas (left), a side
    panel holds buttons (hover highlight), a page counter and a live pointer read-out, as image viewers do."""

    def __init__(self, cursor: str, panel: bool = True, text_mode: str | None = None, bg: str = "#101010",
                 panel_cursor: str | None = None, light: bool = False, size: tuple[int, int] = (W, H)):
        import tkinter as tk

        w, h = size
        self.light = light  # dark text on a light slide
        self.tk = tk
        self.root = tk.Tk()
        self.root.geometry(f"{w}x{h}+0+0")
        self.root.overrideredirect(True)
        self.root.configure(bg=bg, cursor=cursor)
        cw = w - 260 if panel else w
        self.canvas = tk.Canvas(self.root, width=cw, height=h, bg=bg, highlightthickness=0, cursor=cursor)
        self.canvas.place(x=0, y=0)
        self.text = None
        if text_mode:
            fg = "#d0d0d0" if text_mode == "dark" else "#111111"
            self.text = tk.Text(self.root, font=("DejaVu Sans Mono", 15), bg=bg, fg=fg, cursor=cursor,
                                highlightthickness=0, borderwidth=0)
            self.text.place(x=20, y=20, width=cw - 40, height=h - 40)
        self.counter = self.readout = None
        if panel:
            side = tk.Frame(self.root, bg="#2b2b2b", cursor=cursor)
            side.place(x=cw, y=0, width=260, height=h)
            self.counter = tk.Label(side, text="", fg="#e0e0e0", bg="#2b2b2b", font=("DejaVu Sans", 16))
            self.counter.pack(pady=12)
            for name in ("Window/Level", "Zoom", "Pan", "Measure", "Annotate", "Export"):
                tk.Button(side, text=name, font=("DejaVu Sans", 14), bg="#3c3c3c", fg="#e0e0e0",
                          activebackground="#5a7fc0", activeforeground="white", relief="flat",
                          cursor=panel_cursor or cursor).pack(fill="x", padx=16, pady=6)
            self.readout = tk.Label(side, text="", fg="#a0e0a0", bg="#2b2b2b", font=("DejaVu Sans Mono", 12),
                                    justify="left")
            self.readout.pack(side="bottom", pady=16)
        self.photo = None
        self.on_pointer = None  # called with the pointer after each warp (a drawing that follows the pointer)
        self.root.update()

    def show(self, image: np.ndarray | None, page: int, pages: int, zoom: float = 1.0, caption: str = "",
             title: str = "") -> None:
        from PIL import ImageTk

        c = self.canvas
        c.delete("all")
        cw, ch = int(c["width"]), int(c["height"])
        top = 0
        if title:
            c.create_text(40, 40, text=title, anchor="w", fill="#f0f0f0", font=("DejaVu Sans", 30, "bold"))
            top = 80
        if image is not None:
            im = Image.fromarray(image)
            scale = min((cw - 40) / im.width, (ch - top - 60) / im.height) * zoom
            im = im.resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))), Image.BILINEAR)
            self.photo = ImageTk.PhotoImage(im)
            c.create_image(cw // 2, top + (ch - top) // 2, image=self.photo)
        if caption:
            c.create_text(40, ch - 30, text=caption, anchor="w", fill="#c8c8c8", font=("DejaVu Sans", 18))
        if self.counter is not None:
            self.counter.configure(text=f"Image {page + 1} / {pages}")

    def bullets(self, title: str, lines: list[str], image: np.ndarray | None = None) -> None:
        from PIL import ImageTk

        c = self.canvas
        c.delete("all")
        title_fg, text_fg = ("#1a1a1a", "#2a2a2a") if self.light else ("#f5f5f5", "#e8e8e8")
        c.create_text(50, 60, text=title, anchor="w", fill=title_fg, font=("DejaVu Sans", 32, "bold"))
        c.create_line(50, 100, int(c["width"]) - 50, 100, fill="#4a90d9", width=3)
        for i, line in enumerate(lines):
            c.create_text(70, 150 + 55 * i, text="\u2022 " + line, anchor="w", fill=text_fg, font=("DejaVu Sans", 22),
                          width=(int(c["width"]) - 140) // (2 if image is not None else 1))
        if image is not None:
            im = Image.fromarray(image)
            s = min(520 / im.width, 480 / im.height)
            self.photo = ImageTk.PhotoImage(im.resize((int(im.width * s), int(im.height * s)), Image.BILINEAR))
            c.create_image(int(c["width"]) - 320, 400, image=self.photo)

    def table(self, header: list[str], rows: list[list[str]], first: int) -> None:
        """A spreadsheet: a grid of cells with a header row and row numbers, rows from `first` on."""
        c = self.canvas
        c.delete("all")
        cw, ch = int(c["width"]), int(c["height"])
        row_h, num_w = 28, 50
        col_w = (cw - num_w - 20) // len(header)
        grid, head_bg = "#c8c8c8", "#e4e8ee"
        c.create_rectangle(10, 10, cw - 10, 10 + row_h, fill=head_bg, outline=grid)
        for j, name in enumerate(header):
            x = 10 + num_w + j * col_w
            c.create_text(x + col_w // 2, 10 + row_h // 2, text=name, fill="#202020", font=("DejaVu Sans", 11, "bold"))
        for i in range(1, (ch - 20) // row_h):
            y = 10 + i * row_h
            k = first + i - 1
            c.create_rectangle(10, y, 10 + num_w, y + row_h, fill=head_bg, outline=grid)
            c.create_text(10 + num_w // 2, y + row_h // 2, text=str(k + 1), fill="#404040", font=("DejaVu Sans", 10))
            for j in range(len(header)):
                x = 10 + num_w + j * col_w
                c.create_rectangle(x, y, x + col_w, y + row_h, outline=grid)
                if k < len(rows):
                    c.create_text(x + col_w - 8, y + row_h // 2, text=rows[k][j], anchor="e", fill="#111111",
                                  font=("DejaVu Sans Mono", 12))

    def point(self, x: int, y: int) -> tuple[int, int]:
        """Warp the pointer, let the application react (hover, read-out), return the pointer as the server has it."""
        self.root.event_generate("<Motion>", warp=True, x=x - self.root.winfo_rootx(), y=y - self.root.winfo_rooty())
        self.root.update()
        px, py = self.root.winfo_pointerxy()
        if self.on_pointer is not None:
            self.on_pointer(px, py)
        if self.readout is not None:
            self.readout.configure(text=f"x {px:4d}  y {py:4d}\nvalue {(px * 7 + py * 3) % 1024:4d}")
        self.root.update()
        self.root.update_idletasks()
        return px, py


def grab(display: str, out: Path, size: tuple[int, int] = (W, H)) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "1", "-video_size", f"{size[0]}x{size[1]}",
                    "-i", display, "-frames:v", "1", "-y", str(out)], check=True)


def path_points(rng: random.Random, n: int, region=(60, 60, W - 60, H - 60), steps=(6, 20),
                rests=(0, 0, 3, 8, 15)) -> list[tuple[int, int]]:
    """A pointer path: glides between random targets (ease in/out) in `steps` frames with rests of `rests` frames,
    as a lecturer points (few steps: fast flicks; many: slow glides)."""
    x0, y0, x1, y1 = region
    pts, cur = [], (rng.randint(x0, x1), rng.randint(y0, y1))
    while len(pts) < n:
        target = (rng.randint(x0, x1), rng.randint(y0, y1))
        m = rng.randint(*steps)
        for k in range(1, m + 1):
            a = 0.5 - 0.5 * math.cos(math.pi * k / m)
            pts.append((int(round(cur[0] + (target[0] - cur[0]) * a)), int(round(cur[1] + (target[1] - cur[1]) * a))))
        cur = target
        pts += [cur] * rng.choice(list(rests))
    return pts[:n]


def circle_points(rng: random.Random, n: int, centre: tuple[int, int], radius: int, turn: int,
                  rests=(0, 5, 10)) -> list[tuple[int, int]]:
    """A pointer circling a spot (a lesion) slowly: one turn in `turn` frames, a rest on the circle after each
    turn, the radius wobbling a little as a hand does."""
    pts, k = [], 0
    while len(pts) < n:
        r = radius * rng.uniform(0.85, 1.15)
        for _ in range(turn):
            a = 2 * math.pi * k / turn
            pts.append((int(round(centre[0] + r * math.cos(a))), int(round(centre[1] + r * math.sin(a)))))
            k += 1
        pts += [pts[-1]] * rng.choice(list(rests))
    return pts[:n]


# A screen recorder's highlight styles: ellipses drawn in order at the hotspot, each ("fill" | "outline", radius,
# RGBA[, outline width]).
HIGHLIGHTS = {
    "disc": [("fill", 20, (255, 230, 0, 110))],
    "ring": [("outline", 22, (255, 60, 60, 220), 4)],
    "laser": [("fill", 9, (255, 0, 0, 90)), ("fill", 5, (255, 30, 30, 255))],
    "green_disc": [("fill", 26, (40, 220, 60, 100))],
    "blue_ring": [("outline", 34, (40, 120, 255, 230), 5)],
    "green_laser": [("fill", 11, (0, 255, 60, 80)), ("fill", 6, (60, 255, 90, 255))],
    "magenta_disc": [("fill", 16, (230, 40, 200, 95))],
    "cyan_ring": [("outline", 28, (0, 200, 230, 220), 3)],
    "yellow_ring": [("outline", 17, (250, 220, 40, 200), 3)],
    "orange_disc": [("fill", 22, (255, 150, 20, 100))],
    "purple_ring": [("outline", 24, (170, 60, 255, 220), 4)],
    "lime_ring": [("outline", 20, (140, 255, 40, 210), 3)],
    "teal_disc": [("fill", 24, (0, 190, 170, 105))],
    "blue_disc": [("fill", 21, (50, 110, 255, 100))],
    "pink_disc": [("fill", 30, (255, 90, 170, 90))],
    "navy_ring": [("outline", 30, (20, 40, 150, 220), 4)],
    "orange_laser": [("fill", 12, (255, 140, 0, 85)), ("fill", 6, (255, 160, 30, 255))],
    "white_ring": [("outline", 26, (255, 255, 255, 210), 3)],
}


def overlay(frame: Path, x: int, y: int, style: str, click_age: int | None = None) -> None:
    """The highlight a screen recorder draws at the hotspot (HIGHLIGHTS; `ripple`: a ring growing for 5 frames after a
    click, `click_age` frames ago; nothing otherwise)."""
    im = Image.open(frame).convert("RGBA")
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    for kind, r, colour, *width in HIGHLIGHTS.get(style, ()):
        d.ellipse([x - r, y - r, x + r, y + r], **{kind: colour}, width=width[0] if width else 1)
    if style == "ripple" and click_age is not None and click_age < 5:
        r = 10 + 9 * click_age
        d.ellipse([x - r, y - r, x + r, y + r], outline=(255, 140, 0, 230 - 40 * click_age), width=3)
    Image.alpha_composite(im, layer).convert("RGB").save(frame)


def encode(frames: Path, out: Path) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-framerate", str(FPS), "-i", str(frames / "%05d.png"),
                    "-c:v", "libx264", "-preset", "medium", "-crf", "23", "-pix_fmt", "yuv420p", str(out)], check=True)


# ---------------------------------------------------------------------------------------------- the recordings


def pages_ct():
    """A two-slice CT stack (a perfusion CT, stored values = HU + 1024) in a narrow and a wide window (window
    changes, as in a CT lecture)."""
    return [dicom("eCT_Supplemental.dcm", k, w) for w in ((1074, 120), (1100, 300)) for k in (0, 1)]


def pages_us_cine():
    return [dicom("color3d_jpeg_baseline.dcm", k) for k in range(0, 120, 4)]


# name: (label, domain, cursor, overlay, kind, build(viewer, rng, n) -> per-frame callback)
def rec_viewer(pages, scroll_every, zoom=1.0, caption=""):
    def run(v, frame):
        k = (frame // scroll_every) % len(pages)
        if frame % scroll_every == 0:
            v.show(pages[k], k, len(pages), zoom=zoom, caption=caption)
    return run


def rec_slides(deck, every):
    def run(v, frame):
        if frame % every == 0:
            title, lines, image = deck[(frame // every) % len(deck)]
            v.bullets(title, lines, image)
    return run


def rec_text(text, every, lines_per_step=3):
    def run(v, frame):
        if frame == 0:
            v.text.insert("1.0", text)
        elif frame % every == 0:
            v.text.yview_scroll(lines_per_step, "units")
    return run


def rec_table(header, rows, every, rows_per_step):
    def run(v, frame):
        if frame % every == 0:
            v.table(header, rows, (frame // every) * rows_per_step)
    return run


def rec_video_slide(title, lines, video):
    """A slide with a video playing in it: one video frame per recorded frame."""
    def run(v, frame):
        v.bullets(title, lines, video[frame % len(video)])
    return run


def rec_ruler(pages, every, mm_per_px):
    """A viewer's ruler being dragged: a line from where the pointer last rested to the pointer, its length
    written beside the pointer, redrawn on every move (content changing under the moving pointer); a finished
    line stays while the pointer rests and the next drag starts from there."""
    state = {"anchor": None, "last": None, "resting": False, "items": []}

    def draw(v, px, py):
        c = v.canvas
        ox, oy = c.winfo_rootx(), c.winfo_rooty()
        if state["last"] == (px, py):
            state["resting"] = True
        elif state["resting"] or state["anchor"] is None:
            state["anchor"], state["resting"] = state["last"] or (px, py), False
        state["last"] = (px, py)
        for item in state["items"]:
            c.delete(item)
        (ax, ay), (bx, by) = [(x - ox, y - oy) for x, y in (state["anchor"], (px, py))]
        length = math.hypot(bx - ax, by - ay) * mm_per_px
        state["items"] = [c.create_line(ax, ay, bx, by, fill="#ffd21f", width=2),
                          c.create_oval(ax - 3, ay - 3, ax + 3, ay + 3, outline="#ffd21f", width=2),
                          c.create_text(bx + 14, by - 14, text=f"{length:.1f} mm", anchor="sw", fill="#ffd21f",
                                        font=("DejaVu Sans", 13, "bold"))]

    def run(v, frame):
        if frame == 0:
            v.on_pointer = lambda px, py: draw(v, px, py)
        if frame % every == 0:
            k = (frame // every) % len(pages)
            v.show(pages[k], k, len(pages), caption="MRI: measuring")
            state["items"] = []
    return run


def source_text(module) -> str:
    return inspect.getsource(module)


def pages_ct_head():
    """An axial head CT (stored values = HU + 1024) in a brain (40/80) and a bone (400/1800) window."""
    return [dicom("693_J2KI.dcm", window=w) for w in ((1064, 80), (1424, 1800))]


# Round 2 (unseen by the tracker's tuning): opts = X cursor theme and size (own process), pointer path (steps,
# rests), background, the side panel's buttons' cursor (a shape change on hover).
def round2():
    import textwrap as textwrap_mod

    r2 = {"round": 2}
    return {
        "cursor_r2_mri_bibata48": ("medical", "mri", "left_ptr", None, "viewer", rec_viewer(
            [dicom("emri_small.dcm", k) for k in range(10)], 4, 1.0, "Head MRI, axial stack"), 80,
            {**r2, "theme": "Bibata-Modern-Classic", "size": 48, "steps": (3, 8), "rests": (0, 0, 2, 5),
             "panel_cursor": "hand2"}),
        "cursor_r2_us_redglass_green_disc": ("medical", "ultrasound", "left_ptr", "green_disc", "viewer", rec_viewer(
            [dicom("color-pl.dcm"), dicom("color-px.dcm")], 25, 1.0, "Colour Doppler"), 80,
            {**r2, "theme": "redglass", "size": 32, "steps": (25, 45), "rests": (10, 20, 30)}),
        "cursor_r2_ct_dmzblack_ripple": ("medical", "ct", "left_ptr", "ripple", "viewer", rec_viewer(
            pages_ct_head(), 20, 1.0, "Head CT: brain and bone windows"), 80,
            {**r2, "theme": "DMZ-Black", "size": 32, "steps": (6, 14), "rests": (3, 5, 8)}),
        "cursor_r2_slides_whiteglass_blue_ring": ("non_medical", "", "left_ptr", "blue_ring", "slides", rec_slides([
            ("Texture analysis", ["Co-occurrence matrices", "Local binary patterns", "Gabor filters"],
             skimage_image("grass.png")),
            ("Motion blur", ["Point spread functions", "Wiener deconvolution"], skimage_image("clock_motion.png")),
            ("Camera calibration", ["Checkerboard targets", "Intrinsics and distortion"],
             skimage_image("chessboard_GRAY.png")),
        ], 25), 70, {**r2, "theme": "whiteglass", "bg": "#fafafa", "light": True}),
        "cursor_r2_photos_chameleon48": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [skimage_image(n) for n in ("astronaut.png", "motorcycle_right.png", "logo.png")], 8), 70,
            {**r2, "theme": "Chameleon-SkyBlue-Large", "size": 48, "steps": (2, 10), "rests": (0, 0, 6, 12),
             "panel_cursor": "hand2"}),
        "cursor_r2_mri_light_green_laser": ("medical", "mri", "none", "green_laser", "viewer", rec_viewer(
            [dicom("examples_overlay.dcm")], 1000, 1.1, "Abdominal MRI: liver lesion"), 70,
            {**r2, "steps": (3, 9), "bg": "#e6e6e6"}),
        "cursor_r2_text_breeze_ibeam": ("non_medical", "", "xterm", None, "text-light", rec_text(
            source_text(textwrap_mod), 4), 60, {**r2, "theme": "breeze_cursors", "size": 32, "steps": (8, 25)}),
    }


# Round 3: the three round-2 recordings that got no stable chunk (content changed every 0.4-0.8 s), again with
# content that changes every 4 s, to measure their cursor themes and sizes apart from the content rate.
def round3():
    import textwrap as textwrap_mod

    r2 = round2()
    r3 = {"round": 3}
    return {
        "cursor_r3_mri_bibata48_still": (*r2["cursor_r2_mri_bibata48"][:5], rec_viewer(
            [dicom("emri_small.dcm", k) for k in range(0, 10, 3)], 40, 1.0, "Head MRI, axial stack"), 60,
            {**r2["cursor_r2_mri_bibata48"][7], **r3}),
        "cursor_r3_photos_chameleon48_still": (*r2["cursor_r2_photos_chameleon48"][:5], rec_viewer(
            [skimage_image(n) for n in ("astronaut.png", "motorcycle_right.png", "logo.png")], 40), 60,
            {**r2["cursor_r2_photos_chameleon48"][7], **r3}),
        "cursor_r3_text_breeze_ibeam_still": (*r2["cursor_r2_text_breeze_ibeam"][:5], rec_text(
            source_text(textwrap_mod), 40, 12), 60, {**r2["cursor_r2_text_breeze_ibeam"][7], **r3}),
    }


# Round 4 (recorded 2026-12-07 before any tracker change of that session, scored once at its end): cursor themes and
# sizes not used before, arrow / hand / I-beam, new highlight colours and radii, lecture pacing (content steady for
# 2.5-6 s, the pointer resting for up to 2.5 s and moving), content not used before.
def round4():
    import fractions

    r4 = {"round": 4}
    ct = [dicom("CT_small.dcm", window=w) for w in ((1024 + 40, 400), (1024 + 60, 160))]
    return {
        "cursor_r4_ct_adwaita_magenta_disc": ("medical", "ct", "left_ptr", "magenta_disc", "viewer", rec_viewer(
            ct + [dicom("CT_small.dcm")], 30, 1.0, "CT: soft-tissue and narrow windows"), 60,
            {**r4, "theme": "Adwaita", "size": 24, "steps": (5, 14), "rests": (0, 4, 10, 25),
             "panel_cursor": "hand2"}),
        "cursor_r4_us_amber40_hand": ("medical", "ultrasound", "hand2", None, "viewer", rec_viewer(
            [dicom("US1_UNCR.dcm"), dicom("OBXXXX1A.dcm")], 40, 1.0, "Obstetric ultrasound"), 70,
            {**r4, "theme": "Bibata-Original-Amber", "size": 40, "steps": (4, 12), "rests": (0, 6, 15, 20)}),
        "cursor_r4_slides_breezesnow_ibeam_cyan_ring": ("non_medical", "", "xterm", "cyan_ring", "slides", rec_slides([
            ("Cell imaging", ["Phase contrast", "Segmenting nuclei", "Counting cells"], skimage_image("cell.png")),
            ("Colour spaces", ["RGB and HSV", "White balance", "Colour constancy"], skimage_image("coffee.png")),
        ], 50), 60, {**r4, "theme": "Breeze_Snow", "size": 32, "bg": "#fafafa", "light": True, "steps": (6, 16),
                     "rests": (0, 5, 12, 20)}),
        "cursor_r4_text_pearl_ibeam": ("non_medical", "", "xterm", None, "text-dark", rec_text(
            source_text(fractions), 25, 10), 60, {**r4, "theme": "Chameleon-Pearl-Regular", "size": 32,
                                                  "steps": (6, 18), "rests": (0, 5, 10, 20)}),
        "cursor_r4_mri_ice_yellow_ring": ("medical", "mri", "left_ptr", "yellow_ring", "viewer", rec_viewer(
            [dicom("MR_small.dcm"), skimage_image("phantom.png")], 60, 1.0, "MRI and the Shepp-Logan phantom"), 60,
            {**r4, "theme": "Bibata-Modern-Ice", "size": 32, "steps": (3, 10), "rests": (0, 3, 8, 20),
             "panel_cursor": "hand2"}),
    }


# Round 5 (recorded 2026-12-07 before any tracker change of that session, scored once at its end): coloured cursor
# themes not used before (Bibata-Modern-Amber, Chameleon Mint / Purple / DarkSkyBlue), one hand, one highlight,
# lecture pacing, content not used before.
def round5():
    r5 = {"round": 5}
    us = [dicom("examples_rgb_color.dcm"), dicom("examples_ybr_color.dcm", 5), dicom("examples_ybr_color.dcm", 20)]
    retina = skimage_image("microaneurysms.png")
    return {
        "cursor_r5_us_modernamber_hand": ("medical", "ultrasound", "hand2", None, "viewer", rec_viewer(
            us, 40, 1.0, "Echocardiography"), 60,
            {**r5, "theme": "Bibata-Modern-Amber", "size": 32, "steps": (4, 12), "rests": (0, 5, 12, 20)}),
        "cursor_r5_retina_mint_orange_disc": ("medical", "ophthalmology", "left_ptr", "orange_disc", "viewer",
            rec_viewer([retina, retina[:, ::-1]], 30, 1.0, "Fundus: microaneurysms"), 60,
            {**r5, "theme": "Chameleon-Mint-Regular", "size": 32, "steps": (5, 14), "rests": (0, 4, 10, 25),
             "panel_cursor": "hand2"}),
        "cursor_r5_photos_purple48": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [skimage_image(n) for n in ("chelsea.png", "rocket.jpg")], 35), 50,
            {**r5, "theme": "Chameleon-Purple-Large", "size": 48, "steps": (3, 10), "rests": (0, 3, 8, 20),
             "panel_cursor": "hand2"}),
        "cursor_r5_slides_darkskyblue": ("non_medical", "", "left_ptr", None, "slides", rec_slides([
            ("Stereo vision", ["Disparity", "Epipolar geometry", "Rectification"], skimage_image("motorcycle_left.png")),
            ("Calibration targets", ["Corner detection", "Colour checkers"], skimage_image("chessboard_RGB.png")),
        ], 25), 50, {**r5, "theme": "Chameleon-DarkSkyBlue-Regular", "size": 32, "bg": "#fafafa", "light": True,
                     "steps": (6, 16), "rests": (0, 5, 12, 20)}),
    }


# Round 6 (recorded 2026-12-07 before any tracker change of that session, scored once at its end): cursor themes
# and sizes not used before (Bibata-Original-Amber 24, Bibata-Modern-Classic 32 hand, Chameleon Anthracite / White
# Large), a purple ring, content not used in a cursor recording before.
def round6():
    r6 = {"round": 6}
    us = dicom("examples_jpeg2k.dcm")
    ihc = skimage_image("ihc.png")
    return {
        "cursor_r6_us_originalamber24_hand": ("medical", "ultrasound", "hand2", None, "viewer", rec_viewer(
            [us, us[:, ::-1]], 30, 1.0, "Colour Doppler"), 60,
            {**r6, "theme": "Bibata-Original-Amber", "size": 24, "steps": (4, 12), "rests": (0, 5, 12, 20)}),
        "cursor_r6_histo_modernclassic_hand_purple_ring": ("medical", "histopathology", "hand2", "purple_ring",
            "viewer", rec_viewer([ihc[:400, :500], ihc[300:, 400:]], 45, 1.0, "IHC: DAB and haematoxylin"), 60,
            {**r6, "theme": "Bibata-Modern-Classic", "size": 32, "steps": (5, 14), "rests": (0, 4, 10, 25)}),
        "cursor_r6_photos_anthracite48": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [skimage_image("astronaut.png"), skimage_image("astronaut.png")[:, ::-1]], 25), 50,
            {**r6, "theme": "Chameleon-Anthracite-Large", "size": 48, "steps": (3, 10), "rests": (0, 3, 8, 20),
             "panel_cursor": "hand2"}),
        "cursor_r6_slides_white48": ("non_medical", "", "left_ptr", None, "slides", rec_slides([
            ("Document images", ["Binarisation", "Layout analysis", "Skew"], skimage_image("page.png")),
            ("Texture", ["Gabor filters", "Local binary patterns"], skimage_image("brick.png")),
        ], 35), 50, {**r6, "theme": "Chameleon-White-Large", "size": 48, "bg": "#fafafa", "light": True,
                     "steps": (6, 16), "rests": (0, 5, 12, 20)}),
    }


# Round 7 (recorded 2026-12-07 before any tracker change of that session, scored once at its end): cursor themes
# and sizes not used before (Bibata-Modern-Amber 24 hand, Bibata-Original-Ice 48, Chameleon-SkyBlue-Regular,
# Bibata-Original-Classic 24), a lime ring, long rests after slide changes, content not used in a cursor recording.
def round7():
    r7 = {"round": 7}
    ct = [dicom("explicit_VR-UN.dcm", window=w) for w in ((40, 400), (300, 1500))]
    return {
        "cursor_r7_us_modernamber24_hand": ("medical", "ultrasound", "hand2", None, "viewer", rec_viewer(
            [dicom("examples_palette.dcm"), dicom("gdcm-US-ALOKA-16.dcm")], 40, 1.0, "Colour flow ultrasound"), 60,
            {**r7, "theme": "Bibata-Modern-Amber", "size": 24, "steps": (4, 12), "rests": (0, 5, 12, 20)}),
        "cursor_r7_photos_originalice48": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [skimage_image("motorcycle_right.png"), skimage_image("grass.png")], 30), 50,
            {**r7, "theme": "Bibata-Original-Ice", "size": 48, "steps": (3, 10), "rests": (0, 3, 8, 20),
             "panel_cursor": "hand2"}),
        "cursor_r7_slides_skyblue_rests": ("non_medical", "", "left_ptr", None, "slides", rec_slides([
            ("Motion blur", ["Point spread function", "Deconvolution"], skimage_image("clock_motion.png")),
            ("Reading text in images", ["Text detection", "OCR errors", "Line segmentation"],
             skimage_image("text.png")),
        ], 30), 60, {**r7, "theme": "Chameleon-SkyBlue-Regular", "size": 32, "bg": "#fafafa", "light": True,
                     "steps": (5, 12), "rests": (0, 15, 25)}),
        "cursor_r7_ct_originalclassic24_lime_ring": ("medical", "ct", "left_ptr", "lime_ring", "viewer", rec_viewer(
            ct, 50, 1.0, "CT: soft-tissue and bone windows"), 60,
            {**r7, "theme": "Bibata-Original-Classic", "size": 24, "steps": (5, 14), "rests": (0, 4, 10, 25),
             "panel_cursor": "hand2"}),
    }


# Round 8 (recorded 2026-12-07 before any tracker change of that session, scored once at its end): cursor themes
# and sizes not used before (Chameleon-Mint-Large hand, Chameleon-Purple-Regular 24, Adwaita 48, Chameleon-
# Anthracite-Regular 24, Bibata-Original-Classic 28), a teal disc, pointer rests after slide changes, content that
# changes every 1.2 s, content not used in a cursor recording before.
def round8():
    r8 = {"round": 8, "domain_scored": "no"}  # its images are training sources of the domain classifier
    echo = dicom("JPGLosslessP14SV1_1s_1f_8b.dcm")
    mr = dicom("MR2_J2KI.dcm")
    ct = [dicom("J2K_pixelrep_mismatch.dcm"), dicom("693_UNCR.dcm", window=(1024 - 600, 1500)),
          dicom("693_UNCR.dcm", window=(1024 + 40, 400))]
    return {
        "cursor_r8_us_mintlarge_hand": ("medical", "ultrasound", "hand2", None, "viewer", rec_viewer(
            [echo, echo[:, ::-1]], 35, 1.0, "Echocardiography: ascending aorta"), 60,
            {**r8, "theme": "Chameleon-Mint-Large", "size": 32, "steps": (4, 12), "rests": (0, 5, 12, 20)}),
        "cursor_r8_slides_purple24_rests": ("non_medical", "", "left_ptr", None, "slides", rec_slides([
            ("Counting objects", ["Thresholding", "Connected components", "Size filters"], skimage_image("coins.png")),
            ("Planetary images", ["Contrast stretching", "Craters as blobs"], skimage_image("moon.png")),
            ("Camera basics", ["Exposure", "Depth of field", "Noise"], skimage_image("camera.png")),
        ], 20), 60, {**r8, "theme": "Chameleon-Purple-Regular", "size": 24, "bg": "#fafafa", "light": True,
                     "steps": (5, 12), "rests": (0, 15, 25)}),
        "cursor_r8_photos_adwaita48": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [skimage_image(n) for n in ("hubble_deep_field.jpg", "horse.png", "gravel.png")], 25), 55,
            {**r8, "theme": "Adwaita", "size": 48, "steps": (3, 10), "rests": (0, 3, 8, 20),
             "panel_cursor": "hand2"}),
        "cursor_r8_mri_anthracite24_teal_disc": ("medical", "mri", "left_ptr", "teal_disc", "viewer", rec_viewer(
            [mr, mr[250:750, 250:750]], 30, 1.0, "Shoulder MRI: overview and zoom"), 55,
            {**r8, "theme": "Chameleon-Anthracite-Regular", "size": 24, "steps": (5, 14), "rests": (0, 4, 10, 20),
             "panel_cursor": "hand2"}),
        "cursor_r8_ct_originalclassic28_fast": ("medical", "ct", "left_ptr", None, "viewer", rec_viewer(
            ct, 12, 1.0, "Head CT: bone, lung and soft-tissue windows"), 55,
            {**r8, "theme": "Bibata-Original-Classic", "size": 28, "steps": (4, 12), "rests": (0, 4, 10, 15),
             "panel_cursor": "hand2"}),
    }

# Round 9 (unseen by the tracker's tuning): round 8's largest losses in new themes, sizes and content: a
# multi-colour hand, a light arrow over photographs, a highlight disc over dark images and the dark side panel,
# a light arrow on light slides.
def round9():
    r9 = {"round": 9, "domain_scored": "no"}  # RG1/US1 (twins), coffee, rocket, chelsea, cell: training sources
    return {
        "cursor_r9_xray_darkskyblue40_hand": ("medical", "xray", "hand2", None, "viewer", rec_viewer(
            [dicom("RG1_J2KI.dcm"), dicom("RG1_J2KI.dcm")[400:1400, 300:1500]], 25, 1.0, "Chest radiograph"), 55,
            {**r9, "theme": "Chameleon-DarkSkyBlue-Large", "size": 40, "steps": (4, 12), "rests": (0, 5, 12, 20)}),
        "cursor_r9_photos_modernice40": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [skimage_image(n) for n in ("chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png")], 15), 55,
            {**r9, "theme": "Bibata-Modern-Ice", "size": 40, "steps": (3, 10), "rests": (0, 3, 8, 20),
             "panel_cursor": "hand2"}),
        "cursor_r9_us_breeze24_blue_disc": ("medical", "ultrasound", "left_ptr", "blue_disc", "viewer", rec_viewer(
            [dicom("US1_J2KI.dcm"), dicom("US1_J2KI.dcm")[60:420, 100:580]], 20, 1.0, "Ultrasound: overview and zoom"),
            55,
            {**r9, "theme": "breeze_cursors", "size": 24, "steps": (5, 14), "rests": (0, 4, 10, 20),
             "panel_cursor": "hand2"}),
        "cursor_r9_slides_whiteregular32_light": ("non_medical", "", "left_ptr", None, "slides", rec_slides([
            ("Texture analysis", ["Co-occurrence matrices", "Local binary patterns"], skimage_image("brick.png")),
            ("Cell counting", ["Nuclei as blobs", "Watershed splits"], skimage_image("cell.png")),
            ("Cameras and motion", ["Motion blur", "Deconvolution"], skimage_image("clock_motion.png")),
        ], 18), 55, {**r9, "theme": "Chameleon-White-Regular", "size": 32, "bg": "#fbfbfb", "light": True,
                     "steps": (5, 12), "rests": (0, 6, 15)}),
    }

# Round 10 (unseen by the tracker's tuning): looks not used before: the core X cursor font (no theme: the server's
# 16 px hand) over a CT stack scrolled every 2 frames (its "Image k / N" counter changes with it) under a yellow
# disc, as in the CT viewer; ComixCursors-White 48 flicked fast over photographs; oxy-white 48 resting
# through whole slides; Yaru 32 under a large pink disc; an Adwaita 32 hand over nuclear-medicine scans.
def round10():
    r10 = {"round": 10, "domain_scored": "no"}  # explicit_VR-UN, J2K_pixelrep_mismatch, motorcycle: training sources
    ct_stack = [dicom("eCT_Supplemental.dcm", k, (1064, 400)) for k in (0, 1)] + [
        dicom(n) for n in ("explicit_VR-UN.dcm", "bad_sequence.dcm", "J2K_pixelrep_mismatch.dcm", "CT_small.dcm")] + [
        dicom("693_UNCI.dcm", window=w) for w in ((1064, 80), (1064, 400))]
    return {
        "cursor_r10_ct_stack_core_hand_disc": ("medical", "ct", "hand2", "disc", "viewer", rec_viewer(
            ct_stack, 2, 1.0, "CT: scrolling the stack"), 55,
            {**r10, "theme": "core", "size": 16, "steps": (4, 12), "rests": (0, 5, 12, 20)}),
        "cursor_r10_photos_comixwhite48_fast": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [skimage_image(n) for n in ("motorcycle_left.png", "grass.png", "color.png")], 15), 50,
            {**r10, "theme": "ComixCursors-White", "size": 48, "steps": (2, 6), "rests": (0, 2, 6, 15),
             "panel_cursor": "hand2"}),
        "cursor_r10_slides_oxywhite48_rests": ("non_medical", "", "left_ptr", None, "slides", rec_slides([
            ("Tomography basics", ["Projections", "Filtered back-projection"], skimage_image("phantom.png")),
            ("Calibration targets", ["Corner detection", "Lens distortion"], skimage_image("chessboard_GRAY.png")),
            ("Document scanning", ["Binarisation", "Deskewing"], skimage_image("page.png")),
        ], 15), 50, {**r10, "theme": "oxy-white", "size": 48, "bg": "#fafafa", "light": True,
                     "steps": (4, 10), "rests": (20, 30)}),
        "cursor_r10_mri_yaru32_pink_disc": ("medical", "mri", "left_ptr", "pink_disc", "viewer", rec_viewer(
            [dicom("examples_overlay.dcm"), dicom("emri_small.dcm", 3), dicom("emri_small.dcm", 7)], 20, 1.0,
            "MRI: overlay and small series"), 50,
            {**r10, "theme": "Yaru", "size": 32, "steps": (5, 14), "rests": (0, 4, 10, 20), "panel_cursor": "hand2"}),
        "cursor_r10_nm_adwaita32_hand": ("medical", "nuclear_medicine", "hand2", None, "viewer", rec_viewer(
            [dicom("JPEG2000.dcm"), dicom("JPEG-LL.dcm")[:, ::-1]], 25, 1.0, "Bone scintigraphy"), 50,
            {**r10, "theme": "Adwaita", "size": 32, "steps": (2, 8), "rests": (0, 0, 3, 25)}),
    }


# Round 11 (unseen by the tracker's tuning): looks not in rounds 1-10: crystalcursors (blue 32, green 24), a 72 px
# oxygen hot-orange hand, a whiteglass 48 I-beam over a spreadsheet under a navy ring, an orange laser dot circling a
# spot slowly; a CT whose window/level changes every 3 frames while the pointer rests; two other screen sizes
# (1920x1080, 1024x768: the truth stays in screen pixels, the json names the size).
def round11():
    from sklearn import datasets

    r11 = {"round": 11, "domain_scored": "no"}  # MR2_J2KR (twin of the catalogue's MR2_UNCR), RG3: training sources
    _, ct = _read("bad_sequence.dcm")
    lo, hi = np.percentile(ct, [1, 99])
    windows = [(lo + (hi - lo) * f, (hi - lo) * g) for f, g in
               ((0.5, 1.0), (0.45, 0.6), (0.55, 0.35), (0.5, 0.2), (0.4, 0.8), (0.6, 0.5))]
    wine = datasets.load_wine()
    header = [n.replace("_", " ")[:14] for n in wine.feature_names[:8]]
    rows = [[f"{v:.2f}" for v in r[:8]] for r in wine.data]
    return {
        "cursor_r11_ct_crystalblue32_wl_rests": ("medical", "ct", "left_ptr", None, "viewer", rec_viewer(
            [dicom("bad_sequence.dcm", window=w) for w in windows], 3, 1.0, "CT: adjusting window and level"), 60,
            {**r11, "theme": "crystalblue", "size": 32, "steps": (4, 10), "rests": (10, 20, 30),
             "panel_cursor": "hand2"}),
        "cursor_r11_xray_oxyorange72_hand_1080": ("medical", "xray", "hand2", None, "viewer", rec_viewer(
            [dicom("RG3_J2KI.dcm"), dicom("RG3_J2KI.dcm")[300:1300, 400:1400]], 25, 1.0, "Lower leg radiograph"), 55,
            {**r11, "theme": "oxy-hot_orange", "size": 72, "screen": (1920, 1080), "steps": (4, 12),
             "rests": (0, 5, 12, 20)}),
        "cursor_r11_sheet_whiteglass48_ibeam_navy_ring": ("non_medical", "", "xterm", "navy_ring", "table", rec_table(
            header, rows, 20, 12), 55,
            {**r11, "theme": "whiteglass", "size": 48, "bg": "#ffffff", "steps": (5, 14), "rests": (0, 5, 12, 20)}),
        "cursor_r11_mri_orange_laser_circles": ("medical", "mri", "none", "orange_laser", "viewer", rec_viewer(
            [dicom("MR2_J2KR.dcm")], 1000, 1.0, "Shoulder MRI: the lesion"), 55,
            {**r11, "circle": ((560, 300), 35, 16), "rests": (0, 5, 10)}),
        "cursor_r11_dataviz_crystalgreen24_768": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [plot_image(k) for k in ("iris", "wine", "digits")], 15), 55,
            {**r11, "theme": "crystalgreen", "size": 24, "screen": (1024, 768), "steps": (3, 10),
             "rests": (0, 3, 8, 20), "panel_cursor": "hand2"}),
    }


# Round 12 (unseen by the tracker's tuning): looks not in rounds 1-11: an Adwaita 64 px arrow on a 2560x1440
# screen; the core X cursor font's arrow (no theme) on a black CT viewer; a DMZ-Black 32 crosshair (hot spot at its
# centre; only DMZ-Black's arrow was used before) over an echo cine playing inside a slide on a 1366x768 screen; a
# ComixCursors-Orange arrow dragging a ruler whose line and length label are redrawn under it on every move; a
# ComixCursors-Slim-Blue 40 arrow under a white ring over a histology slide zoomed in steps.
def round12():
    r12 = {"round": 12}
    ihc = skimage_image("ihc.png")
    cy, cx = ihc.shape[0] // 2, ihc.shape[1] // 2
    zooms = [ihc[cy - int(cy * f):cy + int(cy * f), cx - int(cx * f):cx + int(cx * f)] for f in (1.0, 0.7, 0.5, 0.35)]
    mri = [dicom("emri_small.dcm", k) for k in (2, 6)]
    return {
        "cursor_r12_photos_adwaita64_1440": ("non_medical", "", "left_ptr", None, "viewer", rec_viewer(
            [skimage_image(n) for n in ("moon.png", "hubble_deep_field.jpg", "brick.png")], 15), 55,
            {**r12, "theme": "Adwaita", "size": 64, "screen": (2560, 1440), "steps": (4, 12),
             "rests": (0, 4, 10, 20), "panel_cursor": "hand2"}),
        "cursor_r12_ct_core_arrow_black": ("medical", "ct", "left_ptr", None, "viewer", rec_viewer(
            pages_ct(), 12, 1.0, "CT perfusion: two windows"), 55,
            {**r12, "theme": "core", "size": 16, "bg": "#000000", "steps": (4, 12), "rests": (0, 5, 12, 20)}),
        "cursor_r12_us_cine_slide_dmzblack_crosshair_1366": ("medical", "ultrasound", "crosshair", None, "slides",
            rec_video_slide("Echocardiography: the cine loop", ["Colour flow across the valve", "Timing in the cycle",
                                                                  "Where the jet starts"], pages_us_cine()), 55,
            {**r12, "theme": "DMZ-Black", "size": 32, "screen": (1366, 768), "region": (720, 170, 1330, 620),
             "steps": (5, 14), "rests": (0, 4, 10, 20)}),
        "cursor_r12_mri_ruler_drag_comixorange": ("medical", "mri", "left_ptr", None, "viewer", rec_ruler(
            mri, 30, 0.4), 55,
            {**r12, "theme": "ComixCursors-Orange", "size": 32, "region": (120, 120, 900, 600), "steps": (6, 14),
             "rests": (3, 6, 12)}),
        "cursor_r12_histo_zoom_slimblue40_white_ring": ("medical", "histopathology", "left_ptr", "white_ring",
            "viewer", rec_viewer(zooms, 14, 1.0, "IHC: zooming in"), 55,
            {**r12, "theme": "ComixCursors-Slim-Blue", "size": 40, "steps": (5, 14), "rests": (0, 4, 10, 20),
             "panel_cursor": "hand2", "domain_scored": "no"}),  # ihc.png: a catalogue (training) image
    }


def recordings():
    import json as json_mod
    import statistics
    import textwrap

    us = [dicom("gdcm-US-ALOKA-16.dcm"), dicom("examples_palette.dcm")]
    nm_photos = [skimage_image(n) for n in ("camera.png", "horse.png", "coins.png", "hubble_deep_field.jpg")]
    return {
        # cursor recordings (hotspot truth on every frame)
        "cursor_ct_arrow": ("medical", "ct", "left_ptr", None, "viewer", rec_viewer(pages_ct(), 30), 120),
        "cursor_us_hand_disc": ("medical", "ultrasound", "hand2", "disc", "viewer", rec_viewer(pages_us_cine(), 6), 240),
        "cursor_slides_ibeam": ("non_medical", "", "xterm", None, "slides", rec_slides([
            ("Course logistics", ["Weekly problem sets", "Midterm project", "Office hours on Thursday"], None),
            ("Convolutional networks", ["Local receptive fields", "Weight sharing", "Pooling layers"], nm_photos[0]),
        ], 60), 120),
        "cursor_ct_laser": ("medical", "ct", "none", "laser", "viewer", rec_viewer(pages_ct()[::-1], 40, 1.2), 120),
        "cursor_xray_ring": ("medical", "xray", "left_ptr", "ring", "viewer",
                             rec_viewer([dicom("RG3_UNCR.dcm")], 1000, 1.0, "Lower leg radiograph"), 100),
        # domain clips (no cursor truth)
        "us_viewer_aloka": ("medical", "ultrasound", "left_ptr", None, "viewer", rec_viewer(us, 15), 30),
        "ct_viewer_zoom": ("medical", "ct", "left_ptr", None, "viewer", rec_viewer(pages_ct()[:2], 15, 1.6), 30),
        "xray_viewer_chest": ("medical", "xray", "left_ptr", None, "viewer",
                              rec_viewer([dicom("RG1_UNCR.dcm")], 1000, 1.3, "PA chest"), 30),
        "mri_viewer_shoulder": ("medical", "mri", "left_ptr", None, "viewer",
                                rec_viewer([dicom("MR2_UNCR.dcm"), dicom("MR-SIEMENS-DICOM-WithOverlays.dcm")], 15, 1.4), 30),
        "retina_slides": ("medical", "ophthalmology", "left_ptr", None, "slides", rec_slides([
            ("Fundus examination", ["Optic disc margins", "Cup-to-disc ratio", "Vessel calibre"],
             skimage_image("retina.jpg"))], 1000), 30),
        "histo_slides": ("medical", "histopathology", "left_ptr", None, "slides", rec_slides([
            ("Colonic mucosa: IHC", ["Crypt architecture", "Brown DAB staining", "Haematoxylin counterstain"],
             skimage_image("ihc.png")[100:400, 100:500])], 1000), 30),
        "nm_slides_photos": ("non_medical", "", "left_ptr", None, "slides", rec_slides([
            ("Image processing basics", ["Histograms", "Thresholding", "Edges"], nm_photos[0]),
            ("Segmentation", ["Watershed", "Region growing"], nm_photos[2]),
            ("Astronomy images", ["Deep field", "Noise"], nm_photos[3]),
            ("Animals in vision data sets", ["Pose", "Occlusion"], nm_photos[1]),
        ], 8), 32),
        "nm_slides_text": ("non_medical", "", "left_ptr", None, "slides", rec_slides([
            ("Introduction to deep learning", ["What is a neural network", "Gradient descent", "Backpropagation",
                                               "Course schedule"], None),
            ("Geographic information systems", ["Coordinate reference systems", "Raster and vector data",
                                                "Spatial joins"], None),
            ("Operating systems: processes", ["fork and exec", "Scheduling", "Context switches"], None),
        ], 10), 30),
        "nm_code_editor": ("non_medical", "", "xterm", None, "text-dark", rec_text(source_text(json_mod.decoder), 3), 30),
        "nm_code_light": ("non_medical", "", "xterm", None, "text-light", rec_text(source_text(statistics), 3), 30),
        "nm_docs_reading": ("non_medical", "", "xterm", None, "text-light",
                            rec_text(textwrap.fill(statistics.__doc__ or "", 90) * 3, 4), 30),
        "nm_dataviz": ("non_medical", "", "left_ptr", None, "viewer",
                       rec_viewer([plot_image("iris"), plot_image("wine"), plot_image("digits")], 10), 30),
        "nm_photo_viewer": ("non_medical", "", "left_ptr", None, "viewer",
                            rec_viewer([skimage_image(n) for n in ("moon.png", "page.png", "text.png", "brick.png",
                                                                    "gravel.png", "color.png")], 5), 30),
        **round2(),
        **round3(),
        **round4(),
        **round5(),
        **round6(),
        **round7(),
        **round8(),
        **round9(),
        **round10(),
        **round11(),
        **round12(),
    }


def record(name, spec, display, workdir: Path) -> dict:
    label, domain, cursor, style, kind, step, n, *rest = spec
    opts = rest[0] if rest else {}
    rng = random.Random(name)
    text_mode = {"text-dark": "dark", "text-light": "light"}.get(kind)
    bg = opts.get("bg", "#f4f4f4" if kind == "text-light" else "#101010")
    w, h = opts.get("screen", (W, H))
    v = Viewer(cursor, panel=kind == "viewer", text_mode=text_mode, bg=bg, panel_cursor=opts.get("panel_cursor"),
               light=opts.get("light", False), size=(w, h))
    frames = workdir / name
    frames.mkdir(parents=True, exist_ok=True)
    truth = []
    if "circle" in opts:  # (centre, radius, frames per turn)
        path = circle_points(rng, n, *opts["circle"], rests=opts.get("rests", (0, 5, 10)))
    else:
        path = path_points(rng, n, region=opts.get("region", (60, 60, w - 60, h - 60)), steps=opts.get("steps", (6, 20)),
                           rests=opts.get("rests", (0, 0, 3, 8, 15)))
    click = None  # (frame, x, y) of the last click: the pointer arrived and rests
    try:
        for i, (x, y) in enumerate(path):
            step(v, i)
            px, py = v.point(x, y)
            png = frames / f"{i:05d}.png"
            grab(display, png, (w, h))
            if 0 < i < len(path) - 1 and path[i + 1] == (x, y) != path[i - 1]:
                click = (i, px, py)
            if style == "ripple":
                if click:
                    overlay(png, click[1], click[2], style, i - click[0])
            elif style:
                overlay(png, px, py, style)
            truth.append([px, py])
    finally:
        v.root.destroy()
    out = HERE / "clips" / f"{name}.mp4"
    out.parent.mkdir(exist_ok=True)
    encode(frames, out)
    shutil.rmtree(frames)
    if label and cursor != "" and name.startswith("cursor_"):
        (HERE / "cursor").mkdir(exist_ok=True)
        (HERE / "cursor" / f"{name}.json").write_text(json.dumps(
            {"video": f"clips/{name}.mp4", "width": w, "height": h, "fps": FPS, "cursor": cursor,
             "highlight": style, **({"round": opts["round"], "theme": opts.get("theme", "DMZ-White"),
                                     "size": opts.get("size", 24)} if "round" in opts else {}),
             "hotspot": truth}) + "\n")
    origin = "recording" if "round" not in opts else f"recording:round {opts['round']}, unseen by the tracker's tuning"
    return {"name": name, "label": label, "domain": domain, "origin": origin, "cursor": cursor,
            "highlight": style or "", "domain_scored": opts.get("domain_scored", "yes")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--display", default=":97")
    ap.add_argument("--child", action="store_true", help="record --only NAME on a running display, print its row")
    args = ap.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            (name,) = args.only
            print(json.dumps(record(name, recordings()[name], args.display, Path(tmp))))
        return
    servers = {(W, H): (args.display, start_xvfb(args.display, (W, H)))}  # a display per screen size
    os.environ["DISPLAY"] = args.display
    os.environ.setdefault("XCURSOR_THEME", "DMZ-White")
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, spec in recordings().items():
                if args.only and name not in args.only:
                    continue
                t = time.time()
                opts = spec[7] if len(spec) > 7 else {}
                screen = tuple(opts.get("screen", (W, H)))
                if screen not in servers:
                    display = f"{args.display}{len(servers)}"  # :97 -> :971, ...
                    servers[screen] = (display, start_xvfb(display, screen))
                display = servers[screen][0]
                if "theme" in opts or "size" in opts or screen != (W, H):  # libXcursor reads these once per process
                    env = {**os.environ, "DISPLAY": display, "XCURSOR_THEME": opts.get("theme", "DMZ-White"),
                           "XCURSOR_SIZE": str(opts.get("size", 24))}
                    if opts.get("theme") == "core":  # no cursor theme found: the X server's cursor font
                        env["XCURSOR_PATH"] = str(Path(tmp) / "no_cursor_themes")
                    out = subprocess.run([sys.executable, __file__, "--child", "--display", display, "--only",
                                          name], env=env, check=True, capture_output=True, text=True).stdout
                    rows.append(json.loads(out.strip().splitlines()[-1]))
                else:
                    rows.append(record(name, spec, args.display, Path(tmp)))
                print(f"{name}: {time.time() - t:.1f} s", flush=True)
    finally:
        for _, xvfb in servers.values():
            xvfb.terminate()
            xvfb.wait()
    for f in sorted(POCUS.glob("*")):
        dst = HERE / "clips" / f.name
        if not dst.exists():
            shutil.copyfile(f, dst)
        rows.append({"name": f.name.rsplit(".", 1)[0], "label": "medical", "domain": "ultrasound",
                     "origin": "public:covid19_pocus_ultrasound (CC BY, see README)", "cursor": "", "highlight": ""})
    write_labels(rows)


def start_xvfb(display: str, size: tuple[int, int]) -> subprocess.Popen:
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"])
    time.sleep(1.5)
    return xvfb


def write_labels(rows: list[dict]) -> None:
    """Merge `rows` into labels.tsv (by name) and refresh every clip's checksum."""
    path = HERE / "labels.tsv"
    fields = ["name", "file", "label", "domain", "origin", "narration", "cursor", "highlight", "domain_scored", "sha256"]
    old = {}
    if path.exists():
        header, *lines = path.read_text().splitlines()
        for line in lines:
            old[line.split("\t")[0]] = dict(zip(header.split("\t"), line.split("\t")))
    for r in rows:
        f = next((HERE / "clips").glob(r["name"] + ".*"))
        old[r["name"]] = {"narration": "none", "domain_scored": "yes", **r, "file": f"clips/{f.name}"}
    for r in old.values():
        r["sha256"] = sha256(HERE / r["file"])
    path.write_text("\t".join(fields) + "\n" + "".join(
        "\t".join(str(old[k].get(f, "")) for f in fields) + "\n" for k in sorted(old)))


if __name__ == "__main__":
    main()
