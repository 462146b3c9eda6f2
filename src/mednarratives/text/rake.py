"""RAKE keywords (Rose et al. 2010), for utterances (text stage) and the raw text around an image (align)."""

from __future__ import annotations

import re

STOPWORDS = frozenset("""a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have having he
her here hers him his how i if in into is it its itself just let me more most my no nor not now of off on once only
or other our out over own same she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would you your
yours okay ok so um uh like see look here there right now let's we're it's that's this one also can see""".split())
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")


def rake_keywords(text: str, max_words: int = 3) -> list[str]:
    """RAKE (Rose et al. 2010): candidate phrases between stopwords/punctuation, scored by word degree/frequency."""
    phrases: list[list[str]] = []
    for sentence in re.split(r"[.,;:!?()\[\]\"]+", text.lower()):
        current: list[str] = []
        for w in WORD.findall(sentence):
            if w in STOPWORDS:
                if current:
                    phrases.append(current)
                current = []
            else:
                current.append(w)
        if current:
            phrases.append(current)
    phrases = [p[i:i + max_words] for p in phrases for i in range(0, len(p), max_words)]
    freq: dict[str, int] = {}
    degree: dict[str, int] = {}
    for p in phrases:
        for w in p:
            freq[w] = freq.get(w, 0) + 1
            degree[w] = degree.get(w, 0) + len(p)
    scored = {" ".join(p): sum(degree[w] / freq[w] for w in p) for p in phrases}
    return [k for k, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))]
