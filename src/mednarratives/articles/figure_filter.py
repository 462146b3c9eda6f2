"""Medical figure filter and domain tag (paper appendix 8.2).

With an image classifier (articles.filter.classifier: a model from the domain classifier stage, loaded by
`articles.filter.classifier_loader`, "module:function" returning an object whose `predict(images)` gives one
{domain or "non_medical": probability} per PIL image), a figure is medical when its best class is a domain with
probability >= the threshold. Without one, every figure is kept (the ledger says so) and its domain comes from
caption keywords (resources/articles/caption_keywords.yaml): the domain with the most hits; no hit ->
"illustration". Acronym patterns (all capitals: "CT", "MRI") match case-sensitively, others case-insensitively.
"""

from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path
from typing import Callable

import yaml

from mednarratives import settings
from mednarratives.domains import DOMAINS


@functools.lru_cache(maxsize=8)
def load_keywords(path: str) -> dict[str, list[re.Pattern]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    domains = data.get("domains") or {}
    unknown = sorted(set(domains) - set(DOMAINS))
    if unknown:
        raise ValueError(f"{path}: unknown domains {unknown}")
    out = {}
    for d in DOMAINS:
        pats = []
        for kw in domains.get(d) or []:
            acronym = bool(re.fullmatch(r"[A-Z0-9&-]+", kw))
            pats.append(re.compile(rf"(?<![A-Za-z0-9]){kw}(?![A-Za-z0-9])", 0 if acronym else re.I))
        out[d] = pats
    return out


def keyword_scores(text: str, keywords: dict[str, list[re.Pattern]]) -> dict[str, int]:
    return {d: n for d in DOMAINS if (n := sum(len(p.findall(text)) for p in keywords.get(d, [])))}


def keyword_domain(text: str, keywords: dict[str, list[re.Pattern]]) -> tuple[str, dict[str, int]]:
    """(domain, hits per domain); ties in DOMAINS order; no hit -> illustration."""
    scores = keyword_scores(text, keywords)
    if not scores:
        return "illustration", {}
    best = max(scores.values())
    return next(d for d in DOMAINS if scores.get(d) == best), scores


def load_classifier(loader: str, path: str) -> Callable:
    """`loader` "package.module:function" called with the model path; returns the classifier object."""
    mod, _, fn = loader.partition(":")
    return getattr(importlib.import_module(mod), fn)(path)


def classify(figure: dict, keywords, classifier=None, image=None,
             threshold: float = settings.defaults("articles", "filter", "threshold")) -> dict:
    """{medical, domain, method, scores, keep} for one parsed figure record."""
    if classifier is not None and image is not None:
        probs = classifier.predict([image])[0]
        best = max(probs, key=lambda k: (probs[k], k))
        medical = best in DOMAINS and probs[best] >= threshold
        return {"medical": medical, "domain": best if best in DOMAINS else None, "method": "classifier",
                "scores": {k: round(float(v), 4) for k, v in sorted(probs.items())}, "keep": medical}
    domain, hits = keyword_domain(figure.get("caption", ""), keywords)
    return {"medical": bool(hits) and domain != "illustration", "domain": domain, "method": "caption_keywords",
            "scores": hits, "keep": True}
