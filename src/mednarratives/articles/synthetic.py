"""Synthetic PMC-style articles: JATS XML, compound figures with labelled panels, and their exact truth.

The demo generator (`mednarratives_demo.articles`) packages them as PMC Open Access article packages. The
sub-figure detector trains on `training_figures`: realistic compound figures (`layout_figure`: real plots, images,
renders, letters, gutters; see the section "detector training figures") mixed with figures in the demo's style
drawn with their own seed and ids.

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
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
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


# ---------------------------------------------------------------- detector training figures

# Realistic compound figures for the sub-figure detector: irregular grids of panels filled with real content
# (matplotlib plots of scikit-learn's bundled data sets, radiology / microscopy / photo crops, renders on white,
# networks, molecules, tables), letters above or inside panels, panel titles, scale bars, insets, two-view panels,
# gutters from none to wide, shared titles and legends outside every panel, JPEG compression. The rest of the
# training figures keep the demo articles' style (`articles.subfigures.train.realistic_share` sets the mix; 0, the
# demo's, is the demo articles' style alone).
# Content ships in installed packages (nothing downloaded; nothing from the real dev set or its articles):
# scikit-learn's iris, wine, breast cancer (UCI, CC BY 4.0) and diabetes (Efron et al. 2004) tables (package
# BSD-3-Clause); scikit-image's images (package BSD-3-Clause; camera, horse, brick, gravel, grass CC0,
# hubble_deep_field NASA public domain, coins no known restrictions); pydicom / pydicom-data test files (MIT).
EXTRA_IMAGES = ("coins.png", "hubble_deep_field.jpg", "moon.png", "camera.png", "horse.png", "gravel.png",
                "brick.png", "grass.png", "phantom.png")  # scikit-image's bundled images (besides CATALOG's)
PANEL_TITLES = ("dorsal view", "ventral view", "anterior view", "overview", "detail", "merge", "DAPI", "IHC",
                "in situ HCR", "control", "treated", "baseline", "follow-up", "week 4", "sham", "knockout",
                "wild type", "T1w", "T2w", "FLAIR", "pre", "post", "model", "simulation", "measured", "synaptic map")
FIGURE_TITLES = ("Summary of the experiment", "Response to treatment", "Comparison across cohorts",
                 "Frequency spectrum", "Segmentation results")
CONTENT_KINDS = ("plot", "image", "render", "two_views", "table")
CONTENT_WEIGHTS = (0.38, 0.34, 0.14, 0.08, 0.06)
MARKER_COLOURS = ((230, 159, 0), (86, 180, 233), (0, 158, 115), (204, 121, 167), (213, 94, 0), (0, 114, 178),
                  (150, 150, 150), (120, 40, 140))


@dataclass(frozen=True)
class _LetterStyle:
    placement: str  # "above" (band over the content) | "inside_tl" | "inside_br" | "none"
    fmt: str        # "{}", "({})", "{}."
    upper: bool
    font: str
    size: int
    colour: str     # inside letters: "auto" (white on dark, black on light) | "yellow"


def training_figures(n: int, seed: int, realistic_share: float,
                     id_prefix: str = "SYN") -> Iterable[tuple[str, Image.Image, list]]:
    """(name, image, panel boxes) of n training figures for the sub-figure detector: a share `realistic_share` from
    realistic layouts, the others from the demo article generator's figures (ids that never name a demo article).
    Each realistic figure has its own Generator seeded by sha256(seed, index): the set is deterministic."""
    demo_style = _demo_style_figures(seed, id_prefix)
    for i in range(n):
        rng = np.random.default_rng(_digest("mednarratives.subfigure-layouts", seed, i))
        if rng.random() < realistic_share:
            img, boxes = layout_figure(rng)
            yield f"{id_prefix}L{i:06d}", img, boxes
        else:
            yield next(demo_style)


def _demo_style_figures(seed: int, id_prefix: str) -> Iterable[tuple[str, Image.Image, list]]:
    k = 0
    while True:
        art_id = f"{id_prefix}{k:06d}"
        k += 1
        for fig in plan_article(art_id, seed).figures:
            img, _ = render_figure(fig)
            yield f"{art_id}_{fig.fig_id}", img, [list(p.box) for p in fig.panels]


def layout_figure(rng: np.random.Generator) -> tuple[Image.Image, list[list[int]]]:
    """One realistic compound figure and its panel boxes (the panel with its axes, legend, title and letter)."""
    W = int(rng.integers(560, 1001))
    H = int(W * rng.uniform(0.3, 1.15))
    bg = ((255, 255, 255),) * 8 + ((0, 0, 0), (235, 235, 235))
    background = bg[int(rng.integers(len(bg)))]
    canvas = Image.new("RGB", (W, H), background)
    ink = (0, 0, 0) if sum(background) > 384 else (255, 255, 255)
    top, bottom = 0, H
    if rng.random() < 0.15:  # a shared figure title: not a panel
        title = FIGURE_TITLES[int(rng.integers(len(FIGURE_TITLES)))]
        mask = _ink(title, "DejaVuSans-Bold.ttf", int(rng.integers(14, 22)))
        canvas.paste(ink, ((W - mask.size[0]) // 2, 4), mask)
        top = mask.size[1] + 10
    if rng.random() < 0.12:  # a legend shared by several panels, below them: not a panel
        bottom = H - _shared_legend(canvas, rng, H - 4, ink)
    margin = int(rng.choice((0, 0, 2, 5, 10, 20)))
    gutter = int(rng.choice((0, 1, 2, 3, 5, 8, 12, 20, 30), p=(0.1, 0.1, 0.08, 0.08, 0.14, 0.16, 0.14, 0.12, 0.08)))
    cells = _cells(rng, (margin, top + margin, W - margin, bottom - margin), gutter)
    letters = _letter_style(rng, W)
    titled = rng.random() < 0.3
    framed = rng.random() < 0.08
    boxes = []
    for i, cell in enumerate(cells):
        kind = CONTENT_KINDS[int(rng.choice(len(CONTENT_KINDS), p=CONTENT_WEIGHTS))]
        label = letters.fmt.format(chr(65 + i) if letters.upper else chr(97 + i)) if i < 26 else ""
        box = _panel(canvas, cell, kind, rng, background, letters, label,
                     PANEL_TITLES[int(rng.integers(len(PANEL_TITLES)))] if titled else "")
        if framed:
            ImageDraw.Draw(canvas).rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=(60, 60, 60))
        boxes.append(box)
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=int(rng.integers(45, 96)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), boxes


def _cells(rng: np.random.Generator, area: tuple, gutter: int) -> list[tuple[int, int, int, int]]:
    """Panel cells in reading order: a regular grid, rows of different column counts, or recursive splits."""
    x0, y0, x1, y1 = area
    style = ("grid", "rows", "split")[int(rng.integers(3))]

    def spans(lo: int, hi: int, weights) -> list[tuple[int, int]]:
        free = hi - lo - gutter * (len(weights) - 1)
        edges = lo + np.concatenate(([0], np.cumsum(weights))) / np.sum(weights) * free
        return [(int(edges[k]) + k * gutter, int(edges[k + 1]) + k * gutter) for k in range(len(weights))]

    if style == "split":
        cells = [area]
        for _ in range(int(rng.integers(1, 9))):
            k = max(range(len(cells)), key=lambda j: (cells[j][2] - cells[j][0]) * (cells[j][3] - cells[j][1]))
            a, b, c, d = cells.pop(k)
            f = rng.uniform(0.3, 0.7)
            if c - a > (d - b) * rng.uniform(0.7, 1.4):
                m = int(a + (c - a - gutter) * f)
                cells[k:k] = [(a, b, m, d), (m + gutter, b, c, d)]
            else:
                m = int(b + (d - b - gutter) * f)
                cells[k:k] = [(a, b, c, m), (a, m + gutter, c, d)]
        cells = [c for c in cells if c[2] - c[0] >= 40 and c[3] - c[1] >= 40]
        return sorted(cells, key=lambda c: (c[1] // 40, c[0]))
    n_rows = int(rng.integers(1, 5))
    rows = spans(y0, y1, rng.uniform(0.6, 1.4, n_rows) if style == "rows" else np.ones(n_rows))
    n_cols = int(rng.integers(1 if n_rows > 1 else 2, 6))
    cells = []
    for a, b in rows:
        k = int(rng.integers(1, 6)) if style == "rows" else n_cols
        for c, d in spans(x0, x1, rng.uniform(0.5, 1.5, k) if style == "rows" else np.ones(k)):
            if d - c >= 40 and b - a >= 40:
                cells.append((c, a, d, b))
    return cells


def _letter_style(rng: np.random.Generator, width: int) -> _LetterStyle:
    placement = ("above", "above", "inside_tl", "inside_tl", "inside_br", "none")[int(rng.integers(6))]
    fmt = ("{}", "{}", "{}", "({})", "{}.")[int(rng.integers(5))]
    font = ("DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSerif.ttf")[int(rng.integers(4))]
    size = int(rng.integers(11, max(12, min(32, width // 28)) + 1))
    return _LetterStyle(placement, fmt, bool(rng.random() < 0.7), font, size,
                        "yellow" if rng.random() < 0.15 else "auto")


def _panel(canvas: Image.Image, cell: tuple, kind: str, rng: np.random.Generator, background: tuple,
           letters: _LetterStyle, label: str, title: str) -> list[int]:
    """Draw one panel into its cell; returns its box: the ink of its content, title and letter."""
    cx0, cy0, cx1, cy1 = cell
    cw, ch = cx1 - cx0, cy1 - cy0
    tile = Image.new("RGB", (cw, ch), background)
    drawn = np.zeros((ch, cw), bool)
    ink = (0, 0, 0) if sum(background) > 384 else (255, 255, 255)
    band = 0
    heads = []  # (mask, x) of the letter and title drawn in the band above the content
    if label and letters.placement == "above":
        heads.append((_ink(label, letters.font, letters.size), 1))
    if title:
        t = _ink(title, "DejaVuSans.ttf", int(np.clip(letters.size * 0.8, 10, 18)))
        x = heads[0][0].size[0] + 8 if heads and rng.random() < 0.5 else max(0, (cw - t.size[0]) // 2)
        heads.append((t, x))
    if heads:
        band = max(m.size[1] for m, _ in heads) + int(rng.integers(2, 7))
        for m, x in heads:
            if x + m.size[0] <= cw and m.size[1] < ch:
                tile.paste(ink, (x, 1), m)
                drawn[1:1 + m.size[1], x:x + m.size[0]] |= np.asarray(m) > 0
    ch2 = ch - band
    if ch2 >= 24:
        content, full = _content(kind, (cw, ch2), rng, background)
        tile.paste(Image.fromarray(content), (0, band))
        if full:
            drawn[band:, :] = True
        else:
            drawn[band:, :] |= np.abs(content.astype(int) - background).max(axis=2) > 24
    if label and letters.placement in ("inside_tl", "inside_br"):
        m = _ink(label, letters.font, letters.size)
        pad = int(rng.integers(2, 10))
        x = pad if letters.placement == "inside_tl" else cw - pad - m.size[0]
        y = band + pad if letters.placement == "inside_tl" else ch - pad - m.size[1]
        if x >= 0 and y >= 0:
            lum = float(np.asarray(tile.crop((x, y, x + m.size[0], y + m.size[1])).convert("L")).mean())
            colour = COLOURS["yellow"] if letters.colour == "yellow" and lum < 110 else \
                (255, 255, 255) if lum < 110 else (0, 0, 0)
            tile.paste(colour, (x, y), m)
            drawn[y:y + m.size[1], x:x + m.size[0]] |= np.asarray(m) > 0
    canvas.paste(tile, (cx0, cy0))
    ys, xs = np.nonzero(drawn)
    if not len(xs):
        return [cx0, cy0, cx1, cy1]
    return [cx0 + int(xs.min()), cy0 + int(ys.min()), cx0 + int(xs.max()) + 1, cy0 + int(ys.max()) + 1]


def _content(kind: str, size: tuple[int, int], rng: np.random.Generator,
             background: tuple) -> tuple[np.ndarray, bool]:
    """(pixels, fills its whole rectangle) of one panel's content."""
    w, h = size
    if kind == "plot":
        return _plot(size, rng), background != (255, 255, 255)
    if kind == "image":
        return _photo(size, rng), True
    if kind == "two_views":  # one panel of two views side by side or stacked, 0-3 px apart
        g = int(rng.integers(0, 4))
        if w >= h:
            a, b = _photo(((w - g) // 2, h), rng), _photo((w - g - (w - g) // 2, h), rng)
            out = np.concatenate([a, np.full((h, g, 3), background, np.uint8), b], axis=1)
        else:
            a, b = _photo((w, (h - g) // 2), rng), _photo((w, h - g - (h - g) // 2), rng)
            out = np.concatenate([a, np.full((g, w, 3), background, np.uint8), b], axis=0)
        return out, True
    if kind == "render":
        return _render(size, rng), background != (255, 255, 255)
    return _table(size, rng), background != (255, 255, 255)


# ---- plots of real data sets (scikit-learn's bundled copies: iris, wine, breast cancer, diabetes)

@functools.lru_cache(maxsize=None)
def _datasets() -> tuple:
    from sklearn import datasets
    out = []
    for load in (datasets.load_iris, datasets.load_wine, datasets.load_breast_cancer):
        b = load()
        out.append((b.data, list(b.feature_names), b.target, [str(t) for t in b.target_names]))
    b = datasets.load_diabetes(scaled=False)
    y = np.digitize(b.target, np.percentile(b.target, [33, 67]))
    out.append((np.column_stack([b.data, b.target]), list(b.feature_names) + ["progression"], y,
                ["low", "mid", "high"]))
    return tuple(out)


PLOT_KINDS = ("scatter", "line", "bar", "box", "hist", "heatmap", "stacked", "spectrum")


def _plot(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A matplotlib panel (axes, ticks, labels, often a legend or colour bar) of a real data set."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    X, names, y, classes = _datasets()[int(rng.integers(len(_datasets())))]
    kind = PLOT_KINDS[int(rng.integers(len(PLOT_KINDS)))]
    w, h = size
    fs = float(np.clip(min(w, h) / 20, 4.5, 11))
    cols = [int(c) for c in rng.choice(X.shape[1], 3, replace=False)]
    colours = [tuple(v / 255 for v in MARKER_COLOURS[(k + int(rng.integers(8))) % 8]) for k in range(len(classes))]
    with matplotlib.rc_context({"font.size": fs, "axes.linewidth": 0.8, "lines.linewidth": 1.2,
                                "font.family": "DejaVu Sans"}):
        fig = MplFigure(figsize=(w / 100, h / 100), dpi=100)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        legend = rng.random() < 0.6
        if kind == "scatter":
            for k, c in enumerate(classes):
                ax.scatter(X[y == k, cols[0]], X[y == k, cols[1]], s=fs, color=colours[k], label=c)
            ax.set_xlabel(names[cols[0]]), ax.set_ylabel(names[cols[1]])
        elif kind in ("line", "spectrum"):
            order = np.argsort(X[:, cols[0]])
            for k, j in enumerate(cols[1:] if kind == "line" else cols[:2]):
                v = X[order, j] if kind == "line" else np.abs(np.fft.rfft(X[:, j] - X[:, j].mean()))
                v = np.convolve(v, np.ones(5) / 5, mode="valid") if kind == "line" else v
                ax.plot(v, color=colours[k % len(colours)], label=names[j])
            ax.set_xlabel("sample (sorted)" if kind == "line" else "frequency (bins)"), ax.set_ylabel("value")
        elif kind == "bar":
            m = [X[y == k, cols[0]].mean() for k in range(len(classes))]
            s = [X[y == k, cols[0]].std() for k in range(len(classes))]
            ax.bar(classes, m, yerr=s, color=colours, capsize=3, label=classes)
            ax.set_ylabel(names[cols[0]])
        elif kind == "box":
            ax.boxplot([X[y == k, cols[0]] for k in range(len(classes))], tick_labels=classes)
            ax.set_ylabel(names[cols[0]])
            legend = False
        elif kind == "hist":
            ax.hist([X[y == k, cols[0]] for k in range(len(classes))], bins=12, stacked=True, color=colours,
                    label=classes)
            ax.set_xlabel(names[cols[0]]), ax.set_ylabel("count")
        elif kind == "heatmap":
            k = min(X.shape[1], int(rng.integers(4, 11)))
            im = ax.imshow(np.corrcoef(X[:, :k].T), aspect="auto",
                           cmap=("viridis", "RdBu_r", "magma", "coolwarm")[int(rng.integers(4))])
            ax.set_xticks(range(k)), ax.set_yticks(range(k))
            ax.set_xticklabels([s[:8] for s in names[:k]], rotation=90), ax.set_yticklabels([s[:8] for s in names[:k]])
            fig.colorbar(im, ax=ax, fraction=0.05)
            legend = False
        else:  # stacked bars: class shares in bins of one feature
            bins = np.digitize(X[:, cols[0]], np.percentile(X[:, cols[0]], [25, 50, 75]))
            bottom = np.zeros(4)
            for k, c in enumerate(classes):
                share = np.array([np.mean(y[bins == b] == k) if np.any(bins == b) else 0 for b in range(4)])
                ax.bar(["Q1", "Q2", "Q3", "Q4"], share, bottom=bottom, color=colours[k], label=c)
                bottom += share
            ax.set_ylabel("share")
        if rng.random() < 0.4:
            ax.set_title(names[cols[0]], fontsize=fs * 1.1, fontweight="bold" if rng.random() < 0.5 else "normal")
        if rng.random() < 0.5:
            ax.spines[["top", "right"]].set_visible(False)
        if legend:
            if rng.random() < 0.35:
                ax.legend(fontsize=fs * 0.85, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
            else:
                ax.legend(fontsize=fs * 0.85, frameon=rng.random() < 0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig.tight_layout(pad=float(rng.uniform(0.1, 0.8)))
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


# ---- images: radiology, microscopy, photos; fluorescence-like false colour; scale bars, marks, insets

@functools.lru_cache(maxsize=None)
def _extra_image(file: str) -> np.ndarray:
    from mednarratives.assets import package_file
    return np.asarray(Image.open(package_file("skimage", file)).convert("RGB"))


def _any_image(rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(len(CATALOG) + len(EXTRA_IMAGES)))
    return load_image(CATALOG[k].name) if k < len(CATALOG) else _extra_image(EXTRA_IMAGES[k - len(CATALOG)])


def _photo(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    w, h = size
    src = _any_image(rng)
    x0, y0, x1, y1 = _crop(src, (0, 0, w, h), rng, zoom=rng.random() < 0.4)
    img = Image.fromarray(src).resize((w, h), Image.Resampling.BILINEAR, box=(x0, y0, x1, y1))
    if rng.random() < 0.25:  # two-channel fluorescence look (green / magenta on black)
        g = np.asarray(img.convert("L")).astype(float)
        g = np.clip((g - np.percentile(g, 30)) / max(1.0, np.ptp(g)) * 1.6, 0, 1)
        m = np.roll(g, (int(rng.integers(-30, 30)), int(rng.integers(-30, 30))), axis=(0, 1)) ** 2
        img = Image.fromarray((np.stack([m, g, m], axis=2) * 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    if rng.random() < 0.4:  # scale bar with its length
        bl = int(w * rng.uniform(0.12, 0.3))
        bx, by = w - bl - 8, h - 10
        fill = (255, 255, 255) if np.asarray(img.convert("L"))[by - 20:, bx:].mean() < 128 else (0, 0, 0)
        d.rectangle([bx, by, bx + bl, by + max(2, h // 100)], fill=fill)
        if rng.random() < 0.6 and h > 80:
            fs = max(9, min(16, h // 18))
            d.text((bx + bl // 2, by - 2), f"{int(rng.choice((10, 20, 50, 100, 200)))} \u00b5m", fill=fill,
                   font=dejavu_font(CHART_FONT, fs), anchor="md")
    for _ in range(int(rng.integers(0, 3))):  # asterisks, arrows, structure names
        x, y = int(rng.integers(0, max(1, w - 30))), int(rng.integers(0, max(1, h - 20)))
        mark = ("*", "\u2192", "\u2190", "cPRC", "MC", "LV", "ROI")[int(rng.integers(7))]
        d.text((x, y), mark, fill=(255, 255, 255), font=dejavu_font(CHART_FONT, int(rng.integers(10, 20))))
    if rng.random() < 0.12 and w > 120 and h > 120:  # inset: a zoomed detail in a corner, white border
        iw, ih = w // 3, h // 3
        inset = img.resize((iw, ih), Image.Resampling.BILINEAR, box=(w / 3, h / 3, w / 2, h / 2))
        img.paste(inset, (w - iw - 4, 4))
        d.rectangle([w - iw - 5, 3, w - 4, ih + 4], outline=(255, 255, 255), width=2)
    return np.asarray(img)


# ---- renders on white: translucent body with coloured cells, networks, molecules

def _render(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    w, h = size
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    kind = int(rng.integers(3))
    cx, cy, r = w / 2, h / 2, min(w, h) * rng.uniform(0.3, 0.48)
    if kind == 0:  # translucent body (edges of a real image) with coloured spheres and neurites
        src = Image.fromarray(_any_image(rng)).convert("L").resize((w, h), Image.Resampling.BILINEAR)
        edges = np.abs(np.diff(np.asarray(src, float), axis=0, prepend=0)) + \
            np.abs(np.diff(np.asarray(src, float), axis=1, prepend=0))
        shade = 255 - np.clip(edges * rng.uniform(0.5, 2.0), 0, 120)
        yy, xx = np.mgrid[0:h, 0:w]
        body = ((xx - cx) / (w * 0.45)) ** 2 + ((yy - cy) / (h * 0.47)) ** 2 < 1
        img = Image.fromarray(np.where(body, shade, 255).astype(np.uint8)).convert("RGB")
        d = ImageDraw.Draw(img)
        pts = np.column_stack([rng.normal(cx, w * 0.15, 14), rng.normal(cy, h * 0.2, 14)])
        col = MARKER_COLOURS[int(rng.integers(8))]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            d.line([(x0, y0), (x1, y1)], fill=col, width=max(1, int(r // 60)))
        for x, y in pts:
            _sphere(d, x, y, max(2.0, r * rng.uniform(0.03, 0.07)), col)
    elif kind == 1:  # network: nodes, weighted edges, counts
        import networkx as nx
        k = int(rng.integers(5, 12))
        g = nx.gnm_random_graph(k, int(k * 1.5), seed=int(rng.integers(2 ** 31)))
        pos = nx.spring_layout(g, seed=int(rng.integers(2 ** 31)))
        xy = {n: (w * (0.12 + 0.76 * (p[0] + 1) / 2), h * (0.12 + 0.76 * (p[1] + 1) / 2)) for n, p in pos.items()}
        font = dejavu_font(CHART_FONT, max(8, int(min(w, h) / 25)))
        for a, b in g.edges:
            d.line([xy[a], xy[b]], fill=(90, 90, 90), width=int(rng.integers(1, 4)))
            d.text(((xy[a][0] + xy[b][0]) / 2, (xy[a][1] + xy[b][1]) / 2), str(int(rng.integers(1, 99))),
                   fill="black", font=font)
        nr = max(5, min(w, h) / 16)
        for n in g.nodes:
            x, y = xy[n]
            d.ellipse([x - nr, y - nr * 0.8, x + nr, y + nr * 0.8], fill=MARKER_COLOURS[n % 8], outline="black")
    else:  # ball-and-stick molecule: a 3-D random walk, shaded spheres drawn back to front
        p = np.cumsum(rng.normal(0, 1, (int(rng.integers(8, 25)), 3)), axis=0)
        p = (p - p.mean(axis=0)) / np.maximum(1e-6, np.abs(p).max(axis=0)) * (w * 0.38, h * 0.38, r)
        for a, b in zip(p, p[1:]):
            d.line([(cx + a[0], cy + a[1]), (cx + b[0], cy + b[1])], fill=(110, 110, 110), width=max(2, int(r / 30)))
        for q in p[np.argsort(p[:, 2])]:
            _sphere(d, cx + q[0], cy + q[1], r * 0.09 * (1.2 + q[2] / r / 2), MARKER_COLOURS[int(rng.integers(8))])
    return np.asarray(img)


def _sphere(d: ImageDraw.ImageDraw, x: float, y: float, r: float, colour: tuple) -> None:
    """A shaded sphere: concentric discs, lighter towards the upper left."""
    for k in range(4, 0, -1):
        f, o = k / 4, (1 - k / 4) * r * 0.35
        c = tuple(int(v + (255 - v) * (1 - f) * 0.8) for v in colour)
        d.ellipse([x - r * f - o, y - r * f - o, x + r * f - o, y + r * f - o], fill=c)


def _table(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A small table of a real data set's rows (header rule, numbers)."""
    w, h = size
    X, names, _, _ = _datasets()[int(rng.integers(len(_datasets())))]
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    fs = int(np.clip(h / 12, 8, 14))
    font = dejavu_font(CHART_FONT, fs)
    n_cols = max(2, min(5, w // (fs * 7)))
    rows = [[s[:10] for s in names[:n_cols]]] + [[f"{v:.2f}" for v in X[int(rng.integers(len(X))), :n_cols]]
                                               for _ in range(max(1, (h - 8) // (fs + 6) - 1))]
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            d.text((4 + c * (w - 8) / n_cols, 4 + r * (fs + 6)), text, fill="black", font=font)
        if r == 0:
            d.line([(2, fs + 8), (w - 2, fs + 8)], fill="black", width=1)
    return np.asarray(img)


def _shared_legend(canvas: Image.Image, rng: np.random.Generator, baseline: int, ink: tuple) -> int:
    """A legend row shared by several panels, centred above `baseline`; returns the height it takes."""
    d = ImageDraw.Draw(canvas)
    fs = int(rng.integers(10, 16))
    font = dejavu_font(CHART_FONT, fs)
    names = [str(c) for c in _datasets()[int(rng.integers(len(_datasets())))][3]]
    x = int(canvas.size[0] * rng.uniform(0.1, 0.4))
    for k, name in enumerate(names):
        d.rectangle([x, baseline - fs, x + fs, baseline], fill=MARKER_COLOURS[k])
        d.text((x + fs + 4, baseline), name, fill=ink, font=font, anchor="ld")
        x += fs + 16 + int(font.getlength(name))
    return fs + 10
