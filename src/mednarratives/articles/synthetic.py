"""Synthetic PMC-style articles: JATS XML, compound figures with labelled panels, and their exact truth.

Sub-figure detection trains on these figures (`articles.subfigures.synthetic_figures`); the demo generator
(`mednarratives_demo.articles`) packages them as PMC Open Access article packages.

An article is planned from a numpy Generator seeded by sha256(seed, article_id), then rendered. Figure designs
(kind, layout, caption label style, range) follow FIGURE_CYCLE across the corpus in article id order, so any
len(FIGURE_CYCLE) consecutive figures cover every design; everything else (images, crops, sizes, gaps,
backgrounds, drawn-label font/size/placement/colour, text) comes from the article's Generator.

Truth conventions: boxes are [x0, y0, x1, y1] pixels with exclusive ends; a panel's full text is its figure's
shared_context followed by its subcaption; panel labels are canonical upper-case letters ("A"), position
words ("left", "right", "top", "bottom") for position-style captions, or None where the figure names no panel.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import importlib.resources
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import yaml
from lxml import etree
from PIL import Image, ImageDraw

from mednarratives.assets import BY_NAME, CATALOG, dejavu_font, load_image

TEXT_PATH = importlib.resources.files("mednarratives.articles") / "data" / "synthetic_text.yaml"
LABEL_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf")
CHART_FONT = "DejaVuSans.ttf"
ID_BASE = 9_000_001
FIGS_PER_ARTICLE = (2, 3, 4, 3)  # cycles over articles: 12 figures per 4 articles
MEDICAL_DOMAINS = tuple(dict.fromkeys(s.domain for s in CATALOG if s.domain != "non_medical"))
DRAWN_SOURCES = ("bar_chart", "line_chart", "flow_diagram")
LETTER_STYLES = ("paren", "comma", "close_paren", "period", "bold")
LABEL_PAD = 4     # white box around "boxed" labels
LABEL_MARGIN = 8  # inside labels: distance from the panel edge
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189))
DASHES = ("\u2013", "-")
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six")
JATS_DOCTYPE = ('<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.2 '
                '20190208//EN" "JATS-archivearticle1.dtd">')
XML_NS = 'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML"'
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

# (kind, layout, caption label style, first panels share a ranged sub-caption "(A-C)")
FIGURE_CYCLE = (
    ("medical", "2x2", "paren", False),
    ("medical", "1x2", "position", False),
    ("chart", "1x1", "none", False),
    ("medical", "2x3", "bold", False),
    ("medical", "1x3", "close_paren", False),
    ("medical", "irregular", "paren", False),
    ("medical", "1x1", "none", False),
    ("medical", "2x1", "position", False),
    ("flow", "1x1", "none", False),
    ("medical", "3x2", "comma", True),
    ("medical", "2x2", "period", False),
    ("chart", "1x2", "paren", False),
    ("medical", "irregular", "bold", False),
    ("medical", "1x2", "comma", False),
    ("medical", "2x2", "none", False),
    ("medical", "2x3", "paren", True),
    ("medical", "1x3", "period", False),
    ("medical", "2x1", "close_paren", False),
)


def _grid(rows: int, cols: int) -> tuple:
    return rows, cols, tuple((r, c, 1, 1) for r in range(rows) for c in range(cols))


# rows, cols, cells (row, col, rowspan, colspan) in reading order
LAYOUTS = {name: _grid(int(name[0]), int(name[2])) for name in ("1x1", "1x2", "2x1", "1x3", "2x2", "2x3", "3x2")}
LAYOUTS["irregular"] = (2, 2, ((0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1)))  # one tall panel + two stacked
POSITIONS = {"1x2": ("left", "right"), "2x1": ("top", "bottom")}
CELL_WIDTH = {1: (380, 640), 2: (260, 460), 3: (190, 340)}  # by column count
CAPTION_LABELS = {  # caption label formats per style; "{}" is the label
    "paren": ("({})",), "comma": ("{},",), "close_paren": ("{})",), "period": ("{}.",),
    "bold": ("<bold>{}</bold>", "<bold>{}.</bold>", "<bold>({})</bold>"),
    "position": ("{}:", "{},", "({})"),
}


@dataclass
class DrawnLabel:
    text: str
    font: str
    size: int
    placement: str  # "top_left" | "top_right" | "bottom_left" (inside the panel) | "above" (outside)
    colour: str     # "white" | "yellow" | "black" | "boxed"; inside labels fall back to "boxed" on low contrast


@dataclass
class Panel:
    box: tuple[int, int, int, int]
    source: str                        # catalog name or one of DRAWN_SOURCES
    crop: tuple[int, int, int, int] | None = None  # source pixels (catalog images)
    params: dict | None = None         # drawing parameters (charts, diagrams)
    desc: str = ""                     # XML: what the panel shows
    finding: str = ""                  # XML: what it demonstrates
    label: str | None = None
    drawn: DrawnLabel | None = None

    @property
    def domain(self) -> str | None:
        src = BY_NAME.get(self.source)
        return src.domain if src and src.domain != "non_medical" else None


@dataclass
class Figure:
    number: int
    kind: str
    layout: str
    style: str
    size: tuple[int, int]
    background: tuple[int, int, int]
    band: int                          # height of the label band above each row ("above" labels)
    panels: list[Panel]
    graphic: str
    label: str = ""
    caption_xml: str = ""
    shared: str = ""
    subcaptions: list[str] = field(default_factory=list)

    @property
    def fig_id(self) -> str:
        return f"F{self.number}"


@dataclass
class Article:
    article_id: str
    title: str
    license: str
    figures: list[Figure]
    xml: str
    citations: list[dict]


# ---------------------------------------------------------------- ids and randomness

def _digest(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


def _article_index(article_id: str) -> int:
    m = re.fullmatch(r"PMC(\d+)", article_id)
    if m and int(m[1]) >= ID_BASE:
        return int(m[1]) - ID_BASE
    return _digest("index", article_id) % 1_000_000


def _figure_slots(index: int, seed: int) -> list[int]:
    """Positions in FIGURE_CYCLE of an article's figures: consecutive over the corpus, offset by the seed."""
    cycle = FIGS_PER_ARTICLE
    first = index // len(cycle) * sum(cycle) + sum(cycle[: index % len(cycle)]) + _digest("cycle", seed)
    return [(first + i) % len(FIGURE_CYCLE) for i in range(cycle[index % len(cycle)])]


# ---------------------------------------------------------------- text helpers

@functools.lru_cache(maxsize=None)
def _load_text(path: str) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def plain(xml: str) -> str:
    """Whitespace-normalised text of an XML fragment, inline markup text kept (like itertext)."""
    root = etree.fromstring(f"<w {XML_NS}>{xml}</w>", SAFE_PARSER)
    return " ".join("".join(root.itertext()).split())


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


class _Writer:
    """Fills the YAML templates of one article from its Generator."""

    def __init__(self, text: dict, rng: np.random.Generator, domain: str):
        self.t, self.rng, self.n_refs, self.ctx = text, rng, 8, {}
        self.topics = {name: self.choice(d["topics"]) for name, d in sorted(text["domains"].items())}
        self.set_domain(domain)

    def set_domain(self, domain: str) -> None:
        """Context of the following text: the domain's modality names and this article's topic in it."""
        d = self.t["domains"][domain]
        self.ctx.update(modality=d["modality"], modality_long=d["modality_long"], topic=self.topics[domain])

    def choice(self, items):
        return items[int(self.rng.integers(len(items)))]

    def sample(self, items, k: int) -> list:
        """k items, without repeats as long as there are enough."""
        order = [int(i) for i in self.rng.permutation(len(items))]
        return [items[order[i % len(items)]] for i in range(k)]

    def cite(self) -> str:
        b = int(self.rng.integers(1, self.n_refs + 1))
        return f'[<xref ref-type="bibr" rid="B{b}">{b}</xref>]'

    def fill(self, template: str, **values) -> str:
        return _cap(template.format(**{**self.ctx, "cite": self.cite(), **values}))

    def sentence(self, key: str, **values) -> str:
        return self.fill(self.choice(self.t[key]), **values)

    def paragraph(self, key: str, k: int) -> str:
        """k different sentences of one kind (while they last)."""
        return " ".join(self.fill(s) for s in self.sample(self.t[key], k))


# ---------------------------------------------------------------- figure planning

def _plan_figure(number: int, design: tuple, w: _Writer, domain: str, article_id: str) -> Figure:
    kind, layout, style, ranged = design
    rng = w.rng
    rows, cols, cells = LAYOUTS[layout]
    n = len(cells)
    lettered = style in LETTER_STYLES or (style == "none" and n > 1 and rng.random() < 0.5)
    drawn = n > 1 and lettered and (style == "none" or rng.random() < 0.8)
    upper = bool(rng.random() < 0.6)
    letters = [chr(65 + i) for i in range(n)]
    labels = list(POSITIONS[layout]) if style == "position" else letters if lettered else [None] * n

    # geometry
    if kind == "flow":
        cw, aspect = int(rng.integers(560, 760)), 0.85
    else:
        cw = int(rng.integers(*CELL_WIDTH[cols]))
        aspect = w.choice((0.55, 0.65, 0.75) if layout == "2x1" else (0.75,) if kind == "chart"
                          else (0.75, 0.8, 1.0, 1.2))
    rh = int(cw * aspect)
    gap, margin = int(rng.integers(0, 25)), int(rng.integers(0, 25))
    background = (255, 255, 255) if kind != "medical" else w.choice(
        ((255, 255, 255), (255, 255, 255), (0, 0, 0), (128, 128, 128), (210, 210, 210)))
    drawn_labels = [None] * n
    band = 0
    if drawn:
        font = w.choice(LABEL_FONTS)
        size = int(rng.integers(14, max(14, min(40, min(cw, rh) // 5)) + 1))
        placement = w.choice(("top_left", "top_left", "top_right", "bottom_left", "above"))
        colour = w.choice(("white", "yellow", "black", "boxed"))
        fmt = "({})" if rng.random() < 0.3 else "{}"
        drawn_labels = [DrawnLabel(fmt.format(l if upper else l.lower()), font, size, placement, colour)
                        for l in letters]
        if placement == "above":
            band = max(_ink(d.text, font, size).size[1] for d in drawn_labels) + 2 * LABEL_PAD
    boxes = []
    for r, c, rs, cs in cells:
        x0 = margin + c * (cw + gap)
        y0 = margin + r * (rh + gap + band) + band
        boxes.append((x0, y0, x0 + cs * cw + (cs - 1) * gap, y0 + rs * rh + (rs - 1) * (gap + band)))
    size = (2 * margin + cols * cw + (cols - 1) * gap, 2 * margin + rows * (rh + band) + (rows - 1) * gap)

    # content
    panels = [Panel(box, "", label=lab, drawn=d) for box, lab, d in zip(boxes, labels, drawn_labels)]
    group = int(rng.integers(3, n)) if ranged else 1  # panels sharing the first, ranged sub-caption
    if kind == "medical":
        _fill_medical(panels, group, w, domain)
    elif kind == "chart":
        charts = ("bar_chart", "line_chart") if n == 2 else (w.choice(("bar_chart", "line_chart")),)
        for p, source in zip(panels, charts):
            _fill_chart(p, source, w)
    else:
        _fill_flow(panels[0], w)
    href = f"{article_id.lower()}.g{number:03d}"
    fig = Figure(number, kind, layout, style, size, background, band, panels,
                 graphic=href + ".jpg" if rng.random() < 0.2 else href)
    _caption(fig, group, upper, w)
    return fig


def _fill_medical(panels: list[Panel], group: int, w: _Writer, domain: str) -> None:
    rng, n = w.rng, len(panels)
    domains = [domain] * n
    if n >= 2 and rng.random() < 0.25:  # multimodality figure: the second half from another domain
        other = w.choice([d for d in MEDICAL_DOMAINS if d != domain])
        domains[n // 2:] = [other] * (n - n // 2)
    chart_last = n >= 3 and group == 1 and rng.random() < 0.35  # quantification panel
    findings = {s.name: w.sample(w.t["findings"][s.name], n) for s in CATALOG if s.domain in domains}
    used = collections.Counter()  # panels per source so far: repeats are zoomed in elsewhere
    for i, (p, d) in enumerate(zip(panels, domains)):
        if chart_last and i == n - 1:
            _fill_chart(p, "bar_chart", w)
            continue
        if i == 0 or i >= group:  # a ranged group shows one source at several crops, with one finding
            source = w.choice([s for s in CATALOG if s.domain == d])
            p.finding = findings[source.name][used[source.name]]
        else:
            p.finding = panels[0].finding
        p.source, p.desc = source.name, escape(source.description)
        p.crop = _crop(load_image(source.name), p.box, rng, zoom=used[source.name] > 0)
        used[source.name] += 1


def _crop(img: np.ndarray, box: tuple, rng: np.random.Generator, zoom: bool) -> tuple[int, int, int, int]:
    """Source window with the cell's aspect ratio (largest, or zoomed in for a repeated source) at a random
    position; a few tries avoid near-empty windows (e.g. the black field of an ultrasound frame)."""
    h, w = img.shape[:2]
    aspect = (box[2] - box[0]) / (box[3] - box[1])
    cw, ch = (h * aspect, h) if w / h > aspect else (w, w / aspect)
    z = rng.uniform(0.5, 0.85) if zoom else 1.0
    cw, ch = max(8, int(cw * z)), max(8, int(ch * z))
    best = (-1.0, (0, 0, cw, ch))
    for _ in range(8):
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        std = float(img[y0:y0 + ch:4, x0:x0 + cw:4].std())
        best = max(best, (std, (x0, y0, x0 + cw, y0 + ch)))
        if std >= 30:
            break
    return best[1]


def _fill_chart(p: Panel, source: str, w: _Writer) -> None:
    rng, c = w.rng, w.t["charts"]
    metric, axis = w.choice(c["metrics"])
    n_groups = int(rng.integers(2, min(4, max(2, (p.box[2] - p.box[0]) // 110)) + 1))  # ~110 px per tick label
    groups = w.sample(c["groups"], n_groups)
    if source == "bar_chart":
        values = [round(float(v), 1) for v in rng.uniform(20, 90, n_groups)]
        errors = [round(v * float(rng.uniform(0.05, 0.2)), 1) for v in values]
        p.params = dict(groups=groups, values=values, errors=errors, ylabel=axis)
        body = c["bar_body"]
    else:
        x = list(range(0, 2 * int(rng.integers(4, 7)), 2))
        series = [np.cumsum(rng.uniform(-8, 15, len(x))) + rng.uniform(20, 50) for _ in groups]
        p.params = dict(x=x, series=[[round(float(v), 1) for v in s] for s in series], groups=groups,
                        ylabel=axis, xlabel=c["x_label"])
        body = c["line_body"]
    p.source, p.desc, p.finding = source, escape(metric), w.fill(body, metric=escape(metric))


def _fill_flow(p: Panel, w: _Writer) -> None:
    a = int(w.rng.integers(400, 1500))
    b = int(a * w.rng.uniform(0.1, 0.4))
    d = int((a - b) * w.rng.uniform(0.4, 0.6))
    counts = dict(a=a, b=b, c=a - b, d=d, e=a - b - d)
    p.source = "flow_diagram"
    p.params = dict(boxes=[_cap(t.format(**counts, modality=w.ctx["modality"])) for t in w.t["flow"]["boxes"]])
    p.desc = p.finding = "flow of patients"


def _caption(fig: Figure, group: int, upper: bool, w: _Writer) -> None:
    """Caption XML, its shared context and per-panel sub-captions, in the figure's label style."""
    t, rng, panels = w.t, w.rng, fig.panels

    def body(p: Panel) -> str:
        if p.source in DRAWN_SOURCES:
            return p.finding
        verb = w.choice(("showing", "demonstrating", "with"))
        return w.fill("{desc} {verb} {finding}.", desc=p.desc, verb=verb, finding=p.finding)

    if fig.kind == "flow":
        title, units, shared_p = t["flow"]["title"], [], [t["flow"]["shared"]]
    elif fig.kind == "chart":
        title = w.choice(t["charts"]["chart_titles"])
        units = [([i], p.finding) for i, p in enumerate(panels)] if fig.style != "none" else []
        shared_p = [] if units else [panels[0].finding]
    else:
        title = w.sentence("caption_titles") if rng.random() < 0.8 else None
        # ages 20-79: the case sentence starts with the article "A" (never "An"), a trap for label parsers
        shared_p = [w.sentence("case", age=int(rng.integers(20, 80)), person=w.choice(t["persons"]))] \
            if fig.style == "period" or rng.random() < 0.3 else []
        units = []
        if fig.style == "none":
            shared_p.append(body(panels[0]) if len(panels) == 1 else w.sentence(
                "caption_summary", desc=panels[0].desc, finding=panels[0].finding,
                count=NUMBER_WORDS[len(panels)]))
        else:
            shared_n = group if group > 1 else 0  # the first panels share one ranged sub-caption "(A-C) ..."
            if shared_n:
                units.append((list(range(shared_n)), w.sentence(
                    "range_body", desc=panels[0].desc, finding=panels[0].finding, count=NUMBER_WORDS[shared_n])))
            units += [([i], body(p)) for i, p in enumerate(panels) if i >= shared_n]
    trailing = []
    if fig.kind == "medical" and rng.random() < 0.7:
        trailing.append(w.choice(t["domains"][main_domain(panels)]["shared"]))
    extra = []  # a second caption paragraph
    if fig.kind == "medical" and rng.random() < 0.3:
        extra.append(w.fill(w.choice(t["caption_extra"]), n=int(rng.integers(3, 40)),
                            b=int(rng.integers(1, w.n_refs + 1))))
    fmt, dash = w.choice(CAPTION_LABELS.get(fig.style, ("",))), w.choice(DASHES)

    def label_xml(indices: list[int]) -> str:
        names = [panels[i].label for i in indices]
        if fig.style == "position":
            return fmt.format(names[0] if fmt.startswith("(") else _cap(names[0]))
        names = [s if upper else s.lower() for s in names]
        return fmt.format(names[0] if len(names) == 1 else f"{names[0]}{dash}{names[-1]}")

    p1 = shared_p + [f"{label_xml(ix)} {text}" for ix, text in units] + trailing
    paragraphs = [" ".join(p1)] + extra
    fig.caption_xml = "\n".join(([f"<title>{title}</title>"] if title else []) + [_p(p) for p in paragraphs])
    fig.shared = " ".join(plain(x) for x in ([title] if title else []) + shared_p + trailing + extra)
    fig.subcaptions = [""] * len(panels)
    for indices, text in units:
        for i in indices:
            fig.subcaptions[i] = plain(text)


def main_domain(panels: list[Panel]) -> str | None:
    counts = collections.Counter(p.domain for p in panels if p.domain)
    return counts.most_common(1)[0][0] if counts else None


# ---------------------------------------------------------------- body text and citations

WHOLE_FORMS = ("xref_figure", "xref_fig", "xref_number", "plain")
PANEL_FORMS = ("xref_panel", "xref_lower", "xref_and", "xref_range", "plain_panel")
MULTI_FORMS = ("figures_and", "figs_range", "plain_multi")


def _p(xml: str) -> str:
    return f"<p>{xml}</p>"


def _xref(fig_id: str, text: str) -> str:
    return f'<xref ref-type="fig" rid="{fig_id}">{text}</xref>'


def _whole_ref(form: str, n: int) -> str:
    return {"xref_figure": _xref(f"F{n}", f"Figure {n}"), "xref_fig": _xref(f"F{n}", f"Fig. {n}"),
            "xref_number": f"Figure {_xref(f'F{n}', str(n))}", "plain": f"Figure {n}"}[form]


def _panel_ref(form: str, n: int, letters: list[str], rng: np.random.Generator) -> tuple[str, list[str]]:
    """A reference to panels of figure n: (XML, cited letters)."""
    fid, k = f"F{n}", len(letters)
    if form == "xref_and":
        i, j = sorted(int(v) for v in rng.choice(k, 2, replace=False))
        return f"{_xref(fid, f'Figure {n}{letters[i]}')} and {_xref(fid, letters[j])}", [letters[i], letters[j]]
    if form == "xref_range":
        i = int(rng.integers(0, k - 2))
        return _xref(fid, f"Figure {n}{letters[i]}\u2013{letters[i + 2]}"), letters[i:i + 3]
    x = letters[int(rng.integers(k))]
    return {"xref_panel": _xref(fid, f"Figure {n}{x}"), "xref_lower": _xref(fid, f"Fig. {n}{x.lower()}"),
            "plain_panel": f"Fig. {n}{x}"}[form], [x]


def _multi_ref(form: str, numbers: list[int]) -> tuple[str, list[int]]:
    a, b = numbers[0], numbers[-1]
    if form == "figs_range":
        return f"Figs. {_xref(f'F{a}', str(a))}\u2013{_xref(f'F{b}', str(b))}", numbers
    if form == "plain_multi":
        return f"Figures {a} and {b}", [a, b]
    return f"Figures {_xref(f'F{a}', str(a))} and {_xref(f'F{b}', str(b))}", [a, b]


class _Body:
    """Body paragraphs with figure references; records each citing sentence as truth."""

    def __init__(self, w: _Writer, index: int):
        self.w, self.index, self.citations = w, index, []
        self.counters = collections.Counter()

    def _next(self, name: str, forms: tuple, ok=lambda f: True) -> str:
        valid = [f for f in forms if ok(f)]
        self.counters[name] += 1
        return valid[(self.index + self.counters[name]) % len(valid)]

    def cite(self, template: str, ref: str, numbers: list[int], panels: dict | None = None, **values) -> str:
        xml = self.w.fill(template, ref=ref, **values)
        self.citations.append(dict(sentence=plain(xml), figures=[f"F{n}" for n in numbers],
                                   panels=dict(panels or {})))
        return xml

    def figure_paragraph(self, fig: Figure) -> str:
        w, n = self.w, fig.number
        ref = _whole_ref(self._next("whole", WHOLE_FORMS), n)
        key = {"medical": "cite_whole", "chart": "cite_chart", "flow": "cite_flow"}[fig.kind]
        sentences = [w.sentence("results_lead" if fig.kind != "flow" else "methods"),
                     self.cite(w.choice(w.t[key]), ref, [n], metric=fig.panels[0].desc)]
        letters = [p.label for p in fig.panels if p.label and len(p.label) == 1]
        for _ in range((1 + (len(letters) >= 4)) if letters else 0):
            form = self._next("panel", PANEL_FORMS,
                              lambda f: len(letters) >= {"xref_and": 2, "xref_range": 3}.get(f, 1))
            ref, cited = _panel_ref(form, n, letters, w.rng)
            p = fig.panels[letters.index(cited[0])]
            template = w.choice(w.t["cite_chart" if p.source in DRAWN_SOURCES else "cite_panel"])
            sentences.append(self.cite(template, ref, [n], {fig.fig_id: cited}, desc=p.desc, finding=p.finding,
                                       metric=p.desc))
        return _p(" ".join(sentences))

    def multi_paragraph(self, n_figs: int) -> str:
        form = self._next("multi", MULTI_FORMS, lambda f: f != "figs_range" or n_figs >= 3)
        ref, numbers = _multi_ref(form, list(range(1, n_figs + 1)))
        w = self.w
        return _p(" ".join([w.sentence("discussion"), self.cite(w.choice(w.t["cite_multi"]), ref, numbers),
                            w.sentence("discussion")]))


# ---------------------------------------------------------------- article planning and XML

def plan_article(article_id: str, seed: int, text_path: str | Path = TEXT_PATH) -> Article:
    """Every random decision of one article, its JATS XML and its citation truth (no pixels)."""
    rng = np.random.default_rng(_digest("mednarratives.demo.articles", seed, article_id))  # the seed string of the demo corpus
    t, index = _load_text(str(text_path)), _article_index(article_id)
    domain = MEDICAL_DOMAINS[(index + _digest("domain", seed)) % len(MEDICAL_DOMAINS)]
    w = _Writer(t, rng, domain)
    figures = []
    label_format = w.choice(("Figure {}", "Fig {}", "Figure {}."))
    first_medical = True  # the article's first medical figure shows its domain; later ones may not
    for number, slot in enumerate(_figure_slots(index, seed), start=1):
        design = FIGURE_CYCLE[slot]
        fig_domain = domain if first_medical or rng.random() < 0.6 else w.choice(MEDICAL_DOMAINS)
        first_medical = first_medical and design[0] != "medical"
        w.set_domain(fig_domain)
        fig = _plan_figure(number, design, w, fig_domain, article_id)
        fig.label = label_format.format(number)
        figures.append(fig)
    w.set_domain(domain)
    title = w.fill(w.choice(t["titles"]))
    version = w.choice(("4.0", "4.0", "3.0", "2.0"))
    body = _Body(w, index)
    methods = [_p(w.paragraph("methods", 3))]
    results = []
    for fig in figures:
        w.set_domain(main_domain(fig.panels) or domain)
        (methods if fig.kind == "flow" else results).append(f"{body.figure_paragraph(fig)}\n{_fig_xml(fig)}")
    w.set_domain(domain)
    discussion = [body.multi_paragraph(len(figures)), _p(w.paragraph("discussion", 2))]
    sections = [("Introduction", [_p(w.paragraph("intro", 3)), _p(w.paragraph("intro", 2))]),
                ("Materials and methods", methods), ("Results", results), ("Discussion", discussion)]
    xml = _article_xml(article_id, index, title, version, sections, w)
    return Article(article_id, plain(title), f"CC BY {version}", figures, xml, body.citations)


def _fig_xml(fig: Figure) -> str:
    return (f'<fig id="{fig.fig_id}" position="float">\n<label>{fig.label}</label>\n<caption>\n{fig.caption_xml}\n'
            f'</caption>\n<graphic xlink:href="{fig.graphic}"/>\n</fig>')


def _article_xml(article_id: str, index: int, title: str, version: str, sections: list, w: _Writer) -> str:
    t, rng = w.t, w.rng
    journal, abbrev = w.choice(t["journals"])
    year, month, day = int(rng.integers(2015, 2024)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    authors = [(w.choice(t["surnames"]), w.choice(t["given_names"])) for _ in range(int(rng.integers(3, 7)))]
    contribs = "\n".join(f'<contrib contrib-type="author"><name><surname>{s}</surname><given-names>{g}</given-names>'
                         f'</name><xref ref-type="aff" rid="aff1">1</xref></contrib>' for s, g in authors)
    license_url = f"https://creativecommons.org/licenses/by/{version}/"
    abstract = " ".join([w.sentence("intro"), w.sentence("methods"), w.sentence("results_lead")])
    refs = "\n".join(
        f'<ref id="B{i}"><label>{i}</label><mixed-citation publication-type="journal">{w.choice(t["surnames"])} A, '
        f'{w.choice(t["surnames"])} B. {w.fill(w.choice(t["titles"]))}. <source>{abbrev}</source>. '
        f'{year - i}; <volume>{i + 3}</volume>: {100 + 7 * i}.</mixed-citation></ref>' for i in range(1, w.n_refs + 1))
    body = "\n".join(f'<sec id="s{i}">\n<title>{name}</title>\n' + "\n".join(blocks) + "\n</sec>"
                     for i, (name, blocks) in enumerate(sections, start=1))
    return f"""{JATS_DOCTYPE}
<article {XML_NS} dtd-version="1.2" article-type="research-article" xml:lang="en"><?properties open_access?>
<front>
<journal-meta>
<journal-id journal-id-type="nlm-ta">{abbrev}</journal-id>
<journal-title-group><journal-title>{journal}</journal-title></journal-title-group>
<issn pub-type="epub">0000-{index % 10000:04d}</issn>
<publisher><publisher-name>MedNarratives Demo Press</publisher-name></publisher>
</journal-meta>
<article-meta>
<article-id pub-id-type="pmid">{30_000_000 + index}</article-id>
<article-id pub-id-type="pmc">{article_id.removeprefix("PMC")}</article-id>
<article-id pub-id-type="doi">10.5555/demo.{index:06d}</article-id>
<article-categories>
<subj-group subj-group-type="heading"><subject>Research Article</subject></subj-group>
</article-categories>
<title-group><article-title>{title}</article-title></title-group>
<contrib-group>
{contribs}
</contrib-group>
<aff id="aff1"><label>1</label>Department of Radiology, Demo University Hospital, Demo City</aff>
<pub-date pub-type="epub"><day>{day}</day><month>{month}</month><year>{year}</year></pub-date>
<volume>{year - 2000}</volume>
<elocation-id>e{index + 100:04d}</elocation-id>
<permissions>
<copyright-statement>\u00a9 {year} {authors[0][0]} et al.</copyright-statement>
<copyright-year>{year}</copyright-year>
<license license-type="open-access" xlink:href="{license_url}">
<license-p>This is an open access article distributed under the terms of the <ext-link ext-link-type="uri"
xlink:href="{license_url}">Creative Commons Attribution License</ext-link>, which permits unrestricted use,
distribution, and reproduction in any medium, provided the original work is properly cited.</license-p>
</license>
</permissions>
<abstract>
<p>{abstract}</p>
</abstract>
</article-meta>
</front>
<body>
{body}
</body>
<back>
<ref-list>
<title>References</title>
{refs}
</ref-list>
</back>
</article>
"""


# ---------------------------------------------------------------- rendering

@functools.lru_cache(maxsize=4096)
def _ink(text: str, font: str, size: int) -> Image.Image:
    """Mask ('L') of the rendered text, cropped to its ink."""
    f = dejavu_font(font, size)
    l, t, r, b = f.getbbox(text)
    mask = Image.new("L", (r + 2, b + 2), 0)
    ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=f)
    return mask.crop(mask.getbbox())


@functools.lru_cache(maxsize=None)
def _source_image(name: str) -> Image.Image:
    return Image.fromarray(load_image(name))


def panel_pixels(panel: Panel) -> np.ndarray:
    """The panel's content at its box size, before any label is drawn."""
    size = (panel.box[2] - panel.box[0], panel.box[3] - panel.box[1])
    if panel.source in DRAWN_SOURCES:
        img = Image.new("RGB", size, "white")
        DRAWERS[panel.source](ImageDraw.Draw(img), size, panel.params)
        return np.asarray(img)
    return np.asarray(_source_image(panel.source).resize(size, Image.Resampling.LANCZOS, box=panel.crop))


def _axes(d: ImageDraw.ImageDraw, size: tuple[int, int], params: dict, vmax: float) -> tuple:
    """Axes, y ticks and y title; returns the plot area and font."""
    w, h = size
    fs = max(9, min(w, h) // 18)
    font = dejavu_font(CHART_FONT, fs)
    left, top, right, bottom = int(fs * 4.5), fs, w - fs, h - int(fs * 3.2)
    d.line([(left, top), (left, bottom), (right, bottom)], fill="black", width=2)
    for frac in (0, 0.5, 1):
        y = bottom - frac * (bottom - top)
        d.line([(left - 4, y), (left, y)], fill="black", width=1)
        d.text((left - 6, y), f"{vmax * frac:g}", fill="black", font=font, anchor="rm")
    title = _ink(params["ylabel"], CHART_FONT, fs).rotate(90, expand=True)
    d.bitmap((2, (top + bottom - title.size[1]) // 2), title, fill="black")
    return left, top, right, bottom, font


def _bar_chart(d: ImageDraw.ImageDraw, size: tuple[int, int], params: dict) -> None:
    vmax = 20 * np.ceil(max(v + e for v, e in zip(params["values"], params["errors"])) / 20)
    left, top, right, bottom, font = _axes(d, size, params, vmax)
    slot = (right - left) / len(params["values"])
    for i, (name, v, e) in enumerate(zip(params["groups"], params["values"], params["errors"])):
        cx, y = left + slot * (i + 0.5), bottom - (bottom - top) * v / vmax
        d.rectangle([cx - slot * 0.3, y, cx + slot * 0.3, bottom - 1], fill=PALETTE[i], outline="black")
        ey = (bottom - top) * e / vmax
        d.line([(cx, y - ey), (cx, y + ey)], fill="black", width=1)
        d.line([(cx - slot * 0.1, y - ey), (cx + slot * 0.1, y - ey)], fill="black", width=1)
        d.text((cx, bottom + 4), name, fill="black", font=font, anchor="ma")


def _line_chart(d: ImageDraw.ImageDraw, size: tuple[int, int], params: dict) -> None:
    vmax = 20 * np.ceil(max(max(s) for s in params["series"]) / 20)
    left, top, right, bottom, font = _axes(d, size, params, vmax)
    x = params["x"]
    px = lambda v: left + 8 + (right - left - 16) * v / x[-1]  # noqa: E731
    for v in x:
        d.text((px(v), bottom + 4), str(v), fill="black", font=font, anchor="ma")
    d.text(((left + right) / 2, size[1] - 2), params["xlabel"], fill="black", font=font, anchor="md")
    for i, (name, series) in enumerate(zip(params["groups"], params["series"])):
        pts = [(px(a), bottom - (bottom - top) * max(b, 0) / vmax) for a, b in zip(x, series)]
        d.line(pts, fill=PALETTE[i], width=2)
        for cx, cy in pts:
            d.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=PALETTE[i])
        ly = top + 4 + i * (font.size + 4)
        d.line([(left + 10, ly + font.size // 2), (left + 28, ly + font.size // 2)], fill=PALETTE[i], width=3)
        d.text((left + 32, ly), name, fill="black", font=font)


# top-left corners of the flow boxes (screened, excluded, included, arm 1, arm 2) as fractions of the panel size
FLOW_BOXES = ((0.06, 0.08), (0.52, 0.3), (0.06, 0.52), (0.02, 0.8), (0.54, 0.8))


def _flow_diagram(d: ImageDraw.ImageDraw, size: tuple[int, int], params: dict) -> None:
    """CONSORT-style flow: screened -> included (excluded to the side) -> two arms."""
    w, h = size
    fs = max(10, h // 28)
    while fs > 8 and max(dejavu_font(CHART_FONT, fs).getlength(s) for s in params["boxes"]) > w * 0.4:
        fs -= 1
    font = dejavu_font(CHART_FONT, fs)
    bw, bh = int(w * 0.44), fs * 3
    (sx, sy), (ex, ey), (_, iy), (ax, ay), (bx, _) = [(w * fx, h * fy) for fx, fy in FLOW_BOXES]
    for (fx, fy), text in zip(FLOW_BOXES, params["boxes"]):
        x, y = w * fx, h * fy
        d.rectangle([x, y, x + bw, y + bh], outline="black", width=2)
        d.text((x + bw / 2, y + bh / 2), text, fill="black", font=font, anchor="mm")

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        d.line([(x0, y0), (x1, y1)], fill="black", width=2)
        ux, uy = np.array([x1 - x0, y1 - y0]) / np.hypot(x1 - x0, y1 - y0)
        hx, hy = x1 - 9 * ux, y1 - 9 * uy  # base of the head, 9 px back along the line
        d.polygon([(x1, y1), (hx - 5 * uy, hy + 5 * ux), (hx + 5 * uy, hy - 5 * ux)], fill="black")

    cx = sx + bw / 2
    arrow(cx, sy + bh, cx, iy)                   # screened -> included
    arrow(cx, ey + bh / 2, ex, ey + bh / 2)      # -> excluded
    split = (iy + bh + ay) / 2                   # elbow connectors to the two arms
    d.line([(cx, iy + bh), (cx, split)], fill="black", width=2)
    d.line([(ax + bw / 2, split), (bx + bw / 2, split)], fill="black", width=2)
    for x in (ax + bw / 2, bx + bw / 2):
        arrow(x, split, x, ay)


DRAWERS = {"bar_chart": _bar_chart, "line_chart": _line_chart, "flow_diagram": _flow_diagram}
COLOURS = {"white": (255, 255, 255), "yellow": (255, 230, 0), "black": (0, 0, 0)}


def _draw_label(canvas: Image.Image, p: Panel, background: tuple, band: int) -> list[int]:
    """Paint p's drawn label; returns the ink box [x0, y0, x1, y1]."""
    lab = p.drawn
    mask = _ink(lab.text, lab.font, lab.size)
    w, h = mask.size
    x0, y0, x1, y1 = p.box
    m = LABEL_MARGIN
    if lab.placement == "above":
        x, y = x0 + 2, y0 - band + (band - h) // 2
        colour = "black" if sum(background) > 3 * 128 else "white"
    else:
        x = x1 - m - w if lab.placement == "top_right" else x0 + m
        y = y1 - m - h if lab.placement == "bottom_left" else y0 + m
        region = canvas.crop((x - LABEL_PAD, y - LABEL_PAD, x + w + LABEL_PAD, y + h + LABEL_PAD)).convert("L")
        lum = float(np.asarray(region).mean())
        colour = lab.colour
        if (colour in ("white", "yellow") and lum > 110) or (colour == "black" and lum < 150):
            colour = "boxed"
    if colour == "boxed":
        ImageDraw.Draw(canvas).rectangle(
            [x - LABEL_PAD, y - LABEL_PAD, x + w + LABEL_PAD - 1, y + h + LABEL_PAD - 1], fill="white")
        colour = "black"
    canvas.paste(COLOURS[colour], (x, y, x + w, y + h), mask)
    return [x, y, x + w, y + h]


def render_figure(fig: Figure) -> tuple[Image.Image, list[list[int] | None]]:
    """The figure image and each panel's drawn-label ink box (None where no label is drawn)."""
    canvas = Image.new("RGB", fig.size, fig.background)
    for p in fig.panels:
        canvas.paste(Image.fromarray(panel_pixels(p)), p.box[:2])
    return canvas, [_draw_label(canvas, p, fig.background, fig.band) if p.drawn else None for p in fig.panels]
