"""Scoring of the real caption/citation dev set (devsets/articles/captions): the scorer on a generated article,
and the bars of issue #22 on the real articles."""

from __future__ import annotations

from pathlib import Path

from mednarratives.articles.score import devset_summary_lines, score_caption_devset
from mednarratives.io import write_json

DEVSET = Path(__file__).resolve().parents[2] / "devsets" / "articles" / "captions"

ARTICLE = """<article xmlns:xlink="http://www.w3.org/1999/xlink"><body><sec>
<p>Both lungs are shown (<xref ref-type="fig" rid="F1">Figure 1A</xref>). The right lung is clear (Figure 1B).
Figure 2 is a chart.</p>
<fig id="F1"><label>Figure 1</label><caption><p>Chest CT. (A) Left lung. (B) Right lung.</p></caption>
<graphic xlink:href="f1.jpg"/></fig>
<fig id="F2"><label>Figure 2</label><caption><p>Survival chart.</p></caption><graphic xlink:href="f2.jpg"/></fig>
</sec></body></article>"""


def _truth(cit1=2, right="Chest CT. Right lung."):
    return {"a.xml": [
        {"id": "F1", "label": "Figure 1", "graphic": "f1.jpg", "citing_sentences": cit1,
         "subcaptions": [{"labels": ["A"], "text": "Chest CT. Left lung."}, {"labels": ["B"], "text": right}]},
        {"id": "F2", "label": "Figure 2", "graphic": "f2.jpg", "citing_sentences": 1,
         "subcaptions": [{"labels": [], "text": "Survival chart."}]}]}


def test_scorer_on_a_generated_article(tmp_path):
    (tmp_path / "a.xml").write_text(ARTICLE)
    write_json(tmp_path / "truth.json", _truth())
    r = score_caption_devset(tmp_path)
    assert (r["figures"]["accuracy"], r["citations"]["accuracy"], r["subcaptions"]["exact_match"]) == (1.0, 1.0, 1.0)
    assert r["subcaptions"]["panels_total"] == 3 and not r["errors"]
    write_json(tmp_path / "truth.json", _truth(cit1=3, right="Chest CT. Right lung is clear."))
    r = score_caption_devset(tmp_path)
    assert r["citations"]["correct"] == 1 and r["subcaptions"]["correct"] == 1
    assert r["subcaptions"]["panels_correct"] == 2
    assert [line.split()[-1] for line in devset_summary_lines(r)] == ["PASS", "FAIL", "FAIL"]


def test_real_caption_devset_meets_the_bars():
    r = score_caption_devset(DEVSET)
    assert r["subcaptions"]["total"] >= 60 and r["figures"]["total"] >= 90
    assert r["figures"]["accuracy"] == 1.0, r["errors"].get("figures")
    assert r["citations"]["accuracy"] >= 0.98, r["errors"].get("citations")
    assert r["subcaptions"]["exact_match"] >= 0.95, r["errors"].get("subcaptions")
