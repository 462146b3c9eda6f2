"""Split a compound figure caption into sub-captions with offline rules (paper section 8.4).

The paper prompts GPT-3.5 to (1) split a caption at its sub-figure labels ("(A)", "I)", "a.", "bottom left"),
(2) strip the labels, (3) add the context that concerns the whole figure to every sub-caption and (4) return
each sub-caption with its label. This module does the same without a language model:

1. Candidate labels are found with a few patterns: parenthesised "(A)", "(a)", "[A]", "Panel (A)", "Lane (A)",
   ranges "(A-C)", "(A–C)", "(a)–(c)", lists "(A, B)", "(A and B)", "(a) and (b)", primes "(B′)"; bare "A.", "A,",
   "A:", "a)", "Panel A:", bare ranges opening a segment "B–E histopathology"; bold runs (<b>A</b> markers, as in
   jats.Figure.caption_marked, or a JATS <caption> element), bold panel numbers "<b>1.</b>", "<b>1–2</b>"
   (taxonomy plates); roman numerals "(i)", "ii)"; position words "Left:", "Top right,", "Upper row:", "(upper
   panel)". The English article ("A 45-year-old man ...") is no label: a bare letter needs punctuation after it,
   and a bare capital followed by "." and a lower-case word is a genus abbreviation ("A. fumigatus", "E. coli"),
   not a label. A bold letter after "in", "to", "as in" ("used in <b>C</b> to <b>E</b>") is a reference, unless
   punctuation follows it.
2. A label sequence is accepted only if it follows the panel order from A/a (or i / I, or any first panel number):
   each next label is the smallest one not seen yet, so lists fill each other's gaps ("(A, D and G)" then "(B, E
   and H)"); a strong or leading label, or one that later labels go on from ("(a, b) ... (d) ... (e)"), may skip
   one letter, but not across label forms ("(B) ... D, Darwin" is an abbreviation list); the case may change at a
   leading label ("(A, B) ... c-d) ..."); a primed label follows its panel; a range label may be followed by its
   own members ("(B–D) shared. (B) own", "62–67 Pygidium. 62 ... 63 ..."). Inline labels may be named out of order
   ("microphthalmia (c, d), and Tibia (a, b)"). Labels that go backwards are references inside a sub-caption ("as
   in (A)") and stay text. At least two labels are needed, or one leading "A." / "(A)" (a lone labelled panel). A
   sequence of another kind or case that starts after the last label of a sequence is a list inside the last panel
   ("(B) Inverted route. (a) reagent; (b) ...", "(A) ... or (B) ...: (i) control, (ii) ...", "(D) ... in fragments
   (a–k)"), not the panels; the case does not change into such a run either. Nor are labels of another case that
   start again inside two panels ("(a) Retina. A: disc. B: points. (b) Choroid. A: ILM.").
3. Leading labels (at the caption start, after a sentence end, ";" or ":", after "," for "B." and bare ranges, or
   continuing a started sequence in parentheses/bold, unless its sentence maps the labels onto a list "...,
   respectively") split the caption into segments: text before the first label (the caption title included) is
   shared context; in the last segment, trailing sentences that describe the whole figure ("Scale bars, 50 µm.",
   "Data are mean ± SD.", "*p < 0.05.", "Abbreviations: ...", "See Table 1 ...", "SDS = sodium dodecyl sulfate.",
   a closing "; black bar = 1 mm") move to the context, as do sentences anywhere that say "all panels"/"each
   panel"; when every other panel says one sentence, the last panel's further sentences are about the whole figure
   too (unless they name that panel; those that name earlier panels, "in (B)", "in lanes A and B", are theirs). A
   range label's own text opens the texts of its members. A label opening a parenthesis after "," ("..., (C, n =
   2) represents ...") opens a segment; the rest of the parenthesis stays in its text.
4. Inline labels ("... in males (A), but not in females (B).") cannot be split into clauses reliably: a label's
   sub-caption is the sentences that name it (labels removed from the text), labels named by the same sentences
   share one sub-caption, and the sentences without labels are the context. A sentence that opens with the only
   leading label and names the other panels too ("Panel (a) represents X, and (b)-(d) Y, respectively") is inline.
5. No accepted labels: a single sub-caption holding the whole caption.

Output: a list of {"labels": [...], "text": specific text without the label, "context": shared text};
letter labels keep their case as written ("A", "a", "B′"), panel numbers are digits ("12"), position labels
are lower-case with upper->top,
lower->bottom ("top left").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from mednarratives.articles.jats import BOLD_CLOSE, BOLD_OPEN, normalize_ws, sentence_spans

_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014"
_DASH = r"\-\u2010\u2011\u2012\u2013\u2014"  # for character classes
_PRIMES = "\u2032\u2019'"  # B′ (B prime): a variant of panel B
_L = (rf"(?:[A-Za-z][{_PRIMES}]?(?![A-Za-z])"
      r"|(?:viii|vii|iii|ii|iv|vi|ix|xii|xi|VIII|VII|III|II|IV|VI|IX|XII|XI)(?![A-Za-z]))")
_LIST = rf"{_L}(?:\s*(?:[{_DASH}]|to)\s*{_L})?(?:\s*(?:,\s*and|,|and|&|/)\s*{_L}(?:\s*[{_DASH}]\s*{_L})?)*"
_PANEL = r"(?:(?:sub)?panels?\s+)?"

_PAREN_RE = re.compile(rf"(?:(?:Panel|Lane)s?\s+)?[(\[]\s*{_PANEL}(?P<inner>{_LIST})\s*[)\]]")
# "(a) and (b) Coronary angiography", "(a)–(c) 3D reconstruction", "(b), (c), and (d) the DENV2 ...": one list label
_PAREN_JOINED_RE = re.compile(
    rf"(?:(?:Panel|Lane)s?\s+)?(?P<inner>\(\s*{_L}\s*\)(?:\s*(?:,\s*and|,|and|&|to|[{_DASH}])\s*\(\s*{_L}\s*\))+)")
_PAREN_PREFIX_RE = re.compile(rf"\(\s*{_PANEL}(?P<inner>{_L})\s*[,;:]\s")
_BARE_RE = re.compile(
    rf"(?<![\w(\[/{_DASH}'’.])(?:(?:sub)?panels?\s+)?(?P<inner>{_LIST})\s*(?P<p>[.:,)])(?=\s|$)", re.I)
# "B–E histopathology of ...": a bare range opening a segment needs no punctuation
_BARE_RANGE_RE = re.compile(
    rf"(?<![\w(\[/{_DASH}'’.])(?P<inner>[A-Za-z]\s*[{_DASH}]\s*[A-Za-z])(?![\w{_PRIMES}])(?=\s+\w)")
_BOLD_INNER_RE = re.compile(rf"^\s*[(\[]?\s*{_PANEL}(?P<inner>{_LIST})\s*[)\]]?\s*[.:,]?\s*$", re.I)
_AFTER_PUNCT_RE = re.compile(r"\s*[.:,)]")
# bold panel numbers of taxonomy plates and SEM series: "<b>1.</b> Elphidium", "<b>1–2</b> Spermophagus"
_BOLD_NUMBER_RE = re.compile(rf"^\s*(?P<a>\d{{1,3}})(?:\s*[{_DASH}]\s*(?P<b>\d{{1,3}}))?\s*[.:,]?\s*$")
_MAX_RANGE = 30

_SP_CORE = (r"(?:(?:top|bottom|upper|lower|middle|centre|center)(?:[\s-]+(?:left|right|middle|centre|center))?"
            r"|far[\s-]+(?:left|right)|left|right)")
_SP_TAIL = r"(?:\s+(?:panels?|images?|rows?|columns?|graphs?|plots?|insets?|pictures?|figures?))?"
_SPATIAL_LEAD_RE = re.compile(rf"(?P<inner>{_SP_CORE}){_SP_TAIL}\s*(?P<p>[:,.)]|[{_DASH}])(?=\s)", re.I)
_SPATIAL_PAREN_RE = re.compile(rf"\(\s*(?:in\s+(?:the\s+)?)?(?P<inner>{_SP_CORE}){_SP_TAIL}\s*(?:\)|[,;:]\s)", re.I)

_SHARED_RE = re.compile(
    r"^[\s\"'(\[]*(?:scale\s*bars?|(?:(?:white|black|red|yellow|green|blue)\s+)?bars?\s*"
    r"(?:=|,|:|represent|indicate|denote)|see\s+(?:also\s+)?(?:tables?|appendi(?:x|ces)|figs?\.?|figures?|text|"
    r"methods|supplementary)\b|error\s*bars?|data\s+(?:are|were|is|"
    r"represent|shown)|(?:the\s+|all\s+)?(?:values|data)\s+(?:(?:are|were)\s+(?:means?|medians?|shown\s+as|"
    r"expressed|given|presented|reported|representative)|represent)|results\s+(?:are|were)|all\s+(?:data|images|panels|"
    r"experiments|scale)|in\s+(?:all|each|both)\s+(?:panels?|cases|experiments|conditions)|\*|#|†|‡|"
    r"n\s*(?:=|,\s*number)|p\s*[<>=≤]|abbreviations?|"
    r"(?:original\s+)?magnification|statistical|significan|mean\s*(?:±|\+)|means?\s+(?:±|\+/-|and)|"
    r"the\s+results\s+(?:are|were|represent)|representative\s+of|ns[,:]|"
    r"images?\s+(?:are|were)\s+representative|experiments?\s+(?:were|was)\s+(?:repeated|performed)|"
    r"(?:(?:white|black|red|yellow|green|blue|open|closed|solid)\s+)?(?:arrows?|arrowheads?|asterisks?|stars?)\b|"
    r"panels?\s*:|"
    r"(?:dashed|dotted|solid)\s+lines?|(?:all\s+)?(?:images?|radiographs?|scans?|photographs?|micrographs?|"
    r"sections?)\s+(?:were|was|are)\s+(?:obtained|acquired|taken|captured|recorded|shown|performed)|"
    r"findings\s+(?:were|are)\s+(?:confirmed|verified)|(?:scale|magnification)\b|window\s+(?:width|level)|"
    r"(?:adapted|reproduced|reprinted|modified)\s+(?:with\s+permission\s+)?from\b)", re.I)
_SHARED_ANY_RE = re.compile(r"\b(?:original\s+magnification|magnification\s*[,:=]?\s*[×x\u00d7]?\s*\d|scale\s+bars?|"
                            r"(?:haematoxylin|hematoxylin)(?:\s+and|\s*&)\s+eosin|H\s*&\s*E\s+stain)", re.I)
# kinds of notes that captions give either once for the figure or panel by panel: a closing note of a kind that an
# earlier panel gives too ("(D) ... Scale bar, 200 nm. (E) ... Scale bar, 200 nm.") belongs to the last panel
_NOTE_KINDS = [re.compile(r"\b(?:scale\s*bars?|bars?\s*[,=:])", re.I), re.compile(r"\berror\s*bars?", re.I),
               re.compile(r"\*|\bp\s*[<>=≤]", re.I),
               re.compile(r"\b(?:data|values)\s+(?:are|were)\s+(?:means?|medians?|shown\s+as)", re.I),
               re.compile(r"(?:^|[.;,]\s)[A-Za-z][^\s=,;]{0,19}\s*=\s*[A-Za-z]")]
# "DAPI, 4',6-diamidino-2-phenylindole; EGFP, enhanced green fluorescent protein.": the figure's abbreviations
_ABBREVIATIONS_RE = re.compile(r"^\s*[^\s,;]{1,20},\s[^;]+(?:;\s*[^\s,;]{1,20},\s[^;]+)+\.?\s*$")
# "UTR = untranslated region, PA = polyadenylation.": definitions written with "="
_EQ_DEFINITION = r"[^\s=,;]{1,20}\s*=\s*[A-Za-z][^=,;]*"
_EQ_ABBREVIATIONS_RE = re.compile(rf"^\s*{_EQ_DEFINITION}(?:[,;]\s*{_EQ_DEFINITION})*\.?\s*$")
_ABBREVIATIONS_TAIL_RE = re.compile(r"(?<=\.)\s+([^\s,;]{1,20},\s[^;]+(?:;\s*[^\s,;]{1,20},\s[^;]+)+\.?\s*)$")
_ALL_PANELS_RE = re.compile(r"\b(?:all|each|both)\s+(?:of\s+the\s+)?(?:panels?|images?|sub-?figures?)\b", re.I)
_REFERENCE_BEFORE_RE = re.compile(
    r"\b(?:in|of|to|and|or|from|see|as|with|than|vs\.?|versus|under|for|like|panels?)\s*$", re.I)
# "... in (B) determined ...", "... visible in lanes A and B ...": a sentence that names panels
_NAMED_RE = re.compile(rf"\(\s*(?:(?:sub)?panels?\s+|lanes?\s+)?(?P<paren>{_LIST})\s*\)"
                       rf"|\b(?:panels?|lanes?|rows?|columns?)\s+(?P<bare>{_LIST})\b")
_RESPECTIVELY_RE = re.compile(r"(?:[^.!?]|\.(?!\s|$))*\brespectively\b", re.I)
_TRAIL_WORD_RE = re.compile(r"\s*(?:and|or|but|whereas|while|respectively|vs\.?|versus)\b", re.I)


@dataclass
class Candidate:
    start: int
    end: int                  # end of the label token, punctuation included
    labels: list[str]
    kind: str                 # letter | roman | number | spatial
    form: str                 # paren | prefix | bare | bold | spatial
    strong: bool = False      # bold
    paren: bool = False       # written inside parentheses
    anchor: int = -1          # where the label token starts in the text ("(" of "(a, 0.25 mm)"); -1 = start
    leading: bool = False     # at a segment start
    trailing: bool = False    # followed by punctuation / a conjunction: the label closes its text
    reference: bool = False   # a bold letter after "in", "to", "as in" (not "A,"): a reference to a panel, no label
    parent: "Candidate | None" = None  # in a sequence: the range label this one is a member of ("(B–D) ... (B)")
    respectively: bool = False  # the rest of its sentence says "respectively": labels mapped onto a list in it


def _strip_bold(text: str) -> tuple[str, list[tuple[int, int]]]:
    if BOLD_OPEN not in text:
        return text, []
    out, spans = [], []
    pos = n = 0
    for m in re.finditer(re.escape(BOLD_OPEN) + r"(.*?)" + re.escape(BOLD_CLOSE), text, re.S):
        out.append(text[pos:m.start()])
        n += m.start() - pos
        inner = m.group(1)
        spans.append((n, n + len(inner)))
        out.append(inner)
        n += len(inner)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out).replace(BOLD_OPEN, "").replace(BOLD_CLOSE, ""), spans


def _expand(inner: str) -> tuple[list[str], str] | None:
    """'A-C' -> (['A','B','C'], 'letter'); 'ii, iii' -> (['ii','iii'], 'roman'); mixed case -> None."""
    toks = [t for t in re.findall(rf"[A-Za-z]+[{_PRIMES}]?|[{_DASH}]", re.sub(r"\s+to\s+", "-", inner))
            if t.lower() != "and"]
    words = [t.rstrip(_PRIMES) for t in toks if t[0] not in _DASHES]
    if not words:
        return None
    if len({w.isupper() for w in words}) > 1:
        return None
    roman = any(len(w) > 1 for w in words)
    if roman and (not all(w.lower() in _ROMAN for w in words) or any(t[-1] in _PRIMES for t in toks)):
        return None
    labels: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t[0] in _DASHES:
            if labels and i + 1 < len(toks) and toks[i + 1][0] not in _DASHES:
                a, b = labels[-1], toks[i + 1]
                if a[-1] in _PRIMES or b[-1] in _PRIMES:
                    return None
                if roman:
                    ia, ib = _ROMAN.index(a.lower()), _ROMAN.index(b.lower())
                    rng = [r.upper() if a.isupper() else r for r in _ROMAN[ia + 1:ib + 1]]
                else:
                    rng = [chr(c) for c in range(ord(a) + 1, ord(b) + 1)]
                if not rng or len(rng) > 25:
                    return None
                labels.extend(rng)
                i += 2
                continue
            i += 1
            continue
        labels.append(t)
        i += 1
    return labels, ("roman" if roman else "letter")


def _numbers(text: str) -> tuple[list[str], str] | None:
    """'1–2' -> (['1', '2'], 'number') for a bold run that is only a panel number or a range of them."""
    m = _BOLD_NUMBER_RE.match(text)
    if not m:
        return None
    a = int(m.group("a"))
    b = int(m.group("b") or a)
    if not a <= b < a + _MAX_RANGE:
        return None
    return [str(n) for n in range(a, b + 1)], "number"


def _segment_start(plain: str, pos: int, colon: bool = True, comma: bool = False) -> bool:
    """Whether `pos` opens a segment: caption start, after a sentence end, ";" or ":" (unless not `colon`), or
    after "," where `comma` ("A. Total variance, B. Loadings, C. Scores")."""
    j = pos - 1
    while j >= 0 and plain[j] == " ":
        j -= 1
    if j < 0:
        return True
    c = plain[j]
    return c in ".!?;" or (colon and c == ":") or (comma and c == ",")


def _is_trailing(plain: str, end: int) -> bool:
    rest = plain[end:end + 24]
    s = rest.lstrip()
    if not s:
        return True
    if s[0] in ",.;:)]":
        return True
    return bool(_TRAIL_WORD_RE.match(rest))


def _in_bold(spans, start, end) -> bool:
    return any(s <= start and end <= e + 1 for s, e in spans)


def find_candidates(plain: str, bold_spans: list[tuple[int, int]] = ()) -> list[Candidate]:
    """Every label candidate (letters, roman numerals, position words) in a bold-free caption text."""
    cands: dict[int, Candidate] = {}

    def put(c: Candidate) -> None:
        old = cands.get(c.start)
        if old is None or (c.end - c.start) > (old.end - old.start) or (c.strong and not old.strong):
            if old is not None:
                c.strong = c.strong or old.strong
            cands[c.start] = c

    for m in _PAREN_RE.finditer(plain):
        ex = _expand(m.group("inner"))
        if ex:
            put(Candidate(m.start(), m.end(), ex[0], ex[1], "paren", paren=True,
                          strong=_in_bold(bold_spans, m.start("inner"), m.end("inner"))))
    for m in _PAREN_JOINED_RE.finditer(plain):
        ex = _expand(re.sub(r"[()]", " ", m.group("inner")))
        if ex:
            put(Candidate(m.start(), m.end(), ex[0], ex[1], "paren", paren=True))
    for m in _PAREN_PREFIX_RE.finditer(plain):
        ex = _expand(m.group("inner"))
        if ex and m.start() not in cands:
            # only the label and its punctuation go; the rest of the parenthesis is text
            put(Candidate(m.start("inner"), m.end() - 1, ex[0], ex[1], "prefix", paren=True, anchor=m.start(),
                          strong=_in_bold(bold_spans, m.start("inner"), m.end("inner"))))
    for m in _BARE_RE.finditer(plain):
        inner = m.group("inner")
        ex = _expand(inner)
        if not ex:
            continue
        bold = _in_bold(bold_spans, m.start("inner"), m.end("inner"))
        if m.group("p") == "." and len(inner) == 1 and inner.isupper() and not bold:
            nxt = plain[m.end():m.end() + 3].lstrip()
            if nxt[:1].islower():  # "A. fumigatus", "E. coli"
                continue
        if not bold and not _segment_start(plain, m.start(), comma=m.group("p") in ".:"):
            continue
        put(Candidate(m.start(), m.end(), ex[0], ex[1], "bold" if bold else "bare", strong=bold))
    for m in _BARE_RANGE_RE.finditer(plain):
        ex = _expand(m.group("inner"))
        if ex and _segment_start(plain, m.start(), comma=True):
            put(Candidate(m.start(), m.end(), ex[0], ex[1], "bare"))
    for s, e in bold_spans:
        inner_text = plain[s:e]
        m = _BOLD_INNER_RE.match(inner_text)
        ex = _expand(m.group("inner")) if m else _numbers(inner_text)
        if not ex:
            continue
        end = e
        pm = _AFTER_PUNCT_RE.match(plain, end)
        if pm and not inner_text.rstrip().endswith((".", ":", ",", ")")):
            end = pm.end()
        start, paren = s, False
        if s > 0 and plain[s - 1] == "(" and plain[end:end + 1] == ")":
            start, end, paren = s - 1, end + 1, True
        elif s > 0 and plain[s - 1] == "(":  # "(<b>a</b>, 0.25 mm)": the parenthesis stays
            paren = True
        put(Candidate(start, end, ex[0], ex[1], "bold", strong=True, paren=paren,
                      anchor=s - 1 if paren and start == s else -1))
    for m in _SPATIAL_LEAD_RE.finditer(plain):
        if not _segment_start(plain, m.start(), colon=False):
            continue
        put(Candidate(m.start(), m.end(), [_norm_spatial(m.group("inner"))], "spatial", "spatial"))
    for m in _SPATIAL_PAREN_RE.finditer(plain):
        label = [_norm_spatial(m.group("inner"))]
        if plain[m.end() - 1] == ")":
            put(Candidate(m.start(), m.end(), label, "spatial", "spatial", paren=True))
        else:  # "(right panel, N = 10)": only the label goes, the parenthesis stays
            put(Candidate(m.start("inner"), m.end() - 1, label, "spatial", "prefix", paren=True, anchor=m.start()))

    out = sorted(cands.values(), key=lambda c: c.start)
    # drop candidates nested inside a longer one
    kept: list[Candidate] = []
    for c in out:
        if kept and c.start < kept[-1].end:
            continue
        kept.append(c)
    for c in kept:
        # after "," too: "B. Loadings, C. Scores", "... embryo, (C, n = 2) represents ..."
        c.leading = _segment_start(plain, c.anchor if c.anchor >= 0 else c.start, colon=c.kind != "spatial",
                                   comma=(c.form == "bare" and (plain[c.end - 1] in ".:" or plain[c.end - 1].isalpha()))
                                   or c.form == "prefix")
        c.trailing = _is_trailing(plain, c.end) if c.form in ("paren", "spatial", "bold") else False
        c.respectively = bool(_RESPECTIVELY_RE.match(plain, c.end))
        c.reference = (c.form == "bold" and not c.paren and not c.leading
                       and bool(_REFERENCE_BEFORE_RE.search(plain, max(0, c.start - 24), c.start))
                       and plain[c.end - 1:c.end] not in (",", ":"))  # "structures of <b>A</b>, THL" labels
    return kept


def _masked(plain: str, cands: list[Candidate]) -> str:
    """The text with label candidates blanked out, so that "a." or "(b." never ends a sentence."""
    if not cands:
        return plain
    out, pos = [], 0
    for c in cands:
        out.append(plain[pos:c.start])
        out.append("X" + "_" * (c.end - c.start - 1))  # may start a sentence, never ends one
        pos = c.end
    out.append(plain[pos:])
    return "".join(out)


def _norm_spatial(s: str) -> str:
    s = re.sub(r"[\s-]+", " ", s.lower()).strip()
    s = s.replace("upper", "top").replace("lower", "bottom").replace("centre", "center")
    return s


def _index(label: str, kind: str) -> int | None:
    if kind == "letter":
        label = label.rstrip(_PRIMES)
        return ord(label.lower()) - 97 if len(label) == 1 and label.isalpha() else None
    if kind == "roman":
        return _ROMAN.index(label.lower()) if label.lower() in _ROMAN else None
    if kind == "number":
        return int(label) if label.isdigit() else None
    return None


def _sequence(cands: list[Candidate], kind: str, upper: bool, leading_mode: bool) -> list[Candidate]:
    """The longest run of candidates of one kind and case that continues the panel order: each candidate's
    smallest label is the smallest one not yet seen (lists such as "(A, D and G)" then "(B, E and H)" fill the
    gaps; a strong or leading label may skip one). A range label followed by labels of its own members
    ("(B–D) shared text. (B) own text", "62–67 Pygidium. 62 ... 63 ...", nested "(A–D) ... (B–C) ... (B)") keeps
    them as members. Returns copies of the candidates, members knowing their range label (`parent`)."""
    seq: list[Candidate] = []
    covered: set[int] = set()
    base = 0
    open_ranges: list[tuple[Candidate, list[str]]] = []  # range labels whose members are being listed
    # where the sequence's own case has each panel: "(e)" inside panel D is no panel E when "(E)" follows
    own_case = [(c.start, {_index(x, kind) for x in c.labels}) for c in cands
                if c.kind == kind and c.leading and all(x.isupper() == upper for x in c.labels)]
    for c in cands:
        if c.kind == "spatial" or (kind == "number") != (c.kind == "number") or c.reference:
            continue
        labels = c.labels
        if kind == "roman" and c.kind == "letter":
            if not all(x.lower() in _ROMAN for x in labels):
                continue
        elif kind == "letter" and c.kind != "letter":
            continue
        idx = [_index(x, kind) for x in labels]
        if any(i is None for i in idx):
            continue
        if any(x.isupper() != upper for x in labels):  # the case may change at a leading label: "(A, B) ... c-d)"
            if not (seq and c.leading) or any(s > c.start and ids & set(idx) for s, ids in own_case):
                continue
            # ... but not within a run of that case of its own ("(B) ... (a) reagent; (b) ...; (c) ...")
            if any(seq[-1].start < d.start < c.start and d.kind == c.kind and d.labels[0].isupper() != upper
                   for d in cands):
                continue
        if leading_mode:
            # "Panel (a) represents X, and (b), (c) and (d) Y and Z, respectively": one sentence, inline labels
            eligible = c.leading or (seq and c.form in ("paren", "bold") and not c.trailing and not c.respectively)
            if not eligible:
                continue
        elif c.form == "bare":
            continue
        # ("(a)–(d) Text ... sequential (a)–(d) radiographs": the whole range again is a reference, no member)
        level = next((k for k in range(len(open_ranges) - 1, -1, -1)
                      if labels == open_ranges[k][1][:len(labels)] and len(labels) < len(open_ranges[k][0].labels)),
                     None)
        if level is not None:  # the next member of an open range (the innermost that lists these labels)
            del open_ranges[level + 1:]
            header, rest = open_ranges[level]
            del rest[:len(labels)]
            member = replace(c, parent=header)
            seq.append(member)
            if len(labels) > 1:
                open_ranges.append((member, list(labels)))
            continue
        if all(x[-1] in _PRIMES for x in labels):  # "(B′)" after "(B)": a variant panel of its own
            if set(idx) <= covered and not any(x in c2.labels for c2 in seq for x in labels):
                seq.append(replace(c))
            continue
        first = min(idx)
        if not seq:
            if first != 0 and kind != "number":  # numbered plates may start anywhere ("Figures 13–26")
                continue
            base = first
        else:
            nxt = min(set(range(base, max(covered) + 2)) - covered)
            # a panel may be missing ("(A) ... (C)"), but not between labels of different forms: "(A) ... (B) ...
            # D, Darwin; B, Baltra" is an abbreviation list
            ok = first == nxt or (first == nxt + 1 and c.form == seq[-1].form
                                  and (c.strong or (leading_mode and c.leading) or _continued(c, idx, cands, kind)))
            if not ok or covered & set(idx):
                continue
            if first == nxt + 1:
                covered.add(nxt)  # the panel left out is no gap to fill
        accepted = replace(c)
        seq.append(accepted)
        covered |= set(idx)
        open_ranges = [(accepted, list(labels))] if len(labels) > 1 else []
    return seq


def _continued(c: Candidate, idx: list[int], cands: list[Candidate], kind: str) -> bool:
    """Whether a later label of the same kind and case goes on from `c` ("(a, b) ... (d). Coronal (e) and sagittal
    (f) ...": panel c is not named, d is a panel all the same)."""
    upper = c.labels[0].isupper()
    return any(d.start > c.start and d.kind == c.kind and d.labels[0].isupper() == upper
               and _index(d.labels[0], kind) == max(idx) + 1 for d in cands)


def _label_order(c: Candidate, kind: str) -> int:
    i = _index(c.labels[0], kind) if c.kind != "spatial" else None
    return -1 if i is None else i


def _best_sequence(cands: list[Candidate], leading_mode: bool) -> list[Candidate]:
    found = []
    for kind in ("letter", "roman", "number"):
        for upper in ((True, False) if kind != "number" else (False,)):
            seq = _sequence(cands, kind, upper, leading_mode)
            if not leading_mode:  # "microphthalmia (c, d), and incurvation of Tibia (a, b)": named out of order
                by_label = sorted(cands, key=lambda c: _label_order(c, kind))
                other = sorted(_sequence(by_label, kind, upper, leading_mode), key=lambda c: c.start)
                if len({x for c in other for x in c.labels}) > len({x for c in seq for x in c.labels}):
                    seq = other
            n = len({x for c in seq for x in c.labels})
            if n >= 2 or (seq and leading_mode and _lone_panel(seq[0])):
                found.append((seq, upper))
    best: list[Candidate] = []
    best_upper = True
    for seq, upper in found:
        if any(_nested_after(seq, other) or _restarts_inside(seq, other, cands) for other, _ in found):
            continue
        if _rank(seq, upper) > _rank(best, best_upper):
            best, best_upper = seq, upper
    return best


def _restarts_inside(seq: list[Candidate], other: list[Candidate], cands: list[Candidate]) -> bool:
    """Whether the first label of `seq`, of another case or kind, opens again inside two panels of `other`: labels
    of things inside each panel ("(a) The retina. A: optic disc. B–D: points. (b) The choroid. A: ILM. B: INL.")."""
    if seq is other or not other or not seq or other[0].start > seq[0].start:
        return False
    first = seq[0].labels[0]
    if (seq[0].kind, first.isupper()) == (other[0].kind, other[0].labels[0].isupper()):
        return False
    panels = {sum(o.start <= d.start for o in other) for d in cands
              if d.kind == seq[0].kind and d.labels[0] == first and d.start > other[0].start}
    return len(panels) >= 2


def _nested_after(seq: list[Candidate], other: list[Candidate]) -> bool:
    """Whether `seq` starts after the last label of `other`, a sequence of another kind or case: a list inside
    the last panel ("(B) Inverted route. (a) reagent, RT; (b) LiOH", "(A) ... or (B) ...: (i) control, (ii) ..."),
    or items named after the panels ("(D) <10 cm DBH in forest fragments (a–k)"), not the panels."""
    return (seq is not other and bool(other) and seq[0].start > other[-1].start
            and (seq[0].kind, seq[0].labels[0].isupper()) != (other[0].kind, other[0].labels[0].isupper()))


def _rank(seq: list[Candidate], upper: bool) -> tuple[int, int]:
    """Panels in the sequence's own case first (a change of case is the exception), then all panels."""
    labels = {x for c in seq for x in c.labels}
    return len({x for x in labels if x.isupper() == upper or x.isdigit()}), len(labels)


def _lone_panel(c: Candidate) -> bool:
    """A caption with one labelled panel: "Chest CT. A. Axial image ..." (the other panel unlabelled)."""
    return (c.kind == "letter" and c.labels[0] in ("A", "a") and c.leading
            and (c.form in ("paren", "bold") or c.end > c.start + 1))


def _spatial_sequence(cands: list[Candidate], leading_mode: bool) -> list[Candidate]:
    seq, seen = [], set()
    for c in cands:
        if c.kind != "spatial":
            continue
        if leading_mode and not c.leading:
            continue
        if not leading_mode and not c.paren:
            continue
        if c.labels[0] in seen:
            continue
        seen.add(c.labels[0])
        seq.append(c)
    return seq if len(seq) >= 2 else []


_CLEAN_HEAD_RE = re.compile(rf"^[\s,;:.)\]{_DASH}]+")
_CLEAN_TAIL_RE = re.compile(r"(?:[\s,;(\[]+|\s+(?:and|or)\s*)+$", re.I)


def _clean(text: str) -> str:
    text = _CLEAN_HEAD_RE.sub("", text)
    text = _CLEAN_TAIL_RE.sub("", text)
    text = re.sub(r"\(\s*[,;:]?\s*\)|\[\s*\]", "", text)
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+([,.;:)])", r"\1", text)
    text = re.sub(r"([,;])\s*([,;.])", r"\2", text)
    return normalize_ws(text)


def _join(parts) -> str:
    return normalize_ws(" ".join(p for p in parts if p))


def _split_leading(plain: str, seq: list[Candidate], masked: str) -> list[dict]:
    context_parts = [_clean_context(plain[:seq[0].start])]
    segs, msegs = [], []
    for i, c in enumerate(seq):
        nxt = seq[i + 1] if i + 1 < len(seq) else None
        end = len(plain) if nxt is None else nxt.anchor if nxt.anchor >= 0 else nxt.start
        opening = "(" if c.anchor >= 0 and plain[c.anchor] == "(" else ""  # "(B, n = 8) Represents": "(n = 8)"
        segs.append(opening + plain[c.end:end])
        msegs.append(opening + masked[c.end:end])
    spans = [sentence_spans(m) for m in msegs]
    # every other panel says one sentence: the last panel's further sentences describe the whole figure
    last_extra_shared = len(segs) > 1 and all(len(sp) == 1 for sp in spans[:-1])
    own_ref = re.compile(rf"\b(?:{'|'.join(map(re.escape, seq[-1].labels))})\b") if last_extra_shared else None
    # shared sentences: "all panels" anywhere; notes at the end of the last segment
    shared_tail: list[str] = []
    extra: dict[int, list[str]] = {}  # closing sentences that name earlier panels, by panel
    out_texts = []
    for i, seg in enumerate(segs):
        keep = []
        moved_rest = False
        last = i == len(segs) - 1
        for k, (s, e) in enumerate(spans[i]):
            sent = seg[s:e]
            named = _named_panels(sent, seq[:-1]) if last and k > 0 and last_extra_shared else []
            if _ALL_PANELS_RE.search(sent) and k > 0:
                shared_tail.append(sent)
            elif named and not own_ref.search(sent):  # "The same cut-off would apply in (A)": panel A's
                for j in named:
                    extra.setdefault(j, []).append(normalize_ws(sent))
            elif last and k > 0 and (moved_rest or (
                    (_SHARED_RE.match(sent) or _SHARED_ANY_RE.search(sent) or _ABBREVIATIONS_RE.match(sent)
                     or _EQ_ABBREVIATIONS_RE.match(sent))
                    and not _panel_note(sent, segs[:-1]))
                    or (last_extra_shared and not own_ref.search(sent))):  # "colors in c": own
                shared_tail.append(sent)
                moved_rest = True
            else:
                keep.append(sent)
        if last and keep:  # "...; black bar = 1 mm.": a shared note closing the last panel's sentence
            head, sep, note = keep[-1].rpartition(";")
            if sep and head.strip() and note.count("(") >= note.count(")") and (
                    _SHARED_RE.match(note) or _SHARED_ANY_RE.search(note)):
                keep[-1] = head
                shared_tail.insert(0, note)
            # "... levels. mRNA, messenger RNA; qPCR, ...": an abbreviation list that starts in lower case
            m = _ABBREVIATIONS_TAIL_RE.search(keep[-1])
            if m and m.start() > 0:
                keep[-1] = keep[-1][:m.start()]
                shared_tail.insert(0, m.group(1))
        out_texts.append(_clean(" ".join(keep)) if keep else _clean(seg))
    for j, sents in extra.items():
        out_texts[j] = _join([out_texts[j]] + sents)
    context = _join(context_parts + [normalize_ws(s) for s in shared_tail])
    # "(B–D) shared text. (B) own text": the range's text opens each member's text
    full: list[str] = []
    for i, c in enumerate(seq):
        parent = next((j for j in range(i) if seq[j] is c.parent), None)
        full.append(_join([full[parent], out_texts[i]]) if parent is not None else out_texts[i])
    out = []
    for i, c in enumerate(seq):
        listed = {x for d in seq if d.parent is c for x in d.labels}
        own = [x for x in c.labels if x not in listed]
        if own:
            out.append({"labels": own, "text": full[i], "context": context})
    return out


def _named_panels(sent: str, seq: list[Candidate]) -> list[int]:
    """Indexes of the panels in `seq` that a sentence names ("in (B)", "in lanes A and B")."""
    labels = set()
    for m in _NAMED_RE.finditer(sent):
        ex = _expand(m.group("paren") or m.group("bare"))
        labels |= set(ex[0]) if ex else set()
    return [j for j, c in enumerate(seq) if labels & set(c.labels)]


def _panel_note(sent: str, earlier: list[str]) -> bool:
    """Whether a closing note is of a kind that earlier panels give in their own text."""
    return any(k.search(sent) and any(k.search(seg) for seg in earlier) for k in _NOTE_KINDS)


def _clean_context(text: str) -> str:
    text = normalize_ws(text)
    text = re.sub(r"[\s,;(\[]+$", "", text)
    return text


def _with_repeats(seq: list[Candidate], cands: list[Candidate]) -> list[Candidate]:
    """Inline labels repeated in a later sentence ("... data (A) and ... data (B). Stress values are 0.10 (A) and
    0.19 (B).") join the sequence: that sentence describes the same panels."""
    known = {x for c in seq for x in c.labels}
    forms = {(c.kind, c.form) for c in seq}
    extra = [c for c in cands if c not in seq and (c.kind, c.form) in forms and c.paren and set(c.labels) <= known]
    return sorted(seq + extra, key=lambda c: c.start) if extra else seq


def _split_inline(plain: str, seq: list[Candidate], masked: str) -> list[dict]:
    spans = sentence_spans(masked)
    by_sentence: dict[int, list[Candidate]] = {}
    for c in seq:
        si = next((i for i, (s, e) in enumerate(spans) if s <= c.start < e), len(spans) - 1)
        by_sentence.setdefault(si, []).append(c)
    context = _join(normalize_ws(plain[s:e]) for i, (s, e) in enumerate(spans) if i not in by_sentence)
    texts, named = [], []  # per sentence holding labels: its text without them, its labels
    for si in sorted(by_sentence):
        s, e = spans[si]
        pieces, pos = [], s
        labels: list[str] = []
        for c in by_sentence[si]:
            pieces.append(plain[pos:c.start])
            pos = c.end
            labels.extend(x for x in c.labels if x not in labels)
        pieces.append(plain[pos:e])
        texts.append(_clean("".join(pieces)))
        named.append(labels)
    # a label's sub-caption is every sentence naming it; labels named by the same sentences share one
    groups: dict[tuple, list[str]] = {}
    for lab in dict.fromkeys(x for labels in named for x in labels):
        groups.setdefault(tuple(i for i, labels in enumerate(named) if lab in labels), []).append(lab)
    return [{"labels": labs, "text": _join(texts[i] for i in sents), "context": context}
            for sents, labs in groups.items()]


def _caption_text(caption) -> str:
    if isinstance(caption, str):
        return caption
    marked = getattr(caption, "caption_marked", None)  # jats.Figure
    if marked is not None:
        return marked or getattr(caption, "caption", "")
    tag = getattr(caption, "tag", None)  # an lxml <caption> (or <fig>) element
    if tag is not None:
        from mednarratives.articles.jats import _caption_parts
        el = caption.find("caption") if tag == "fig" else caption
        return _caption_parts(el, marks=True)[1]
    raise TypeError(f"caption must be str, jats.Figure or an lxml element, not {type(caption).__name__}")


def detect(caption, title: str | None = None) -> tuple[str, list[Candidate], str, str]:
    """(mode, accepted label candidates, plain text, plain text with all label candidates blanked out);
    mode is leading | inline | spatial-leading | spatial-inline | none."""
    text = normalize_ws(_caption_text(caption))
    if title:
        t = normalize_ws(title)
        if t and not text.startswith(t):
            text = f"{t}{'' if t[-1] in '.:?!' else '.'} {text}"
    plain, bold = _strip_bold(text)
    cands = find_candidates(plain, bold)
    inline = _best_sequence(cands, False)
    for mode, fn in (("leading", lambda: _best_sequence(cands, True)),
                     ("inline", lambda: inline),
                     ("spatial-leading", lambda: _spatial_sequence(cands, True)),
                     ("spatial-inline", lambda: _spatial_sequence(cands, False))):
        seq = fn()
        if mode == "leading" and seq and _nested_after(seq, inline):
            continue  # "Cleavage of (A) ... or (B) ...: (i) control, (ii) ...": the inline panels are the figure's
        if mode == "leading" and len(seq) == 1 and inline and inline[0].start == seq[0].start and len(inline) > 1:
            continue  # a lone leading label whose sentence names the other panels too
        if seq and mode == "inline":
            seq = _with_repeats(seq, cands)
        if seq:
            return mode, seq, plain, _masked(plain, cands)
    return "none", [], plain, plain


def split_subcaptions(caption, title: str | None = None) -> list[dict]:
    """Sub-captions of a caption (str with optional <b>..</b> markers, jats.Figure, or lxml <caption>)."""
    mode, seq, plain, masked = detect(caption, title)
    if not plain:
        return []
    if mode in ("leading", "spatial-leading"):
        return _split_leading(plain, seq, masked)
    if mode in ("inline", "spatial-inline"):
        return _split_inline(plain, seq, masked)
    return [{"labels": [], "text": plain, "context": ""}]
