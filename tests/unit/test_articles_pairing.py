"""Sub-figure <-> sub-caption pairing (paper 8.5: OCR at 95% then 80%, the fallback cases) and inline refs."""

from __future__ import annotations

from mednarratives.articles.pairing import inline_refs, pair_figure

GRID = [[0, 0, 100, 100], [110, 0, 210, 100], [0, 110, 100, 210], [110, 110, 210, 210]]  # 2x2, reading order


def subs(*labels, context="Shared context."):
    return [{"labels": [lab], "text": f"Text {lab}.", "context": context} for lab in labels]


def panels(boxes, reads=None):
    reads = reads or {}
    return [{"box": b, "label_candidates": [{"text": t, "conf": c} for t, c in reads.get(i, [])]}
            for i, b in enumerate(boxes)]


def by_panel(res):
    return {p.panel: (p.labels, p.method) for p in res.pairs}


def test_confident_ocr_pairs_even_against_reading_order():
    # column-major labels: A C / B D, read with confidence >= 0.95
    reads = {0: [("a", 0.97)], 1: [("C", 0.99)], 2: [("B", 0.96)], 3: [("d", 0.98)]}
    res = pair_figure(panels(GRID, reads), subs("A", "B", "C", "D"))
    got = by_panel(res)
    assert [got[i][0] for i in range(4)] == [["A"], ["C"], ["B"], ["D"]]
    assert {m for _, m in got.values()} == {"ocr95"}
    assert res.pairs[1].caption == "Shared context. Text C."


def test_paper_sequence_second_pass_at_80_percent_and_single_leftover():
    # without the reading-order prior: the paper's steps. Panel 1 reads "b" at 0.85 only (second pass);
    # panel 3 reads nothing: the last one left (case 1)
    reads = {0: [("A", 0.99)], 1: [("x", 0.99), ("b", 0.85)], 2: [("C", 0.96)]}
    got = by_panel(pair_figure(panels(GRID, reads), subs("A", "B", "C", "D"), use_reading_order=False))
    assert got[0] == (["A"], "ocr95")
    assert got[1] == (["B"], "ocr80")
    assert got[2] == (["C"], "ocr95")
    assert got[3] == (["D"], "single_leftover")


def test_low_confidence_reads_are_ignored_and_reading_order_decides():
    reads = {0: [("D", 0.5)], 1: [("C", 0.79)]}
    got = by_panel(pair_figure(panels(GRID, reads), subs("A", "B", "C", "D")))
    assert [got[i] for i in range(4)] == [(["A"], "reading_order"), (["B"], "reading_order"),
                                          (["C"], "reading_order"), (["D"], "reading_order")]


def test_two_panels_reading_the_same_letter():
    reads = {0: [("A", 0.99)], 1: [("A", 0.99)]}
    got = by_panel(pair_figure(panels(GRID[:2], reads), subs("A", "B")))
    assert got == {0: (["A"], "ocr95"), 1: (["B"], "reading_order")}
    # the paper's sequence pairs neither by OCR; the last step leaves both unpaired
    res = pair_figure(panels(GRID[:2], reads), subs("A", "B"), use_reading_order=False)
    assert [p.panel for p in res.pairs] == [None] and res.unpaired_panels == {0: "unpaired", 1: "unpaired"}


def test_one_confident_misread_does_not_break_reading_order():
    reads = {3: [("a", 0.83)], 0: [("A", 0.9)]}
    got = by_panel(pair_figure(panels(GRID, reads), subs("A", "B", "C", "D")))
    assert [got[i][0][0] for i in range(4)] == ["A", "B", "C", "D"]
    assert got[0][1] == "ocr80" and got[3][1] == "reading_order"


def test_spatial_labels_use_box_positions():
    boxes = [[300, 0, 400, 100], [0, 0, 100, 100]]  # reading order does not matter here
    got = by_panel(pair_figure(panels(boxes), subs("left", "right")))
    assert got == {0: (["right"], "spatial"), 1: (["left"], "spatial")}
    rows = [[0, 0, 100, 50], [0, 60, 100, 110]]
    got = by_panel(pair_figure(panels(rows), subs("top", "bottom")))
    assert got == {0: (["top"], "spatial"), 1: (["bottom"], "spatial")}
    quad = pair_figure(panels(GRID), subs("top left", "top right", "bottom left", "bottom right"))
    assert [p.labels[0] for p in quad.pairs] == ["top left", "top right", "bottom left", "bottom right"]


def test_caption_without_labels_pairs_the_whole_figure():
    res = pair_figure(panels(GRID), [{"labels": [], "text": "One concept in four images.", "context": ""}])
    assert len(res.pairs) == 1 and res.pairs[0].panel is None and res.pairs[0].method == "whole_figure"
    assert res.pairs[0].caption == "One concept in four images."
    assert res.unpaired_panels == {i: "caption_not_compound" for i in range(4)}
    assert res.case == "not_compound"


def test_single_detected_panel_with_compound_caption_keeps_the_whole_figure():
    res = pair_figure(panels([[0, 0, 210, 210]]), subs("A", "B"), caption="Whole caption (A) x (B) y.")
    assert [p.panel for p in res.pairs] == [None]
    assert res.pairs[0].caption == "Whole caption (A) x (B) y."
    assert res.unpaired_labels == ["A", "B"]


def test_more_panels_than_labels_leaves_unread_panels_unpaired():
    reads = {1: [("A", 0.99)], 3: [("B", 0.97)]}
    res = pair_figure(panels(GRID, reads), subs("A", "B"))  # no detection scores: the paper's steps
    assert by_panel(res) == {1: (["A"], "ocr95"), 3: (["B"], "ocr95")}
    assert res.unpaired_panels == {0: "unpaired", 2: "unpaired"}


def test_ranged_subcaption_goes_to_every_panel_of_the_range():
    sc = [{"labels": ["A", "B", "C"], "text": "Three views.", "context": "Ctx."},
          {"labels": ["D"], "text": "Fourth.", "context": "Ctx."}]
    res = pair_figure(panels(GRID), sc)
    assert [p.caption for p in res.pairs] == ["Ctx. Three views."] * 3 + ["Ctx. Fourth."]
    assert [p.subcaption for p in res.pairs] == [0, 0, 0, 1]


def test_inline_refs_whole_figure_and_panels():
    cits = [{"sentence": "Figure 1 shows it.", "panels": []},
            {"sentence": "See Fig. 1b.", "panels": ["b"]},
            {"sentence": "Figs 1A and C.", "panels": ["A", "C"]}]
    assert inline_refs(cits, ["A"]) == ["Figure 1 shows it.", "Figs 1A and C."]
    assert inline_refs(cits, ["B"]) == ["Figure 1 shows it.", "See Fig. 1b."]
    assert inline_refs(cits, []) == ["Figure 1 shows it.", "See Fig. 1b.", "Figs 1A and C."]


def test_surplus_detections_with_the_lowest_scores_stay_unpaired():
    boxes = GRID + [[0, 0, 210, 210]]  # a fifth, merged box
    ps = panels(boxes)
    for p, s in zip(ps, (0.9, 0.8, 0.85, 0.7, 0.3)):
        p["score"] = s
    res = pair_figure(ps, subs("A", "B", "C", "D"))
    assert by_panel(res) == {i: ([lab], "reading_order") for i, lab in enumerate("ABCD")}
    assert res.unpaired_panels == {4: "surplus_low_score"}


def test_letter_i_follows_h_unless_all_labels_are_roman():
    from mednarratives.articles.pairing import pair_figure
    boxes = [[i * 10, 0, i * 10 + 9, 9] for i in range(9)]
    panels = [{"box": b, "label_candidates": []} for b in boxes]
    subs = [{"labels": [x], "text": x, "context": ""} for x in "ABCDEFGHI"]
    got = {p.panel: p.labels[0] for p in pair_figure(panels, subs).pairs}
    assert [got[i] for i in range(9)] == list("ABCDEFGHI")
    subs = [{"labels": [x], "text": x, "context": ""} for x in ("i", "ii", "iii")]
    got = {p.panel: p.labels[0] for p in pair_figure(panels[:3], subs).pairs}
    assert [got[i] for i in range(3)] == ["i", "ii", "iii"]
