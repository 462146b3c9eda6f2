"""Realistic training figures for the sub-figure detector (articles.synthetic.training_figures)."""

import numpy as np

from mednarratives.articles import synthetic
from mednarratives.articles.synthetic import layout_figure, training_figures
from mednarratives_demo.articles import article_ids


def _overlap(a, b) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def test_training_figures_are_deterministic_mixed_and_never_demo_articles():
    a = list(training_figures(6, seed=7, realistic_share=0.65))
    b = list(training_figures(6, seed=7, realistic_share=0.65))
    assert [n for n, _, _ in a] == [n for n, _, _ in b]
    assert all(x[1].tobytes() == y[1].tobytes() and x[2] == y[2] for x, y in zip(a, b))
    realistic = [n for n, _, _ in a if n.startswith("SYNL")]
    assert 0 < len(realistic) < len(a)  # both realistic layouts and the demo articles' style
    demo = set(article_ids(100, 0))
    assert not any(n.split("_")[0] in demo for n, _, _ in a)


def test_layout_figure_boxes_are_disjoint_panels_that_cover_the_ink():
    for i in range(6):
        img, boxes = layout_figure(np.random.default_rng(i))
        W, H = img.size
        assert boxes
        assert all(0 <= b[0] < b[2] <= W and 0 <= b[1] < b[3] <= H for b in boxes)
        assert all(_overlap(p, q) == 0 for k, p in enumerate(boxes) for q in boxes[k + 1:])
        arr = np.asarray(img.convert("L")).astype(int)
        bg = np.median(np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]]))
        outside = np.ones_like(arr, bool)
        for x0, y0, x1, y1 in boxes:
            outside[y0:y1, x0:x1] = False
        # only shared titles / legends and JPEG ringing lie outside the panels
        assert (np.abs(arr - bg)[outside] > 60).mean() < 0.03


def test_panel_box_holds_its_letter_and_title_above_the_content():
    from PIL import Image
    white, cell = (255, 255, 255), (40, 30, 340, 230)
    style = synthetic._LetterStyle("above", "{}", True, "DejaVuSans-Bold.ttf", 24, "auto")

    def box(label: str, title: str) -> list[int]:
        canvas = Image.new("RGB", (400, 300), white)
        return synthetic._panel(canvas, cell, "table", np.random.default_rng(0), white, style, label, title)

    bare = box("", "")
    assert bare[0] >= cell[0] + 2 and bare[1] >= cell[1] + 4  # the table's rule and text start inside its cell
    lettered = box("A", "")
    assert lettered[:2] == [cell[0] + 1, cell[1] + 1]  # the letter's ink at the top-left, inside the box
    titled = box("", "control")
    assert titled[1] == cell[1] + 1
