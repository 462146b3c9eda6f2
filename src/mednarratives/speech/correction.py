"""Quilt-1M style medical-term correction of ASR transcripts, with n-gram verification and no language model.

Quilt-1M (supplement A.1) finds words that are not in an English or medical vocabulary, asks a language model for a
correction and keeps it only if it is a known medical term; MedicalNarratives (3.2.3, appendix 7.4) follows it. This
module keeps the find / propose / verify structure and replaces the language model with string similarity:

1. **Find** suspect tokens: not in the English + medical vocabulary, or recognised with a low Whisper word
   probability (``low_prob``). Whisper's misrecognitions of medical terms are often ordinary English words
   ("small clearly fusion" for "small pleural effusion"), which only the probability reveals.
2. **Propose** replacements for every span of 1-``max_span`` tokens that contains a suspect token and stays inside
   one sentence: medical words and multiword terms whose spelling (Indel similarity of the letters, spaces
   removed) and sound (Levenshtein similarity of Metaphone keys) are close to the span's (``min_score``).
3. **Verify**: a replacement is accepted only if it is attested with its context in the medical n-gram list built
   from the same sources as the vocabulary (an n-gram of 2-5 tokens that contains the replacement and at least
   one content word next to it, taken only from context tokens Whisper was confident about or that an earlier
   pass corrected), or it is itself a known multiword term replacing a multi-token span with a higher score
   (``min_term_score``); and the original span is not attested with the same context. A replacement never has
   more words than the span (Whisper splits unknown words, it does not merge them), and a confident token at a
   span edge must survive. Overlapping proposals are resolved by score; two passes let a correction serve as
   context for its neighbour.

Every accepted change is recorded as ``{word, replacement, start, end, evidence}``.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field

import jellyfish
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from .vocabulary import Vocabulary, load_vocabulary, tokenize

__all__ = ["MedicalCorrector", "correct_transcript", "correct_words", "correct_text"]

_SENTENCE_END = re.compile(r"[.!?;:,]$")


@dataclass
class _Tok:
    text: str
    word: int                  # index of the source word
    sub: int                   # position inside the source word
    n_sub: int
    start: float
    end: float
    prob: float
    seg: int
    brk: bool = False          # a sentence/clause break follows this token
    fixed: bool = False        # produced by an earlier correction pass: context only


@dataclass
class _Proposal:
    i: int
    j: int                     # token span [i, j)
    replacement: tuple[str, ...]
    score: float
    orth: float
    phon: float
    evidence: dict = field(default_factory=dict)


# Coding-manual abbreviations that occur inside ICD titles but are never a correction target.
_JUNK = frozenset("nos nec ncs nn zz".split())


def _clean_word(w: str, v: Vocabulary) -> bool:
    return len(w) >= 3 and w.isalpha() and w not in v.stopwords and w not in _JUNK


def _core(span: tuple[str, ...], words: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Drop the words that span and replacement share at both ends: the part that actually changes."""
    a, b = list(span), list(words)
    while len(a) > 1 and len(b) > 1 and a[0] == b[0]:
        a.pop(0), b.pop(0)
    while len(a) > 1 and len(b) > 1 and a[-1] == b[-1]:
        a.pop(), b.pop()
    return tuple(a), tuple(b)


def _contains(big: tuple[str, ...], small: tuple[str, ...]) -> bool:
    n = len(small)
    return any(big[k:k + n] == small for k in range(len(big) - n + 1))


def _phon(s: str) -> str:
    return jellyfish.metaphone(s) if s else ""


class MedicalCorrector:
    """Find, propose and verify medical-term corrections (see module doc). Reusable; builds its index once."""

    def __init__(self, vocabulary: Vocabulary | None = None, *, min_score: float = 0.6, min_term_score: float = 0.75,
                 min_orth: float = 0.5, low_prob: float = 0.5, max_span: int = 3, min_term_len: int = 5,
                 passes: int = 2):
        self.vocab = vocabulary if vocabulary is not None else load_vocabulary()
        self.min_score, self.min_term_score = min_score, min_term_score
        self.min_orth, self.low_prob = min_orth, low_prob
        self.max_span, self.min_term_len, self.passes = max_span, min_term_len, passes
        self._build_index()

    # -- index ---------------------------------------------------------------------------------------------------
    def _build_index(self) -> None:
        v = self.vocab
        entries: dict[str, tuple[tuple[str, ...], int]] = {}
        for w, c in v.medical.items():
            if len(w) >= self.min_term_len and _clean_word(w, v):
                entries[w] = ((w,), c)
        for t, c in v.terms.items():
            if 2 <= len(t) <= 3 and all(_clean_word(x, v) for x in t):
                key = "".join(t)
                if len(key) >= self.min_term_len and (key not in entries or entries[key][1] < c):
                    entries[key] = (t, c)
        self._keys = list(entries)
        self._entries = [entries[k] for k in self._keys]
        self._phon_keys = [_phon(k) for k in self._keys]

    # -- tokens --------------------------------------------------------------------------------------------------
    def _tokens(self, words: list[dict]) -> list[_Tok]:
        toks: list[_Tok] = []
        for wi, w in enumerate(words):
            parts = tokenize(w["word"])
            if not parts:
                if toks and _SENTENCE_END.search(w["word"].strip()):
                    toks[-1].brk = True
                continue
            start, end = float(w.get("start", 0.0)), float(w.get("end", 0.0))
            total = sum(len(p) for p in parts)
            pos = 0
            for k, p in enumerate(parts):
                a = start + (end - start) * pos / total
                pos += len(p)
                toks.append(_Tok(p, wi, k, len(parts), a, start + (end - start) * pos / total,
                                 float(w.get("probability", 1.0)), int(w.get("segment", 0)),
                                 fixed=bool(w.get("corrected"))))
            if _SENTENCE_END.search(w["word"].strip()):
                toks[-1].brk = True
        for a, b in zip(toks, toks[1:]):
            if a.seg != b.seg:
                a.brk = True
        return toks

    def _suspect(self, t: _Tok) -> bool:
        v = self.vocab
        if t.fixed or t.text in v.stopwords or any(ch.isdigit() for ch in t.text):
            return False
        if not v.is_known(t.text):
            return True
        if v.is_medical(t.text) and len(t.text) >= self.min_term_len:
            # a recognised medical word is trusted even at low probability: replacing it by a neighbour
            # ("retinal" -> "renal", "vessels" -> "vessel") cost more than it fixed on the demo narration
            return False
        return t.prob < self.low_prob and len(t.text) >= 3

    # -- verification --------------------------------------------------------------------------------------------
    def _context(self, toks: list[str], brk: list[bool], i: int, j: int, k: int = 3,
                 trusted: list[bool] | None = None) -> tuple[list[str], list[str]]:
        """Up to ``k`` tokens each side inside the sentence; with ``trusted``, stop at the first doubtful token."""
        ok = trusted or [True] * len(toks)
        left: list[str] = []
        x = i - 1
        while x >= 0 and not brk[x] and len(left) < k and ok[x]:
            left.insert(0, toks[x])
            x -= 1
        right: list[str] = []
        x = j
        while x < len(toks) and len(right) < k and ok[x]:
            right.append(toks[x])
            if brk[x]:
                break
            x += 1
        return left, right

    def _attested(self, left: list[str], body: tuple[str, ...], right: list[str]) -> dict | None:
        """Best n-gram (2-5 tokens) that contains ``body`` (or its edge word) and a content word of the context."""
        v = self.vocab
        best = None
        for nl in range(len(left) + 1):
            for nr in range(len(right) + 1):
                if nl == 0 and nr == 0:
                    continue
                ctx = left[len(left) - nl:] + right[:nr]
                if not any(c not in v.stopwords for c in ctx):
                    continue
                for inner in ((body,) if len(body) == 1 else (body, body[:1], body[-1:])):
                    if nr and inner is not body and inner == body[:1]:
                        continue  # right context must follow the whole body
                    if nl and inner is not body and inner == body[-1:]:
                        continue
                    gram = tuple(left[len(left) - nl:]) + tuple(inner) + tuple(right[:nr])
                    if len(gram) > 5:
                        continue
                    c = v.ngram_count(gram)
                    if c and (best is None or (len(gram), c) > (len(best["ngram"].split()), best["count"])):
                        best = {"type": "ngram", "ngram": " ".join(gram), "count": c}
        return best

    # -- proposals -----------------------------------------------------------------------------------------------
    def _candidates(self, span: tuple[str, ...]) -> list[tuple[tuple[str, ...], float, float, float, int]]:
        q = "".join(span)
        if len(q) < 4:
            return []
        qp = _phon(q)
        hits: dict[int, None] = {}
        for query, choices, cutoff in ((q, self._keys, 55), (qp, self._phon_keys, 60)):
            for _, _, idx in process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=15):
                hits[idx] = None
        out = []
        for idx in hits:
            words, count = self._entries[idx]
            if words == span or (len(words) > len(span) and _contains(words, span)):
                continue  # no change, or only words added around a recognised span
            a, b = _core(span, words)  # score only what changes ("gastric and trim" -> "and trim" vs "antrum")
            qa, kb = "".join(a), "".join(b)
            orth = fuzz.ratio(qa, kb) / 100.0
            phon = Levenshtein.normalized_similarity(_phon(qa), _phon(kb))
            score = 0.5 * orth + 0.5 * phon
            if orth >= self.min_orth and score >= self.min_score and abs(len(kb) - len(qa)) <= 0.5 * len(kb):
                out.append((words, score, orth, phon, count))
        out.sort(key=lambda c: (-c[1], -c[4]))
        return out[:8]

    def _propose(self, toks: list[_Tok]) -> list[_Proposal]:
        v = self.vocab
        texts = [t.text for t in toks]
        brk = [t.brk for t in toks]
        suspect = [self._suspect(t) for t in toks]
        # context that may verify a correction: earlier corrections, or tokens Whisper was confident about
        trusted = [t.fixed or (not s and t.prob >= self.low_prob) for t, s in zip(toks, suspect)]
        # a confident token must survive at a span edge, unless it shares its Whisper word with a suspect
        # ("castor-frenic": "castor" is one half of a misheard word)
        doubtful_words = {t.word for t, s in zip(toks, suspect) if s}
        protected = [tr and not t.fixed and t.word not in doubtful_words for t, tr in zip(toks, trusted)]
        props: list[_Proposal] = []
        for i in range(len(toks)):
            for n in range(1, self.max_span + 1):
                j = i + n
                if j > len(toks) or any(brk[x] for x in range(i, j - 1)):
                    break
                if not any(suspect[i:j]) or any(toks[x].fixed for x in range(i, j)):
                    continue
                span = tuple(texts[i:j])
                if all(t in v.stopwords for t in span):
                    continue
                # a span may begin or end with a stop word only if Whisper itself doubted it ("and trim" -> antrum)
                if n > 1 and ((span[0] in v.stopwords and toks[i].prob >= self.low_prob)
                              or (span[-1] in v.stopwords and toks[j - 1].prob >= self.low_prob)):
                    continue
                left, right = self._context(texts, brk, i, j)
                if self._attested(left, span, right) or v.is_term(span):
                    continue  # the original is already a plausible medical n-gram
                left, right = self._context(texts, brk, i, j, trusted=trusted)
                for words, score, orth, phon, _count in self._candidates(span):
                    if len(words) > len(span):
                        continue  # Whisper splits unknown words; it does not merge two words into one token
                    if len(words) < len(span) and all(v.is_known(x) for x in span) and \
                            {x.rstrip("s") for x in words} < {x.rstrip("s") for x in span}:
                        continue  # only dropping known words ("sclerotic bone" -> "sclerotic") fixes nothing
                    if len(words) == len(span) and all(v.is_known(x) for x in span) and \
                            all(a.rstrip("s") == b.rstrip("s") for a, b in zip(span, words)):
                        continue  # a plural/singular swap of known words ("photographs" -> "photograph")
                    # tokens Whisper was sure of may stay inside a span, but an edge one must survive unchanged
                    if (protected[i] and words[0] != span[0]) or (protected[j - 1] and words[-1] != span[-1]):
                        continue
                    ev = self._attested(left, words, right)
                    if ev is None and len(words) >= 2 and v.is_term(words) and score >= self.min_term_score:
                        ev = {"type": "term", "ngram": " ".join(words), "count": v.terms[words]}
                    if ev is None:
                        continue
                    ev.update(score=round(score, 3), orth=round(orth, 3), phon=round(phon, 3),
                              suspect=[texts[x] for x in range(i, j) if suspect[x]])
                    props.append(_Proposal(i, j, words, score, orth, phon, ev))
                    break  # best verified candidate for this span
        return props

    # -- public API ----------------------------------------------------------------------------------------------
    def correct_words(self, words: list[dict]) -> tuple[list[dict], list[dict]]:
        """Correct a list of timed words ({word, start, end, probability[, segment]}) -> (new words, corrections)."""
        current = [dict(w) for w in words]
        corrections: list[dict] = []
        for _ in range(max(1, self.passes)):
            toks = self._tokens(current)
            props = self._propose(toks)
            if not props:
                break
            props.sort(key=lambda p: (-p.score, -(p.evidence.get("count", 0)), p.i))
            taken: set[int] = set()
            chosen = []
            for p in props:
                if taken.isdisjoint(range(p.i, p.j)):
                    chosen.append(p)
                    taken.update(range(p.i, p.j))
            current, new = self._apply(current, toks, sorted(chosen, key=lambda p: p.i))
            corrections.extend(new)
        corrections.sort(key=lambda c: c["start"])
        return current, corrections

    def _apply(self, words: list[dict], toks: list[_Tok], chosen: list[_Proposal]) -> tuple[list[dict], list[dict]]:
        by_start = {p.i: p for p in chosen}
        touched = {toks[x].word for p in chosen for x in range(p.i, p.j)}
        out: list[dict] = []
        corrections = []

        def surface(t: _Tok, text: str) -> str:
            src = words[t.word]["word"].strip()
            if t.sub == 0 and src[:1].isupper():
                text = text[:1].upper() + text[1:]
            if t.sub == t.n_sub - 1:
                trail = re.search(r"[^\w']+$", src)
                if trail:
                    text += trail.group(0)
            return text

        x = 0
        while x < len(toks):
            p = by_start.get(x)
            if p is not None:
                span = toks[p.i:p.j]
                start, end = span[0].start, span[-1].end
                original = " ".join(s.text for s in span)
                reps = list(p.replacement)
                total = sum(len(r) for r in reps)
                pos = 0
                for k, r in enumerate(reps):
                    a = start + (end - start) * pos / total
                    pos += len(r)
                    if k == 0:
                        r = surface(span[0], r) if span[0].sub == 0 else r
                    if k == len(reps) - 1 and span[-1].sub == span[-1].n_sub - 1:
                        trail = re.search(r"[^\w']+$", words[span[-1].word]["word"].strip())
                        r = r + trail.group(0) if trail else r
                    out.append({"word": r, "start": round(a, 3), "end": round(start + (end - start) * pos / total, 3),
                                "probability": round(min(s.prob for s in span), 4), "segment": span[0].seg,
                                "corrected": True, "original": original})
                corrections.append({"word": original, "replacement": " ".join(p.replacement),
                                    "start": round(start, 3), "end": round(end, 3), "evidence": p.evidence})
                x = p.j
                continue
            t = toks[x]
            if t.word in touched:  # the rest of a word that a correction splits ("air-brung" -> "air" + ...)
                out.append({"word": surface(t, t.text), "start": round(t.start, 3), "end": round(t.end, 3),
                            "probability": t.prob, "segment": t.seg})
            elif t.sub == 0:
                out.append(dict(words[t.word]))
            x += 1
        return out, corrections


@functools.lru_cache(maxsize=2)
def _default_corrector() -> MedicalCorrector:
    return MedicalCorrector()


def correct_words(words: list[dict], corrector: MedicalCorrector | None = None) -> tuple[list[dict], list[dict]]:
    return (corrector or _default_corrector()).correct_words(words)


def correct_text(text: str, corrector: MedicalCorrector | None = None) -> tuple[str, list[dict]]:
    """Correct plain text (no probabilities: only out-of-vocabulary words are suspects)."""
    words = [{"word": w, "start": float(i), "end": float(i) + 1.0, "probability": 1.0}
             for i, w in enumerate(text.split())]
    new, corrections = correct_words(words, corrector)
    return " ".join(w["word"] for w in new), corrections


def correct_transcript(transcript: dict, corrector: MedicalCorrector | None = None) -> dict:
    """Copy of an ``asr.transcribe`` result with corrected segment words/text and a ``corrections`` list."""
    out = copy.deepcopy(transcript)
    flat = []
    for si, seg in enumerate(out.get("segments", [])):
        for w in seg.get("words", []):
            flat.append({**w, "segment": si})
    new, corrections = correct_words(flat, corrector)
    segs = out.get("segments", [])
    for seg in segs:
        seg["words"] = []
    for w in new:
        si = w.pop("segment")
        segs[si]["words"].append(w)
    fixed = {segs_i for segs_i, seg in enumerate(segs) if any(w.get("corrected") for w in seg["words"])}
    for si in fixed:
        segs[si]["original_text"] = segs[si]["text"]
        segs[si]["text"] = " ".join(w["word"] for w in segs[si]["words"])
    out["corrections"] = corrections
    out["correction"] = {"method": "quilt1m-style: OOV/low-probability suspects, edit-distance + metaphone "
                                   "candidates, medical n-gram verification", "n_corrections": len(corrections),
                         "vocabulary": (corrector or _default_corrector()).vocab.summary()}
    return out
