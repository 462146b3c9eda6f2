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

Three further routes cover what the probability misses:

* **Real-word errors**: a confident English content word that is rare in the medical corpus (``real_max_medical``)
  may be a misheard term ("bilateral plural thickening"). It is changed only to a medical word
  that sounds the same (``real_min_phon``), is spelled alike (``real_min_orth``), is not another form of it
  (shared stem) and is ``real_ratio`` times more frequent in the medical corpus; the new n-gram with a trusted
  neighbour must be seen at least ``real_min_count`` times (or be a known term), and the original must not be
  attested even up to singular/plural ("retinal arteries" ~ "retinal artery").
* **Merges**: 2-``max_span`` tokens, one of them doubtful, whose letters spell a medical word ("gall bladder"),
  unless the split itself is a known n-gram. The letters are unchanged, so the word is its own evidence.
* **Out-of-vocabulary words without context** (Quilt-1M's own test): a word of ``oov_min_len`` letters or more,
  in no list, whose best proposal is a medical, non-English word close in spelling and sound (``oov_min_score``,
  ``oov_min_orth``, ``oov_min_phon``) and ahead by ``oov_margin`` of any proposal that is not a form of it; -s
  plurals are matched through their singular.

**Acoustic evidence** (optional, ``scorer``: ``rescore.WhisperScorer`` on the transcript's audio): a span whose
best candidates pass every test but the textual one is decided by the audio instead. Whisper scores its own text
and the text with the candidate by teacher forcing; the candidate is accepted when it is at most
``acoustic_margin`` nats less likely (shallow fusion of Whisper's acoustic score with a fixed medical prior), the
best-scoring one of up to ``acoustic_candidates`` per span. The prior is the set of gates a candidate must pass:
nearly the same sound (``oov_min_phon``), a medical word or term seen ``real_min_count`` times, whole Whisper words
(``_acoustic_ok``); known words become only medical words that are not English ("helium" -> "hilum", "plural" ->
"pleural": Whisper's language prior underrates exactly those) and not another form of themselves; a confident real
word also needs a target several times more frequent in the medical corpus (``_real_ok``, with the spelling only as
close as ``min_orth``). Text-verified proposals come first; acoustic ones fill the spans left over. The evidence
records ``delta_logprob`` (edited minus original log-likelihood) and the ``margin``.

Every accepted change is recorded as ``{word, replacement, start, end, evidence}``.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from dataclasses import dataclass, field

import jellyfish
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from .. import settings
from .vocabulary import Vocabulary, load_vocabulary, split_span, tokenize

__all__ = ["MedicalCorrector", "corrector_for", "correct_transcript", "correct_words", "correct_text"]
CONFIG = ("speech", "corrector")  # the config section of the thresholds

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
    acoustic: bool = False     # not verified by text: kept only if Whisper's acoustic score allows it


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


def _same_stem(old: str, new: str) -> bool:
    """Another form of the same word ("ventricular"/"ventricle"), not a mishearing: all but 3 letters shared."""
    return len(os.path.commonprefix([old, new])) >= min(len(old), len(new)) - 3


def _capital(src: str, text: str) -> str:
    """``text`` with a capital first letter when the source word has one."""
    return text[:1].upper() + text[1:] if src.strip()[:1].isupper() else text


def _trailing(src: str) -> str:
    """Punctuation that ends the source word ("cortex." -> ".")."""
    m = re.search(r"[^\w']+$", src.strip())
    return m.group(0) if m else ""


class MedicalCorrector:
    """Find, propose and verify medical-term corrections (see module doc). Reusable; builds its index once."""

    def __init__(self, vocabulary: Vocabulary | None = None, **params: float):
        """`params`: thresholds of the `speech.corrector` config section (its schema defaults for the rest)."""
        unknown = sorted(set(params) - set(settings.defaults(*CONFIG)))
        if unknown:
            raise TypeError(f"MedicalCorrector: unknown parameters {unknown}")
        self.vocab = vocabulary if vocabulary is not None else load_vocabulary()
        p = settings.merged(params, *CONFIG)
        self.min_score, self.min_term_score = p["min_score"], p["min_term_score"]
        self.min_orth, self.low_prob = p["min_orth"], p["low_prob"]
        self.max_span, self.min_term_len, self.passes = p["max_span"], p["min_term_len"], p["passes"]
        self.real_min_phon, self.real_min_orth = p["real_min_phon"], p["real_min_orth"]
        self.real_min_count, self.real_ratio, self.real_max_medical = (p["real_min_count"], p["real_ratio"],
                                                                       p["real_max_medical"])
        self.oov_min_len, self.oov_min_score = p["oov_min_len"], p["oov_min_score"]
        self.oov_min_phon, self.oov_min_orth, self.oov_margin = p["oov_min_phon"], p["oov_min_orth"], p["oov_margin"]
        self.acoustic_margin, self.acoustic_candidates = p["acoustic_margin"], p["acoustic_candidates"]
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
            spans = split_span(float(w.get("start", 0.0)), float(w.get("end", 0.0)), parts)
            for k, (p, (a, b)) in enumerate(zip(parts, spans)):
                toks.append(_Tok(p, wi, k, len(parts), a, b, float(w.get("probability", 1.0)),
                                 int(w.get("segment", 0)), fixed=bool(w.get("corrected"))))
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

    def _real_word(self, t: _Tok, acoustic: bool = False) -> bool:
        """A confident, correctly spelled English word that may still be a misheard medical term (real-word error).

        Only content words of the English list that are rare in the medical corpus (``real_max_medical``):
        "plural" (absent), "diffusion" (10) are candidates, "retinal" (288) or "ventricular" (130) are trusted like
        any recognised medical word. Changes to such words need stronger evidence (``_real_ok``, ``_propose``).
        ``acoustic``: also the looser targets that only the acoustic route may accept."""
        v = self.vocab
        w = t.text
        return (not t.fixed and len(w) >= 4 and w.isalpha() and w not in v.stopwords and w not in _JUNK
                and w in v.english and v.medical.get(w, 0) < self.real_max_medical
                and bool(self._real_targets(w) or (acoustic and self._real_targets(w, True))))

    @functools.lru_cache(maxsize=4096)
    def _real_targets(self, w: str, acoustic: bool = False) -> tuple[str, ...]:
        """Medical words that the real-word token ``w`` may be a mishearing of (cheap pre-filter, cached)."""
        return tuple(c[0][0] for c in self._candidates((w,))
                     if len(c[0]) == 1 and self._real_ok(w, c[0][0], acoustic))

    def _real_ok(self, old: str, new: str, acoustic: bool = False) -> bool:
        """May the real-word token ``old`` become ``new``? Same sound, close spelling, and ``new`` a medical word
        clearly more frequent in the medical corpus than ``old`` (Whisper prefers the common English neighbour).
        ``acoustic`` (the audio will decide): spelling only as close as any proposal (``min_orth``, "helium" ->
        "hilum"), but ``new`` must be a medical word that is not English, which Whisper's language prior
        underrates."""
        v = self.vocab
        if old == new:
            return True
        if old.rstrip("s") == new.rstrip("s") or new not in v.medical or _same_stem(old, new):
            return False
        if acoustic and not self._acoustic_ok((old,), (new,)):
            return False
        if Levenshtein.normalized_similarity(_phon(old), _phon(new)) < self.real_min_phon:
            return False
        if fuzz.ratio(old, new) / 100.0 < (self.min_orth if acoustic else self.real_min_orth):
            return False
        return v.medical[new] >= max(self.real_min_count, self.real_ratio * v.medical.get(old, 0))

    def _acoustic_ok(self, span: tuple[str, ...], words: tuple[str, ...]) -> bool:
        """The prior of the acoustic route: the words that change become medical words; when they replace known
        words, medical words that are not English (Whisper's language prior underrates exactly those) and not
        another form of the same word ("residents" -> "residence", "extends" -> "extended": grammar, not a term)."""
        v = self.vocab
        a, b = _core(span, words)
        if any(w not in v.medical for w in b):
            return False
        if not all(v.is_known(w) for w in a):
            return True  # an unknown word ("lidic", "tumer") may become any medical word the audio supports
        return not any(w in v.english for w in b) and not _same_stem("".join(a), "".join(b))

    def _variants(self, gram: list[str]) -> list[tuple[str, ...]]:
        """The n-gram with each word as written and with a plural -s/-es/-ies mapped to the singular and back."""
        opts = []
        for w in gram:
            forms = {w}
            if w.endswith("ies"):
                forms.add(w[:-3] + "y")
            elif w.endswith("es"):
                forms.update({w[:-2], w[:-1]})
            elif w.endswith("s"):
                forms.add(w[:-1])
            else:
                forms.update({w + "s", w + "es"})
                if w.endswith("y"):
                    forms.add(w[:-1] + "ies")
            opts.append(sorted(forms))
        out = [()]
        for forms in opts:
            out = [o + (f,) for o in out for f in forms]
        return out[:64]

    def _loosely_attested(self, left: list[str], body: tuple[str, ...], right: list[str]) -> bool:
        """Is ``body`` attested with its context, allowing singular/plural variants of every word?"""
        v = self.vocab
        for nl in range(len(left) + 1):
            for nr in range(len(right) + 1):
                ctx = left[len(left) - nl:] + right[:nr]
                if not any(c not in v.stopwords for c in ctx):
                    continue
                gram = list(left[len(left) - nl:]) + list(body) + list(right[:nr])
                if len(gram) > 5:
                    continue
                if any(v.ngram_count(g) for g in self._variants(gram)):
                    return True
        return False

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
    @functools.lru_cache(maxsize=16384)
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

    def _propose(self, toks: list[_Tok], acoustic: bool = False) -> list[_Proposal]:
        """Verified proposals; with ``acoustic``, also each span's best unverified one (``_Proposal.acoustic``)."""
        v = self.vocab
        texts = [t.text for t in toks]
        brk = [t.brk for t in toks]
        suspect = [self._suspect(t) for t in toks]
        real = [not s and self._real_word(t, acoustic) for t, s in zip(toks, suspect)]
        # context that may verify a correction: earlier corrections, or tokens Whisper was confident about
        trusted = [t.fixed or (not s and t.prob >= self.low_prob) for t, s in zip(toks, suspect)]
        # a confident token must survive at a span edge, unless it shares its Whisper word with a suspect
        # ("castor-frenic": "castor" is one half of a misheard word)
        doubtful_words = {t.word for t, s in zip(toks, suspect) if s}
        protected = [tr and not t.fixed and t.word not in doubtful_words for t, tr in zip(toks, trusted)]
        props: list[_Proposal] = self._merges(toks)
        for i in range(len(toks)):
            for n in range(1, self.max_span + 1):
                j = i + n
                if j > len(toks) or any(brk[x] for x in range(i, j - 1)):
                    break
                if any(toks[x].fixed for x in range(i, j)):
                    continue
                # real-word mode: no suspect in the span, only confident English words that may be misheard terms
                real_mode = not any(suspect[i:j])
                if real_mode and not any(real[i:j]):
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
                if real_mode and (self._loosely_attested(left, span, right) or (
                        n > 1 and any(v.ngram_count(g) for g in self._variants(list(span))))):
                    continue  # ... or is one up to singular/plural ("retinal arteries" ~ "retinal artery")
                left, right = self._context(texts, brk, i, j, trusted=trusted)
                # the doubtful tokens of the span, recorded in the evidence of whatever replaces it
                doubt = {"suspect": [texts[x] for x in range(i, j) if suspect[x] or (real_mode and real[x])],
                         **({"real_word": True} if real_mode else {})}
                pending = []  # best candidates that pass every test but the textual evidence
                for words, score, orth, phon, count in self._candidates(span):
                    if len(words) > len(span):
                        continue  # Whisper splits unknown words; it does not merge two words into one token
                    if len(words) < len(span) and all(v.is_known(x) for x in span) and \
                            {x.rstrip("s") for x in words} < {x.rstrip("s") for x in span}:
                        continue  # only dropping known words ("sclerotic bone" -> "sclerotic") fixes nothing
                    if len(words) == len(span) and all(v.is_known(x) for x in span) and \
                            all(a.rstrip("s") == b.rstrip("s") for a, b in zip(span, words)):
                        continue  # a plural/singular swap of known words ("photographs" -> "photograph")
                    verifiable = True
                    if real_mode:
                        # each changed word must be a real-word token that sounds like a more medical word
                        changed = [(i + k, a, b) for k, (a, b) in enumerate(zip(span, words)) if a != b]
                        if len(words) != len(span) or not all(real[x] for x, _, _ in changed):
                            continue
                        verifiable = all(self._real_ok(a, b) for _, a, b in changed)
                        if not verifiable and not (acoustic and all(self._real_ok(a, b, True) for _, a, b in changed)):
                            continue
                    # tokens Whisper was sure of may stay inside a span, but an edge one must survive unchanged
                    elif (protected[i] and words[0] != span[0]) or (protected[j - 1] and words[-1] != span[-1]):
                        continue
                    if (acoustic and len(pending) < self.acoustic_candidates and phon >= self.oov_min_phon
                            and count >= self.real_min_count
                            and toks[i].sub == 0 and toks[j - 1].sub == toks[j - 1].n_sub - 1
                            and self._acoustic_ok(span, words)):
                        pending.append((words, score, orth, phon, count))  # whole words: the scorer edits those
                    if not verifiable:
                        continue
                    ev = self._attested(left, words, right)
                    if ev is not None and real_mode and ev["count"] < self.real_min_count:
                        ev = None  # a real-word change needs an n-gram seen more than once
                    if ev is None and len(words) >= 2 and v.is_term(words) and score >= self.min_term_score:
                        ev = {"type": "term", "ngram": " ".join(words), "count": v.terms[words]}
                    if ev is None:
                        continue
                    ev.update(score=round(score, 3), orth=round(orth, 3), phon=round(phon, 3), **doubt)
                    props.append(_Proposal(i, j, words, score, orth, phon, ev))
                    break  # best verified candidate for this span
                else:
                    p = self._oov_proposal(span[0]) if n == 1 and not v.is_known(span[0]) else None
                    if p is not None:
                        words, score, orth, phon, ev = p
                        ev.update(suspect=[span[0]])
                        props.append(_Proposal(i, j, words, score, orth, phon, ev))
                    else:
                        for words, score, orth, phon, count in pending:
                            ev = {"type": "acoustic", "ngram": " ".join(words), "count": count,
                                  "score": round(score, 3), "orth": round(orth, 3), "phon": round(phon, 3), **doubt}
                            props.append(_Proposal(i, j, words, score, orth, phon, ev, acoustic=True))
        return props

    def _merges(self, toks: list[_Tok]) -> list[_Proposal]:
        """Medical words that Whisper split into 2-``max_span`` known tokens, one of them doubtful ("gall bladder"):
        the letters are unchanged, so the merged word is itself the evidence (when the split is no known n-gram)."""
        v = self.vocab
        out = []
        for i in range(len(toks)):
            for n in range(2, self.max_span + 1):
                span_t = toks[i:i + n]
                if len(span_t) < n or any(t.brk for t in span_t[:-1]):
                    break
                span = tuple(t.text for t in span_t)
                merged = "".join(span)
                if (any(t.fixed for t in span_t) or not all(t.isalpha() and t not in v.stopwords for t in span)
                        or all(t.prob >= self.low_prob for t in span_t) or len(merged) < self.min_term_len):
                    continue
                count = v.medical.get(merged, 0)
                if count < self.real_min_count or not _clean_word(merged, v) or v.ngram_count(span) or v.is_term(span):
                    continue
                ev = {"type": "merge", "ngram": merged, "count": count, "score": 1.0, "orth": 1.0, "phon": 1.0,
                      "suspect": [t.text for t in span_t if t.prob < self.low_prob]}
                out.append(_Proposal(i, i + n, (merged,), 1.0, 1.0, 1.0, ev))
        return out

    @functools.lru_cache(maxsize=4096)
    def _oov_proposal(self, word: str) -> tuple | None:
        """Quilt-1M's own test, without context: an out-of-vocabulary word (``oov_min_len`` letters or more) whose
        best proposal is one medical word close in spelling and sound (``oov_min_score``, ``oov_min_orth``,
        ``oov_min_phon``) and clearly ahead (``oov_margin``) of every proposal that is not a form of the same word.
        The word found must not be ordinary English: an unknown word next to an English one ("behaviour",
        "metadata") is a spelling or a coinage, not a misheard medical term. A word ending in -s is also matched
        without it and given it back ("pedicals" -> "pedicle" -> "pedicles")."""
        v = self.vocab
        if v.is_known(word) or len(word) < self.oov_min_len or not word.isalpha():
            return None
        scored = []  # (replacement, score, orth, phon, medical word it comes from)
        for words, score, orth, phon, _ in self._candidates((word,)):
            if len(words) == 1 and words[0] in v.medical:
                scored.append((words[0], score, orth, phon, words[0]))
        if word.endswith("s") and not word.endswith("ss"):
            for words, score, orth, phon, _ in self._candidates((word[:-1],)):
                w = words[0]
                if len(words) == 1 and w in v.medical and not w.endswith("s"):
                    scored.append((w + "s", score, orth, phon, w))
        if not scored:
            return None
        scored.sort(key=lambda c: (-c[1], -v.medical[c[4]]))
        best, score, orth, phon, base = scored[0]
        if base in v.english:
            return None
        if score < self.oov_min_score or phon < self.oov_min_phon or orth < self.oov_min_orth:
            return None
        runner_up = max((c[1] for c in scored if c[4].rstrip("s") != base.rstrip("s")), default=0.0)
        if score - runner_up < self.oov_margin:
            return None
        ev = {"type": "oov", "ngram": best, "count": v.medical[base], "runner_up": round(runner_up, 3),
              "score": round(score, 3), "orth": round(orth, 3), "phon": round(phon, 3)}
        if best != base:
            ev["plural_of"] = base
        return (best,), score, orth, phon, ev

    # -- public API ----------------------------------------------------------------------------------------------
    def correct_words(self, words: list[dict], scorer=None) -> tuple[list[dict], list[dict]]:
        """Correct a list of timed words ({word, start, end, probability[, segment]}) -> (new words, corrections).

        ``scorer(words, edits) -> [delta log-likelihood]`` (``rescore.WhisperScorer``) enables the acoustic route."""
        current = [dict(w) for w in words]
        corrections: list[dict] = []
        deltas: dict = {}  # acoustic scores already computed: a span rejected in pass 1 is not scored again
        for _ in range(max(1, self.passes)):
            toks = self._tokens(current)
            props = self._propose(toks, acoustic=scorer is not None)
            if scorer is not None:
                props = self._rescore(current, toks, props, scorer, deltas)
            if not props:
                break
            # text-verified proposals first, by string score; acoustic ones fill the spans left over, best audio first
            props.sort(key=lambda p: (p.acoustic, -p.evidence["delta_logprob"] if p.acoustic else -p.score,
                                      -(p.evidence.get("count", 0)), p.i))
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

    def _rescore(self, words: list[dict], toks: list[_Tok], props: list[_Proposal], scorer,
                 deltas: dict) -> list[_Proposal]:
        """Keep the acoustic proposals whose text Whisper scores at most ``acoustic_margin`` nats below its own
        (shallow fusion: acoustic log-likelihood plus a fixed bonus for a sound-alike medical term)."""
        verified = [p for p in props if not p.acoustic]
        taken = {x for p in verified for x in range(p.i, p.j)}
        pending = [p for p in props if p.acoustic and taken.isdisjoint(range(p.i, p.j))]
        keys = [(toks[p.i].start, toks[p.j - 1].end, p.replacement) for p in pending]
        todo = [(p, k) for p, k in zip(pending, keys) if k not in deltas]
        edits = []
        for p, _ in todo:
            first, last = words[toks[p.i].word]["word"], words[toks[p.j - 1].word]["word"]
            edits.append((toks[p.i].word, toks[p.j - 1].word + 1,
                          _capital(first, " ".join(p.replacement)) + _trailing(last)))
        if edits:
            deltas.update(zip((k for _, k in todo), scorer(words, edits)))
        kept = []
        for p, k in zip(pending, keys):
            if deltas[k] >= -self.acoustic_margin:
                p.evidence.update(delta_logprob=round(deltas[k], 3), margin=self.acoustic_margin)
                kept.append(p)
        return verified + kept

    def _apply(self, words: list[dict], toks: list[_Tok], chosen: list[_Proposal]) -> tuple[list[dict], list[dict]]:
        by_start = {p.i: p for p in chosen}
        touched = {toks[x].word for p in chosen for x in range(p.i, p.j)}
        out: list[dict] = []
        corrections = []

        def surface(t: _Tok, text: str) -> str:
            src = words[t.word]["word"]
            if t.sub == 0:
                text = _capital(src, text)
            return text + _trailing(src) if t.sub == t.n_sub - 1 else text

        x = 0
        while x < len(toks):
            p = by_start.get(x)
            if p is not None:
                span = toks[p.i:p.j]
                start, end = span[0].start, span[-1].end
                original = " ".join(s.text for s in span)
                reps = list(p.replacement)
                for k, (r, (a, b)) in enumerate(zip(reps, split_span(start, end, reps))):
                    if k == 0 and span[0].sub == 0:
                        r = _capital(words[span[0].word]["word"], r)
                    if k == len(reps) - 1 and span[-1].sub == span[-1].n_sub - 1:
                        r += _trailing(words[span[-1].word]["word"])
                    out.append({"word": r, "start": round(a, 3), "end": round(b, 3),
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


def corrector_for(params: dict | None = None) -> MedicalCorrector:
    """The corrector with these `speech.corrector` thresholds (built once per process and set of thresholds)."""
    return _corrector(tuple(sorted(settings.merged(params, *CONFIG).items())))


@functools.lru_cache(maxsize=2)
def _corrector(params: tuple) -> MedicalCorrector:
    return MedicalCorrector(**dict(params))


def correct_words(words: list[dict], corrector: MedicalCorrector | None = None,
                  scorer=None) -> tuple[list[dict], list[dict]]:
    return (corrector or corrector_for()).correct_words(words, scorer)


def correct_text(text: str, corrector: MedicalCorrector | None = None) -> tuple[str, list[dict]]:
    """Correct plain text (no probabilities: only out-of-vocabulary words are suspects)."""
    words = [{"word": w, "start": float(i), "end": float(i) + 1.0, "probability": 1.0}
             for i, w in enumerate(text.split())]
    new, corrections = correct_words(words, corrector)
    return " ".join(w["word"] for w in new), corrections


def correct_transcript(transcript: dict, corrector: MedicalCorrector | None = None, scorer=None) -> dict:
    """Copy of an ``asr.transcribe`` result with corrected segment words/text and a ``corrections`` list;
    ``scorer``: a ``rescore.WhisperScorer`` on the transcript's audio (acoustic route)."""
    out = copy.deepcopy(transcript)
    flat = []
    for si, seg in enumerate(out.get("segments", [])):
        for w in seg.get("words", []):
            flat.append({**w, "segment": si})
    corrector = corrector or corrector_for()
    new, corrections = corrector.correct_words(flat, scorer)
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
    method = ("quilt1m-style: OOV/low-probability suspects, edit-distance + metaphone candidates, medical n-gram "
              "verification")
    if scorer is not None:
        method += f", Whisper acoustic rescoring of unverified candidates (margin {corrector.acoustic_margin} nats)"
    out["correction"] = {"method": method, "n_corrections": len(corrections), "vocabulary": corrector.vocab.summary()}
    return out
