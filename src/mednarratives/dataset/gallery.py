"""A gallery of samples with their traces and boxes drawn (for the HTML report)."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw

from mednarratives.io import atomic_path, read_jsonl

COLORS = ((255, 40, 40), (40, 200, 255), (255, 200, 0), (120, 255, 120))


def draw_sample(rec: dict, width: int = 480) -> Image.Image:
    """The sample image with traces (polylines, pixel coords of the image) and boxes, caption below."""
    with Image.open(rec["image"]) as im:
        im = im.convert("RGB")
    d = ImageDraw.Draw(im)
    prov = rec.get("provenance") or {}
    traces = rec.get("traces_px") or []
    for i, seg in enumerate(traces):
        pts = [(float(x), float(y)) for x, y, *_ in seg]
        if len(pts) > 1:
            d.line(pts, fill=COLORS[i % len(COLORS)], width=max(1, im.width // 200))
    for box in rec.get("boxes") or []:
        d.rectangle([float(v) for v in box[:4]], outline=(0, 255, 0), width=max(1, im.width // 160))
    scale = width / im.width
    im = im.resize((width, max(1, int(im.height * scale))))
    text = f"{rec.get('image_id')} [{rec.get('domain')}] ROI: {rec.get('roi_text') or '-'}\n" + "\n".join(
        textwrap.wrap(str(rec.get("caption") or ""), 80)[:5])
    lines = text.count("\n") + 1
    canvas = Image.new("RGB", (width, im.height + 14 * lines + 8), (255, 255, 255))
    canvas.paste(im, (0, 0))
    ImageDraw.Draw(canvas).multiline_text((4, im.height + 4), text, fill=(0, 0, 0), spacing=2)
    _ = prov
    return canvas


def write_gallery(sidecar_jsonl: str | os.PathLike, out_dir: str | os.PathLike, n: int = 12,
                  ln_jsonl: str | os.PathLike | None = None) -> list[Path]:
    """First ``n`` samples by id (video samples with traces first) as PNGs in ``out_dir``."""
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    side = read_jsonl(sidecar_jsonl)
    ln_path = Path(ln_jsonl) if ln_jsonl else Path(sidecar_jsonl).with_name("localized_narratives.jsonl")
    traces = {}
    if ln_path.exists():
        for r in read_jsonl(ln_path):
            traces[r["image_id"]] = r.get("traces") or []
    recs = []
    for r in side:
        w, h = r.get("width") or 1, r.get("height") or 1
        r["traces_px"] = [[(p["x"] * w, p["y"] * h, p["t"]) for p in seg] for seg in traces.get(r["image_id"], [])]
        recs.append(r)
    recs.sort(key=lambda r: (not r["traces_px"], r["image_id"]))
    written = []
    for i, r in enumerate(recs[:n]):
        try:
            img = draw_sample(r)
        except Exception:  # noqa: BLE001 - a missing image just leaves a gap
            continue
        path = out / f"{i:03d}_{r['image_id'].replace(':', '_')}.png"
        with atomic_path(path) as tmp:
            img.save(tmp, format="PNG")
        written.append(path)
    return written
