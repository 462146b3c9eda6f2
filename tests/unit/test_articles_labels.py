"""Panel-label OCR: glyph candidates near panel corners, both polarities, one tesseract process per batch."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from mednarratives.articles.labels import find_candidates, glyph_image, read_figure_labels, read_glyphs, saturation

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr not installed")


def figure(labels, placements, dark_panel=(True, False, True, False)):
    """A 2x2 figure of smooth gradient panels with drawn labels; returns (image, panel boxes)."""
    rng = np.random.default_rng(0)
    img = Image.new("RGB", (420, 420), "white")
    boxes = [[0, 0, 200, 200], [220, 0, 420, 200], [0, 220, 200, 420], [220, 220, 420, 420]]
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 28)
    for (x0, y0, x1, y1), lab, place, dark in zip(boxes, labels, placements, dark_panel):
        base = 30 if dark else 225
        yy, xx = np.mgrid[0:200, 0:200]
        panel = np.clip(base + 10 * np.sin(xx / 17.0) + rng.normal(0, 2, (200, 200)), 0, 255).astype(np.uint8)
        img.paste(Image.fromarray(panel).convert("RGB"), (x0, y0))
        if lab:
            x = x0 + 8 if place == "top_left" else x1 - 30
            d.text((x, y0 + 6), lab, font=font, fill="white" if dark else "black")
    return img, boxes


@needs_tesseract
def test_reads_labels_of_both_polarities_with_high_confidence():
    img, boxes = figure("ABCD", ["top_left", "top_right", "top_left", "top_left"])
    reads = read_figure_labels([(img, boxes)])[0]
    got = [r[0].text.upper() if r else "" for r in reads]
    assert got == ["A", "B", "C", "D"]
    assert all(r[0].conf >= 0.6 for r in reads)


@needs_tesseract
def test_unlabelled_panels_give_no_confident_letter():
    img, boxes = figure([None] * 4, ["top_left"] * 4)
    reads = read_figure_labels([(img, boxes)])[0]
    assert all(not r or r[0].conf < 0.8 for r in reads)


def test_candidates_stop_at_the_panel_above():
    img, boxes = figure("AB  ", ["top_left"] * 4)
    gray = np.asarray(img.convert("L"))
    # the strip above panel C (y 164..220) would hold nothing of panel A's label at y 6..34
    for c in find_candidates(gray, boxes):
        if c.place == "above":
            assert c.box[1] >= 200


@needs_tesseract
def test_read_glyphs_batch_keeps_order_and_handles_blank_pages():
    font = ImageFont.truetype(FONT, 60)
    pages = []
    for ch in ("Q", None, "k"):
        im = Image.new("L", (120, 120), 255)
        if ch:
            ImageDraw.Draw(im).text((30, 20), ch, font=font, fill=0)
        pages.append(im)
    out = read_glyphs(pages)
    assert len(out) == 3
    assert out[0][0] == "Q" and out[2][0] == "k" and out[1] == ("", 0.0)
    assert read_glyphs([]) == []


def test_follows_is_reading_order():
    from mednarratives.articles.labels import _follows
    a, right, below, above_right = [10, 10, 20, 24], [200, 12, 210, 26], [10, 200, 20, 214], [200, -40, 210, -26]
    assert _follows(a, right) and _follows(a, below) and not _follows(a, above_right) and not _follows(right, a)


def test_layout_letters_come_first_among_a_panels_reads():
    from mednarratives.articles.labels import LabelCandidate, with_layout_letters
    own = [[LabelCandidate(0, "top_left", "dark", [0, 0, 9, 9], 1.0, text="R", conf=0.9)], []]
    got = with_layout_letters(own, [[("A", 0.85, [2, 2, 9, 11])], []])
    assert [(c.text, c.conf, c.place) for c in got[0]] == [("A", 0.85, "layout"), ("R", 0.9, "top_left")]
    assert got[0][0].box == [2, 2, 9, 11]
    assert got[1] == []


@needs_tesseract
def test_find_anchors_reads_the_panel_letters_of_a_figure():
    from mednarratives.articles.labels import find_anchors
    from mednarratives.articles.subfigures import layout_leaves
    img, boxes = figure(["A", "B", "C", "D"], ["top_left"] * 4)
    reads = {}
    anchors = find_anchors(img, layout_leaves(img), ["A", "B", "C", "D"], reads_out=reads)
    assert set(anchors) >= {"a", "b", "c", "d"}
    assert {k: t for k, (t, _) in reads.items()} == {"a": "A", "b": "B", "c": "C", "d": "D"}  # in their case
    assert all(0.3 <= c <= 1 for _, c in reads.values())
    for k, b in zip("abcd", boxes):  # each letter sits in its own panel
        a = anchors[k]
        assert b[0] <= (a[0] + a[2]) / 2 <= b[2] and b[1] <= (a[1] + a[3]) / 2 <= b[3]


@needs_tesseract
def test_yellow_letters_inside_grey_and_red_images_are_read_on_the_colour_view():
    """'(A)' in yellow at the bottom right of a grey scan or a red heat map: about the brightness of its
    background, so only the saturation view separates it."""
    rng = np.random.default_rng(1)
    img = Image.new("RGB", (420, 200), "white")
    boxes = [[0, 0, 200, 200], [220, 0, 420, 200]]
    grey = np.clip(212 + rng.normal(0, 6, (200, 200)), 0, 255).astype(np.uint8)
    img.paste(Image.fromarray(grey).convert("RGB"), (0, 0))
    red = np.zeros((200, 200, 3), np.uint8)
    red[..., 0], red[..., 1], red[..., 2] = 235, np.clip(200 + rng.normal(0, 6, (200, 200)), 0, 255), 190
    img.paste(Image.fromarray(red), (220, 0))
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 30)
    for (x0, y0, x1, y1), lab in zip(boxes, "AB"):
        d.text((x1 - 62, y1 - 44), f"({lab})", font=font, fill=(250, 235, 0))
    gray = np.asarray(img.convert("L"))
    grey_only = find_candidates(gray, boxes)
    grey_reads = read_glyphs([glyph_image(gray, c) for c in grey_only])
    assert not any(t.upper() in "AB" and t and conf >= 0.6 and c.place == "bottom_right"
                   for c, (t, conf) in zip(grey_only, grey_reads))  # the grey levels alone miss them
    reads = read_figure_labels([(img, boxes)])[0]
    got = [next((c for c in r if c.place == "bottom_right" and c.conf >= 0.6), None) for r in reads]
    assert [c.text.upper() if c else "" for c in got] == ["A", "B"]
    assert all(c.polarity == "colour" for c in got)


def test_grey_figures_get_no_colour_view():
    img, boxes = figure("ABCD", ["top_left"] * 4)
    gray = np.asarray(img.convert("L"))
    assert not any(c.polarity == "colour" for c in find_candidates(gray, boxes, sat=saturation(img)))


def test_letter_choice_takes_a_column_major_order_and_prefers_letters_in_line():
    from mednarratives.articles.labels import _choose_in_order
    # (a real figure's letters) A, B at the bottom right of two plots on the left, C, D, E at the top left of three
    # plots on the right: C (a weak read) breaks reading order once, D and E follow it again
    a, b = (408, 282, 431, 309), (411, 675, 429, 703)
    c, d, e = (575, 39, 595, 68), (575, 278, 596, 305), (579, 517, 594, 544)
    got = _choose_in_order({"a": {a: 0.9}, "b": {b: 0.9}, "c": {c: 0.6}, "d": {d: 0.9}, "e": {e: 0.9}}, 1.0, 0.25)
    assert got == {"a": list(a), "b": list(b), "c": list(c), "d": list(d), "e": list(e)}
    # B read twice: in A's column (as panel letters are) and, a little more confidently, on a scattered glyph
    a, b, stray = (16, 12, 30, 27), (16, 240, 27, 255), (58, 36, 70, 52)
    got = _choose_in_order({"a": {a: 0.95}, "b": {b: 0.9, stray: 0.93}}, 1.0, 0.25)
    assert got["b"] == list(b)
    assert _choose_in_order({"a": {a: 0.95}, "b": {b: 0.9, stray: 0.93}}, 1.0, 0.0)["b"] == list(stray)
    # two characters of one word share their top but are no row of letters
    from mednarratives.articles.labels import _in_line
    assert not _in_line(a, (32, 12, 44, 27)) and _in_line(a, (216, 12, 228, 27)) and _in_line(a, b)
    assert not _in_line(a, stray)


def one_leaf_figure():
    """Four dark images touching one another (one layout leaf), each with a white letter near its top-left
    corner: only A sits in a corner of the leaf."""
    rng = np.random.default_rng(1)
    img = Image.fromarray(np.clip(40 + rng.normal(0, 3, (400, 400)), 0, 255).astype(np.uint8)).convert("RGB")
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 22)
    spots = {"A": (8, 6), "B": (208, 6), "C": (8, 206), "D": (208, 206)}
    for lab, xy in spots.items():
        d.text(xy, lab, font=font, fill="white")
    return img, spots


def test_line_candidates_are_glyphs_in_the_row_and_column_of_a_letter():
    from mednarratives.articles.labels import line_candidates
    img, spots = one_leaf_figure()
    gray = np.asarray(img.convert("L"))
    a = [9, 10, 23, 26]  # about where A is drawn
    boxes = [c.box for c in line_candidates(gray, [a])]
    near = lambda xy: any(abs(b[0] - xy[0]) <= 6 and abs(b[1] - xy[1]) <= 10 for b in boxes)  # noqa: E731
    assert near(spots["B"]) and near(spots["C"])  # its row and its column
    assert not near(spots["D"]) and not near(spots["A"])  # neither in line with A nor apart from it


@needs_tesseract
def test_find_anchors_finds_letters_inside_one_large_leaf_along_rows_and_columns():
    from mednarratives.articles.labels import LetterOptions, find_anchors
    img, spots = one_leaf_figure()
    leaves = [[0, 0, 400, 400]]
    anchors = find_anchors(img, leaves, list("ABCD"))
    assert set(anchors) == {"a", "b", "c", "d"}
    for k, (x, y) in spots.items():
        box = anchors[k.lower()]
        assert abs(box[0] - x) <= 6 and abs(box[1] - y) <= 10
    # no search: the corner letter only
    assert set(find_anchors(img, leaves, list("ABCD"), LetterOptions(rounds=0))) == {"a"}


def test_of_two_near_equal_reads_the_one_in_the_rows_and_columns_is_kept():
    from mednarratives.articles.labels import _more_in_line
    # A, B down the left column; C read in B's row (0.61) and, a little less confidently, under B (0.60)
    a, b, c_row, c_col = (16, 12, 30, 27), (16, 240, 27, 255), (758, 242, 771, 257), (15, 391, 29, 406)
    by_letter = {"a": {a: 0.96}, "b": {b: 0.92}, "c": {c_row: 0.61, c_col: 0.60}}
    upper = {a, b, c_row, c_col}
    chosen = {"a": list(a), "b": list(b), "c": list(c_row)}
    assert _more_in_line(chosen, by_letter, upper)["c"] == list(c_col)
    # not for a clearly weaker read, another case or another size
    assert _more_in_line(chosen, {**by_letter, "c": {c_row: 0.8, c_col: 0.6}}, upper)["c"] == list(c_row)
    assert _more_in_line(chosen, by_letter, upper - {c_col})["c"] == list(c_row)
    big = (15, 391, 35, 421)
    assert _more_in_line(chosen, {**by_letter, "c": {c_row: 0.61, big: 0.6}}, upper | {big})["c"] == list(c_row)


def test_brackets_around_a_letter_are_found_in_one_leaf_and_beside_it():
    from mednarratives.articles.labels import between_brackets, _inside_brackets
    mask = np.zeros((24, 30), bool)
    mask[0:24, 1:4] = True      # "("
    mask[3:20, 8:22] = True     # the letter
    mask[0:24, 26:29] = True    # ")"
    ys, xs, inner = _inside_brackets(mask)
    assert (ys.start, ys.stop, xs.start, xs.stop) == (3, 20, 8, 22) and inner.all()
    no_brackets = np.zeros((24, 30), bool)
    no_brackets[3:20, 2:12] = True  # "AB": two glyphs as wide as high
    no_brackets[3:20, 15:27] = True
    assert _inside_brackets(no_brackets) is None
    letter, left, right = [10, 100, 24, 117], [2, 98, 7, 121], [27, 98, 32, 121]
    assert between_brackets(letter, [left, letter, right])
    assert not between_brackets(letter, [left, letter])                      # one bracket only
    assert not between_brackets(letter, [left, letter, [27, 98, 40, 121]])   # a wide glyph, no bracket


@needs_tesseract
def test_find_anchors_prefers_bracketed_letters_to_letters_in_map_titles():
    """Letters "(A)".."(C)" at the far left of rows of dark maps whose white titles hold capitals ("B0", "Cartesian
    A"): the bracketed glyphs are read (brackets stripped) and win over the title's characters."""
    from mednarratives.articles.labels import find_anchors
    from mednarratives.articles.subfigures import layout_leaves
    img = Image.new("RGB", (640, 620), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT.replace("-Bold", ""), 22)
    for r, lab in enumerate("ABC"):
        y = 10 + 205 * r
        d.text((2, y), f"({lab})", font=font, fill="black")
        for c in range(3):
            x0 = 60 + 190 * c
            d.rectangle([x0, y, x0 + 185, y + 190], fill=(20, 20, 30))
            d.ellipse([x0 + 30, y + 40, x0 + 150, y + 170], fill=(200, 180, 40))
            d.text((x0 + 6, y + 4), "BCA"[c] + "0 map", font=font, fill="white")
    leaves = layout_leaves(img)
    anchors = find_anchors(img, leaves, ["A", "B", "C"])
    assert set(anchors) <= {"a", "b", "c"} and len(anchors) >= 2
    assert all(a[0] < 40 for a in anchors.values())  # at the far left, none in a title


def test_line_candidates_reach_down_to_x_height_letters_when_asked():
    """Lower-case panel letters: "c" on the row of a "b" is an x-height short of it; the row search finds it only
    with a lower `shortest` share of the letter's height."""
    from mednarratives.articles.labels import line_candidates
    img = Image.new("L", (400, 60), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 26)
    d.text((4, 10), "b", font=font, fill=0)
    d.text((300, 10), "c", font=font, fill=0)
    gray = np.asarray(img)
    ys, xs = np.nonzero(gray[:, :40] < 128)
    b = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    assert not [c for c in line_candidates(gray, [b]) if c.box[0] > 250]
    found = [c for c in line_candidates(gray, [b], shortest=0.55) if c.box[0] > 250]
    assert len(found) == 1 and found[0].box[3] - found[0].box[1] < 0.75 * (b[3] - b[1])


@needs_tesseract
def test_a_caseless_letter_read_in_the_other_case_is_kept(monkeypatch):
    """Capitals A-D where Tesseract reads the "C" as "c" (the two glyphs are alike): the case check that drops
    reads of another case than most letters keeps it."""
    from mednarratives.articles import labels
    from mednarratives.articles.subfigures import layout_leaves
    real = labels.read_glyphs
    monkeypatch.setattr(labels, "read_glyphs",
                        lambda imgs, **kw: [(t.replace("C", "c"), c) for t, c in real(imgs, **kw)])
    img, _ = figure(["A", "B", "C", "D"], ["top_left"] * 4)
    anchors = labels.find_anchors(img, layout_leaves(img), ["A", "B", "C", "D"])
    assert set(anchors) == {"a", "b", "c", "d"}


def test_a_glyph_right_after_text_on_its_line_is_no_letter_candidate():
    """'Family-Wide': the d follows the i closely on its line (a character of a word, not a panel letter); a letter
    after a bracket, or with a title after it, or after text further than a word gap, stays a candidate."""
    from mednarratives.articles.labels import follows_text
    i_, d, e = [100, 10, 104, 24], [106, 10, 114, 24], [116, 13, 124, 24]
    assert follows_text(d, [i_, d, e])
    assert not follows_text(i_, [i_, d, e])                      # starts its line; "de" after it does not count
    bracket = [96, 8, 100, 27]
    assert not follows_text(d, [bracket, d])                     # "(d"
    assert not follows_text(d, [[80, 10, 90, 24], d])            # text 16 px (over 0.8 of 14) to its left
    assert not follows_text(d, [[100, 30, 104, 44], d])          # text left of it on another line


def test_a_letter_with_its_full_stop_in_one_leaf_is_cut_before_the_stop():
    """"b." drawn as one leaf: the candidate is the b alone (Tesseract reads "b." at no confidence); a lone glyph or
    a glyph with a wide component after it ("bc") is left whole."""
    from mednarratives.articles.labels import _before_full_stop, anchor_candidates
    img = Image.new("L", (60, 40), 255)
    ImageDraw.Draw(img).text((5, 5), "b.", font=ImageFont.truetype(FONT, 24), fill=0)
    gray = np.asarray(img)
    ys, xs = np.nonzero(gray < 128)
    leaf = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    (cand,) = anchor_candidates(gray, [leaf])
    assert cand.box[0] == leaf[0] and cand.box[2] < leaf[2] - 3  # the stop cut off, the b kept
    assert cand.mask.shape == (cand.box[3] - cand.box[1], cand.box[2] - cand.box[0])
    whole = np.zeros((20, 14), bool)
    whole[2:18, 2:12] = True
    assert _before_full_stop(whole) is None
    two = np.zeros((20, 26), bool)
    two[2:18, 2:12], two[8:18, 14:24] = True, True  # a second letter, not a dot
    assert _before_full_stop(two) is None
