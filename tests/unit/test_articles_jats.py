"""JATS parsing: metadata, full captions, own graphics, figure citations, sentence splitting, safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from mednarratives.articles.jats import (
    JatsParseError,
    find_figure_mentions,
    normalize_pmcid,
    parse_figure_list,
    parse_jats,
    resolve_graphic,
    split_sentences,
)

REALDATA = Path("/work/shared/realdata/jats")
DEVSETS = Path(__file__).resolve().parents[2] / "devsets" / "articles"

DOCTYPE = ('<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.0 '
           '20120330//EN" "JATS-archivearticle1.dtd">')
NS = 'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML"'

ARTICLE = f"""<?xml version="1.0" encoding="UTF-8"?>
{DOCTYPE}
<article {NS} article-type="research-article">
<front>
 <journal-meta><journal-title-group><journal-title>Test Journal</journal-title></journal-title-group></journal-meta>
 <article-meta>
  <article-id pub-id-type="pmid">123456</article-id>
  <article-id pub-id-type="pmc">7654321</article-id>
  <article-id pub-id-type="doi">10.1000/test.1</article-id>
  <title-group><article-title>MRI of the <italic>rotator</italic> cuff</article-title></title-group>
  <permissions><license license-type="open-access" xlink:href="http://creativecommons.org/licenses/by/4.0/">
   <license-p>This is an open access article.</license-p></license></permissions>
 </article-meta>
</front>
<body>
 <sec id="s1"><title>Results</title>
  <p>Overview of the cohort is given in <xref ref-type="fig" rid="F1">Fig. 1</xref>. Coronal MRI showed fluid
   (<xref ref-type="fig" rid="F2">Figure 2A</xref> and C). Wang et al. reported similar findings, e.g. in
   Fig. 3 of their study. Figs. 1&#x2013;3 summarise everything.</p>
  <p>Axial images (Figs <xref ref-type="fig" rid="F1">1</xref> and <xref ref-type="fig" rid="F3">3</xref>) agree.
   Supplementary Figure 2 shows the protocol and Figure S1 the raw data. No figure here.</p>
  <p>Panel B of the third figure is shown separately (<xref ref-type="fig" rid="G3">3B</xref>).
   <table-wrap id="T1"><label>Table 1</label><caption><p>Mentioned in Figure 1 too.</p></caption></table-wrap>
   In the sagittal plane (Fig.&nbsp;2, left) the tear is visible.</p>
  <p>An inline figure follows.
   <fig id="F2" position="float"><label>Figure 2</label>
    <caption><title>Coronal MRI of the shoulder</title>
     <p><bold>(A)</bold> T2-weighted image with <italic>fluid</italic> in the bursa
      [<xref ref-type="bibr" rid="B1">1</xref>].
      <bold>(B)</bold> T1 image, 10<sup>3</sup> cells/mm<sup>2</sup>&hellip;</p>
     <p>Arrows indicate the tear; see <inline-graphic xlink:href="inline-icon.gif"/> icon.&unknownent;</p>
    </caption>
    <alternatives><graphic mimetype="image" position="float" xlink:href="test.g002"/>
     <graphic xlink:href="test.g002.print"/></alternatives>
   </fig>
  </p>
  <fig id="F1" position="float"><label>Fig. 1</label><caption><p>Flow diagram.</p></caption>
   <graphic xlink:href="test.g001.jpg"/></fig>
 </sec>
 <sec><title>Panels</title>
  <fig-group id="G3"><label>Figure 3</label><caption><p>Group caption for both panels.</p></caption>
   <fig id="F3a"><label>A</label><caption><p>Left knee.</p></caption><graphic xlink:href="test.g003a"/></fig>
   <fig id="F3b"><label>B</label><caption><p>Right knee.</p></caption><graphic xlink:href="test.g003b"/></fig>
  </fig-group>
 </sec>
</body>
<back>
 <app-group><app id="app1"><title>Appendix</title>
  <p>The appendix figure (Figure A1) is cited once.</p>
  <fig id="FA1"><label>Figure A1</label><caption><p>Appendix image.</p></caption><graphic xlink:href="test.ga1"/></fig>
 </app></app-group>
 <ref-list><ref id="B1"><mixed-citation>Ref one. Fig. 1 in a reference list is no citation.</mixed-citation>
 </ref></ref-list>
</back>
<floats-group>
 <fig id="F4"><label>Figure 4</label><caption><p>Floating figure cited nowhere.</p></caption>
  <graphic xlink:href="test.g004"/></fig>
</floats-group>
<sub-article article-type="reviewer-report" id="r1"><body>
 <fig id="R1"><label>Figure 1</label><caption><p>Reviewer figure.</p></caption><graphic xlink:href="r1"/></fig>
</body></sub-article>
</article>
""".encode("utf-8")


@pytest.fixture(scope="module")
def art():
    return parse_jats(ARTICLE)


def test_metadata(art):
    assert (art.pmcid, art.pmid, art.doi) == ("PMC7654321", "123456", "10.1000/test.1")
    assert art.title == "MRI of the rotator cuff"
    assert art.journal == "Test Journal"
    assert art.license == "http://creativecommons.org/licenses/by/4.0/"
    assert art.license_code == "CC BY"
    assert art.license_text == "This is an open access article."


def test_figures_everywhere_but_sub_articles(art):
    assert [f.id for f in art.figures] == ["F2", "F1", "F3a", "F3b", "FA1", "F4"]
    loc = {f.id: f.location for f in art.figures}
    assert loc == {"F2": "body", "F1": "body", "F3a": "body", "F3b": "body", "FA1": "back", "F4": "floats-group"}
    assert {f.id: f.number for f in art.figures} == {"F2": "2", "F1": "1", "F3a": "3", "F3b": "3", "FA1": "A1",
                                                     "F4": "4"}


def test_full_caption_with_title_all_paragraphs_inline_markup_and_entities(art):
    f = art.figure("F2")
    assert f.label == "Figure 2"
    assert f.caption_title == "Coronal MRI of the shoulder"
    assert f.caption == ("Coronal MRI of the shoulder. (A) T2-weighted image with fluid in the bursa [1]. "
                         "(B) T1 image, 103 cells/mm2\u2026 Arrows indicate the tear; see icon.")
    assert f.caption_marked.startswith("Coronal MRI of the shoulder. <b>(A)</b> T2-weighted")
    assert "<b>(B)</b> T1 image" in f.caption_marked
    assert "&" not in f.caption


def test_own_graphic_not_inline_graphic_not_first_attribute(art):
    f = art.figure("F2")
    assert f.graphic == "test.g002"
    assert f.graphics == ["test.g002", "test.g002.print"]
    assert art.figure("F1").graphic == "test.g001.jpg"
    assert art.figure("F3a").graphic == "test.g003a"
    assert art.figure("F3b").graphic == "test.g003b"


def test_fig_group_members(art):
    a, b = art.figure("F3a"), art.figure("F3b")
    assert (a.group_id, a.group_label, a.panel, a.caption) == ("G3", "Figure 3", "A", "Left knee.")
    assert b.group_caption == "Group caption for both panels."
    assert b.panel == "B"


def _cites(art, fid):
    return [(c.sentence, c.panels) for c in art.figure(fid).citations]


def test_citations_xref_and_plain_text(art):
    assert _cites(art, "F1") == [
        ("Overview of the cohort is given in Fig. 1.", []),
        ("Figs. 1\u20133 summarise everything.", []),
        ("Axial images (Figs 1 and 3) agree.", []),
    ]
    assert _cites(art, "F2") == [
        ("Coronal MRI showed fluid (Figure 2A and C).", ["A", "C"]),
        ("Figs. 1\u20133 summarise everything.", []),
        ("In the sagittal plane (Fig. 2, left) the tear is visible.", ["left"]),
    ]
    # "Fig. 3" of another study is not this article's figure 3; "3B" picks the group member labelled B
    assert _cites(art, "F3a") == [("Figs. 1\u20133 summarise everything.", []),
                                  ("Axial images (Figs 1 and 3) agree.", [])]
    assert _cites(art, "F3b") == [("Figs. 1\u20133 summarise everything.", []),
                                  ("Axial images (Figs 1 and 3) agree.", []),
                                  ("Panel B of the third figure is shown separately (3B).", [])]
    assert _cites(art, "FA1") == [("The appendix figure (Figure A1) is cited once.", [])]
    assert _cites(art, "F4") == []


def test_no_citation_from_supplementary_tables_captions_or_references(art):
    sentences = [c.sentence for c in art.citations]
    assert not any("Supplementary" in s or "Figure S1" in s for s in sentences)
    assert not any("Mentioned in" in s or "reference list" in s for s in sentences)
    assert len(art.citations) == 7
    c = next(c for c in art.citations if c.sentence.startswith("Coronal"))
    assert c.figures == {"F2": ["A", "C"]} and c.mentions == ["Figure 2A and C"]


@pytest.mark.parametrize("text, expected", [
    ("2", {"2": []}),
    ("2B", {"2": ["B"]}),
    ("1-3", {"1": [], "2": [], "3": []}),
    ("1\u20133", {"1": [], "2": [], "3": []}),
    ("1 and 3", {"1": [], "3": []}),
    ("2A and C", {"2": ["A", "C"]}),
    ("1a", {"1": ["a"]}),
    ("3A\u2013C", {"3": ["A", "B", "C"]}),
    ("3A\u20133C", {"3": ["A", "B", "C"]}),
    ("3B and 3D", {"3": ["B", "D"]}),
    ("4, 6, and 7", {"4": [], "6": [], "7": []}),
    ("3, S3, S4, and S7b", {"3": []}),
    ("S1", {}),
    ("2(a-c)", {"2": ["a", "b", "c"]}),
    ("1 and a", {"1": []}),
])
def test_parse_figure_list(text, expected):
    assert parse_figure_list(text) == expected


@pytest.mark.parametrize("text, numbers, supplementary", [
    ("as shown in Fig. 2.", {"2": []}, False),
    ("(Figure 2B)", {"2": ["B"]}, False),
    ("see Figs. 1-3 for details", {"1": [], "2": [], "3": []}, False),
    ("Figures 1 and 3 show", {"1": [], "3": []}, False),
    ("(Fig. 1a)", {"1": ["a"]}, False),
    ("in FIGURE 4, top", {"4": ["top"]}, False),
    ("Supplementary Figure 2 shows", {}, True),
    ("Supplemental Fig. 3", {}, True),
    ("Additional file 1: Figure 4", {}, True),
    ("Figure S1", {}, True),
    # eLife figure supplements and appendix figures are figures of their own (issue #22)
    ("Figure 2\u2014figure supplement 1A,B", {"2-SUPPLEMENT-1": ["A", "B"]}, False),
    ("Figure 2\u2014figure supplements 1 and 2", {"2-SUPPLEMENT-1": [], "2-SUPPLEMENT-2": []}, False),
    ("in Appendix 1\u2014figure 3", {"APPENDIX1-3": []}, False),
    ("(Fig. 7, left)", {"7": ["left"]}, False),
])
def test_find_figure_mentions(text, numbers, supplementary):
    (m,) = find_figure_mentions(text)
    assert m.numbers == numbers
    assert m.supplementary is supplementary


def test_another_articles_figure_is_external():
    (m,) = find_figure_mentions("as in Figure 1A of another article (not linked here)")
    assert m.external
    (m,) = find_figure_mentions("as in Figure 1A of our previous study")
    assert m.external


ELIFE = f"""<article {NS}><front><article-meta><article-id pub-id-type="doi">10.7554/eLife.1</article-id>
</article-meta></front><body><sec><title>Results</title>
<p>Cells divide (<xref ref-type="fig" rid="fig1">Figure 1A</xref>). The supplement shows more
(<xref ref-type="fig" rid="fig1s1">Figure 1\u2014figure supplement 1B</xref>). Both supplements agree
(Figure 1\u2014figure supplements 1 and 2). Appendix data differ (Appendix 1\u2014figure 1). Unlinked work
differs (Figure 1A of another article). Left and right (Fig. 2, left) are compared.</p>
<fig-group><fig id="fig1"><label>Figure 1.</label><caption><title>Division.</title><p>(<bold>A</bold>) Cells.
(<bold>B</bold>) Nuclei.</p><p><bold>DOI:</bold> <ext-link ext-link-type="doi" xlink:href="10.7554/eLife.1.003">
http://dx.doi.org/10.7554/eLife.1.003</ext-link></p></caption><graphic xlink:href="f1.tif"/></fig>
<fig id="fig1s1"><label>Figure 1\u2014figure supplement 1.</label><caption><title>More.</title></caption>
<graphic xlink:href="f1s1.tif"/></fig>
<fig id="fig1s2"><label>Figure 1\u2014figure supplement 2.</label><caption><title>Even more.</title></caption>
<graphic xlink:href="f1s2.tif"/></fig></fig-group>
<fig id="fig2"><label>Figure 2.</label><caption><title>Two.</title></caption><graphic xlink:href="f2.tif"/></fig>
</sec></body><back><app-group><app id="appendix-1"><title>Appendix 1</title>
<fig id="app1fig1"><label>Appendix 1\u2014figure 1.</label><caption><title>Appendix.</title></caption>
<graphic xlink:href="a1.tif"/></fig></app></app-group></back></article>"""


def test_elife_supplements_appendix_figures_and_doi_trailer():
    art = parse_jats(ELIFE.encode())
    cited = {f.id: [(c.sentence.split()[0], c.panels) for c in f.citations] for f in art.figures}
    assert cited == {"fig1": [("Cells", ["A"])],
                     "fig1s1": [("The", ["B"]), ("Both", [])],
                     "fig1s2": [("Both", [])],
                     "fig2": [("Left", ["left"])],
                     "app1fig1": [("Appendix", [])]}
    assert art.figure("fig1").caption == "Division. (A) Cells. (B) Nuclei."
    assert "DOI" not in art.figure("fig1").caption_marked


def test_no_mention_in_configuration_or_figure_legends():
    assert find_figure_mentions("The configuration 2 and figure legends were fine.") == []


def test_sentences_do_not_split_at_abbreviations():
    text = ("As shown in Fig. 2, Wang et al. (2010) found e.g. oedema, i.e. fluid. The next sentence starts here. "
            "E. coli grew (Figs. 3 and 4). Finally panel B. Done! *p < 0.05.")
    assert split_sentences(text) == [
        "As shown in Fig. 2, Wang et al. (2010) found e.g. oedema, i.e. fluid.",
        "The next sentence starts here.",
        "E. coli grew (Figs. 3 and 4).",
        "Finally panel B.",
        "Done!",
        "*p < 0.05.",
    ]


def test_sentences_with_line_breaks_units_and_initials():
    text = ("The area was 3 m\u00b2. The\nnext. cf.\nFig. 2 shows it. Then (a. U-fiber; b. ILF) and G.T. Plunkett "
            "et al.\nwrote e.g.\u00a0this. End.")
    assert split_sentences(text) == ["The area was 3 m\u00b2.", "The next. cf. Fig. 2 shows it.",
                                     "Then (a. U-fiber; b.", "ILF) and G.T. Plunkett et al. wrote e.g. this.", "End."]


def test_sentences_do_not_end_at_a_bracketed_symbol():
    # real (Insects 4:287, Fig 5, CC BY 3.0): "(?)" is a legend symbol, not the end of a question
    assert split_sentences("G0 is the parental generation. (?) Represent flies of unknown status. End.") == [
        "G0 is the parental generation. (?) Represent flies of unknown status.", "End."]


def test_mentions_with_case_folding_characters():
    # "ſ" and "ı" match s and i under re.I without lower-casing to them: the keyword look-up must not miss them
    assert [(m.numbers, m.supplementary) for m in find_figure_mentions("See \u017fupplementary Fig. 2 here.")] == \
        [({}, True)]
    assert [m.numbers for m in find_figure_mentions("In Append\u0131x 1\u2014figure 2 and")] == [{"APPENDIX1-2": []}]
    assert [m.supplementary for m in find_figure_mentions("Online Figure 3 shows")] == [True]
    assert parse_figure_list("12") == {"12": []}


def test_simple_figure_lists_match_the_tokenizer():
    from mednarratives.articles.jats import _parse_figure_list
    assert _parse_figure_list("2AA") == ({"2": ["A"]}, 3)      # panels once each
    assert _parse_figure_list("2Ab") == ({"2": ["A", "b"]}, 3)
    assert _parse_figure_list("2ABC") == ({"2": []}, 1)         # three letters: a word, not panels
    assert _parse_figure_list("S1A") == ({}, 3)                 # supplementary


def test_normalize_pmcid():
    assert normalize_pmcid("3166277") == "PMC3166277"
    assert normalize_pmcid("pmc3166277.2") == "PMC3166277"
    assert normalize_pmcid("doi:10.1/x") == ""


def test_resolve_graphic():
    files = {"journal.pcbi.1004692.g001.tif": 1, "journal.pcbi.1004692.g001.jpg": 1, "x.g002.gif": 1, "a.txt": 1}
    assert resolve_graphic("info:doi/10.1371/journal.pcbi.1004692.g001", files) == "journal.pcbi.1004692.g001.jpg"
    assert resolve_graphic("x.g002", files) == "x.g002.gif"
    assert resolve_graphic("x.g002.gif", files) == "x.g002.gif"
    assert resolve_graphic("missing", files) is None
    assert resolve_graphic(None, files) is None


# --------------------------------------------------------------------------------------------- safety

def test_external_entity_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xml = (f'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY xxe SYSTEM "file://{secret}">]>'
           '<article><front><article-meta><title-group><article-title>T &xxe; end</article-title>'
           '</title-group></article-meta></front></article>').encode()
    art = parse_jats(xml)
    assert art.title == "T end"
    assert "TOPSECRET" not in repr(art.to_dict())


def test_billion_laughs_is_refused_before_expansion():
    ents = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE article [{ents}]><article><front><article-meta><title-group>'
           '<article-title>&l9;</article-title></title-group></article-meta></front></article>').encode()
    with pytest.raises(JatsParseError) as e:
        parse_jats(xml)
    assert e.value.reason == "xml_syntax"
    assert "amplification" in e.value.detail  # libxml2 stopped the expansion itself (10^9 characters never built)


@pytest.mark.parametrize("data, reason", [
    (b"<article><body><p>unclosed</body></article>", "xml_syntax"),
    (b"<html><body/></html>", "not_jats"),
    (b"", "xml_syntax"),
])
def test_bad_xml_raises_with_reason(data, reason):
    with pytest.raises(JatsParseError) as e:
        parse_jats(data)
    assert e.value.reason == reason


def test_file_errors(tmp_path):
    with pytest.raises(JatsParseError) as e:
        parse_jats(tmp_path / "missing.nxml")
    assert e.value.reason == "unreadable"
    big = tmp_path / "big.nxml"
    big.write_bytes(ARTICLE)
    with pytest.raises(JatsParseError) as e:
        parse_jats(big, max_bytes=1000)
    assert e.value.reason == "too_large"
    assert parse_jats(big).pmcid == "PMC7654321"


def test_namespaced_oai_article_and_pmcid_hint():
    xml = (b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><GetRecord><record><metadata>'
           b'<article xmlns="https://jats.nlm.nih.gov/ns/archiving/1.3/" '
           b'xmlns:xlink="http://www.w3.org/1999/xlink"><body><sec><p>See Figure 1.</p>'
           b'<fig id="f1"><label>Figure 1</label><caption><p>Cap.</p></caption>'
           b'<graphic xlink:href="g1"/></fig></sec></body></article></metadata></record></GetRecord></OAI-PMH>')
    art = parse_jats(xml, pmcid="123")
    assert art.pmcid == "PMC123"
    (f,) = art.figures
    assert (f.id, f.graphic, f.caption) == ("f1", "g1", "Cap.")
    assert [c.sentence for c in f.citations] == ["See Figure 1."]


# ----------------------------------------------------------------------------------------- real files

GRAPHIC_PATTERN = {  # the own graphic of figure n, as the publisher names it
    "1471-2180-11-174.nxml": "1471-2180-11-174-{n}",
    "ehp-116-1694.nxml": "ehp-116-1694f{n}",
    "journal.pcbi.1004692.xml": "info:doi/10.1371/journal.pcbi.1004692.g00{n}",
    "journal.pmed.1001786.xml": "info:doi/10.1371/journal.pmed.1001786.g00{n}",
    "journal.pone.0146913.xml": "info:doi/10.1371/journal.pone.0146913.g00{n}",
    "mds526.nxml": "mds5260{n}",
    "pntd.0002065.nxml": "pntd.0002065.g00{n}",
    "pone.0000217.nxml": "pone.0000217.g00{n}",
    "pone.0046493.nxml": "pone.0046493.g00{n}",
}
REAL_FIGURES = {  # file -> (pmcid, figures, figures cited at least once)
    "1471-2180-11-174.nxml": ("PMC3166277", 4, 4),
    "ehp-116-1694.nxml": ("PMC2599765", 3, 3),
    "journal.pcbi.1004692.xml": ("journal.pcbi.1004692", 7, 7),
    "journal.pmed.1001786.xml": ("journal.pmed.1001786", 7, 7),
    "journal.pone.0146913.xml": ("journal.pone.0146913", 4, 4),
    "mds526.nxml": ("PMC3574550", 2, 2),
    "pntd.0002065.nxml": ("PMC3585041", 1, 1),
    "pone.0000217.nxml": ("PMC1790863", 3, 3),
    "pone.0046493.nxml": ("PMC3460867", 4, 4),
}


@pytest.fixture(scope="module")
def real():
    if not REALDATA.is_dir():
        pytest.skip("no /work/shared/realdata/jats here")
    return {name: parse_jats(REALDATA / name) for name in REAL_FIGURES}


def test_real_files_figures_captions_graphics(real):
    for name, (pmcid, n_figs, n_cited) in REAL_FIGURES.items():
        art = real[name]
        assert art.pmcid == pmcid, name
        assert len(art.figures) == n_figs, name
        assert sum(bool(f.citations) for f in art.figures) == n_cited, name
        for n, f in enumerate(art.figures, start=1):
            assert f.label and f.caption, (name, f.id)
            assert f.number == str(n), (name, f.id)
            assert f.graphic == GRAPHIC_PATTERN[name].format(n=n), (name, f.id)
            assert f.graphics == [f.graphic]
            assert "&" not in f.caption and "  " not in f.caption and f.caption == f.caption.strip()


def test_real_files_spot_checks(real):
    # BMC Microbiology 11:174 (CC BY 2.0): bold caption title inside the paragraph
    f2 = real["1471-2180-11-174.nxml"].figure("F2")
    assert f2.caption.startswith("Samples of a lysis recording and frequency distributions of various "
                                 "experimental treatments. (A) Sample recordings from strain IN63.")
    assert f2.caption.endswith("Additional data are shown in Tables 1 and 2.")
    # EHP 116:1694 (public domain): the second caption paragraph is kept
    ehp = real["ehp-116-1694.nxml"].figure("f1-ehp-116-1694")
    assert ehp.caption.endswith("in males (B). *p < 0.05 compared with control.")
    assert ehp.location == "floats-group" and ehp.graphic == "ehp-116-1694f1"
    # PLOS Comp Biol (CC BY 4.0): the graphic's first attribute is mimetype, the href is the 3rd
    pcbi = real["journal.pcbi.1004692.xml"]
    assert pcbi.figure("pcbi.1004692.g001").graphic == "info:doi/10.1371/journal.pcbi.1004692.g001"
    c = next(c for c in pcbi.citations if "Figs 3, S3, S4, and S7b" in c.mentions)
    assert c.figures == {"pcbi.1004692.g003": [], "pcbi.1004692.g001": [], "pcbi.1004692.g006": []}
    # PLOS Medicine (CC BY 4.0): "Figs. 4, 6, and 7" and position words
    pmed = real["journal.pmed.1001786.xml"]
    c = next(c for c in pmed.citations if "Figs. 4, 6, and 7" in c.mentions)
    assert set(c.figures) == {"pmed.1001786.g004", "pmed.1001786.g005", "pmed.1001786.g006",
                              "pmed.1001786.g007"}
    assert [ci.panels for ci in pmed.figure("pmed.1001786.g006").citations] == [["left"], ["right"], [],
                                                                                ["left"]]
    # PLoS ONE 7:e46493 (CC BY): bold panel letters inside the xref
    pone = real["pone.0046493.nxml"]
    c = next(c for c in pone.citations if "Figure 3A\u2013C" in c.mentions)
    assert c.figures == {"pone-0046493-g003": ["A", "B", "C"]}
    # Annals of Oncology (CC BY-NC 3.0): figures inside paragraphs, label "Figure 1."
    mds = real["mds526.nxml"]
    assert [f.number for f in mds.figures] == ["1", "2"]
    assert mds.license_code == "CC BY-NC"
    assert real["pone.0000217.nxml"].license_code == "CC BY"  # from the copyright statement


# ------------------------------------------------------- reference lists and tables are cut before parsing

def test_drop_unused_blocks_cases():
    from mednarratives.articles.jats import _drop_unused_blocks as cut
    assert cut(b"<a><ref-list><ref-list>x</ref-list><ref-list/></ref-list><b/></a>") == b"<a><b/></a>"
    assert cut(b"<a><ref-list id='r'>1</ref-list>m<sub-article>s</sub-article>e</a>") == b"<a>me</a>"
    for unchanged in (b"<a><ref-list/><b/></a>",                       # nothing to cut
                      b"<a><ref-listx>y</ref-listx></a>",                # another element
                      b"<a><ref-list>x</a>",                             # unbalanced
                      b"<a><ref-list>x</ref-list><!-- c --></a>",        # a comment after the cut
                      b"<a><ref-list><![CDATA[</ref-list>]]></ref-list></a>"):
        assert cut(unchanged) is unchanged


def test_cut_only_where_no_comment_or_cdata_reaches_the_cut():
    from mednarratives.articles.jats import _drop_unused_blocks as cut
    assert cut(b"<a><!-- c --><b/><ref-list>x</ref-list></a>") == b"<a><!-- c --><b/></a>"  # comment before
    assert cut(b"<a><![CDATA[x]]><ref-list>x</ref-list></a>") == b"<a><![CDATA[x]]></a>"
    assert cut(b"<a>Wow! <ref-list>x</ref-list>!</a>") == b"<a>Wow! !</a>"               # "!" in text
    for unchanged in (b"<a><!-- <ref-list> --><ref-list>x</ref-list></a>",               # the first one is a comment
                      b"<a><!-- open <ref-list>x</ref-list></a>",                          # never closed
                      b"<a><ref-list>x<!-- c --></ref-list></a>"):                         # inside the block
        assert cut(unchanged) is unchanged


def test_entity_references_in_paragraphs_change_no_citation(art):
    # a character reference leaves no entity node: the paragraph text then comes from the C serializer
    same = parse_jats(ARTICLE.replace(b"&nbsp;", b"&#160;"))
    assert b"&nbsp;" in ARTICLE and [c.__dict__ for c in same.citations] == [c.__dict__ for c in art.citations]


def test_cutting_reference_lists_and_tables_changes_no_output(monkeypatch):
    from mednarratives.articles import jats
    files = [p for d in (REALDATA, DEVSETS / "captions", DEVSETS / "speed") if d.is_dir()
             for p in sorted(d.glob("*.*xml"))]
    datas = [ARTICLE] + [p.read_bytes() for p in files]
    lean = [parse_jats(d).to_dict() for d in datas]
    assert sum(jats._drop_unused_blocks(d) is not d for d in datas) >= len(datas) - 2  # all but two were cut
    monkeypatch.setattr(jats, "_drop_unused_blocks", lambda d: d)
    assert [parse_jats(d).to_dict() for d in datas] == lean


def test_doi_trailer_cut_matches_the_regex_on_the_whole_text():
    from mednarratives.articles import jats

    tails = ["", "DOI: http://dx.doi.org/10.7554/eLife.1.003", "<b>DOI:</b> http://dx.doi.org/10.7554/eLife.1.003",
             "<b> DOI </b> doi: 10.1234/x.y", "DOI : </b> https://doi.org/10.1000/a b", "doi 10.12/x", "10.1234/x"]
    heads = ["", "A", "Scale bar 10. 5 um (B) cells", "x " * 12 + "DOI 10.1234/early"]
    for head in heads:
        for tail in tails:
            text = jats.normalize_ws(f"{head} {tail}")
            assert jats._drop_doi_trailer(text) == jats._DOI_TRAILER_RE.sub("", text), text


def test_tables_are_cut_unless_a_figure_holds_or_is_in_them():
    from mednarratives.articles.jats import _drop_unused_blocks as cut
    table = b"<table-wrap><table><tr><td>1</td></tr></table></table-wrap>"
    assert cut(b"<a><body><p>x" + table + b"y</p></body></a>") == b"<a><body><p>xy</p></body></a>"
    assert cut(b"<a><body>" + table + b"</body><back><ref-list>r</ref-list></back></a>") == \
        b"<a><body></body><back></back></a>"
    for unchanged in (b"<a><body><fig id='f'>" + table + b"</fig></body></a>",            # in a figure
                      b"<a><body><fig-group><fig/>" + table + b"</fig-group></body></a>",  # in a fig-group
                      b"<a><body><table-wrap><fig id='f'/></table-wrap></body></a>",       # holding one
                      b"<a>" + table + b"<body></body></a>",                               # before the body
                      b"<a><body><!-- c -->" + table + b"</body></a>",                      # a comment in the body
                      b"<a><body><table-wrap>x</body></a>"):                               # unbalanced
        assert cut(unchanged) is unchanged
    pi = b"<a><body><?pi <fig?>" + table + b"</body></a>"  # a processing instruction in the body
    assert cut(pi) is pi
