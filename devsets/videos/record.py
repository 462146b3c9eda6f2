"""Build the real video dev set: screen recordings of a real Tk application under Xvfb, captured by ffmpeg's
x11grab with the real X cursor drawn (-draw_mouse 1), plus the public POCUS clips.

Every frame is captured on its own after the pointer was warped (XWarpPointer) and the application redrew,
so the cursor hotspot of every frame is exact: it is the X pointer position read back from the server.
Highlight discs and a laser-pointer dot are drawn afterwards at the hotspot, as screen recorders do.

Needs: Debian xvfb, dmz-cursor-theme; ffmpeg with x11grab. Run from the repository root:

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
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
W, H = 1280, 720
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

    def __init__(self, cursor: str, panel: bool = True, text_mode: str | None = None, bg: str = "#101010"):
        import tkinter as tk

        self.tk = tk
        self.root = tk.Tk()
        self.root.geometry(f"{W}x{H}+0+0")
        self.root.overrideredirect(True)
        self.root.configure(bg=bg, cursor=cursor)
        cw = W - 260 if panel else W
        self.canvas = tk.Canvas(self.root, width=cw, height=H, bg=bg, highlightthickness=0, cursor=cursor)
        self.canvas.place(x=0, y=0)
        self.text = None
        if text_mode:
            fg = "#d0d0d0" if text_mode == "dark" else "#111111"
            self.text = tk.Text(self.root, font=("DejaVu Sans Mono", 15), bg=bg, fg=fg, cursor=cursor,
                                highlightthickness=0, borderwidth=0)
            self.text.place(x=20, y=20, width=cw - 40, height=H - 40)
        self.counter = self.readout = None
        if panel:
            side = tk.Frame(self.root, bg="#2b2b2b", cursor=cursor)
            side.place(x=cw, y=0, width=260, height=H)
            self.counter = tk.Label(side, text="", fg="#e0e0e0", bg="#2b2b2b", font=("DejaVu Sans", 16))
            self.counter.pack(pady=12)
            for name in ("Window/Level", "Zoom", "Pan", "Measure", "Annotate", "Export"):
                tk.Button(side, text=name, font=("DejaVu Sans", 14), bg="#3c3c3c", fg="#e0e0e0",
                          activebackground="#5a7fc0", activeforeground="white", relief="flat",
                          cursor=cursor).pack(fill="x", padx=16, pady=6)
            self.readout = tk.Label(side, text="", fg="#a0e0a0", bg="#2b2b2b", font=("DejaVu Sans Mono", 12),
                                    justify="left")
            self.readout.pack(side="bottom", pady=16)
        self.photo = None
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
        c.create_text(50, 60, text=title, anchor="w", fill="#f5f5f5", font=("DejaVu Sans", 32, "bold"))
        c.create_line(50, 100, int(c["width"]) - 50, 100, fill="#4a90d9", width=3)
        for i, line in enumerate(lines):
            c.create_text(70, 150 + 55 * i, text="\u2022 " + line, anchor="w", fill="#e8e8e8", font=("DejaVu Sans", 22),
                          width=(int(c["width"]) - 140) // (2 if image is not None else 1))
        if image is not None:
            im = Image.fromarray(image)
            s = min(520 / im.width, 480 / im.height)
            self.photo = ImageTk.PhotoImage(im.resize((int(im.width * s), int(im.height * s)), Image.BILINEAR))
            c.create_image(int(c["width"]) - 320, 400, image=self.photo)

    def point(self, x: int, y: int) -> tuple[int, int]:
        """Warp the pointer, let the application react (hover, read-out), return the pointer as the server has it."""
        self.root.event_generate("<Motion>", warp=True, x=x - self.root.winfo_rootx(), y=y - self.root.winfo_rooty())
        self.root.update()
        px, py = self.root.winfo_pointerxy()
        if self.readout is not None:
            self.readout.configure(text=f"x {px:4d}  y {py:4d}\nvalue {(px * 7 + py * 3) % 1024:4d}")
        self.root.update()
        self.root.update_idletasks()
        return px, py


def grab(display: str, out: Path) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "1", "-video_size", f"{W}x{H}",
                    "-i", display, "-frames:v", "1", "-y", str(out)], check=True)


def path_points(rng: random.Random, n: int, region=(60, 60, W - 60, H - 60)) -> list[tuple[int, int]]:
    """A pointer path: glides between random targets (ease in/out) with rests, as a lecturer points."""
    x0, y0, x1, y1 = region
    pts, cur = [], (rng.randint(x0, x1), rng.randint(y0, y1))
    while len(pts) < n:
        target = (rng.randint(x0, x1), rng.randint(y0, y1))
        steps = rng.randint(6, 20)
        for k in range(1, steps + 1):
            a = 0.5 - 0.5 * math.cos(math.pi * k / steps)
            pts.append((int(round(cur[0] + (target[0] - cur[0]) * a)), int(round(cur[1] + (target[1] - cur[1]) * a))))
        cur = target
        pts += [cur] * rng.choice([0, 0, 3, 8, 15])
    return pts[:n]


def overlay(frame: Path, x: int, y: int, style: str) -> None:
    """The highlight a screen recorder draws at the hotspot."""
    im = Image.open(frame).convert("RGBA")
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    if style == "disc":
        d.ellipse([x - 20, y - 20, x + 20, y + 20], fill=(255, 230, 0, 110))
    elif style == "ring":
        d.ellipse([x - 22, y - 22, x + 22, y + 22], outline=(255, 60, 60, 220), width=4)
    elif style == "laser":
        d.ellipse([x - 9, y - 9, x + 9, y + 9], fill=(255, 0, 0, 90))
        d.ellipse([x - 5, y - 5, x + 5, y + 5], fill=(255, 30, 30, 255))
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


def source_text(module) -> str:
    return inspect.getsource(module)


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
    }


def record(name, spec, display, workdir: Path) -> dict:
    label, domain, cursor, style, kind, step, n = spec
    rng = random.Random(name)
    text_mode = {"text-dark": "dark", "text-light": "light"}.get(kind)
    bg = "#f4f4f4" if kind == "text-light" else "#101010"
    v = Viewer(cursor, panel=kind == "viewer", text_mode=text_mode, bg=bg)
    frames = workdir / name
    frames.mkdir(parents=True, exist_ok=True)
    truth = []
    try:
        for i, (x, y) in enumerate(path_points(rng, n)):
            step(v, i)
            px, py = v.point(x, y)
            png = frames / f"{i:05d}.png"
            grab(display, png)
            if style:
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
            {"video": f"clips/{name}.mp4", "width": W, "height": H, "fps": FPS, "cursor": cursor,
             "highlight": style, "hotspot": truth}) + "\n")
    return {"name": name, "label": label, "domain": domain, "origin": "recording", "cursor": cursor,
            "highlight": style or ""}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--display", default=":97")
    args = ap.parse_args()
    xvfb = subprocess.Popen(["Xvfb", args.display, "-screen", "0", f"{W}x{H}x24", "-nolisten", "tcp"])
    os.environ["DISPLAY"] = args.display
    os.environ.setdefault("XCURSOR_THEME", "DMZ-White")
    time.sleep(1.5)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, spec in recordings().items():
                if args.only and name not in args.only:
                    continue
                t = time.time()
                rows.append(record(name, spec, args.display, Path(tmp)))
                print(f"{name}: {time.time() - t:.1f} s", flush=True)
    finally:
        xvfb.terminate()
        xvfb.wait()
    for f in sorted(POCUS.glob("*")):
        dst = HERE / "clips" / f.name
        if not dst.exists():
            shutil.copyfile(f, dst)
        rows.append({"name": f.name.rsplit(".", 1)[0], "label": "medical", "domain": "ultrasound",
                     "origin": "public:covid19_pocus_ultrasound (CC BY, see README)", "cursor": "", "highlight": ""})
    write_labels(rows)


def write_labels(rows: list[dict]) -> None:
    """Merge `rows` into labels.tsv (by name) and refresh every clip's checksum."""
    path = HERE / "labels.tsv"
    fields = ["name", "file", "label", "domain", "origin", "narration", "cursor", "highlight", "sha256"]
    old = {}
    if path.exists():
        header, *lines = path.read_text().splitlines()
        for line in lines:
            old[line.split("\t")[0]] = dict(zip(header.split("\t"), line.split("\t")))
    for r in rows:
        f = next((HERE / "clips").glob(r["name"] + ".*"))
        old[r["name"]] = {"narration": "none", **r, "file": f"clips/{f.name}"}
    for r in old.values():
        r["sha256"] = sha256(HERE / r["file"])
    path.write_text("\t".join(fields) + "\n" + "".join(
        "\t".join(str(old[k].get(f, "")) for f in fields) + "\n" for k in sorted(old)))


if __name__ == "__main__":
    main()
