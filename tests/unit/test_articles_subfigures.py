"""Sub-figure detection: synthetic training data, box post-processing, reading order, crops, offline training."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mednarratives.articles.subfigures import (
    clean_boxes,
    crop,
    dataset_from_annotations,
    reading_order,
    synthetic_dataset,
)
from mednarratives.articles.synthetic import plan_article, render_figure, training_figures
from mednarratives_demo.articles import article_ids

HAS_YOLO = importlib.util.find_spec("ultralytics") is not None


def test_synthetic_figures_are_deterministic_and_never_demo_articles():
    a = list(training_figures(5, seed=11, realistic_share=0.0))
    b = list(training_figures(5, seed=11, realistic_share=0.0))
    assert [n for n, _, _ in a] == [n for n, _, _ in b]
    assert all(x[1].tobytes() == y[1].tobytes() and x[2] == y[2] for x, y in zip(a, b))
    demo = set(article_ids(100, 0))
    assert not any(n.split("_")[0] in demo for n, _, _ in a)
    for _, img, boxes in a:
        assert boxes and all(0 <= b[0] < b[2] <= img.size[0] and 0 <= b[1] < b[3] <= img.size[1] for b in boxes)


def test_share_zero_is_the_demo_article_generator_alone():
    """The demo's training data (realistic_share 0): the demo generator's figures of ids SYN000000, SYN000001, ..."""
    figs = [(f"SYN{k:06d}_{f.fig_id}", f) for k in range(4) for f in plan_article(f"SYN{k:06d}", 11).figures][:4]
    want = [(name, render_figure(f)[0], [list(p.box) for p in f.panels]) for name, f in figs]
    got = list(training_figures(4, seed=11, realistic_share=0.0))
    assert len(got) == len(want) == 4
    for (gn, gi, gb), (wn, wi, wb) in zip(got, want):
        assert gn == wn and gi.tobytes() == wi.tobytes() and gb == wb


def test_synthetic_dataset_layout(tmp_path):
    data = synthetic_dataset(tmp_path / "ds", 10, seed=3, realistic_share=0.0, val_fraction=0.2)
    assert data.name == "data.yaml"
    train = sorted((tmp_path / "ds/images/train").glob("*.jpg"))
    val = sorted((tmp_path / "ds/images/val").glob("*.jpg"))
    assert len(train) == 8 and len(val) == 2
    for img in train + val:
        lab = img.parent.parent.parent / "labels" / img.parent.name / (img.stem + ".txt")
        rows = [list(map(float, line.split())) for line in lab.read_text().splitlines()]
        assert rows and all(r[0] == 0 and all(0 <= v <= 1 for v in r[1:]) for r in rows)


def test_dataset_from_annotations_skips_bad_lines(tmp_path):
    Image.new("RGB", (200, 100), "white").save(tmp_path / "f1.png")
    lines = [{"image": "f1.png", "boxes": [[0, 0, 100, 100], [100, 0, 200, 100]]},
             {"image": "missing.png", "boxes": [[0, 0, 1, 1]]},
             {"image": "f1.png", "boxes": []}]
    ann = tmp_path / "ann.jsonl"
    ann.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    dataset_from_annotations([ann], tmp_path / "ds", seed=1)
    meta = json.loads((tmp_path / "ds/meta.json").read_text())
    assert meta["n_figures"] == 1 and meta["skipped"] == 3
    label = next((tmp_path / "ds/labels").rglob("*.txt")).read_text().split("\n")[0].split()
    assert label == ["0", "0.250000", "0.500000", "0.500000", "1.000000"]


def test_clean_boxes_clips_and_drops_nested_and_tiny():
    dets = [([-5, -5, 105, 98], 0.9), ([10, 10, 50, 50], 0.8), ([200, 0, 203, 50], 0.7),
            ([110, 0, 220, 100], 0.6), ([112, 2, 218, 99], 0.5)]
    assert clean_boxes(dets, 215, 100) == [([0, 0, 105, 98], 0.9), ([110, 0, 215, 100], 0.6)]


def test_reading_order_rows_then_columns_and_tall_panels():
    grid = [[110, 110, 210, 210], [0, 0, 100, 100], [0, 110, 100, 210], [110, 0, 210, 100]]
    assert reading_order(grid) == [1, 3, 2, 0]
    # one tall panel on the left, two stacked on the right: tall, top right, bottom right
    irregular = [[110, 105, 210, 200], [0, 0, 100, 200], [110, 0, 210, 95]]
    assert reading_order(irregular) == [1, 2, 0]
    # a row whose panels are slightly misaligned stays one row
    assert reading_order([[120, 4, 220, 100], [0, 0, 100, 98]]) == [1, 0]


def test_crop_upscales():
    img = Image.new("RGB", (100, 50), "black")
    c = crop(img, [10, 5, 30, 25], 4)
    assert c.size == (80, 80)
    assert crop(img, [10, 5, 30, 25], 1).size == (20, 20)


@pytest.mark.skipif(not HAS_YOLO, reason="ultralytics not installed")
def test_tiny_offline_training_and_detection(tmp_path):
    """40 figures, 1 epoch at 160 px in a subprocess with no network namespace when unshare works."""
    code = f"""
import os, json
from PIL import Image
from mednarratives.articles.subfigures import synthetic_dataset, train, TrainOptions, Detector, SubfigureOptions
data = synthetic_dataset({str(tmp_path / 'ds')!r}, 40, seed=5, realistic_share=0.0)
m = train(data, {str(tmp_path / 'w.pt')!r}, TrainOptions(epochs=1, imgsz=160, batch=8), {str(tmp_path / 'work')!r},
          {str(tmp_path / 'metrics.json')!r})
img = Image.open(next(iter(sorted((data.parent / 'images' / 'val').glob('*.jpg')))))
dets = Detector({str(tmp_path / 'w.pt')!r}, SubfigureOptions(imgsz=160)).detect(img)
print(json.dumps({{"metrics": m, "dets": dets, "size": img.size}}))
"""
    env = dict(os.environ, OMP_NUM_THREADS="1", YOLO_CONFIG_DIR=str(tmp_path / "cfg"))
    cmd = [sys.executable, "-c", code]
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        cmd = ["unshare", "-n", *cmd]  # proof that nothing is downloaded
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(out["metrics"]) >= {"map50", "map50_95", "weights_sha256"}
    assert 0.0 <= out["metrics"]["map50"] <= 1.0
    w, h = out["size"]
    assert out["dets"], "a figure always yields at least one panel (the whole figure when nothing is found)"
    for box, score in out["dets"]:
        assert 0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h and 0.0 <= score <= 1.0
    assert (tmp_path / "metrics.json").exists() and (tmp_path / "w.pt").stat().st_size > 100_000
    # the exported weights carry no date or temp-file name: exporting again gives the same bytes
    from mednarratives.articles.subfigures import export_weights
    from mednarratives.io import file_digest
    export_weights(tmp_path / "w.pt", tmp_path / "again.pt")
    assert file_digest(tmp_path / "again.pt") == file_digest(tmp_path / "w.pt")


def _grid_figure(gap=8, bg=(255, 255, 255)):
    img = Image.new("RGB", (2 * 100 + gap + 20, 2 * 80 + gap + 20), bg)
    boxes = []
    for r in range(2):
        for c in range(2):
            x0, y0 = 10 + c * (100 + gap), 10 + r * (80 + gap)
            yy, xx = np.mgrid[0:80, 0:100]
            panel = Image.fromarray((40 + (xx + yy) * 160 // 180).astype(np.uint8))  # no uniform row or column
            img.paste(panel.convert("RGB"), (x0, y0))
            boxes.append([x0, y0, x0 + 100, y0 + 80])
    return img, boxes


def test_xy_cut_finds_gap_separated_panels_on_any_background():
    from mednarratives.articles.subfigures import xy_cut
    for bg in ((255, 255, 255), (0, 0, 0), (128, 128, 128)):
        img, boxes = _grid_figure(bg=bg)
        got = xy_cut(img)
        assert sorted(got) == sorted(boxes), bg
    img, _ = _grid_figure(gap=0)
    assert xy_cut(img) == []  # touching panels: nothing to cut (the detector's job)


def test_refine_takes_the_cut_only_when_it_agrees_with_the_detector():
    from mednarratives.articles.subfigures import refine_with_xycut
    img, boxes = _grid_figure()
    # the detector found three panels, roughly: the cut adds the fourth
    dets = [([12, 12, 108, 88], 0.9), ([118, 10, 220, 92], 0.8), ([10, 98, 110, 178], 0.7)]
    out, used = refine_with_xycut(dets, boxes)
    assert used and [b for b, _ in out] == boxes and [s for _, s in out] == [0.9, 0.8, 0.7, 0.35]
    # a confident detection spanning two pieces of an irregular cut: the cut split a panel, keep the detector's
    dets = [([10, 10, 218, 90], 0.9), ([10, 98, 218, 178], 0.9)]
    uneven = [[10, 10, 60, 90], [70, 10, 218, 90], [10, 98, 218, 178]]
    out, used = refine_with_xycut(dets, uneven)
    assert not used and out == dets
    # ... of a regular grid: a 2x2 grid the detector returned as two boxes, the cut wins
    out, used = refine_with_xycut(dets, boxes, grid=0.5)
    assert used and [b for b, _ in out] == boxes
    assert not refine_with_xycut(dets, boxes, grid=1.01)[1]


class _ModelWithArgs:  # stands in for ultralytics' DetectionModel, which carries its training args
    def __init__(self, args):
        self.args = args


def test_exported_weights_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    """ultralytics stores its project/save folders as absolute paths: two workflow copies must still give the
    same bytes (the determinism test compares runs in different folders)."""
    import torch

    from mednarratives.articles.subfigures import export_weights
    from mednarratives.io import file_digest

    digests = []
    for name in ("first", "second"):
        wf = tmp_path / name
        wf.mkdir()
        monkeypatch.chdir(wf)
        args = {"project": str(wf / "work"), "save_dir": str(wf / "work" / "run"), "imgsz": 320}
        torch.save({"date": name, "train_args": dict(args), "model": _ModelWithArgs(dict(args)), "ema": None,
                    "optimizer": {"lr": 0.01}, "weights": torch.arange(6.0)}, wf / "best.pt")
        export_weights(wf / "best.pt", wf / "weights.pt")
        digests.append(file_digest(wf / "weights.pt"))
        ckpt = torch.load(wf / "weights.pt", weights_only=False)
        assert ckpt["train_args"]["project"] == "work" and ckpt["model"].args["save_dir"] == os.path.join("work", "run")
    assert digests[0] == digests[1]


def _plot_grid(gutter_colour=(255, 255, 255), touching=False):
    """A 2x2 figure: four 'plots' (axes lines, a curve, a legend block beside each) on `gutter_colour`;
    with `touching`, the two top panels share an edge (no gutter). Returns (image, truth panel boxes)."""
    from PIL import ImageDraw
    img = Image.new("RGB", (400, 300), gutter_colour)
    d = ImageDraw.Draw(img)
    truth = []
    for r in range(2):
        for c in range(2):
            x0 = 10 + c * (190 if not (touching and r == 0) else 180)
            y0 = 10 + r * 145
            d.line([(x0 + 15, y0 + 10), (x0 + 15, y0 + 110), (x0 + 130, y0 + 110)], fill=(0, 0, 0), width=2)
            d.line([(x0 + 20, y0 + 100), (x0 + 70, y0 + 40), (x0 + 125, y0 + 60)], fill=(200, 30, 30), width=2)
            d.rectangle([x0 + 145, y0 + 40, x0 + 170, y0 + 70], fill=(40, 90, 200))  # legend beside the plot
            truth.append([x0 + 14, y0 + 10, x0 + 171, y0 + 112])
    return img, truth


def test_layout_leaves_cut_along_uniform_lines_of_any_colour():
    from mednarratives.articles.subfigures import layout_leaves
    from mednarratives.geometry import box_iou
    for colour in ((255, 255, 255), (0, 0, 0), (90, 140, 90)):
        img, truth = _plot_grid(colour)
        leaves = layout_leaves(img)
        for t in truth:  # every leaf lies inside one panel: the gutters were cut, whatever their colour
            assert any(box_iou(t, leaf) > 0 for leaf in leaves)
        assert all(any(lf[0] >= t[0] and lf[2] <= t[2] and lf[1] >= t[1] and lf[3] <= t[3] for t in truth)
                   for lf in leaves)


def test_layout_leaves_cut_one_pixel_gutters_blurred_by_jpeg_and_shifted_by_a_pixel():
    import io
    from mednarratives.articles.figure_devset import DevFigure, score_panels
    from mednarratives.articles.subfigures import layout_detect, layout_leaves
    rng = np.random.default_rng(0)
    coarse = Image.fromarray(rng.integers(30, 200, size=(30, 40)).astype(np.uint8))
    # grey micrographs filling the figure (no border of their own)
    a = np.repeat(np.asarray(coarse.resize((400, 300), Image.Resampling.BILINEAR))[:, :, None], 3, axis=2).copy()
    a[149, :] = 255  # one-pixel white gutters
    a[:75, 199] = 255
    a[75:, 200] = 255  # the column gutter jogs one pixel to the right half-way down the upper row
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=90)
    img = Image.open(buf).convert("RGB")
    truth = [[0, 0, 199, 149], [201, 0, 400, 149], [0, 150, 200, 300], [201, 150, 400, 300]]
    assert len(layout_leaves(img, thin_share=1.01)) == 3  # a straight uniform column only: the jog hides it
    assert len(layout_leaves(img)) == 4
    got, _ = layout_detect(img, ())  # no caption letters: the large blocks are the panels
    assert score_panels({"f": got}, [DevFigure("f", img, truth, [None] * 4)])["found"] == 4


def test_layout_panels_regroup_leaves_to_the_caption_count_and_letters():
    from mednarratives.articles.subfigures import layout_leaves, layout_panels
    from mednarratives.articles.figure_devset import DevFigure, score_panels
    img, truth = _plot_grid()
    leaves = layout_leaves(img)
    assert len(leaves) > 4  # plots and legends apart
    fig = DevFigure("f", img, truth, ["A", "B", "C", "D"])
    got = layout_panels(img, {}, leaves, n_panels=4)
    assert score_panels({"f": got}, [fig])["found"] == 4
    # touching top panels: the letters drawn above them cut the shared block
    img, truth = _plot_grid(touching=True)
    anchors = {"a": [24, 20, 30, 28], "b": [204, 20, 210, 28], "c": [24, 165, 30, 173], "d": [214, 165, 220, 173]}
    got = layout_panels(img, anchors, layout_leaves(img), n_panels=4)
    assert score_panels({"f": got}, [DevFigure("f", img, truth, list("ABCD"))])["found"] == 4
    assert layout_panels(Image.new("RGB", (50, 50), "white"), {}, n_panels=2) == []


def test_letter_slots_place_unread_letters_at_lone_glyphs_lined_up_with_the_read_ones():
    from mednarratives.articles.subfigures import _aligned_letters, letter_slots
    read = {"a": [10, 5, 20, 17], "c": [410, 5, 420, 17], "d": [10, 205, 19, 217]}
    leaves = [[10, 5, 20, 17], [410, 5, 420, 17], [10, 205, 19, 217],
              [210, 6, 219, 17],                         # B: a lone glyph on the letters' row, not read
              [25, 20, 200, 190], [225, 20, 400, 190],   # panel contents
              [300, 100, 309, 111], [311, 100, 320, 111],  # a word inside a panel: glyphs side by side
              [250, 6, 259, 17], [261, 6, 270, 17],      # a title word on the letters' row
              [230, 195, 236, 199]]                      # a speck, not a glyph of the letters' size
    assert letter_slots(leaves, read, ["b"]) == {"b": [210, 6, 219, 17]}
    # more glyphs lined up than letters missing: none is trusted
    assert letter_slots(leaves + [[210, 205, 219, 217], [410, 205, 419, 217]], read, ["b"]) == {}
    assert letter_slots(leaves, {"a": read["a"]}, ["b"]) == {}  # one letter read: no size, no rows to go by
    # a read that lines up with no other letter is a character of a word, not a panel letter
    assert set(_aligned_letters({**read, "e": [300, 100, 309, 111]})) == {"a", "c", "d"}
    assert _aligned_letters({"a": read["a"], "e": [300, 100, 309, 111]}) == {"a": read["a"], "e": [300, 100, 309, 111]}


def test_figure_devset_scores_match_one_to_one():
    from mednarratives.articles.figure_devset import DevFigure, match, score_letters, score_panels
    truth = [[0, 0, 100, 100], [110, 0, 210, 100]]
    fig = DevFigure("f", None, truth, ["A", "B"])
    assert [i for i, _ in match([[0, 0, 210, 100]], truth)].count(None) == 1  # one merged box finds one panel
    s = score_panels({"f": [[0, 0, 100, 95], [0, 0, 210, 100]]}, [fig])
    assert (s["found"], s["panels"]) == (1, 2) and 0.5 < s["mean_best_iou"] < 1
    let = score_letters({"f": [([0, 0, 100, 100], "a"), ([110, 0, 210, 100], "C")]}, [fig])
    assert (let["correct"], let["letters"], let["wrong"]) == (1, 2, ["f:B->C"])


def test_layout_detect_works_on_a_reduced_copy_and_returns_figure_pixels():
    from mednarratives.articles.figure_devset import DevFigure, score_panels
    from mednarratives.articles.subfigures import layout_detect
    img, truth = _plot_grid()
    big = img.resize((1200, 900), Image.Resampling.NEAREST)  # x3: analysed at 1000 px, boxes scaled back
    got, _ = layout_detect(big, ["a", "b", "c", "d"])
    fig = DevFigure("f", big, [[v * 3 for v in t] for t in truth], list("ABCD"))
    assert score_panels({"f": got}, [fig])["found"] == 4


def test_layout_detect_reports_only_the_read_letters_the_chosen_layout_keeps(monkeypatch):
    from mednarratives.articles import labels, subfigures
    img, _ = _plot_grid()
    boxes = {k: [60 * i, 0, 60 * i + 8, 10] for i, k in enumerate("abcd")}  # a row of letters, panels apart

    def find_anchors(image, leaves, label_set=None, options=None, reads_out=None, **kw):
        reads_out.update({k: (k.upper(), 90.0) for k in boxes})
        return dict(boxes)

    monkeypatch.setattr(labels, "available", lambda: True)
    monkeypatch.setattr(labels, "find_anchors", find_anchors)
    # the grouping drops "c" (a letter read in a word): its read is no panel's vote
    monkeypatch.setattr(subfigures, "choose_layout",
                        lambda image, anchors, *a, **kw: ([], {k: v for k, v in anchors.items() if k != "c"}))
    reads = {}
    _, anchors = subfigures.layout_detect(img, list("abcd"), reads_out=reads)
    assert sorted(anchors) == sorted(reads) == ["a", "b", "d"]


def test_a_letter_labels_the_panel_it_is_in_or_the_one_right_of_or_below_it():
    from mednarratives.articles.subfigures import _letter_panel
    panels = [[30, 30, 130, 130], [150, 30, 250, 130]]
    assert _letter_panel(panels, [40, 40, 48, 50]) == 0  # inside
    assert _letter_panel(panels, [136, 12, 144, 22]) == 1  # above-left of the right panel, right of the left one
    assert _letter_panel(panels, [10, 60, 18, 70]) == 0  # left of its panel
    assert _letter_panel(panels, [60, 140, 68, 150]) is None  # below a panel: no panel's letter
    assert _letter_panel(panels, [0, 0, 8, 10]) is None  # more than two letter heights away


def test_letter_order_puts_lettered_panels_in_the_captions_order():
    from mednarratives.articles.subfigures import letter_order, reading_order
    # column-major: A, B on the left, C, D on the right; reading order would give A, C, B, D
    panels = [[0, 0, 100, 100], [110, 0, 210, 100], [0, 110, 100, 210], [110, 110, 210, 210]]
    anchors = {"a": [2, 2, 10, 12], "b": [2, 112, 10, 122], "c": [112, 2, 120, 12], "d": [112, 112, 120, 122]}
    assert letter_order(panels, anchors, list("abcd")) == [0, 2, 1, 3]
    # panels without a letter read keep their reading-order places; the lettered ones fill the others
    del anchors["b"], anchors["c"]
    assert letter_order(panels, anchors, list("abcd")) == reading_order(panels)
    anchors = {"b": [2, 112, 10, 122], "c": [112, 2, 120, 12]}
    assert letter_order(panels, anchors, list("abcd")) == [0, 2, 1, 3]


def test_layout_leaves_look_inside_a_drawn_frame_with_rounded_corners():
    """Panels grouped in a box drawn with a rounded red outline: the box's inside is cut (rounded corners do
    not hide the frame); a white panel on black, whose resampled edge is a grey blend, is no frame."""
    from PIL import ImageDraw
    from mednarratives.articles.subfigures import layout_leaves
    from mednarratives.geometry import box_iou
    rng = np.random.default_rng(0)
    img = Image.new("RGB", (420, 200), "white")
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([10, 10, 410, 190], radius=8, outline=(170, 40, 40), width=2)
    truth = [[22, 22, 202, 178], [218, 22, 398, 178]]
    for x0, y0, x1, y1 in truth:
        img.paste(Image.fromarray(rng.integers(40, 200, (y1 - y0, x1 - x0, 3)).astype(np.uint8)), (x0, y0))
    framed = []
    leaves = layout_leaves(img, framed_out=framed)
    assert all(any(box_iou(t, lf) >= 0.9 for lf in leaves) for t in truth)
    assert len(framed) == 1 and box_iou(framed[0], [10, 10, 411, 191]) >= 0.95  # the frame kept whole

    dark = Image.new("RGB", (420, 200), "black")
    ImageDraw.Draw(dark).rectangle([20, 20, 400, 180], fill="white")
    d = ImageDraw.Draw(dark)
    d.line([(60, 40), (60, 160), (360, 160)], fill="black", width=2)  # axes of a plot on the white panel
    d.rectangle([120, 60, 160, 158], fill=(30, 110, 180))
    d.rectangle([250, 100, 290, 158], fill=(240, 130, 20))
    small = dark.resize((410, 195), Image.Resampling.LANCZOS)  # a grey blend along the panel's edge
    assert any(box_iou(lf, [20, 20, 391, 176]) >= 0.9 for lf in layout_leaves(small))


def _grid_leaves():
    """A 400 x 300 figure's leaves: four panel contents in a 2x2 grid and the letter glyph above each."""
    contents = [[20, 20, 180, 130], [220, 20, 380, 130], [20, 170, 180, 280], [220, 170, 380, 280]]
    glyphs = [[5, 5, 14, 15], [205, 5, 214, 15], [5, 155, 14, 165], [205, 155, 214, 165]]
    return contents, glyphs


def test_layout_quality_counts_panels_too_small_and_panels_that_cross():
    from mednarratives.articles.subfigures import layout_quality
    contents, glyphs = _grid_leaves()
    anchors = dict(zip("abcd", glyphs))
    panels = [[g[0], g[1], c[2], c[3]] for g, c in zip(glyphs, contents)]
    assert layout_quality(panels, anchors, 4, 400, 300, 0.02) == (1, 0, 4, 0.0, 0.0)
    assert layout_quality(panels[:3] + [glyphs[3]], anchors, 4, 400, 300, 0.02)[:2] == (0, -1)  # a letter alone
    crossed = [panels[0], [100, 5, 380, 130]] + panels[2:]  # one panel cut, a half grouped with its neighbour
    assert layout_quality(crossed, anchors, 4, 400, 300, 0.02)[:2] == (0, -1)
    assert layout_quality(panels[:3], anchors, 4, 400, 300, 0.02)[0] == 0  # not the caption's count


def test_choose_layout_drops_a_letter_read_in_a_word_of_another_panel():
    from mednarratives.articles.subfigures import choose_layout
    contents, glyphs = _grid_leaves()
    word = [100, 50, 109, 60]  # "b" read in a word inside panel A; the real B glyph went unread
    leaves = contents + glyphs + [word]
    img = Image.new("RGB", (400, 300), "white")
    anchors = {"a": glyphs[0], "b": word, "c": glyphs[2], "d": glyphs[3]}
    panels, kept = choose_layout(img, anchors, leaves, 4)
    truth = [[g[0], g[1], c[2], c[3]] for g, c in zip(glyphs, contents)]
    assert sorted(panels) == sorted(truth) and set(kept) == {"a", "c", "d"}
    # every letter read heads its panel: the grouping around all of them stands
    panels, kept = choose_layout(img, dict(zip("abcd", glyphs)), contents + glyphs, 4)
    assert sorted(panels) == sorted(truth) and set(kept) == set("abcd")


def test_layout_panels_join_small_stops_at_the_panel_sized_groups():
    from mednarratives.articles.subfigures import layout_panels
    contents, _ = _grid_leaves()
    img = Image.new("RGB", (400, 300), "white")
    row_labels = [[2, 40, 8, 110], [2, 190, 8, 260]]  # beside the left panels: they join them
    shared = [[386, 120, 398, 180]]  # a legend between the right panels, too far to join either without swelling
    got = layout_panels(img, {}, contents + row_labels + shared, n_panels=4, join_small=True)
    assert sorted(got) == sorted([[2, 20, 180, 130], [220, 20, 380, 130], [2, 170, 180, 280], [220, 170, 380, 280]])


def test_detections_nested_one_each_in_layout_panels():
    from mednarratives.articles.subfigures import _nested
    panels = [[0, 0, 200, 150], [200, 0, 400, 150]]
    assert _nested([([30, 20, 190, 140], 0.9), ([230, 20, 390, 140], 0.8)], panels)
    assert not _nested([([30, 20, 190, 140], 0.9), ([40, 30, 180, 130], 0.8)], panels)  # both in one panel
    assert not _nested([([30, 20, 390, 140], 0.9), ([230, 20, 390, 140], 0.8)], panels)  # one spans two


def test_spaced_letters_drop_a_read_that_follows_a_letter_too_closely():
    from mednarratives.articles.subfigures import _spaced_letters
    read = {"a": [10, 5, 20, 17], "b": [210, 5, 220, 17], "c": [245, 5, 255, 17],  # "B IHC": the C of a title
            "d": [10, 205, 19, 217], "e": [10, 240, 19, 252]}                      # E read under D in its label
    assert set(_spaced_letters(read)) == {"a", "b", "d"}
    assert _spaced_letters({k: read[k] for k in "abd"}) == {k: read[k] for k in "abd"}  # panels apart: all stay


def test_letter_grid_completes_the_rows_and_columns_of_the_letters_placed():
    from mednarratives.articles.subfigures import letter_grid
    read = {"a": [5, 5, 14, 15], "c": [405, 5, 414, 15], "h": [205, 305, 214, 315]}
    unread = [[205, 6, 213, 15], [5, 155, 14, 165], [205, 155, 214, 165], [405, 156, 413, 165], [5, 305, 14, 315],
              [405, 305, 414, 315]]
    contents = [[x + 15, y + 15, x + 190, y + 140] for y in (5, 155, 305) for x in (5, 205, 405)]
    leaves = contents + unread
    # the glyph placed for a missing letter (D's) and the empty nodes take the missing letters in reading order
    assert letter_grid(leaves, read, [unread[1]], list("bdefgi")) == dict(zip("bdefgi", unread))
    # a glyph placed under the wrong letter is renamed by its place in the grid
    assert letter_grid(leaves, read, [unread[3]], list("bdefgi")) == dict(zip("bdefgi", unread))
    # no leaf at a node (its glyph touches the content beside it): a box of the letters' size at the node
    assert letter_grid(leaves[:-1], read, [unread[1]], list("bdefgi")) == dict(zip("bdefgi", unread))
    assert letter_grid(leaves, read, [unread[1]], list("bdefg")) == {}  # 3 x 3 nodes, 8 panels named
    assert letter_grid(leaves, {"a": read["a"]}, [], list("bcdefghi")) == {}


def test_panel_sized_excludes_strips_across_panels():
    from mednarratives.articles.subfigures import _panel_sized
    assert _panel_sized([0, 0, 200, 150], 1000, 500, 0.02)
    assert not _panel_sized([0, 0, 60, 60], 1000, 500, 0.02)      # a legend: too small
    assert not _panel_sized([0, 0, 1000, 40], 1000, 500, 0.02)    # a header across the figure: large but a strip


def test_loose_leaves_join_the_letter_of_their_row_before_one_of_their_column():
    from mednarratives.articles.subfigures import _panels_from_letters
    # K heads a short panel, M the wide one below it that reaches right under K
    anchors = {"k": [200, 600, 209, 610], "m": [5, 770, 14, 780]}
    leaves = [[215, 615, 450, 760], [20, 785, 360, 980], [250, 800, 350, 900]]
    got = _panels_from_letters(800, 1000, leaves, anchors, 0.02)
    assert sorted(got) == sorted([[200, 600, 450, 760], [5, 770, 360, 980]])


def test_a_leaf_does_not_grow_a_panel_over_another_letter():
    """a and b side by side, a wide arrow drawn from a's plot to b's, starting under a: joined to a (the letter
    above-left of it) it would grow a's panel over b's letter; it goes to no letter and, too large to join a panel
    without swelling it, is dropped."""
    from mednarratives.articles.subfigures import _panels_from_letters
    anchors = {"a": [5, 5, 14, 15], "b": [405, 5, 414, 15]}
    plot_a, plot_b, arrow = [20, 20, 300, 300], [420, 20, 700, 300], [100, 150, 520, 166]
    got = _panels_from_letters(800, 400, [plot_a, plot_b, arrow], anchors, 0.02)
    assert sorted(got) == [[5, 5, 300, 300], [405, 5, 700, 300]]


def test_glyphs_in_line_with_a_glyph_placed_are_placed_too():
    """A, B, C read along the top; D's glyph lines up with A (its column), E's only with D (their row)."""
    from mednarratives.articles.subfigures import letter_slots, placed_letters
    read = {"a": [10, 5, 20, 17], "b": [260, 5, 270, 17], "c": [750, 5, 760, 17]}
    d, e = [10, 457, 20, 469], [500, 457, 510, 469]
    contents = [[30, 25, 240, 440], [280, 25, 740, 440], [770, 25, 970, 440], [30, 480, 480, 890], [520, 480, 970, 890]]
    leaves = list(read.values()) + [d, e] + contents
    assert letter_slots(leaves, read, ["d", "e"]) == {"d": d}
    assert placed_letters(leaves, read, ["d", "e"]) == {"d": d, "e": e}


def test_letters_down_columns_then_along_a_row_are_placed_between_their_neighbours():
    """A B / C D / E F down three columns, G H along a row under them (A, C, E, F, G, H read): D's glyph falls
    between C and H column by column, so it is D; then of B's glyph (in line with A and G) and a tick label in
    line with H alone, B's is the letter."""
    from mednarratives.articles.subfigures import placed_letters
    read = {"a": [12, 15, 20, 25], "c": [341, 15, 349, 25], "e": [658, 15, 664, 25], "f": [658, 213, 664, 223],
            "g": [11, 410, 19, 420], "h": [492, 410, 500, 420]}
    b, d, tick = [12, 197, 20, 207], [341, 213, 349, 223], [496, 366, 500, 374]
    contents = [[30, 30, 320, 180], [30, 215, 320, 380], [360, 30, 640, 190], [360, 230, 610, 380],
                [680, 30, 930, 190], [680, 230, 930, 380], [30, 430, 470, 580], [510, 430, 950, 580]]
    assert placed_letters(list(read.values()) + [b, d, tick] + contents, read, ["b", "d"]) == {"b": b, "d": d}


def test_a_leaf_of_touching_panels_is_cut_rows_first_where_columns_would_cut_a_panel():
    """A, B, C over D, E, all touching (one leaf): cut along A, B, C's columns first, the piece under B would
    hold D's or E's letter too; rows first, then each row at its letters, gives the five panels. A, B over C, D
    in a 2 x 2 grid cuts either way (columns first)."""
    from mednarratives.articles.subfigures import _split_by_anchors
    letters = [[10, 5, 20, 17], [260, 5, 270, 17], [750, 5, 760, 17], [10, 457, 20, 469], [500, 457, 510, 469]]
    got = _split_by_anchors([10, 5, 975, 900], letters, 20)
    assert sorted(got) == sorted([[10, 5, 258, 455], [258, 5, 748, 455], [748, 5, 975, 455], [10, 455, 498, 900],
                                  [498, 455, 975, 900]])
    grid = [[10, 5, 20, 17], [500, 5, 510, 17], [10, 457, 20, 469], [500, 457, 510, 469]]
    assert sorted(_split_by_anchors([10, 5, 975, 900], grid, 20)) == sorted(
        [[10, 5, 498, 455], [10, 455, 498, 900], [498, 5, 975, 455], [498, 455, 975, 900]])
    assert _split_by_anchors([10, 5, 975, 900], grid[:1], 20) == [[10, 5, 975, 900]]


def test_choose_layout_takes_framed_boxes_as_panels_where_their_insides_group_worse():
    """Three panels drawn as framed boxes, the first two closer than the rows of text inside the last one: grouped
    from the leaves inside the frames, a row of the last panel comes out as a panel (a fault); the frames kept
    whole are the panels."""
    from mednarratives.articles.subfigures import choose_layout, layout_quality
    img = Image.new("RGB", (400, 330), "white")
    frames = [[5, 5, 395, 95], [5, 100, 395, 190], [5, 195, 395, 325]]
    inside = [[15, 15, 385, 88], [15, 110, 385, 180],  # A and B: 22 px apart
              [15, 205, 385, 220], [15, 255, 385, 270], [15, 300, 385, 315]]  # C: rows of text 35 and 30 px apart
    panels, _ = choose_layout(img, {}, inside, 3, framed=frames)
    assert sorted(panels) == frames
    assert layout_quality(choose_layout(img, {}, inside, 3)[0], {}, 3, 400, 330, 0.02)[0] == 0


def test_letter_slots_take_the_bracketed_glyph_over_a_title_capital_on_a_letters_row():
    """(A) and (C) read at the far left; (B) unread between its brackets (cut apart by the layout), and a capital
    of a map title ("B0") on A's row: the bracketed glyph is B's slot, brackets beside it do not make it a word."""
    from mednarratives.articles.subfigures import letter_slots
    anchors = {"a": [7, 1, 22, 18], "c": [7, 763, 22, 780]}
    b, title = [8, 522, 22, 539], [749, 5, 765, 22]
    leaves = [[0, 0, 5, 22], anchors["a"], [23, 0, 28, 22], [0, 522, 6, 544], b, [23, 522, 29, 544],
              [0, 763, 6, 784], anchors["c"], [23, 763, 29, 784], title, [40, 30, 960, 740]]
    assert letter_slots(leaves, anchors, ["b"]) == {"b": b}
    # without the brackets beside it, the glyph on the letters' row is taken (tick labels line up under a letter)
    bare = [x for x in leaves if x not in ([0, 522, 6, 544], [23, 522, 29, 544])]
    assert letter_slots(bare, anchors, ["b"]) == {"b": title}


def test_slots_are_named_column_major_where_the_letters_run_down_columns():
    """A, C, E on the top row and F under E: named column by column (A B / C D / E F) each glyph placed falls
    between two letters read that leave a letter for it, row by row the one under C falls between E and F; so of
    the two glyphs placed, the one under A is B although the one under C starts higher."""
    from mednarratives.articles.subfigures import letter_slots, name_slots
    read = {"a": [63, 5, 77, 21], "c": [445, 8, 457, 24], "e": [745, 8, 755, 23], "f": [745, 260, 754, 275]}
    under_a, under_c = [64, 316, 76, 330], [445, 260, 459, 274]
    leaves = list(read.values()) + [under_c, under_a, [90, 30, 420, 300], [470, 30, 720, 250]]
    assert letter_slots(leaves, read, ["b", "d"]) == {"b": under_a, "d": under_c}
    row_major = {"a": [5, 5, 15, 15], "b": [205, 5, 215, 15], "c": [5, 205, 15, 215]}
    s1, s2 = [205, 200, 215, 210], [5, 400, 15, 410]
    assert name_slots(row_major, [s2, s1], ["d", "e"]) == {"d": s1, "e": s2}


def test_slots_take_the_letter_between_their_neighbours_not_the_first_missing_one():
    """a b / c d / e f with a, c, d, f read and only e's glyph placed (b's glyph touches an arrow): it is e, the
    letter between d and f, not b, the first letter missing."""
    from mednarratives.articles.subfigures import name_slots
    read = {"a": [0, 35, 10, 46], "c": [1, 360, 10, 370], "d": [451, 356, 461, 370], "f": [451, 667, 457, 681]}
    e = [0, 670, 10, 681]
    assert name_slots(read, [e], ["b", "e"]) == {"e": e}
    # b, d, f read down the right column: the glyphs placed on the left are a, c, e from the top
    right = {"b": [450, 5, 462, 21], "d": [450, 300, 462, 316], "f": [450, 600, 462, 616]}
    left = [[5, 600, 15, 616], [5, 5, 15, 21], [5, 300, 15, 316]]
    assert name_slots(right, left, ["a", "c", "e"]) == {"a": left[1], "c": left[2], "e": left[0]}


def test_lone_glyphs_see_past_brackets_only_on_both_sides():
    from mednarratives.articles.subfigures import _lone_glyphs
    b, left, right = [10, 100, 24, 117], [2, 98, 7, 121], [27, 98, 32, 121]
    assert _lone_glyphs([left, b, right], 17) == [b]           # "(B)" cut into three leaves
    assert _lone_glyphs([b, right], 17) == []                  # "el": a tall thin letter beside it, a word


def test_refine_with_blocks_replaces_detections_the_layout_explains():
    from mednarratives.articles.subfigures import refine_with_blocks
    ground = np.ones((200, 300), bool)  # all background, but for a panel's own grey ground below
    cells = [[20, 20, 90, 80], [110, 20, 180, 80], [20, 110, 90, 170], [110, 110, 180, 170]]
    # loose boxes around the cells of a grid (one holds two): the cells
    loose = [([0, 0, 100, 95], 0.9), ([100, 5, 195, 185], 0.8), ([5, 100, 98, 190], 0.7)]
    out, used = refine_with_blocks(loose, cells, ground)
    assert used and [b for b, _ in out] == cells and [s for _, s in out][0] == 0.35
    # ... unless the box's room beside them is content the layout has no leaf for (a panel's grey ground)
    grey = ground.copy()
    grey[0:95, 0:100] = False
    assert not refine_with_blocks(loose, cells, grey)[1]
    # a detection alone inside its block (the plot without its title and tick labels): the block
    blocks = [[10, 10, 140, 190], [160, 10, 290, 190]]
    out, used = refine_with_blocks([([30, 30, 130, 170], 0.9), ([180, 30, 280, 170], 0.9)], blocks, ground)
    assert used and [b for b, _ in out] == blocks
    # two detections cut across a block (two quadrants of four): the block; tiling it (touching panels): kept
    quadrants = [([10, 10, 75, 100], 0.9), ([75, 100, 140, 190], 0.9), ([180, 30, 280, 170], 0.9)]
    assert [b for b, _ in refine_with_blocks(quadrants, blocks, ground)[0]] == blocks
    halves = [([10, 10, 75, 190], 0.9), ([75, 10, 140, 190], 0.9), ([180, 30, 280, 170], 0.9)]
    assert refine_with_blocks(halves, blocks, ground) == (halves, False)
    # a detection around blocks of unequal size (a panel the gutters cut into pieces), or overlapping blocks
    pieces = [[10, 10, 40, 190], [50, 10, 140, 190]]
    assert not refine_with_blocks([([5, 5, 145, 195], 0.9)], pieces, ground)[1]
    assert not refine_with_blocks([([30, 30, 130, 170], 0.9)], [[10, 10, 140, 190], [130, 10, 290, 190]],
                                  ground)[1]


def _touching_grid(rows=2, cols=3, cell=120, line=True, flat=False, blank=()):
    """rows x cols touching cells (random texture, or one flat colour each with `flat`), separated by a one-pixel
    light line (`line`) or by nothing but the step between neighbours, on a white figure with a 20 px margin;
    cells in `blank` are left white. Returns (image, truth cell boxes)."""
    rng = np.random.default_rng(1)
    a = np.full((rows * cell + 40, cols * cell + 40, 3), 255, np.uint8)
    truth = []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = 20 + c * cell, 20 + r * cell
            if (r, c) in blank:
                continue
            if flat:
                a[y0:y0 + cell, x0:x0 + cell] = (60 + 60 * c, 200 - 50 * r, 120)
            else:
                tex = rng.integers(0, 256, size=(cell // 8, cell // 8, 3)).astype(np.uint8)
                a[y0:y0 + cell, x0:x0 + cell] = np.asarray(Image.fromarray(tex).resize((cell, cell)))
                a[y0:y0 + cell, x0:x0 + cell] //= (1 + (r + c) % 2)  # neighbours differ in brightness
            truth.append([x0, y0, x0 + cell, y0 + cell])
    if line:
        for c in range(1, cols):
            a[20:20 + rows * cell, 20 + c * cell] = 220
        for r in range(1, rows):
            a[20 + r * cell, 20:20 + cols * cell] = 220
    return Image.fromarray(a), truth


def test_touching_cells_cut_a_grid_of_touching_images_along_their_edges():
    from mednarratives.articles.figure_devset import DevFigure, score_panels
    from mednarratives.articles.subfigures import layout_leaves, touching_cells
    for line in (True, False):
        img, truth = _touching_grid(line=line)
        leaves = layout_leaves(img)
        assert len(leaves) == 1  # no background gutter: one leaf
        got = touching_cells(img, leaves)
        assert score_panels({"f": got}, [DevFigure("f", img, truth, [None] * 6)])["found"] == 6, line
    # two neighbouring blank cells: their edge is missing, the pitch still places it; blank cells go
    img, truth = _touching_grid(blank={(0, 1), (0, 2)})
    got = touching_cells(img, layout_leaves(img))
    assert score_panels({"f": got}, [DevFigure("f", img, truth, [None] * 4)])["found"] == 4 == len(got)
    # a heat map's flat cells: no grid of images; no step large enough: no edge
    img, _ = _touching_grid(rows=2, cols=2, flat=True)
    assert touching_cells(img, layout_leaves(img)) == layout_leaves(img)
    img, _ = _touching_grid()
    assert touching_cells(img, layout_leaves(img), step=255) == layout_leaves(img)


def test_grid_headers_and_row_labels_are_no_panels_titles_over_every_cell_are_kept():
    from mednarratives.articles.subfigures import _drop_grid_labels
    cells = [[50, 40, 150, 140], [160, 40, 260, 140], [50, 150, 150, 250], [160, 150, 260, 250]]
    headers = [[70, 5, 130, 25], [180, 5, 240, 25]]
    row_labels = [[10, 60, 30, 120], [10, 170, 30, 230]]
    assert _drop_grid_labels(cells + headers + row_labels) == cells
    # one cell of the right column blank: its header, on the line of the others, names the column too
    assert _drop_grid_labels(cells[:3] + headers) == cells[:3]
    titled = [[50, 40, 150, 130], [160, 40, 260, 130], [50, 160, 150, 250], [160, 160, 260, 250]]
    titles = [[80, 20, 120, 35], [190, 20, 230, 35], [80, 138, 120, 153], [190, 138, 230, 153]]
    assert _drop_grid_labels(titled + titles) == titled + titles


def test_a_black_scan_on_its_black_ground_keeps_its_ground_between_white_gutters():
    from mednarratives.articles.subfigures import layout_detect
    a = np.zeros((200, 410, 3), np.uint8)  # two black screens, the figure's border black, a white gutter
    a[:, 200:210] = 255
    a[20:180, 5:195] = 120  # the left scan fills its screen
    a[60:140, 280:340] = 200  # the right one is a small bright sector on black
    got, _ = layout_detect(Image.fromarray(a), ())
    assert sorted(got) == [[0, 0, 200, 200], [210, 0, 410, 200]]
