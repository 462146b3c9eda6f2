"""Synthetic PMC article packages: JATS validity, tar layout, pixel-exact panel and label truth, determinism."""

from __future__ import annotations

import collections
import io
import json
import re
import tarfile

import numpy as np
import pytest
from lxml import etree
from PIL import Image

from mednarratives.articles import synthetic as articles
from mednarratives.articles.synthetic import panel_pixels, plan_article
from mednarratives_demo import articles as demo_articles
from mednarratives_demo.articles import article_ids, build_article

SEED = 20250107
N = 12  # the default corpus: two passes over FIGURE_CYCLE
FIGURE_KEYS = {"id", "label", "graphic", "file", "width", "height", "medical", "domain", "caption",
               "caption_label_style", "shared_context", "panels"}
PANEL_KEYS = {"label", "box", "label_drawn", "label_text", "label_box", "subcaption", "source", "domain", "medical"}
XLINK = "{http://www.w3.org/1999/xlink}href"


def norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """{article_id: (truth, xml root, {member: bytes}, tar members)} for the default corpus."""
    out = tmp_path_factory.mktemp("articles")
    result = {}
    for aid in article_ids(N, SEED):
        tar_path, truth_path = out / f"{aid}.tar.gz", out / f"{aid}.truth.json"
        build_article(aid, SEED, str(tar_path), str(truth_path))
        with tarfile.open(tar_path) as tar:
            infos = tar.getmembers()
            data = {m.name: tar.extractfile(m).read() for m in infos if m.isfile()}
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(data[f"{aid}/{aid}.nxml"], parser)
        result[aid] = (json.loads(truth_path.read_text()), root, data, infos)
    return result


def figures(corpus):
    for aid, (truth, root, data, _) in corpus.items():
        for fig in truth["figures"]:
            yield aid, fig, root, data


def test_ids_are_pmc_style_and_stable():
    ids = article_ids(3, SEED)
    assert ids == ["PMC9000001", "PMC9000002", "PMC9000003"] == article_ids(3, SEED + 1)


def test_truth_schema(corpus):
    for truth, *_ in corpus.values():
        assert set(truth) == {"article_id", "pmcid", "title", "license", "figures", "citations"}
        assert truth["license"].startswith("CC BY ")
        for fig in truth["figures"]:
            assert set(fig) == FIGURE_KEYS
            assert 2 <= len(truth["figures"]) <= 4
            for p in fig["panels"]:
                assert set(p) == PANEL_KEYS
            assert fig["medical"] == any(p["medical"] for p in fig["panels"])
            assert fig["medical"] == (fig["domain"] is not None)
        for c in truth["citations"]:
            assert set(c) == {"sentence", "figures", "panels"}


def test_package_layout_is_pmc_like_and_deterministic_tar(corpus, tmp_path):
    for aid, (truth, root, data, infos) in corpus.items():
        assert infos[0].isdir() and infos[0].name == aid
        names = [m.name for m in infos[1:]]
        assert names == sorted(names) and all(n.startswith(f"{aid}/") for n in names)
        assert all(m.mtime == 0 and m.uid == m.gid == 0 and m.uname == m.gname == "" for m in infos)
    aid = next(iter(corpus))
    build_article(aid, SEED, str(tmp_path / "a.tar.gz"), str(tmp_path / "a.json"))
    raw = (tmp_path / "a.tar.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\x00\x00\x00\x00"  # gzip header mtime 0


def test_jats_front_matter(corpus):
    for aid, (truth, root, data, _) in corpus.items():
        text = data[f"{aid}/{aid}.nxml"].decode()
        assert text.startswith('<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving')
        meta = root.find("front/article-meta")
        ids = {e.get("pub-id-type"): e.text for e in meta.findall("article-id")}
        assert "PMC" + ids["pmc"] == truth["pmcid"] == aid and ids["pmid"].isdigit() and ids["doi"].startswith("10.")
        assert norm("".join(meta.find("title-group/article-title").itertext())) == truth["title"]
        assert meta.find("abstract/p") is not None
        lic = meta.find("permissions/license")
        assert "creativecommons.org/licenses/by/" in lic.get(XLINK)
        assert truth["license"] == "CC BY " + lic.get(XLINK).rstrip("/").rsplit("/", 1)[1]


def test_figures_match_xml_and_images(corpus):
    for aid, fig, root, data in figures(corpus):
        (el,) = root.xpath(f"//fig[@id='{fig['id']}']")
        assert el.findtext("label") == fig["label"]
        assert el.find("graphic").get(XLINK) == fig["graphic"]
        assert fig["file"] == f"{aid}/{fig['graphic'].removesuffix('.jpg')}.jpg" and fig["file"] in data
        assert norm("".join(el.find("caption").itertext())) == fig["caption"]
        img = Image.open(io.BytesIO(data[fig["file"]]))
        assert img.format == "JPEG" and img.size == (fig["width"], fig["height"])


def test_subcaptions_and_shared_context_come_from_the_caption(corpus):
    for _, fig, _, _ in figures(corpus):
        cap = fig["caption"]
        for part in filter(None, [fig["shared_context"]] + [p["subcaption"] for p in fig["panels"]]):
            pieces = [part] if part != fig["shared_context"] else re.split(r"(?<=\.) ", part)
            assert all(piece in cap for piece in pieces), ([piece for piece in pieces if piece not in cap], cap)
        letters = [p["label"] for p in fig["panels"]]
        if fig["caption_label_style"] in ("none",):
            assert all(p["subcaption"] == "" for p in fig["panels"]) and fig["shared_context"] == cap
        else:
            assert all(p["subcaption"] for p in fig["panels"])
        if fig["caption_label_style"] == "position":
            assert letters in (["left", "right"], ["top", "bottom"])
        elif len(fig["panels"]) == 1:
            assert letters == [None]


def test_panel_boxes_hold_the_source_pixels(corpus):
    for aid, (truth, root, data, _) in corpus.items():
        plan = plan_article(aid, SEED)
        for fig, fig_plan in zip(truth["figures"], plan.figures):
            img = np.asarray(Image.open(io.BytesIO(data[fig["file"]])).convert("RGB")).astype(int)
            background = img[0, 0] if not any(p["box"][:2] == [0, 0] for p in fig["panels"]) else None
            boxes = [p["box"] for p in fig["panels"]]
            for i, (p, pp) in enumerate(zip(fig["panels"], fig_plan.panels)):
                x0, y0, x1, y1 = p["box"]
                assert 0 <= x0 < x1 <= fig["width"] and 0 <= y0 < y1 <= fig["height"]
                assert all(x1 <= b[0] or b[2] <= x0 or y1 <= b[1] or b[3] <= y0 for b in boxes[i + 1:])
                assert list(pp.box) == p["box"] and pp.source == p["source"]
                region = img[y0:y1, x0:x1]
                assert region.std() > 5
                if background is not None:
                    assert np.abs(region - background).max() > 40
                mask = np.ones(region.shape[:2], bool)
                if p["label_box"]:
                    lx0, ly0, lx1, ly1 = np.array(p["label_box"]) - [x0, y0, x0, y0]
                    mask[max(ly0 - 8, 0):ly1 + 8, max(lx0 - 8, 0):lx1 + 8] = False
                clean = panel_pixels(pp).astype(int)
                diff = np.abs(region - clean)[mask].mean()
                assert diff < 4.5, (aid, fig["id"], p["source"], diff)  # JPEG q90 error only
                dx = 1 if x1 < fig["width"] else -1 if x0 > 0 else 0  # the box one pixel off fits worse
                dy = 1 if y1 < fig["height"] else -1 if y0 > 0 else 0
                if dx or dy:
                    shifted = img[y0 + dy:y1 + dy, x0 + dx:x1 + dx]
                    assert np.abs(shifted - clean)[mask].mean() > 1.3 * diff


def test_drawn_labels_are_visible_ink(corpus):
    drawn = 0
    for aid, (truth, root, data, _) in corpus.items():
        plan = plan_article(aid, SEED)
        for fig, fig_plan in zip(truth["figures"], plan.figures):
            img = np.asarray(Image.open(io.BytesIO(data[fig["file"]])).convert("L")).astype(int)
            for p, pp in zip(fig["panels"], fig_plan.panels):
                assert p["label_drawn"] == (p["label_box"] is not None) == (p["label_text"] is not None)
                if not p["label_drawn"]:
                    continue
                drawn += 1
                assert p["label_text"].strip("()").upper() == p["label"]
                lx0, ly0, lx1, ly1 = p["label_box"]
                x0, y0, x1, y1 = p["box"]
                assert x0 <= lx0 < lx1 <= x1 and ly1 <= y1 and ly0 >= 0
                ink = img[ly0:ly1, lx0:lx1]
                assert np.percentile(ink, 95) - np.percentile(ink, 5) > 60  # glyph strokes against their ground
                if ly0 >= y0:  # inside the panel: the label changed the panel's pixels
                    clean = np.asarray(Image.fromarray(panel_pixels(pp)).convert("L")).astype(int)
                    under = clean[ly0 - y0:ly1 - y0, lx0 - x0:lx1 - x0]
                    assert np.abs(ink - under).mean() > 15
    assert drawn >= 20


def test_citations_are_body_sentences(corpus):
    for aid, (truth, root, _, _) in corpus.items():
        body = norm("".join(root.find("body").itertext()))
        fig_labels = {f["id"]: {p["label"] for p in f["panels"]} for f in truth["figures"]}
        assert {f for c in truth["citations"] for f in c["figures"]} == set(fig_labels)  # every figure is cited
        for c in truth["citations"]:
            assert c["sentence"] in body
            assert c["figures"] and set(c["figures"]) <= set(fig_labels)
            for fid, letters in c["panels"].items():
                assert fid in c["figures"] and set(letters) <= fig_labels[fid]
                assert re.search(rf"{fid[1:]}\s?[{letters[0]}{letters[0].lower()}]", c["sentence"])


def test_default_corpus_covers_every_design(corpus):
    figs = [f for _, f, _, _ in figures(corpus)]
    panels = [p for f in figs for p in f["panels"]]
    assert {f["caption_label_style"] for f in figs} == {"paren", "comma", "close_paren", "period", "bold",
                                                        "position", "none"}
    assert {len(f["panels"]) for f in figs} >= {1, 2, 3, 4, 6}
    assert {p["source"] for p in panels} >= {"bar_chart", "line_chart", "flow_diagram"}
    assert {f["domain"] for f in figs} >= {"ct", "mri", "xray", "ultrasound", "ophthalmology", "histopathology", None}
    assert any(f["medical"] and not all(p["medical"] for p in f["panels"]) for f in figs)  # quantification panels
    assert {f["graphic"].endswith(".jpg") for f in figs} == {True, False}
    drawn = [p["label_text"] for p in panels if p["label_drawn"]]
    assert {t.startswith("(") for t in drawn} == {True, False}
    assert {t.strip("()").isupper() for t in drawn} == {True, False}
    assert any(f["caption_label_style"] != "none" and not any(p["label_drawn"] for p in f["panels"]) for f in figs)
    captions = " ".join(f["caption"] for f in figs)
    assert re.search(r"\(A[-\u2013][C-F]\)|\b[A][-\u2013][C-F],", captions)  # ranged sub-captions
    assert re.search(r"(^|\. )A \d+-year-old", captions)  # article "A", not a panel label
    sentences = [c["sentence"] for t, *_ in corpus.values() for c in t["citations"]]
    for pattern in (r"Figs\. \d\u2013\d", r"Figures \d and \d", r"\(Fig\. \d[a-f]\)", r"Figure \d[A-F] and [A-F]",
                    r"Figure \d[A-F]\u2013[A-F]"):
        assert any(re.search(pattern, s) for s in sentences), pattern
    plans = [f for aid in corpus for f in plan_article(aid, SEED).figures]
    assert {f.layout for f in plans} == set(articles.LAYOUTS)
    drawn_plans = [p.drawn for f in plans for p in f.panels if p.drawn]
    # drawn-label styles are random per figure: most of each kind show up in any 12 articles
    assert len({d.placement for d in drawn_plans}) >= 3 and len({d.font for d in drawn_plans}) >= 3
    assert {f.background for f in plans} >= {(255, 255, 255), (0, 0, 0)}
    assert min(d.size for d in drawn_plans) >= 14 and max(d.size for d in drawn_plans) <= 40


def test_body_mixes_xref_and_plain_references(corpus):
    kinds = collections.Counter()
    for truth, root, _, _ in corpus.values():
        xref_text = {norm("".join(x.itertext())) for x in root.iter("xref") if x.get("ref-type") == "fig"}
        for c in truth["citations"]:
            kinds["xref" if any(t in c["sentence"] for t in xref_text) else "plain"] += 1
    assert kinds["xref"] > 0 and kinds["plain"] > 0


def test_same_inputs_give_identical_bytes_and_seed_changes_content(tmp_path):
    aid = article_ids(2, SEED)[1]
    outputs = []
    for run, seed in (("a", SEED), ("b", SEED), ("c", SEED + 1)):
        build_article(aid, seed, str(tmp_path / f"{run}.tar.gz"), str(tmp_path / f"{run}.json"))
        outputs.append(((tmp_path / f"{run}.tar.gz").read_bytes(), (tmp_path / f"{run}.json").read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] != outputs[2][0]


def test_outputs_are_atomic(tmp_path, monkeypatch):
    def boom(fig):
        raise RuntimeError("render failed")

    monkeypatch.setattr(demo_articles, "render_figure", boom)
    with pytest.raises(RuntimeError):
        build_article("PMC9000001", SEED, str(tmp_path / "x.tar.gz"), str(tmp_path / "x.json"))
    assert list(tmp_path.iterdir()) == []
