"""Pair sub-figures with sub-captions (paper appendix 8.5) and inline references with sub-figures (8.6).

Per figure, given its panels (detected boxes in reading order, each with OCR reads of its drawn label) and its
sub-captions (articles.subcaptions.split_subcaptions):

* caption without sub-figure labels (one sub-caption, no labels), or a single detected panel for a compound
  caption: the whole figure is paired with the whole caption (the paper's case 3 / Figure 9c);
* position labels ("left", "top right", ...): panels are matched to labels by the position of their box
  centres in the figure (Hungarian assignment; the paper's case 2);
* letter / roman labels, as many panels as labels: reading order is the prior and OCR reads (>= 80%) are votes
  weighted by confidence; the best joint assignment wins (one confident misread cannot break the order, two
  consistent reads can, e.g. column-major layouts);
* more panels than labels: the least confident detections are left unpaired (surplus), the rest as above;
* letter / roman labels, otherwise (fewer panels than labels; the paper's case 3): (1) OCR reads at >= 95% confidence whose letter (case-insensitive) is a caption
  label not yet taken, and that no other panel reads the same way, pair; (2) case 1: one panel and one label
  left -> pair; (3) the same at >= 80%; (4) then, as the prior the OCR votes refine, reading order: when as
  many panels as labels are left, they are paired in reading order with the labels in alphabetical order;
  (5) panels still left are unpaired (dropped, with the reason); if no panel could be paired the whole figure
  takes the whole caption.

Inline references: a citing sentence that names panels goes to the samples with those labels; one that names
the whole figure goes to every sample of the figure (the paper's rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from mednarratives import settings
from mednarratives.articles.jats import normalize_ws

CONFIG = settings.defaults("articles", "pairing")  # the defaults of the keyword arguments below

_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")
_H = {"left": 0.0, "center": 0.5, "centre": 0.5, "middle": 0.5, "right": 1.0}
_V = {"top": 0.0, "upper": 0.0, "middle": 0.5, "center": 0.5, "centre": 0.5, "bottom": 1.0, "lower": 1.0}


@dataclass
class Pair:
    panel: int | None            # index into the figure's panels; None = the whole figure
    labels: list[str]            # caption labels paired with it ([] for a whole-figure pair)
    subcaption: int | None       # index into the sub-captions; None = the whole caption
    caption: str                 # shared context + sub-caption text
    method: str                  # ocr95 | ocr80 | single_leftover | reading_order | spatial | whole_figure


@dataclass
class FigurePairing:
    pairs: list[Pair]
    unpaired_panels: dict[int, str] = field(default_factory=dict)   # panel index -> reason
    unpaired_labels: list[str] = field(default_factory=list)
    case: str = ""               # letters | spatial | not_compound | single_panel


def _key(label: str) -> str:
    return label.strip().strip("()[].,:").lower()


def _order(label: str, roman: bool = True) -> tuple[int, str]:
    """Sort key of a label: its rank as a roman numeral (when `roman`: the caption's labels are all roman
    numerals) or as a letter ("i" after "h" in A-L)."""
    k = _key(label)
    if roman and k in _ROMAN:
        return _ROMAN.index(k), k
    if len(k) == 1 and k.isalpha():
        return ord(k) - 97, k
    return 99, k


def _is_spatial(label: str) -> bool:
    return any(w in _H or w in _V for w in _key(label).replace("-", " ").split())


def _caption(sub: dict) -> str:
    return normalize_ws(f"{sub.get('context', '')} {sub.get('text', '')}")


def whole_caption(subcaptions: Sequence[dict], caption: str = "") -> str:
    return normalize_ws(caption) if caption else normalize_ws(
        " ".join([subcaptions[0].get("context", "")] + [s.get("text", "") for s in subcaptions])
        if subcaptions else "")


def _spatial_assign(boxes: Sequence[Sequence[float]], labels: list[str]) -> list[tuple[int, int]]:
    cx = np.array([(b[0] + b[2]) / 2 for b in boxes], float)
    cy = np.array([(b[1] + b[3]) / 2 for b in boxes], float)

    def norm(v):
        span = v.max() - v.min()
        return (v - v.min()) / span if span > 0 else np.full_like(v, 0.5)

    nx, ny = norm(cx), norm(cy)
    cost = np.zeros((len(boxes), len(labels)))
    for j, lab in enumerate(labels):
        words = _key(lab).replace("-", " ").split()
        hx = next((_H[w] for w in words if w in _H and w not in ("middle", "center", "centre")), None)
        vy = next((_V[w] for w in words if w in _V and w not in ("middle", "center", "centre")), None)
        if hx is None and vy is None:  # "middle", "center"
            hx = vy = 0.5
        cost[:, j] = (np.abs(nx - hx) if hx is not None else 0) + (np.abs(ny - vy) if vy is not None else 0)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols)]


def one_case(panels: Sequence[dict], low: float = 0.8) -> list[dict]:
    """The panels with only the OCR reads in the case a figure draws its letters in: the case of most reads at
    or above `low` (a figure labels its panels all "A" or all "a"; a lone lower-case "a" read on a plot's text
    is then no vote for panel A). Unchanged when no case has the majority."""
    upper = lower = 0
    for p in panels:
        for c in p.get("label_candidates") or []:
            t = str(c.get("text", ""))
            if len(t) == 1 and t.isalpha() and c.get("conf", 0.0) >= low:
                upper += t.isupper()
                lower += t.islower()
    if upper == lower:
        return list(panels)
    keep = str.isupper if upper > lower else str.islower
    return [{**p, "label_candidates": [c for c in p.get("label_candidates") or []
                                       if not (len(str(c.get("text", ""))) == 1 and str(c.get("text", "")).isalpha())
                                       or keep(str(c.get("text", "")))]} for p in panels]


def pair_figure(panels: Sequence[dict], subcaptions: Sequence[dict], caption: str = "",
                thresholds: Sequence[float] = CONFIG["thresholds"], use_reading_order: bool = CONFIG["reading_order"],
                prior: float = CONFIG["prior"]) -> FigurePairing:
    """Pair one figure's panels (dicts with `box` and `label_candidates` [{text, conf}], in reading order)
    with its sub-captions (dicts with `labels`, `text`, `context`). OCR reads count in the figure's letter case
    only (one_case)."""
    panels = one_case(panels, min(thresholds))
    full = whole_caption(subcaptions, caption)
    label_sub: dict[str, int] = {}
    label_text: dict[str, str] = {}
    for si, s in enumerate(subcaptions):
        for lab in s.get("labels") or []:
            k = _key(lab)
            if k and k not in label_sub:
                label_sub[k], label_text[k] = si, lab
    whole = Pair(None, [], None, full, "whole_figure")
    if not label_sub:
        why = "caption_not_compound"
        return FigurePairing([whole], {i: why for i in range(len(panels))} if len(panels) > 1 else
                             {i: "whole_figure" for i in range(len(panels))}, [], "not_compound")
    roman = all(k in _ROMAN for k in label_sub)
    order = lambda lab: _order(lab, roman)  # noqa: E731
    labels = sorted(label_sub, key=order)
    if len(panels) <= 1:
        return FigurePairing([whole], {i: "single_panel_compound_caption" for i in range(len(panels))},
                             [label_text[k] for k in labels], "single_panel")

    def make(pi: int, k: str, method: str) -> Pair:
        si = label_sub[k]
        return Pair(pi, [label_text[k]], si, _caption(subcaptions[si]), method)

    pairs: dict[int, Pair] = {}
    if all(_is_spatial(k) for k in labels):
        for pi, j in _spatial_assign([p["box"] for p in panels], labels):
            pairs[pi] = make(pi, labels[j], "spatial")
        left = {i: "unpaired" for i in range(len(panels)) if i not in pairs}
        return FigurePairing([pairs[i] for i in sorted(pairs)], left,
                             [label_text[k] for k in labels if k not in {_key(p.labels[0]) for p in pairs.values()}],
                             "spatial")

    if use_reading_order and len(panels) == len(labels):
        return _joint_assign(panels, labels, thresholds, prior, make)
    if use_reading_order and len(panels) > len(labels) and all("score" in p for p in panels):
        # more detections than labels: the least confident ones are the surplus (spurious or merged boxes)
        keep = sorted(sorted(range(len(panels)), key=lambda i: (-panels[i]["score"], i))[:len(labels)])
        res = _joint_assign([panels[i] for i in keep], labels, thresholds, prior,
                            lambda pi, k, m: make(keep[pi], k, m))
        res.unpaired_panels = {i: "surplus_low_score" for i in range(len(panels)) if i not in keep}
        return res

    free = set(labels)
    todo = set(range(len(panels)))

    def leftover_single(method: str = "single_leftover") -> None:
        if len(todo) == 1 and len(free) == 1:
            pi, k = todo.pop(), free.pop()
            pairs[pi] = make(pi, k, method)

    for thr in thresholds:
        reads: dict[int, str] = {}
        for pi in sorted(todo):
            for c in panels[pi].get("label_candidates") or []:
                k = _key(c.get("text", ""))
                if c.get("conf", 0.0) >= thr and k in free:
                    reads[pi] = k
                    break
        counts: dict[str, int] = {}
        for k in reads.values():
            counts[k] = counts.get(k, 0) + 1
        for pi, k in sorted(reads.items()):
            if counts[k] == 1 and k in free:
                pairs[pi] = make(pi, k, "ocr95" if thr >= 0.95 else f"ocr{int(round(thr * 100))}")
                free.discard(k)
                todo.discard(pi)
        leftover_single()
    if use_reading_order and todo and len(todo) == len(free):
        for pi, k in zip(sorted(todo), sorted(free, key=order)):
            pairs[pi] = make(pi, k, "reading_order")
        todo.clear()
        free.clear()
    if not pairs:
        return FigurePairing([whole], {i: "unpaired" for i in range(len(panels))},
                             [label_text[k] for k in labels], "letters")
    return FigurePairing([pairs[i] for i in sorted(pairs)], {i: "unpaired" for i in sorted(todo)},
                         [label_text[k] for k in sorted(free, key=order)], "letters")


def _joint_assign(panels: Sequence[dict], labels: list[str], thresholds: Sequence[float], prior: float,
                  make) -> FigurePairing:
    """As many panels as labels: reading order is the prior (weight `prior` per panel), each OCR read at or above
    the lowest threshold a vote of its confidence; the assignment maximising prior + votes wins (Hungarian).
    One confident read cannot move two panels off reading order; two consistent reads can (column-major
    layouts)."""
    low = min(thresholds)
    gain = np.zeros((len(panels), len(labels)))
    votes: dict[tuple[int, int], float] = {}
    index = {k: j for j, k in enumerate(labels)}
    for i, p in enumerate(panels):
        gain[i, i] += prior
        for c in p.get("label_candidates") or []:
            j = index.get(_key(c.get("text", "")))
            conf = float(c.get("conf", 0.0))
            if j is not None and conf >= low and conf > votes.get((i, j), 0.0):
                votes[(i, j)] = conf
    for (i, j), conf in votes.items():
        gain[i, j] += conf
    rows, cols = linear_sum_assignment(-gain)
    pairs = []
    for i, j in zip(rows, cols):
        v = votes.get((int(i), int(j)), 0.0)
        method = next((("ocr95" if t >= 0.95 else f"ocr{int(round(t * 100))}")
                       for t in sorted(thresholds, reverse=True) if v >= t), "reading_order")
        pairs.append(make(int(i), labels[int(j)], method))
    return FigurePairing(sorted(pairs, key=lambda p: p.panel), {}, [], "letters")



def inline_refs(citations: Sequence[dict], labels: Sequence[str]) -> list[str]:
    """Citing sentences of a figure that concern a sample with these labels ([] labels: the whole figure,
    which every citation concerns)."""
    keys = {_key(x) for x in labels}
    out = []
    for c in citations:
        cited = {_key(x) for x in c.get("panels") or []}
        if not cited or not keys or cited & keys:
            s = c.get("sentence", "")
            if s and s not in out:
                out.append(s)
    return out
