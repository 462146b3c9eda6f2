"""Render non-medical training screenshots of ordinary software for the domain classifier (issue #17).

Real Debian applications are started on a virtual X display (Xvfb, 1280 x 720, openbox), the whole screen is
captured (ImageMagick `import`), scaled to 320 x 180 and written as JPEG q80 with a README giving each file's
scene, programs and the licence of what it shows (captures are not byte-identical: fonts' hinting, timing).
Measured as extra `non_medical` sources on the video dev set (devsets/videos/README.md, h23c): not
adopted, so nothing in the package uses them yet.

    apt-get install xvfb openbox imagemagick xterm feh mousepad gnumeric abiword pcmanfm x11-apps x11-xserver-utils
    apt-get download mate-backgrounds plasma-workspace-wallpapers
    for f in *.deb; do dpkg-deb -x $f root; done
    python scripts/render_domain_screens.py root OUT

Photographs shown (licence-clear, none shown by the video dev set's clips; devsets/videos/README.md): Debian
mate-backgrounds' nature photographs (GPL-2+), plasma-workspace-wallpapers' photographs (LGPL-3,
each wallpaper's metadata.json), scikit-learn's china.jpg and flower.jpg (CC-BY-2.0), matplotlib's grace_hopper.jpg (public domain).
Text shown: Debian's own documentation and command output (man pages, licence texts, C headers, package lists);
not the Python sources, scikit-image photographs or Tk viewer of devsets/videos/record.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

SCREEN = (1280, 720)
OUT_SIZE = (320, 180)

MATE = "usr/share/backgrounds/mate/nature"
PLASMA = "usr/share/wallpapers"
# (label, path relative to the extracted Debian root or a Python package, licence)
_MATE_AUTHORS = {"Aqua": "Charles Barbin", "LadyBird": "Charles Barbin", "YellowFlower": "Charles Barbin",
                 "Garden": "Charles Barbin", "TwoWings": "Charles Barbin and Hylke Bons",
                 "Blinds": "Lennart Poettering and Andrea Cimitan", "Dune": "Marco Cogoni and Hylke Bons",
                 "FreshFlower": "Jens Ansorg", "GreenMeadow": "Timothy Schellhase and Lapo Calamandrei",
                 "RainDrops": "\"blackcombwhistler07\"", "Storm": "Sergey Nazarov", "Wood": "Jean-Francois Fortin Tam"}
# plasma wallpaper: (image file, author), licence LGPL-3 in each wallpaper's metadata.json
_PLASMA_AUTHORS = {"BytheWater": ("2560x1600.jpg", "Maciej Wiklo"), "ColdRipple": ("1280x800.jpg", "Risto Saukonpaa"),
                   "DarkestHour": ("1280x800.jpg", "Risto Saukonpaa"), "Kite": ("2560x1600.jpg", "Risto Saukonpaa"),
                   "OneStandsOut": ("1280x800.jpg", "Risto Saukonpaa"), "Path": ("1280x800.jpg", "Risto Saukonpaa"),
                   "summer_1am": ("1280x800.jpg", "Risto Saukonpaa"), "ColorfulCups": ("2560x1600.jpg", "Dmitri Popov"),
                   "EveningGlow": ("2560x1600.jpg", "Ian Hex"), "FallenLeaf": ("2560x1600.jpg", "Martin Klapetek"),
                   "Grey": ("1280x800.jpg", "Sigi Sagi")}
# (label, path relative to the extracted Debian root or "package:path" in a Python package, author and licence)
PHOTOS = {
    **{k.lower(): (f"{MATE}/{k}.jpg", f"mate-backgrounds 1.26.0-1, {a}, GPL-2+") for k, a in _MATE_AUTHORS.items()},
    **{k.lower(): (f"{PLASMA}/{k}/contents/images/{f}", f"plasma-workspace-wallpapers 4:5.27.5-2, {a}, LGPL-3")
       for k, (f, a) in _PLASMA_AUTHORS.items()},
    "china": ("sklearn:datasets/images/china.jpg", "scikit-learn, Flickr danielbuechele, CC-BY-2.0"),
    "flower": ("sklearn:datasets/images/flower.jpg", "scikit-learn, Flickr vultilion, CC-BY-2.0"),
    "hopper": ("matplotlib:mpl-data/sample_data/grace_hopper.jpg", "matplotlib, U.S. Navy, public domain"),
}
WALLPAPERS = ("bythewater", "eveningglow", "storm", "kite")  # desktop backgrounds


def photo_path(root: Path, label: str) -> Path:
    rel = PHOTOS[label][0]
    if ":" in rel:
        package, inner = rel.split(":", 1)
        return Path(__import__(package).__file__).parent / inner
    return root / rel


class Display:
    """Xvfb + openbox on a free display; `run` starts a program, `shot` captures the screen, `clear` ends programs."""

    def __init__(self, number: int = 77):
        self.env = {**os.environ, "DISPLAY": f":{number}", "NO_AT_BRIDGE": "1"}
        self.env.pop("GTK_THEME", None)
        self.home = Path(tempfile.mkdtemp(prefix="screens_home_"))
        self.env["HOME"] = str(self.home)
        self.xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten",
                                      "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        self.wm = subprocess.Popen(["openbox"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs: list[subprocess.Popen] = []
        time.sleep(1.0)

    def run(self, cmd: list[str], dark: bool = False, wait: float = 0.0) -> None:
        env = dict(self.env, GTK_THEME="Adwaita:dark") if dark else self.env
        self.procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(wait)

    def background(self, colour: str | None = None, wallpaper: Path | None = None) -> None:
        if wallpaper:
            subprocess.run(["feh", "--no-fehbg", "--bg-fill", str(wallpaper)], env=self.env, check=True)
        else:
            subprocess.run(["xsetroot", "-solid", colour or "#202020"], env=self.env, check=True)

    def shot(self, out: Path) -> None:
        with tempfile.NamedTemporaryFile(suffix=".png") as tmp:
            subprocess.run(["import", "-window", "root", tmp.name], env=self.env, check=True)
            im = Image.open(tmp.name).convert("RGB").resize(OUT_SIZE, Image.LANCZOS)
        im.save(out, "JPEG", quality=80, optimize=True)

    def clear(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []
        time.sleep(0.3)

    def close(self) -> None:
        self.clear()
        self.wm.terminate()
        self.xvfb.terminate()
        shutil.rmtree(self.home, ignore_errors=True)


def xterm(dark: bool, geometry: str, shell: str, font_size: int = 11) -> list[str]:
    colours = ["-bg", "#1e1e1e", "-fg", "#d0d0d0"] if dark else ["-bg", "white", "-fg", "black"]
    return ["xterm", *colours, "-fa", "DejaVu Sans Mono", "-fs", str(font_size), "-geometry", geometry,
            "-hold", "-e", "sh", "-c", shell]


def scenes(root: Path, work: Path) -> list[tuple[str, str, str, list]]:
    """(file stem, what it shows, licence note, steps); a step is ("bg", colour|None, wallpaper label|None),
    ("run", cmd, dark, wait)."""
    p = {k: str(photo_path(root, k)) for k in PHOTOS}
    lic = {k: v[1] for k, v in PHOTOS.items()}
    gallery = work / "gallery"
    gallery.mkdir(exist_ok=True)
    for k in PHOTOS:
        dst = gallery / f"{k}.jpg"
        if not dst.exists():
            Image.open(p[k]).convert("RGB").resize((480, 300)).save(dst, quality=85)
    table = work / "packages.csv"
    rows = subprocess.run(["dpkg-query", "-W", "-f", "${Package},${Version},${Installed-Size},${Section}\n"],
                          capture_output=True, text=True, check=True).stdout.splitlines()[:200]
    table.write_text("package,version,installed_kb,section\n" + "\n".join(rows) + "\n")
    gpl = "/usr/share/common-licenses/GPL-3"
    out = []
    # photographs in a dark image viewer (feh), the look of the dev set's photo-viewer recordings
    # every photograph in a dark image viewer (feh), the look of the dev set's photo-viewer recordings: the photograph
    # at 300-620 px on a dark canvas, the window full screen or leaving a dark strip at the right (a viewer's panel)
    shades = ("black", "#181818", "#202020", "#2b2b2b", "#333333")
    geometries = ("1280x720+0+0", "1000x720+0+0", "1100x680+0+40")
    for i, k in enumerate(PHOTOS):
        bg = shades[i % len(shades)]
        shown = work / "viewer" / f"{k}.jpg"
        shown.parent.mkdir(exist_ok=True)
        im = Image.open(p[k]).convert("RGB")
        im.thumbnail((300 + 80 * (i % 5),) * 2, Image.LANCZOS)
        im.save(shown, quality=90)
        cmd = ["feh", "--geometry", geometries[i % len(geometries)], "--image-bg", bg,
               *(["--draw-filename"] if i % 2 else []), str(shown)]
        out.append((f"viewer_dark_{k}", f"feh (dark background {bg}) showing the photograph '{k}' at "
                    f"{max(im.size)} px", lic[k], [("bg", "#2b2b2b", None), ("run", cmd, False, 1.5)]))
    out.append(("viewer_dark_thumbnails", "feh's thumbnail browser (dark) over the licence-clear photographs",
                "the photographs' own licences (README table)",
                [("bg", "#101010", None), ("run", ["feh", "-t", "--image-bg", "#202020", "--thumb-width", "180",
                                                   "--thumb-height", "120", "--geometry", "1280x720+0+0", str(gallery)],
                                           False, 2.0)]))
    # desktops: a wallpaper and terminals with Debian command output
    commands = [("ls -l --color=always /usr/share/doc | head -60", "ls"),
                ("dpkg -l | head -60", "dpkg"),
                ("man -P cat ls 2>/dev/null | head -80", "manls"),
                ("df -h; free -m; uname -a; ps aux | head -30", "system"),
                ("sed -n 1,120p /usr/include/stdio.h", "stdio"),
                (f"head -80 {gpl}", "gpl")]
    for i, (shell, tag) in enumerate(commands):
        dark = i % 2 == 0
        wall = WALLPAPERS[i % len(WALLPAPERS)]
        out.append((f"desktop_xterm_{tag}", f"openbox desktop, wallpaper '{wall}', xterm ({'dark' if dark else 'light'})"
                    f" running `{shell}`", f"{lic[wall]}; text: Debian documentation / command output",
                    [("bg", None, wall), ("run", xterm(dark, "110x34+60+40", shell), False, 1.5)]))
    # full-screen terminals
    for shell, tag, dark in [("man -P cat tar 2>/dev/null", "mantar", True), ("sed -n 1,200p /usr/include/string.h", "string", False),
                             ("man -P cat grep 2>/dev/null", "mangrep", False), ("sed -n 200,400p /usr/include/stdlib.h", "stdlib", True)]:
        out.append((f"terminal_{tag}", f"xterm full screen ({'dark' if dark else 'light'}): `{shell}`",
                    "text: Debian documentation / C library headers (LGPL-2.1+)",
                    [("bg", "#000000", None), ("run", xterm(dark, "180x50+0+0", shell, 10), False, 1.5)]))
    # GTK applications, light and dark themes
    for dark in (False, True):
        t = "dark" if dark else "light"
        out.append((f"editor_{t}_stdio", f"mousepad ({t}) editing /usr/include/stdio.h", "text: GNU C library header, LGPL-2.1+",
                    [("bg", None, "kite"), ("run", ["mousepad", "/usr/include/stdio.h"], dark, 3.0)]))
        out.append((f"editor_{t}_bashrc", f"mousepad ({t}) editing /etc/bash.bashrc", "text: Debian bash package, GPL-3+",
                    [("bg", "#3a3a3a", None), ("run", ["mousepad", "/etc/bash.bashrc"], dark, 3.0)]))
        out.append((f"spreadsheet_{t}", f"gnumeric ({t}) with a table of installed Debian packages",
                    "data: dpkg-query output (facts)", [("bg", "#3a3a3a", None), ("run", ["gnumeric", str(table)], dark, 6.0)]))
        out.append((f"wordprocessor_{t}", f"abiword ({t}) with the GPL-3 text", "text: GPL-3 (verbatim copying allowed)",
                    [("bg", "#3a3a3a", None), ("run", ["abiword", gpl], dark, 5.0)]))
        out.append((f"filemanager_{t}_photos", f"pcmanfm ({t}) icon view of a folder of the licence-clear photographs",
                    "the photographs' own licences (README table)",
                    [("bg", "#3a3a3a", None), ("run", ["pcmanfm", "--no-desktop", str(gallery)], dark, 5.0)]))
        out.append((f"filemanager_{t}_doc", f"pcmanfm ({t}) on /usr/share/doc", "Debian file names",
                    [("bg", None, "eveningglow"), ("run", ["pcmanfm", "--no-desktop", "/usr/share/doc"], dark, 4.0)]))
    out.append(("desktop_x11apps", "xcalc, xclock, xlogo and xeyes on a wallpaper ('storm')", lic["storm"] + "; X.Org MIT",
                [("bg", None, "storm"), ("run", ["xcalc", "-geometry", "260x360+80+80"], False, 0.5),
                 ("run", ["xclock", "-geometry", "220x220+420+80"], False, 0.5),
                 ("run", ["xlogo", "-geometry", "200x200+700+80"], False, 0.5),
                 ("run", ["xeyes", "-geometry", "240x160+420+380"], False, 1.0)]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", type=Path, help="mate-backgrounds and plasma-workspace-wallpapers extracted (dpkg-deb -x)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--display", type=int, default=77)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="screens_work_"))
    display = Display(args.display)
    rows = []
    try:
        for stem, what, licence, steps in scenes(args.root, work):
            for step in steps:
                if step[0] == "bg":
                    display.background(step[1], photo_path(args.root, step[2]) if step[2] else None)
                else:
                    display.run(step[1], dark=step[2], wait=step[3])
            display.shot(args.out / f"{stem}.jpg")
            display.clear()
            rows.append(f"| `{stem}.jpg` | {what} | {licence} |")
            print(stem, file=sys.stderr)
    finally:
        display.close()
        shutil.rmtree(work, ignore_errors=True)
    photos = "\n".join(f"| {k} | `{v[0]}` | {v[1]} |" for k, v in PHOTOS.items())
    (args.out / "README.md").write_text(
        "# Screenshots of ordinary software (non-medical training images of the domain classifier)\n\n"
        "Written by `scripts/render_domain_screens.py` (its docstring: packages and command): real Debian programs "
        f"on Xvfb {SCREEN[0]}x{SCREEN[1]} with openbox, the whole screen captured with ImageMagick `import`, scaled to "
        f"{OUT_SIZE[0]}x{OUT_SIZE[1]}, JPEG q80, as `non_medical` sources of the domain classifier (devsets/videos/"
        "README.md, h23c). The programs are free software (xterm, feh, openbox, X.Org apps: MIT/X11; mousepad, "
        "gnumeric, abiword, pcmanfm: GPL-2+); a screenshot of them carries the licence of what it shows:\n\n"
        "| file | what it shows | licence of the content |\n|---|---|---|\n" + "\n".join(rows) +
        "\n\nPhotographs shown:\n\n| label | source | author, licence |\n|---|---|---|\n" + photos + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
