"""Safe JATS parsing: article metadata, figures with full captions and their own graphic, and the body
sentences that cite each figure.

One parse per article (lxml, no DTD, no network, no entity expansion, no huge trees), then:

- figures: every <fig> in body, back (appendices) and floats-group, members of <fig-group> included (each
  member knows its group); sub-article/response figures (peer review material) are left out. The caption is
  the caption title and ALL its blocks (paragraphs, lists), text inside inline markup kept, whitespace
  normalised, a trailing eLife "DOI: http://dx.doi.org/..." line left out; `caption_marked` is the same
  text with <b>...</b> around bold runs, for sub-caption label detection. The graphic is the figure's own
  <graphic xlink:href> (inside <alternatives> too), never one of a nested figure, a caption or an inline-graphic.
- citations: one pass over the top-level paragraphs of body and appendices. Figure <xref>s are marked with
  sentinel characters before the paragraph text is taken, so their spans are known in the text; plain-text
  mentions ("Fig. 2", "Figure 2B", "Figs. 1-3", "Figures 1 and 3", "Fig. 2A and C", "Figs 3, S3, and 5")
  are found with one regex per paragraph and mapped to figure ids through the figure labels; supplementary
  figures ("Supplementary Figure 2", "Figure S1", "S1 Fig") never map to main figures; eLife "Figure 2—figure
  supplement 1" and "Appendix 1—figure 1" map to those figures only, never to Figure 2 or Figure 1; "Figure 1A
  of another article" is another paper's figure. Sentences are split
  only in paragraphs that cite a figure; "Fig.", "et al.", "e.g." and other abbreviations never end one.

Unresolved entity references (entities are not expanded) come out of lxml as literal "&name;": a known
HTML/MathML character entity becomes its character ("&nbsp;" -> space), any other one is dropped.
"""

from __future__ import annotations

import bisect
import html.entities
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from lxml import etree

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ALI_LICENSE_REF = "{http://www.niso.org/schemas/ali/1.0/}license_ref"
MAX_XML_BYTES = 64 * 2**20
SAFE_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
# NB: collect_ids=False must NOT be added: with lxml 6.1 it makes libxml2 try to load the external DTD.

BOLD_OPEN, BOLD_CLOSE = "<b>", "</b>"
_XREF_OPEN, _XREF_CLOSE, _XREF_BASE = "\ue000", "\ue001", 0xF0000  # sentinels, private use planes

_local = threading.local()


def _parser() -> etree.XMLParser:
    p = getattr(_local, "parser", None)
    if p is None:
        p = _local.parser = etree.XMLParser(**SAFE_PARSER_OPTIONS)
    return p


class JatsParseError(ValueError):
    """An article XML that cannot be used; `reason` is a short code for a ledger row."""

    REASONS = ("unreadable", "too_large", "xml_syntax", "not_jats")

    def __init__(self, reason: str, detail: str = "", source: str = ""):
        self.reason, self.detail, self.source = reason, detail, source
        super().__init__(f"{reason}: {detail}" + (f" ({source})" if source else ""))


@dataclass
class FigureCitation:
    sentence: str
    panels: list[str]          # panel letters / position words cited for this figure; [] = whole figure
    section: str = ""          # title of the enclosing section


@dataclass
class Figure:
    id: str
    label: str
    number: str | None         # "2", "S1", "A1" from the label (or the group's label); None if unlabelled
    caption: str               # caption title + all caption blocks, normalised
    caption_title: str = ""
    caption_marked: str = ""   # caption with <b>...</b> around bold runs
    graphic: str | None = None  # the figure's own xlink:href (first one)
    graphics: list[str] = field(default_factory=list)
    location: str = "body"     # body | back | floats-group | other
    panel: str | None = None   # a fig-group member's own letter label ("A")
    group_id: str | None = None
    group_label: str = ""
    group_caption: str = ""
    citations: list[FigureCitation] = field(default_factory=list)


@dataclass
class Citation:
    sentence: str
    figures: dict[str, list[str]]  # figure id -> panels ([] = whole figure)
    mentions: list[str]            # the citing strings as written ("Fig. 2A and C")
    section: str = ""


@dataclass
class Article:
    pmcid: str
    pmid: str
    doi: str
    title: str
    journal: str
    license: str                # licence URL, else licence type, else code derived from the licence text
    license_code: str           # "CC BY", "CC BY-NC", "CC0", "PDM", ... or ""
    license_text: str
    figures: list[Figure]
    citations: list[Citation]
    source: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def figure(self, fig_id: str) -> Figure:
        for f in self.figures:
            if f.id == fig_id:
                return f
        raise KeyError(fig_id)


# ----------------------------------------------------------------------------------------------- text

_ENTITY_RE = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_HTML5 = html.entities.html5


def _entity_char(name: str) -> str:
    return _HTML5.get(name + ";", "")


def fix_entities(text: str) -> str:
    """Literal '&name;' left by unexpanded entities: known character entities -> character, others dropped."""
    if "&" not in text:
        return text
    return _ENTITY_RE.sub(lambda m: _entity_char(m.group(1)), text)


def normalize_ws(text: str) -> str:
    return " ".join(text.split())


_BLOCK = frozenset({
    "p", "title", "label", "list", "list-item", "def-list", "def-item", "term", "def", "disp-quote",
    "attrib", "fn", "statement", "boxed-text", "disp-formula", "table-wrap", "table", "tr", "td", "th",
    "caption", "sec", "speech", "verse-line",
})
_SKIP = frozenset({
    "tex-math", "graphic", "inline-graphic", "media", "object-id", "alt-text", "long-desc",
    "{http://www.w3.org/1998/Math/MathML}annotation", "{http://www.w3.org/1998/Math/MathML}annotation-xml",
})
_BOLD = frozenset({"bold", "b"})
_SEP = " "  # block separator, collapsed by normalize_ws


def _walk(el, out: list, marks: bool) -> None:
    # each .text/.tail read decodes a new string: read once
    tag = el.tag
    if not isinstance(tag, str):  # comment, processing instruction, entity reference
        if tag is etree.Entity:
            out.append(_entity_char(el.name))
    elif tag not in _SKIP:
        block = tag in _BLOCK
        bold = marks and tag in _BOLD
        if block:
            out.append(_SEP)
        if bold:
            out.append(BOLD_OPEN)
        text = el.text
        if text:
            out.append(text)
        for child in el:
            _walk(child, out, marks)
        if bold:
            out.append(BOLD_CLOSE)
        if block:
            out.append(_SEP)
    tail = el.tail
    if tail:
        out.append(tail)


_EMPTY_BOLD_RE = re.compile(r"<b>(\s*)</b>")


def render_text(el, marks: bool = False) -> str:
    """Normalised text of an element (not its tail), blocks separated by one space."""
    if el is None:
        return ""
    text = el.text
    out: list[str] = [text] if text else []
    for child in el:
        _walk(child, out, marks)
    text = fix_entities("".join(out))
    if marks:
        text = _EMPTY_BOLD_RE.sub(r"\1", text)
    return normalize_ws(text)


def _unmark(text: str) -> str:
    return text.replace(BOLD_OPEN, "").replace(BOLD_CLOSE, "") if BOLD_OPEN in text else text


def _join_title(title: str, rest: str) -> str:
    if not title:
        return rest
    if not rest:
        return title
    if title[-1] not in ".?!:;":
        title += "."
    return f"{title} {rest}"


# a trailing "DOI: http://dx.doi.org/10.7554/eLife.03032.003" line (eLife) identifies the figure, it is no caption text
_DOI_TRAILER_RE = re.compile(
    r"\s*(?:<b>)?\s*DOI\s*:?\s*(?:</b>)?\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?10\.\d{4,9}/\S+$", re.I)


def _drop_doi_trailer(text: str) -> str:
    """`text` (whitespace-normalised) without a trailing DOI line. The trailer spans at most six space-separated
    tokens, so the regex runs on the last seven only: on a whole caption its leading \\s* is retried at every
    position (a tenth of the parse time on eLife-style captions); the result is the same."""
    if "10." not in text:
        return text
    pos = len(text)
    for _ in range(7):
        pos = text.rfind(" ", 0, pos)
        if pos < 0:
            return _DOI_TRAILER_RE.sub("", text)
    return text[:pos] + _DOI_TRAILER_RE.sub("", text[pos:])


def _child(el, tag: str):
    """el.find(tag) for a plain tag name (the first such child), without ElementPath's overhead."""
    return next(el.iterchildren(tag), None)


def _path(el, *tags: str):
    """el.find("a/b") for plain child steps: the first match in document order."""
    for child in el.iterchildren(tags[0]):
        got = _path(child, *tags[1:]) if len(tags) > 1 else child
        if got is not None:
            return got
    return None


def _caption_parts(caption, marks: bool) -> tuple[str, str]:
    """(title, full caption) of a <caption>; the full caption is the title plus all other blocks."""
    if caption is None:
        return "", ""
    title_el = _child(caption, "title")
    title = render_text(title_el, marks)
    if title_el is None:
        return "", _drop_doi_trailer(render_text(caption, marks))
    text = caption.text
    out: list[str] = [text] if text else []
    for child in caption:
        if child is title_el:
            tail = child.tail
            if tail:
                out.append(tail)
            continue
        _walk(child, out, marks)
    rest = normalize_ws(fix_entities("".join(out)))
    if marks:
        rest = _EMPTY_BOLD_RE.sub(r"\1", rest)
    return title, _join_title(title, _drop_doi_trailer(rest))


# ----------------------------------------------------------------------------------------- sentences

_ABBREV = frozenset("""
fig figs figure figures al e.g eg i.e ie vs v cf ca approx ref refs eq eqs no nos vol vols pp dr mr mrs ms
prof st sp spp var subsp suppl sect sec ch ed eds resp incl viz est inc ltd co corp dept univ jan feb mar
apr jun jul aug sep sept oct nov dec tab tabs u.s u.k ph.d m.d p.o i.v i.p s.c i.m b.i.d t.i.d q.d
""".split())
_BOUNDARY_RE = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9*\u2020\u2021\u00a7#])")


_INITIALS_RE = re.compile(r"(?:[A-Z]\.)+[A-Z]$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets; never ends a sentence at an abbreviation such as Fig., et al., e.g."""
    spans = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        i = m.start()
        if i > 0 and text[i - 1] == "(":  # "(?) Represent flies of unknown status": a symbol, no sentence end
            continue
        if text[i] == ".":
            j = i
            while j > 0 and (text[j - 1].isalpha() or text[j - 1] == "."):
                j -= 1
            word = text[j:i]
            if j < i and (word.lower().rstrip(".") in _ABBREV
                          or (i - j == 1 and j > 0 and text[j - 1] in "([")  # "(a. U-fiber; b. ILF)"
                          or ("." in word and _INITIALS_RE.match(text, j, i))):  # "G.T. Plunkett"
                continue
        spans.append((start, i + 1))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def split_sentences(text: str) -> list[str]:
    return [normalize_ws(text[s:e]) for s, e in sentence_spans(text)]


# ------------------------------------------------------------------------------------ figure mentions

_ITEM = r"[A-Z]?\d{1,3}(?:[A-Za-z]{1,2}(?![A-Za-z])|\([A-Za-z](?:\s*[-\u2013\u2014,]\s*[A-Za-z])*\))?"
_SEPS = r"\s*(?:,\s*and|,\s*or|,|and|or|&|[-\u2010\u2011\u2013\u2014]|to)\s*"
_MENTION_RE = re.compile(
    rf"(?<![A-Za-z])(?:fig(?:ure)?s?)\.?[\s\u00a0]*(?P<list>{_ITEM}(?:{_SEPS}(?:{_ITEM}|[A-Za-z](?![A-Za-z0-9])))*)",
    re.I)
_TOKEN_RE = re.compile(
    r"(?P<num>[A-Z]?\d+)(?P<let>[A-Za-z]{1,2}(?![A-Za-z]))?(?:\((?P<plet>[^)]*)\))?"
    r"|(?P<sep>,\s*and|,\s*or|,|and|or|&|[-\u2010\u2011\u2013\u2014]|to)"
    r"|(?P<lone>[A-Za-z])", re.I)
_SUPPL_BEFORE_RE = re.compile(
    r"(?:supplementa(?:ry|l)|suppl\.?|supporting|extended\s+data|appendix|online|electronic|esm|"
    r"additional(?:\s+file\s*\d*\s*[:,]?)?)\s*$", re.I)
_EXTERNAL_AFTER_RE = re.compile(
    r"\s+(?:of|in|from)\s+(?:refs?\b|\[|ref\.|references?\b|their\b|the\s+(?:original|cited|previous)\b|"
    r"(?:a\s+)?previous\b|another\b|other\b|our\s+(?:previous|earlier|recent)\b|"
    r"an?\s+(?:earlier|recent|related|companion|separate)\b|\(?[A-Z][A-Za-z-]+\s+(?:et\s+al|and\s+[A-Z]))")
# eLife-style qualified figures: "Figure 2—figure supplement 1" (a figure of its own, not Figure 2) and
# "Appendix 1—figure 1" / "Box 2—figure 1" (not Figure 1). Their numbers are keys such as "2-SUPPLEMENT-1",
# "APPENDIX1-1", the same for labels and mentions.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014"
_SUPPLEMENT_AFTER_RE = re.compile(
    rf"\s*[{_DASHES}]\s*figure\s+supplements?\s*(?P<list>\d+[A-Za-z]?(?:\s*(?:,\s*and|,|and|&|[{_DASHES}])\s*"
    rf"(?:\d+[A-Za-z]?|[A-Za-z](?![A-Za-z0-9])))*)", re.I)
_QUALIFIER_BEFORE_RE = re.compile(rf"\b(?P<q>appendix|box|annex)\s*(?P<n>\d+|[A-Z])\s*[{_DASHES}]\s*$", re.I)
# words without which the two regexes above cannot match: looked up in the lower-case text before a mention first
# (the regexes search every position). Only İ, ı and ſ match these letters under re.I but do not lower-case to
# them (İ even lower-cases to two characters): in a text with one of those the regexes alone decide.
_SUPPL_WORDS = ("suppl", "supporting", "extended", "appendix", "online", "electronic", "esm", "additional")
_QUALIFIER_WORDS = ("appendix", "box", "annex")
_ODD_CASE_CHARS = ("\u0130", "\u0131", "\u017f")


def _holds_any(text: str, words: tuple[str, ...]) -> bool:
    """any(w in text for w in words), without a generator per call (it runs twice per mention)."""
    for w in words:
        if w in text:
            return True
    return False


_QUALIFIED_LABEL_RE = re.compile(
    rf"^\s*(?:(?P<q>appendix|box|annex)\s*(?P<n>\d+|[A-Z])\s*[{_DASHES}]\s*)?fig(?:ure)?\.?\s*(?P<fig>\d+)"
    rf"(?:\s*[{_DASHES}]\s*figure\s+supplement\s*(?P<supp>\d+))?", re.I)


def _qualified_key(number: str, qualifier: str = "", qualifier_number: str = "", supplement: str = "") -> str:
    key = number.upper()
    if supplement:
        key = f"{key}-SUPPLEMENT-{supplement}"
    if qualifier:
        key = f"{qualifier.upper()}{qualifier_number.upper()}-{key}"
    return key
_SPATIAL = r"(?:top|bottom|upper|lower|middle|left|right|centre|center)(?:[\s-](?:left|right|middle|centre|center))?"
_SPATIAL_AFTER_RE = re.compile(
    rf"(?:,\s*|\s*\()(?P<sp>{_SPATIAL})(?:\s+(?:panels?|rows?|columns?|images?))?(?=\s*[),;.]|\s*$)", re.I)


def _letters(a: str, b: str) -> list[str]:
    if a.isupper() != b.isupper() or ord(b) < ord(a) or ord(b) - ord(a) > 25:
        return [a, b]
    return [chr(c) for c in range(ord(a), ord(b) + 1)]


@dataclass
class Mention:
    start: int
    end: int
    text: str
    numbers: dict[str, list[str]]   # figure number ("2") -> panels; supplementary items left out
    supplementary: bool = False     # the whole mention names supplementary figures
    external: bool = False          # "Fig. 3 of ref. [12]": another paper's figure


def parse_figure_list(s: str) -> dict[str, list[str]]:
    """'2A and C' -> {'2': ['A', 'C']}; '1-3' -> {'1': [], '2': [], '3': []}; supplementary 'S3' items dropped."""
    return _parse_figure_list(s)[0]


_SIMPLE_LIST_RE = re.compile(r"(\d+)([A-Za-z]{0,2})")


def _parse_figure_list(s: str) -> tuple[dict[str, list[str]], int]:
    """(figure number -> panels, length of `s` used: a trailing separator or refused letter is not)."""
    m = _SIMPLE_LIST_RE.fullmatch(s)
    if m:  # the usual "2", "2A", "2AB": one figure, its panels
        return {m.group(1): list(dict.fromkeys(m.group(2)))}, len(s)
    out: dict[str, list[str]] = {}
    used = 0
    cur: str | None = None          # current figure number
    cur_supp = False
    prev_kind = None                # 'num' | 'lone' | 'sep'
    prev_sep = ""
    last_letter: str | None = None  # last panel letter of the current figure

    def add(num, letters):
        if num is None:
            return
        lst = out.setdefault(num, [])
        for x in letters:
            if x not in lst:
                lst.append(x)

    for m in _TOKEN_RE.finditer(s):
        if m.group("num"):
            num = m.group("num").upper()
            supp = num[0] == "S"
            let = list(m.group("let") or "")
            if m.group("plet"):
                parts = re.findall(r"[A-Za-z]|[-\u2013\u2014]", m.group("plet"))
                let = []
                for i, t in enumerate(parts):
                    if t in "-\u2013\u2014" and let and i + 1 < len(parts):
                        let.extend(_letters(let.pop(), parts[i + 1])[:-1])
                    elif t.isalpha():
                        let.append(t)
            used = m.end()
            if supp:
                cur, cur_supp, prev_kind, last_letter = num, True, "num", None
                continue
            if prev_kind == "sep" and prev_sep in ("-", "\u2010", "\u2011", "\u2013", "\u2014", "to") \
                    and cur is not None and not cur_supp and cur.isdigit() and num.isdigit():
                a, b = int(cur), int(num)
                if a == b and last_letter and let:          # 3A-3C: panel range
                    add(num, _letters(last_letter, let[0])[1:] + let[1:])
                    last_letter = let[-1]
                    prev_kind = "num"
                    continue
                if a < b <= a + 30:                          # 1-3: figure range
                    for k in range(a + 1, b):
                        add(str(k), [])
            add(num, let)
            cur, cur_supp = num, False
            last_letter = let[-1] if let else None
            prev_kind = "num"
        elif m.group("sep"):
            prev_sep = re.sub(r"\s+", " ", m.group("sep").lower()).strip()
            prev_kind = "sep"
        else:
            x = m.group("lone")
            if prev_kind != "sep" or cur is None or cur_supp or last_letter is None \
                    or x.isupper() != last_letter.isupper():
                break  # "Fig. 1 and a ...": an article, not a panel: stop here
            if prev_sep in ("-", "\u2010", "\u2011", "\u2013", "\u2014", "to"):
                add(cur, _letters(last_letter, x)[1:])
            else:
                add(cur, [x])
            last_letter = x
            prev_kind = "lone"
            used = m.end()
    return out, used


def find_figure_mentions(text: str) -> list[Mention]:
    """Plain-text figure mentions in `text`, with figure numbers and panels."""
    found = []
    low = text.lower()
    i = low.find("fig")
    if i < 0:
        return found
    odd_case = any(c in text for c in _ODD_CASE_CHARS)
    while i >= 0:  # the regex is tried only where "fig" occurs: much faster than scanning every position
        m = _MENTION_RE.match(text, i)
        if m is None:
            i = low.find("fig", i + 3)
            continue
        i = low.find("fig", m.end())
        start = m.start()
        before = text[max(0, start - 40):start]
        low_before = "" if odd_case else low[max(0, start - 40):start]
        supp = ((odd_case or _holds_any(low_before, _SUPPL_WORDS))
                and _SUPPL_BEFORE_RE.search(before) is not None)
        numbers, used = _parse_figure_list(m.group("list"))
        end = m.start("list") + used if used else m.end()  # "Fig. 1 and a dashed line": ends after "1"
        if supp:
            numbers = {}
        sp = _SPATIAL_AFTER_RE.match(text, end)
        if sp and numbers:
            last = list(numbers)[-1]
            word = normalize_ws(sp.group("sp").lower().replace("-", " "))
            if word not in numbers[last]:
                numbers[last].append(word)
        q = (_QUALIFIER_BEFORE_RE.search(before) if odd_case or _holds_any(low_before, _QUALIFIER_WORDS)
             else None)
        if q and numbers:  # "Appendix 1—figure 2": not Figure 2
            numbers = {_qualified_key(n, q.group("q"), q.group("n")): pl for n, pl in numbers.items()}
            start = start - (len(before) - q.start())
        sm = _SUPPLEMENT_AFTER_RE.match(text, m.start("list") + used) if len(numbers) == 1 else None
        if sm:  # "Figure 2—figure supplement 1A": the supplement only
            fig = next(iter(numbers))
            numbers = {_qualified_key(fig, supplement=k): pl for k, pl in parse_figure_list(sm.group("list")).items()}
            end = sm.end()
            i = low.find("fig", end)
        mtext = text[start:end]
        external = bool(_EXTERNAL_AFTER_RE.match(text, end))
        found.append(Mention(start, end, mtext, numbers, supplementary=supp or not numbers, external=external))
    return found


# ----------------------------------------------------------------------------------------------- parse

_LABEL_NUM_RE = re.compile(r"([A-Z]?\d+)\s*([A-Za-z])?(?![A-Za-z0-9])")
_PANEL_LABEL_RE = re.compile(r"^\(?([A-Za-z])[).:]?$")
_PMCID_RE = re.compile(r"^(?:PMC)?(\d+)(?:\.\d+)?$", re.I)


def normalize_pmcid(value: str | None) -> str:
    """'3166277', 'PMC3166277', 'pmc3166277.1' -> 'PMC3166277'; '' when not a PMC id."""
    if not value:
        return ""
    m = _PMCID_RE.match(str(value).strip())
    return f"PMC{m.group(1)}" if m else ""


def _label_number(label: str) -> tuple[str | None, str | None]:
    """'Figure 2' -> ('2', None); 'Fig. S1' -> ('S1', None); 'Figure 3B' -> ('3', 'B'); '(A)' -> (None, 'A')."""
    lab = label.strip()
    m = _PANEL_LABEL_RE.match(lab)
    if m:
        return None, m.group(1)
    m = _QUALIFIED_LABEL_RE.match(lab)
    if m and (m.group("q") or m.group("supp")):
        return _qualified_key(m.group("fig"), m.group("q") or "", m.group("n") or "", m.group("supp") or ""), None
    m = _LABEL_NUM_RE.search(lab)
    if not m:
        return None, None
    return m.group(1), m.group(2)


_CC_URL_RE = re.compile(r"creativecommons\.org/licenses/([a-z-]+)(?:/(\d(?:\.\d)?))?")
_CC0_TEXT_RE = re.compile(r"\bcc0\b|public domain dedication")


def _license_code(url: str, text: str, ltype: str) -> str:
    s = (url or "").lower()
    if "publicdomain/zero" in s or "cc0" in s:
        return "CC0"
    if "publicdomain/mark" in s:
        return "PDM"
    m = _CC_URL_RE.search(s)
    if m:
        return "CC " + m.group(1).upper()
    t = (text or "").lower()
    if "creative commons" in t or "attribution" in t:
        if _CC0_TEXT_RE.search(t):
            return "CC0"
        parts = ["BY"]
        if "noncommercial" in t or "non-commercial" in t:
            parts.append("NC")
        if "noderiv" in t or "no deriv" in t or "no-deriv" in t:
            parts.append("ND")
        if "sharealike" in t or "share alike" in t or "share-alike" in t:
            parts.append("SA")
        return "CC " + "-".join(parts)
    if "public domain" in t or (ltype or "").lower() == "public-domain":
        return "PDM"
    return ""


def _find_article(root):
    if root.tag == "article":
        return root
    if isinstance(root.tag, str) and root.tag.endswith("}article"):
        return _strip_jats_namespace(root)
    for el in root.iter("article", "{*}article"):
        return _strip_jats_namespace(el) if el.tag != "article" else el
    return None


def _strip_jats_namespace(article):
    """OAI-PMH wraps JATS in a default namespace: drop it (keep xlink/mathml/ali namespaces)."""
    keep = ("{http://www.w3.org/1999/xlink}", "{http://www.w3.org/1998/Math/MathML}",
            "{http://www.niso.org/schemas/ali/1.0/}")
    for el in article.iter():
        tag = el.tag
        if isinstance(tag, str) and tag[0] == "{" and not tag.startswith(keep):
            el.tag = tag.split("}", 1)[1]
    return article


_MML = "{http://www.w3.org/1998/Math/MathML}"
_FLOATS = frozenset({"fig", "fig-group", "table-wrap", "table-wrap-group", "supplementary-material",
                     "chem-struct-wrap"})
_NOISE = frozenset({"tex-math", _MML + "annotation", _MML + "annotation-xml"})  # duplicate formula text
_BODY_TAGS = ("fig", "xref", *sorted(_FLOATS - {"fig"}), *sorted(_NOISE))


def _own_graphics(fig) -> list[str]:
    out = []
    for g in fig.iter("graphic"):
        p = g.getparent()
        ok = True
        while p is not fig:
            if p.tag in ("fig", "caption", "table-wrap", "boxed-text", "fig-group"):
                ok = False
                break
            p = p.getparent()
        href = g.get(XLINK_HREF)
        if ok and href and href.strip() not in out:
            out.append(href.strip())
    return out


def _figures(fig_elements) -> tuple[list[Figure], dict[str, list[str]], dict[str, list[str]]]:
    """Figures from (element, location) pairs in document order; also number -> figure ids and element id ->
    figure ids (fig-groups expanded to their members)."""
    figures: list[Figure] = []
    groups: dict = {}
    for fig, loc in fig_elements:
        label = render_text(_child(fig, "label"))
        mtitle, marked = _caption_parts(_child(fig, "caption"), marks=True)
        title, cap = _unmark(mtitle), _unmark(marked)
        number, panel = _label_number(label) if label else (None, None)
        graphics = _own_graphics(fig)
        fid = fig.get("id") or f"fig{len(figures) + 1}"
        f = Figure(id=fid, label=label, number=number, caption=cap, caption_title=title, caption_marked=marked,
                   graphic=graphics[0] if graphics else None, graphics=graphics, location=loc, panel=panel)
        group = fig.getparent()
        if group is not None and group.tag == "fig-group":
            g = groups.get(group)
            if g is None:
                glabel = render_text(_child(group, "label"))
                _, gcap = _caption_parts(_child(group, "caption"), marks=False)
                gnum, _ = _label_number(glabel) if glabel else (None, None)
                g = groups[group] = dict(id=group.get("id") or f"group{len(groups) + 1}", label=glabel,
                                         caption=gcap, number=gnum, graphics=_own_graphics(group))
            f.group_id, f.group_label, f.group_caption = g["id"], g["label"], g["caption"]
            if f.number is None or panel is not None:
                f.number = g["number"]
            if not f.caption:
                f.caption, f.caption_marked = g["caption"], g["caption"]
            if not f.graphics and g["graphics"] and len(group.findall("fig")) == 1:
                f.graphics = list(g["graphics"])
                f.graphic = f.graphics[0]
        figures.append(f)

    by_number: dict[str, list[str]] = {}
    by_element: dict[str, list[str]] = {}
    for f in figures:
        by_element.setdefault(f.id, []).append(f.id)
        if f.group_id:
            by_element.setdefault(f.group_id, []).append(f.id)
        if f.number:
            by_number.setdefault(f.number.upper(), []).append(f.id)
    if figures and not any(f.number for f in figures):  # no labels at all: document order numbers
        for i, f in enumerate(figures, start=1):
            by_number[str(i)] = [f.id]
    return figures, by_number, by_element


def _resolve_panels(ids: list[str], panels: list[str], figs: dict[str, Figure]) -> dict[str, list[str]]:
    """A group number with panel letters picks the members whose own label is that letter."""
    if len(ids) > 1 and panels:
        picked = [i for i in ids if figs[i].panel and figs[i].panel.upper() in {p.upper() for p in panels}]
        if picked:
            return {i: [] for i in picked}
    return {i: list(panels) for i in ids}


def _section_title(p, titles: dict) -> str:
    """Title of the section (or appendix) holding `p`; `titles` keeps those already read, by section."""
    parent = p.getparent()
    while parent is not None and parent.tag not in ("sec", "app", "body", "back"):
        parent = parent.getparent()
    if parent is None or parent.tag not in ("sec", "app"):
        return ""
    title = titles.get(parent)
    if title is None:
        t = _child(parent, "title")
        title = titles[parent] = normalize_ws(fix_entities("".join(t.itertext()))) if t is not None else ""
    return title


def _remove_keep_tail(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _citations(containers, xrefs, drop, figures, by_number, by_element) -> list[Citation]:
    """Citing sentences from the top-level paragraphs of `containers` (body, appendices); `xrefs` are their
    <xref> elements, `drop` the elements whose text is not running text (floats, TeX)."""
    if not containers or not figures:
        return []
    figs = {f.id: f for f in figures}
    for el in drop:  # figures are parsed already: floats out of the tree (and paragraphs), TeX out of formulas
        _remove_keep_tail(el)
    # mark figure xrefs with sentinels carrying their index
    xref_targets: list[list[str]] = []
    for x in xrefs:
        rt = x.get("ref-type")
        if rt not in ("fig", None, ""):
            continue
        ids = [i for r in (x.get("rid") or "").split() for i in by_element.get(r, ())]
        if not ids:
            continue
        k = len(xref_targets)
        xref_targets.append(ids)
        text = _XREF_OPEN + chr(_XREF_BASE + k) + (x.text or "")
        if len(x):
            last = x[-1]
            last.tail = (last.tail or "") + _XREF_CLOSE
        else:
            text += _XREF_CLOSE
        x.text = text

    citations: list[Citation] = []
    titles: dict = {}
    for c in containers:
        for p in _citing_paragraphs(c):
            # the C serializer's text equals itertext() but leaves out unexpanded entity references (looked for in
            # the paragraph: a scan of the whole container cost more)
            raw = (etree.tostring(p, method="text", encoding="unicode", with_tail=False)
                   if next(p.iter(etree.Entity), None) is None else "".join(p.itertext()))
            has_xref = _XREF_OPEN in raw
            if "&" in raw:
                raw = fix_entities(raw)
            text, xspans = _strip_sentinels(raw) if has_xref else (raw, [])
            found = _paragraph_citations(text, xspans, xref_targets, by_number, figs)
            if not found:
                continue
            section = _section_title(p, titles)
            spans = sentence_spans(text)
            starts = [s for s, _ in spans]
            per_sentence: dict[int, Citation] = {}
            for pos, fmap, mtext in found:
                si = bisect.bisect_right(starts, pos) - 1  # the sentence holding pos, else the last one
                if si < 0 or pos >= spans[si][1]:
                    si = len(spans) - 1
                cit = per_sentence.get(si)
                if cit is None:
                    s, e = spans[si]
                    cit = per_sentence[si] = Citation(normalize_ws(text[s:e]), {}, [], section)
                for fid, panels in fmap.items():
                    lst = cit.figures.setdefault(fid, [])
                    lst.extend(x for x in panels if x not in lst)
                if mtext and mtext not in cit.mentions:
                    cit.mentions.append(mtext)
            citations.extend(per_sentence[i] for i in sorted(per_sentence))

    for cit in citations:
        for fid, panels in cit.figures.items():
            figs[fid].citations.append(FigureCitation(cit.sentence, list(panels), cit.section))
    return citations


# top-level running-text paragraphs that may cite a figure (floats are out of the tree already; string values are
# computed in C)
_CITING_PARAGRAPHS_XPATH = (
    "descendant::p[not(ancestor::p)]"
    f"[contains(., 'Fig') or contains(., '{_XREF_OPEN}') or contains(., 'fig') or contains(., 'FIG')]")


def _citing_paragraphs(container) -> list:
    xp = getattr(_local, "citing", None)  # compiled XPath objects are kept per thread
    if xp is None:
        xp = _local.citing = etree.XPath(_CITING_PARAGRAPHS_XPATH)
    return xp(container)
_SENTINEL_RE = re.compile(f"{_XREF_OPEN}(.)|{_XREF_CLOSE}", re.S)


def _strip_sentinels(raw: str) -> tuple[str, list[tuple[int, int, int]]]:
    """The text without xref sentinels, and the (start, end, xref index) of each marked xref in it."""
    parts = _SENTINEL_RE.split(raw)  # text, index character (None: a close), text, ...
    spans, stack = [], []
    n = len(parts[0])
    for mark, piece in zip(parts[1::2], parts[2::2]):
        if mark is not None:
            stack.append((ord(mark) - _XREF_BASE, n))
        elif stack:
            k, s = stack.pop()
            spans.append((s, n, k))
        n += len(piece)
    return "".join(parts[0::2]), spans


def _paragraph_citations(text, xspans, xref_targets, by_number, figs):
    """[(position, {fig id: panels}, mention text)] for one paragraph."""
    found = []
    used = set()
    for men in find_figure_mentions(text):
        overl = [k for k, (s, e, _) in enumerate(xspans) if s < men.end and men.start < e]
        used.update(overl)
        if men.external:
            continue
        fmap: dict[str, list[str]] = {}
        if not men.supplementary:
            for num, panels in men.numbers.items():
                ids = by_number.get(num.upper())
                if ids:
                    for fid, pl in _resolve_panels(ids, panels, figs).items():
                        lst = fmap.setdefault(fid, [])
                        lst.extend(x for x in pl if x not in lst)
        for k in overl:  # an xref inside the mention: its target counts even where labels do not map
            s, e, idx = xspans[k]
            for fid in xref_targets[idx]:
                if fid not in fmap:
                    fmap[fid] = _xref_panels(text[s:e])
        if fmap:
            found.append((men.start, fmap, normalize_ws(men.text)))
    for k, (s, e, idx) in enumerate(xspans):
        if k in used:
            continue
        panels = _xref_panels(text[s:e])
        found.append((s, _resolve_panels(xref_targets[idx], panels, figs), normalize_ws(text[s:e])))
    return found


_XREF_PANEL_RE = re.compile(r"^\s*(?:fig(?:ure)?s?\.?\s*)?(?:\d+)?\s*\(?([A-Za-z](?:\s*[-\u2013,]\s*[A-Za-z])*)\)?\s*$",
                            re.I)


def _xref_panels(xtext: str) -> list[str]:
    m = _XREF_PANEL_RE.match(xtext)
    if not m:
        return []
    nums = parse_figure_list("1" + re.sub(r"\s+", "", m.group(1)))
    return nums.get("1", [])


# ------------------------------------------------------------------------------------------ public API

def _meta(article) -> dict:
    meta = _path(article, "front", "article-meta")
    out = dict(pmcid="", pmid="", doi="", title="", journal="", license="", license_code="", license_text="")
    if meta is None:
        return out
    for aid in meta.iterchildren("article-id"):
        t = (aid.get("pub-id-type") or "").lower()
        v = normalize_ws("".join(aid.itertext()))
        if t in ("pmc", "pmcid") and not out["pmcid"]:
            out["pmcid"] = normalize_pmcid(v)
        elif t == "pmid" and not out["pmid"]:
            out["pmid"] = v
        elif t == "doi" and not out["doi"]:
            out["doi"] = v
    out["title"] = render_text(_path(meta, "title-group", "article-title"))
    jt = article.find("front/journal-meta//journal-title")
    out["journal"] = render_text(jt)
    perm = _child(meta, "permissions")
    if perm is None and _child(meta, "copyright-statement") is not None:  # NLM 2.x: no <permissions>
        perm = meta
    if perm is not None:
        lic = _child(perm, "license")
        url = ltype = text = ""
        if lic is not None:
            url = (lic.get(XLINK_HREF) or "").strip()
            ltype = lic.get("license-type") or ""
            ref = _child(lic, ALI_LICENSE_REF)
            if not url and ref is not None:
                url = normalize_ws("".join(ref.itertext()))
            text = render_text(lic)
        ref = _child(perm, ALI_LICENSE_REF)
        if not url and ref is not None:
            url = normalize_ws("".join(ref.itertext()))
        if lic is None:  # old PLoS files: the licence is only stated in the copyright statement
            text = render_text(_child(perm, "copyright-statement"))
        code = _license_code(url, text, ltype)
        out["license"] = url or ltype or code
        out["license_code"] = code
        out["license_text"] = text
    return out


_TAG_END = frozenset(b" \t\r\n>/")


def _outer_blocks(data: bytes, tag: bytes, start: int, end: int | None = None) -> list[tuple[int, int]] | None:
    """Outermost <tag ...>...</tag> byte spans in data[start:end] (nesting counted); None if unbalanced."""
    open_, close = b"<" + tag, b"</" + tag + b">"
    spans: list[tuple[int, int]] = []
    pos, depth, a = start, 0, 0
    o = data.find(open_, pos, end)
    c = data.find(close, pos, end)  # the first close at or after pos: found again only once pos has passed it
    while True:
        if c < 0:
            return None if depth or o >= 0 else spans
        if 0 <= o < c:
            after = o + len(open_)
            gt = data.find(b">", after)
            if after >= len(data) or data[after] not in _TAG_END or gt < 0:
                o = data.find(open_, after, end)
                continue
            if data[gt - 1] != 0x2F:  # not <tag .../>
                if depth == 0:
                    a = o
                depth += 1
            pos = gt + 1
            o = data.find(open_, pos, end)
            if c < pos:
                c = data.find(close, pos, end)
        else:
            if depth == 0:
                return None
            depth -= 1
            pos = c + len(close)
            c = data.find(close, pos, end)
            if depth == 0:
                spans.append((a, pos))


def _comment_or_cdata_reaches(data: bytes, first: int) -> bool:
    """Whether a comment or CDATA section (or an unterminated one) ends after byte `first`. Both open with "<!",
    so only the "!" bytes are visited (a memchr scan, where looking for "-->" reads every byte)."""
    pos = data.find(b"!")
    while pos >= 0:
        if pos and data[pos - 1] == 0x3C:  # "<!"
            if data.startswith(b"--", pos + 1):
                end = data.find(b"-->", pos + 3)
            elif data.startswith(b"[CDATA[", pos + 1):
                end = data.find(b"]]>", pos + 8)
            else:  # <!DOCTYPE, or a declaration of its internal subset
                end = None
            if end is not None:
                if end < 0 or end + 3 > first:
                    return True
                pos = end + 2
        pos = data.find(b"!", pos + 1)
    return False


def _table_blocks(data: bytes, end: int) -> list[tuple[int, int]]:
    """Byte spans of the <table-wrap> blocks between <body> and `end` (the first reference list, if any) that
    neither hold nor lie in a figure (or fig-group). Parsed, they are floats removed before any text is read
    (paragraphs, captions: `_citations`, `_figures`), or lie where nothing is read, and table cells are about half
    of the elements to parse. [] where ambiguous (a comment, CDATA section or processing instruction reaching past
    <body>, which could hold tag-like text; unbalanced tags)."""
    b0 = data.find(b"<body")
    t0 = data.find(b"<table-wrap", b0, end) if b0 >= 0 else -1
    if t0 < 0 or _comment_or_cdata_reaches(data, b0) or data.find(b"<?", b0, end) >= 0:
        return []
    tables = _outer_blocks(data, b"table-wrap", t0, end)
    if not tables:
        return []
    spans, pos, depth = [], b0, 0
    for a, b in tables:
        # figure elements open around the table: "<fig" opens a fig or fig-group, "</fig" closes one
        depth += data.count(b"<fig", pos, a) - data.count(b"</fig", pos, a)
        pos = a
        if depth == 0 and data.find(b"<fig", a, b) < 0:
            spans.append((a, b))
    return spans


def _drop_unused_blocks(data: bytes) -> bytes:
    """The document without its reference lists and sub-articles (about a third of a PMC file, more of its
    elements), which no output uses, and without its tables (`_table_blocks`): parsing less is the main saving.
    Byte ranges are cut only where this is unambiguous (no comment or CDATA section reaching past the first cut,
    which could hold tag-like text; balanced tags); otherwise `data` itself is returned."""
    i0 = data.find(b"<ref-list")
    s0 = data.find(b"<sub-article", i0 if i0 >= 0 else 0)
    first = min((x for x in (i0, s0) if x >= 0), default=-1)
    spans = []
    if first >= 0 and not _comment_or_cdata_reaches(data, first):
        for tag, at in ((b"ref-list", i0), (b"sub-article", s0)):
            if at >= 0:
                got = _outer_blocks(data, tag, at)
                if got is None:
                    spans = []
                    break
                spans.extend(got)
    spans.extend(_table_blocks(data, i0 if i0 >= 0 else len(data)))
    spans.sort()
    out, pos = [], 0
    for a, b in spans:
        if a < pos:  # inside a block already cut (a ref-list or a table of a sub-article)
            if b > pos:
                return data
            continue
        out.append(data[pos:a])
        pos = b
    if not pos:
        return data
    out.append(data[pos:])
    return b"".join(out)


def parse_jats(source: str | os.PathLike | bytes, *, pmcid: str | None = None,
               max_bytes: int = MAX_XML_BYTES) -> Article:
    """Parse one JATS article (a path or the XML bytes). Raises JatsParseError with a reason code.

    `pmcid` is the article's own PMC id when the XML has one (article-id pmc/pmcid), else the `pmcid` given,
    else the file name stem (publisher XML such as PLOS files carries no PMC id)."""
    name = ""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        name = os.fspath(source)
        try:
            with open(name, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > max_bytes:
                    raise JatsParseError("too_large", f"{size} bytes > {max_bytes}", name)
                data = fh.read(size + 1)  # not read(max_bytes + 1): that allocates max_bytes each time
                if len(data) > size:  # the file grew meanwhile
                    data += fh.read(max_bytes + 1 - len(data))
        except OSError as e:
            raise JatsParseError("unreadable", f"{type(e).__name__}: {e}", name) from e
    if len(data) > max_bytes:
        raise JatsParseError("too_large", f"{len(data)} bytes > {max_bytes}", name)
    root = None
    lean = _drop_unused_blocks(data)
    if lean is not data:
        try:
            root = etree.fromstring(lean, _parser())
        except (etree.XMLSyntaxError, ValueError):
            root = None  # parse the whole document below
    if root is None:
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as e:
            raise JatsParseError("xml_syntax", str(e), name) from e
        except ValueError as e:  # e.g. unicode strings with an encoding declaration
            raise JatsParseError("xml_syntax", str(e), name) from e
    article = _find_article(root)
    if article is None:
        raise JatsParseError("not_jats", f"root element <{root.tag}> has no <article>", name)

    meta = _meta(article)
    # one pass over the body collects figures, xrefs and non-text elements; back and floats-group are small
    fig_elements, xrefs, drop = [], [], []
    containers = []
    body = _child(article, "body")
    if body is not None:
        containers.append(body)
        for el in body.iter(*_BODY_TAGS):
            tag = el.tag
            if tag == "xref":
                xrefs.append(el)
            else:
                if tag == "fig":
                    fig_elements.append((el, "body"))
                drop.append(el)
    back = _child(article, "back")
    if back is not None:
        apps = list(back.iter("app"))
        containers.extend(apps)
        fig_elements.extend((el, "back") for el in back.iter("fig"))
        for app in apps:
            for el in app.iter(*_BODY_TAGS):
                (xrefs if el.tag == "xref" else drop).append(el)
    for fg in article.iterchildren("floats-group"):
        fig_elements.extend((el, "floats-group") for el in fg.iter("fig"))
    figures, by_number, by_element = _figures(fig_elements)
    citations = _citations(containers, xrefs, drop, figures, by_number, by_element)
    pmc = meta["pmcid"] or normalize_pmcid(pmcid) or (pmcid or "")
    if not pmc and name:
        pmc = Path(name).name.split(".xml")[0].split(".nxml")[0]
    return Article(pmcid=pmc, pmid=meta["pmid"], doi=meta["doi"], title=meta["title"], journal=meta["journal"],
                   license=meta["license"], license_code=meta["license_code"], license_text=meta["license_text"],
                   figures=figures, citations=citations, source=name)


_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".webp", ".bmp")


def _href_stem(href: str) -> str:
    h = href.strip().rsplit("/", 1)[-1]
    if h.lower().endswith(_IMAGE_EXTS):
        h = h.rsplit(".", 1)[0]
    return h.lower()


def resolve_graphic(href: str | None, files: Mapping[str, str | os.PathLike] | Iterable[str]) -> str | None:
    """The package file name for a graphic href: an exact name, else a file whose name without extension is
    the href's last path segment ('pone.0000217.g001' -> 'pone.0000217.g001.jpg', 'info:doi/10.1371/journal.
    pcbi.1004692.g001' -> 'journal.pcbi.1004692.g001.tif'), image extensions first (.jpg before .tif); or None."""
    if not href:
        return None
    stem = _href_stem(href)
    names = list(files.keys()) if isinstance(files, Mapping) else list(files)
    best, best_rank = None, None
    for n in names:
        base = n.rsplit("/", 1)[-1]
        low = base.lower()
        if low == href.lower().rsplit("/", 1)[-1]:
            return n
        if "." in low and low.rsplit(".", 1)[0] == stem:
            ext = "." + low.rsplit(".", 1)[1]
            rank = _IMAGE_EXTS.index(ext) if ext in _IMAGE_EXTS else len(_IMAGE_EXTS)
            if best_rank is None or rank < best_rank:
                best, best_rank = n, rank
    return best


def graphic_hrefs(source: str | os.PathLike | bytes) -> list[str]:
    """All figure graphic hrefs of an article (for fetching only the figure images of a package)."""
    art = parse_jats(source)
    return [h for f in art.figures for h in f.graphics]
