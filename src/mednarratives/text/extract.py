"""Medical text, ROI text, keywords, entities, subdomain and modality tags from an ASR record (paper 7.4-7.5).

Two backends behind one interface, ``extract(speech_record, backend=...)``:

* ``RuleBackend`` (default, offline, deterministic): sentence utterances from the timed words; chatter
  ("welcome back", "thanks for watching", "subscribe") removed; pointing cues ("look here", "this area", ...)
  turn the rest of the sentence into ROI text; entities = longest matches against the medical vocabulary
  (mednarratives/speech/data/vocabulary: ICD-10 terms, project imaging terms, ICD-10 words that are not plain English);
  keywords = RAKE; subdomain / modalities = cue phrases in mednarratives/text/data/*.yaml.
* ``LLMBackend`` (``mednarratives.text.llm``): an OpenAI-compatible chat endpoint; every answer is checked
  (JSON shape, no new words) and a rejected answer falls back to the rule backend for that utterance.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from pathlib import Path

import yaml

from ..speech.vocabulary import medical_matches, words_of
from .rake import rake_keywords

__all__ = ["RuleBackend", "utterances_from_speech", "entities", "rake_keywords", "words_of", "new_words",
           "extract", "resource_dir"]

ROI_CUES = re.compile(
    r"\b(?:look (?:right )?here|(?:you )?(?:can )?see (?:right )?here|right here|over here|notice here|"
    r"if you look here|this (?:area|region|spot|part)|these (?:areas|regions)|(?:as )?(?:i am|i'm) pointing(?: at| to)?|"
    r"where (?:i am|i'm) pointing|the arrow)\b[\s,:]*(?:(?:at|to|on)\b\s*)?", re.I)
CHATTER = re.compile(r"\b(?:welcome(?: back)?|thanks? (?:you )?for watching|thank you|subscribe|like and share|"
                     r"next time|see you|my name is|hello|hi everyone|channel)\b", re.I)
SENT_END = re.compile(r"[.!?]$")


def resource_dir() -> Path:
    """Cue lists and prompts shipped with the package (mednarratives/text/data)."""
    return Path(str(importlib.resources.files("mednarratives.text") / "data"))


@functools.lru_cache(maxsize=4)
def _cues(name: str) -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load((resource_dir() / name).read_text())
    return {k: tuple(str(v).lower() for v in vs) for k, vs in data.items()}


def new_words(output: str, source: str) -> list[str]:
    """Words of ``output`` that do not occur in ``source`` (case-insensitive): the LLM's forbidden additions."""
    allowed = set(words_of(source))
    return sorted({w for w in words_of(output) if w not in allowed})


def utterances_from_speech(speech: dict) -> list[dict]:
    """Split the timed words into sentences (end punctuation, or a segment boundary) -> [{text, start, end}]."""
    words = speech.get("words") or []
    out, cur = [], []
    for i, w in enumerate(words):
        cur.append(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        boundary = SENT_END.search(w["word"].strip()) or nxt is None or (
            nxt is not None and float(nxt["start"]) - float(w["end"]) > 1.5)
        if boundary:
            text = " ".join(x["word"].strip() for x in cur).strip()
            out.append({"text": text, "start": round(float(cur[0]["start"]), 3),
                        "end": round(float(cur[-1]["end"]), 3)})
            cur = []
    return out


def entities(text: str, vocab_dir: str | None = None) -> list[dict]:
    """Greedy longest matches of the medical vocabulary in ``text`` -> [{text, id, vocab}] (id = the normalised term)."""
    toks = words_of(text)
    out, seen = [], set()
    for i, n, vocab in medical_matches(toks, vocab_dir):
        term = " ".join(toks[i:i + n])
        if term not in seen:
            seen.add(term)
            out.append({"text": term, "id": term.replace(" ", "_"), "vocab": vocab})
    return out


def _phrase_hits(text: str, phrases: tuple[str, ...]) -> int:
    padded = " " + " ".join(words_of(text.replace("&", " and "))) + " "
    return sum(padded.count(" " + " ".join(words_of(p)) + " ") for p in phrases if words_of(p))


def modalities(text: str) -> list[str]:
    return sorted(k for k, ps in _cues("modalities.yaml").items() if _phrase_hits(text, ps))


def subdomain(text: str) -> str:
    scores = [(_phrase_hits(text, ps), -i, k) for i, (k, ps) in enumerate(_cues("subdomains.yaml").items())]
    best = max(scores, default=(0, 0, "general"))
    return best[2] if best[0] > 0 else "general"


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip(" ,;:-")


class RuleBackend:
    name = "rules"

    def __init__(self, vocab_dir: str | None = None):
        self.vocab_dir = vocab_dir

    def utterance(self, text: str) -> dict:
        """One utterance -> {medical_text, roi_text, keywords}."""
        if CHATTER.search(text):
            return {"medical_text": "", "roi_text": "", "keywords": []}
        m = ROI_CUES.search(text)
        medical, roi = text, ""
        if m:
            roi = _clean(text[m.end():])
            medical = _clean(text[:m.start()])
            roi = roi[:1].lower() + roi[1:] if roi[:2] != roi[:2].upper() else roi
        if medical and not entities(medical, self.vocab_dir):
            medical = ""
        # ROI text is kept whenever the speaker points (the cue is the evidence), even without a vocabulary hit
        medical = _clean(medical)
        return {"medical_text": medical, "roi_text": roi,
                "keywords": rake_keywords(" . ".join(x for x in (medical, roi) if x))}

    def video(self, text: str) -> dict:
        return {"modalities": modalities(text), "subdomain": subdomain(text)}


def annotate(utt: dict, base: dict, vocab_dir: str | None = None) -> dict:
    text = " ".join(x for x in (base["medical_text"], base["roi_text"]) if x)
    return {**utt, "medical_text": base["medical_text"], "roi_text": base["roi_text"],
            "keywords": list(base["keywords"]), "entities": entities(text, vocab_dir) if text else [],
            "subdomain": subdomain(text) if text else "", "modalities": modalities(text) if text else []}


def extract(speech: dict, backend=None, vocab_dir: str | None = None) -> dict:
    """ASR record -> the text record ``{model, utterances[...], modalities, subdomain, fallbacks}``."""
    rules = RuleBackend(vocab_dir)
    backend = backend or rules
    utts, fallbacks = [], []
    for k, u in enumerate(utterances_from_speech(speech)):
        try:
            base = backend.utterance(u["text"])
        except Exception as e:  # a rejected LLM answer: rules for this utterance, and say why
            fallbacks.append({"utterance": k, "reason": str(e)[:300]})
            base = rules.utterance(u["text"])
        utts.append(annotate(u, base, vocab_dir))
    medical = " ".join(u["medical_text"] + " " + u["roi_text"] for u in utts).strip()
    try:
        video = backend.video(medical) if medical else {"modalities": [], "subdomain": ""}
    except Exception as e:
        fallbacks.append({"utterance": None, "reason": str(e)[:300]})
        video = rules.video(medical)
    model = getattr(backend, "describe", lambda: {"backend": backend.name})()
    return {"video_id": speech.get("video_id"), "model": model, "asr_model": speech.get("model"),
            "utterances": utts, "modalities": video["modalities"], "subdomain": video["subdomain"],
            "fallbacks": fallbacks}
