"""Sub-figure detection quality and label-OCR throughput on the demo articles.

    python3 benchmarks/bench_subfigures.py --weights results/models/subfigure_yolo/weights.pt [--demo data/demo]

1. Detection: mAP50 / recall50 of the panel boxes over every demo figure for
     xycut      classical X-Y cut along background gaps alone (baseline; Quilt-1M style image processing)
     yolo       the trained YOLO detector alone (the paper's method)
     yolo+xycut the detector refined by the cut where both agree (articles.subfigures.refine: xycut)
   printed as ratios against the xycut baseline measured in the same run.
2. OCR throughput: the label glyphs of all demo figures (truth boxes) read by ONE tesseract process per batch
   (labels.read_glyphs) vs one tesseract process per glyph (baseline, what a per-crop pytesseract call does);
   glyphs per second and the ratio.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from mednarratives.articles import labels  # noqa: E402
from mednarratives.articles.score import average_precision  # noqa: E402
from mednarratives.articles.subfigures import Detector, reading_order, xy_cut  # noqa: E402


def demo_figures(demo: Path):
    for tp in sorted((demo / "articles").glob("*.tar.gz")):
        truth = json.loads(tp.with_name(tp.name.replace(".tar.gz", ".truth.json")).read_text())
        with tarfile.open(tp) as tf:
            for f in truth["figures"]:
                img = Image.open(io.BytesIO(tf.extractfile(f["file"]).read())).convert("RGB")
                yield f"{truth['article_id']}/{f['id']}", img, [p["box"] for p in f["panels"]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--demo", default="data/demo")
    ap.add_argument("--imgsz", type=int, default=320)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    figs = list(demo_figures(Path(args.demo)))
    truth = {k: boxes for k, _, boxes in figs}

    yolo = Detector(args.weights, imgsz=args.imgsz)
    hybrid = Detector(args.weights, imgsz=args.imgsz, refine="xycut")
    dets = {"xycut": [], "yolo": [], "yolo+xycut": []}
    times = {k: 0.0 for k in dets}
    for key, img, _ in figs:
        t = time.perf_counter()
        cuts = xy_cut(img) or [[0, 0, img.size[0], img.size[1]]]
        times["xycut"] += time.perf_counter() - t
        dets["xycut"] += [(1.0 - 0.01 * i, key, cuts[j]) for i, j in enumerate(reading_order(cuts))]
        for name, det in (("yolo", yolo), ("yolo+xycut", hybrid)):
            t = time.perf_counter()
            out = det.detect(img)
            times[name] += time.perf_counter() - t
            dets[name] += [(s, key, b) for b, s in out]
    base = None
    print(f"detection on {len(figs)} demo figures, {sum(len(v) for v in truth.values())} panels")
    for name, d in dets.items():
        ap50, rec = average_precision(d, truth)
        base = base if base is not None else ap50
        print(f"  {name:11s} mAP50 {ap50:.4f}  recall50 {rec:.4f}  {len(figs) / times[name]:7.1f} figures/s  "
              f"mAP50 ratio vs xycut {ap50 / base if base else float('nan'):.2f}x")

    glyphs = []
    for _, img, boxes in figs:
        gray = np.asarray(img.convert("L"))
        for c in labels.find_candidates(gray, boxes):
            glyphs.append(labels.glyph_image(gray, c))
    t = time.perf_counter()
    batch = labels.read_glyphs(glyphs)
    t_batch = time.perf_counter() - t
    t = time.perf_counter()
    single = [labels.read_glyphs([g])[0] for g in glyphs]
    t_single = time.perf_counter() - t
    same = sum(a == b for a, b in zip(batch, single))
    print(f"label OCR on {len(glyphs)} glyph candidates (same reads: {same}/{len(glyphs)})")
    print(f"  one process per glyph (baseline) {len(glyphs) / t_single:7.1f} glyphs/s")
    print(f"  one process per batch            {len(glyphs) / t_batch:7.1f} glyphs/s   "
          f"ratio {t_single / t_batch:.1f}x")
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
