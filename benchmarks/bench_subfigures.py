"""Sub-figure detection quality and label-OCR throughput on the demo articles; figure / panel / letter scores
on the real compound-figure dev set.

    python3 benchmarks/bench_subfigures.py --weights results/models/subfigure_yolo/weights.pt [--demo data/demo]
        [--devset devsets/articles/figures] [--skip-ocr-throughput]

1. Detection: mAP50 / recall50 of the panel boxes over every demo figure for
     xycut       classical X-Y cut along background gaps alone (baseline; Quilt-1M style image processing)
     yolo        the trained YOLO detector alone (the paper's method)
     yolo+xycut  the detector refined by the cut where both agree (articles.subfigures.refine: xycut)
     yolo+layout the layout analysis guided by the caption's labels (refine: layout), the detector elsewhere
   printed as ratios against the xycut baseline measured in the same run.
2. OCR throughput: the label glyphs of all demo figures (truth boxes) read by ONE tesseract process per batch
   (labels.read_glyphs) vs one tesseract process per glyph (baseline, what a per-crop pytesseract call does);
   glyphs per second and the ratio.
3. Dev set (--devset, real figures, devsets/articles/figures/README.md): per method, truth panels found at
   IoU >= 0.7 (the bar), mean best IoU, precision at 0.7, seconds per figure; then panel letters: Tesseract's
   best read per detected panel alone ("ocr"), and the letters the pairing step gives them with the caption's
   label set as the prior ("paired": pairing.pair_figure, the pipeline's step), scored on the truth panels.
   Ratios against yolo+xycut (the previous default) measured in the same run. --halves: each method also on
   the first half of the first round's figures by id (the half rules were tuned on), on the second (held
   out), and on each later collection round ("round" in truth.jsonl) apart. --round N (repeatable): only the
   figures of those collection rounds are scored (an unseen round alone, the others not run).
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
from mednarratives.articles import figure_devset, labels, pairing  # noqa: E402
from mednarratives.articles.score import average_precision  # noqa: E402
from mednarratives.articles.subfigures import Detector, SubfigureOptions, reading_order, xy_cut  # noqa: E402


def demo_figures(demo: Path):
    for tp in sorted((demo / "articles").glob("*.tar.gz")):
        truth = json.loads(tp.with_name(tp.name.replace(".tar.gz", ".truth.json")).read_text())
        with tarfile.open(tp) as tf:
            for f in truth["figures"]:
                img = Image.open(io.BytesIO(tf.extractfile(f["file"]).read())).convert("RGB")
                yield (f"{truth['article_id']}/{f['id']}", img, [p["box"] for p in f["panels"]],
                       [p["label"] for p in f["panels"] if p.get("label")])


METHODS = ("yolo", "yolo+xycut", "yolo+layout")


def detectors(weights: str, imgsz: int) -> dict:
    refine = {"yolo": "none", "yolo+xycut": "xycut", "yolo+layout": "layout"}
    return {name: Detector(weights, SubfigureOptions(imgsz=imgsz, refine=refine[name])) for name in METHODS}


def demo_report(args) -> None:
    figs = list(demo_figures(Path(args.demo)))
    truth = {k: boxes for k, _, boxes, _ in figs}
    dets = {"xycut": [], **{m: [] for m in METHODS}}
    times = {k: 0.0 for k in dets}
    det = detectors(args.weights, args.imgsz)
    for key, img, _, caption_labels in figs:
        t = time.perf_counter()
        cuts = xy_cut(img) or [[0, 0, img.size[0], img.size[1]]]
        times["xycut"] += time.perf_counter() - t
        dets["xycut"] += [(1.0 - 0.01 * i, key, cuts[j]) for i, j in enumerate(reading_order(cuts))]
        for name in METHODS:
            t = time.perf_counter()
            out = det[name].detect(img, caption_labels)
            times[name] += time.perf_counter() - t
            dets[name] += [(s, key, b) for b, s in out]
    base = None
    print(f"detection on {len(figs)} demo figures, {sum(len(v) for v in truth.values())} panels")
    for name, d in dets.items():
        ap50, rec = average_precision(d, truth)
        base = base if base is not None else ap50
        print(f"  {name:11s} mAP50 {ap50:.4f}  recall50 {rec:.4f}  {len(figs) / times[name]:7.1f} figures/s  "
              f"mAP50 ratio vs xycut {ap50 / base if base else float('nan'):.2f}x")
    if args.skip_ocr_throughput:
        return
    glyphs = []
    for _, img, boxes, _ in figs:
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


def letters_of(figs, images, boxes_by_fig: dict, layout_letters: dict | None = None) -> tuple[dict, dict]:
    """(OCR-only, paired) letters per detected panel: [(box, letter)] per figure id; `layout_letters`: the
    letters the detector's layout analysis read per panel (Detector.detect_letters), votes as in the pipeline."""
    reads = labels.read_figure_labels([(images[f.id], [b for b, _ in boxes_by_fig[f.id]]) for f in figs])
    if layout_letters:
        reads = [labels.with_layout_letters(r, layout_letters[f.id]) for f, r in zip(figs, reads)]
    ocr, paired = {}, {}
    for f, fig_reads in zip(figs, reads):
        dets = boxes_by_fig[f.id]
        ocr[f.id] = [(b, c[0].text if c else None) for (b, _), c in zip(dets, fig_reads)]
        panels = [{"box": b, "score": s, "label_candidates": [{"text": x.text, "conf": x.conf} for x in c]}
                  for (b, s), c in zip(dets, fig_reads)]
        subs = [{"labels": [x], "text": f"panel {x}", "context": ""} for x in f.letters if x]
        res = pairing.pair_figure(panels, subs)
        got = {pr.panel: pr.labels[0] for pr in res.pairs if pr.panel is not None and pr.labels}
        paired[f.id] = [(b, got.get(i)) for i, (b, _) in enumerate(dets)]
    return ocr, paired


def devset_report(args) -> None:
    figs = [f for f in figure_devset.load(args.devset) if not args.round or f.round in args.round]
    if not figs:
        raise SystemExit(f"no dev set figure of round(s) {args.round} in {args.devset}")
    images = {f.id: Image.open(f.image).convert("RGB") for f in figs}
    det = detectors(args.weights, args.imgsz)
    n_let = sum(1 for f in figs for x in f.letters if x)
    print(f"dev set {args.devset}: {len(figs)} real figures, {sum(len(f.boxes) for f in figs)} panels, "
          f"{n_let} panel letters")
    rows = {}
    for name in METHODS:
        t = time.perf_counter()
        found = {f.id: det[name].detect_letters(images[f.id], [x for x in f.letters if x]) for f in figs}
        dt = time.perf_counter() - t
        out = {k: v[0] for k, v in found.items()}
        sp = figure_devset.score_panels({k: [b for b, _ in v] for k, v in out.items()}, figs)
        ocr, paired = letters_of(figs, images, out, {k: v[1] for k, v in found.items()})
        rows[name] = (sp, figure_devset.score_letters(ocr, figs), figure_devset.score_letters(paired, figs), dt)
        if args.halves:  # first round: tuning half (first figures by id) and held-out half; later rounds apart
            ids = sorted(f.id for f in figs if f.round == 1)
            parts = [("tuning half", ids[:len(ids) // 2]), ("held-out half", ids[len(ids) // 2:])]
            parts += [(f"round {r}", sorted(f.id for f in figs if f.round == r))
                      for r in sorted({f.round for f in figs} - {1})]
            for label, part in parts:
                sub = [f for f in figs if f.id in set(part)]
                hp = figure_devset.score_panels({k: [b for b, _ in v] for k, v in out.items()}, sub)
                hl = figure_devset.score_letters(paired, sub)
                print(f"  {name:11s} {label:13s} ({len(sub)} figures): panels {hp['found']}/{hp['panels']} "
                      f"({hp['found_rate']:.1%})  letters paired {hl['correct']}/{hl['letters']} ({hl['rate']:.1%})")
    base = rows["yolo+xycut"]
    for name, (sp, lo, lp, dt) in rows.items():
        print(f"  {name:11s} panels found IoU>=0.7 {sp['found']:3d}/{sp['panels']} ({sp['found_rate']:.1%}, "
              f"{sp['found_rate'] / max(base[0]['found_rate'], 1e-9):.2f}x)  mean best IoU {sp['mean_best_iou']:.3f}"
              f"  precision {sp['precision']:.1%}  {dt / len(figs):.2f} s/figure")
        print(f"  {'':11s} letters ocr {lo['correct']}/{lo['letters']} ({lo['rate']:.1%})  paired {lp['correct']}/"
              f"{lp['letters']} ({lp['rate']:.1%}, {lp['rate'] / max(base[2]['rate'], 1e-9):.2f}x)")
    if args.verbose:
        for name, (sp, _, lp, _) in rows.items():
            print(name, "per figure (found, truth, predicted):", sp["per_figure"])
            print(name, "letters wrong:", lp["wrong"])
    # the letters alone: truth boxes, so that detection errors do not count
    ocr, paired = letters_of(figs, images, {f.id: [(b, 1.0) for b in f.boxes] for f in figs})
    lo, lp = figure_devset.score_letters(ocr, figs), figure_devset.score_letters(paired, figs)
    print(f"  truth boxes letters ocr {lo['correct']}/{lo['letters']} ({lo['rate']:.1%})  paired {lp['correct']}/"
          f"{lp['letters']} ({lp['rate']:.1%})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--demo", default="data/demo")
    ap.add_argument("--devset", default="", help="a real dev set folder (devsets/articles/figures)")
    ap.add_argument("--imgsz", type=int, default=256)
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-ocr-throughput", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--halves", action="store_true", help="dev set: also score the first and second half of the "
                    "first round's figures by id (tuning / held-out) and each later round apart")
    ap.add_argument("--round", type=int, action="append", default=[],
                    help="dev set: score only the figures of this collection round (repeatable)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not args.skip_demo:
        demo_report(args)
    if args.devset:
        devset_report(args)
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
