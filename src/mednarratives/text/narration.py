"""The narration cue: is what the narrator says medical? (issue #17)

The video filter decides on key-frame images; a narrated lecture on another subject (deep learning, GIS, data
visualisation) whose slides look like scans passes it. Its transcript does not look medical: the cue is the
**medical-term density** of the corrected transcript, the share of its content words (words that are not stop words)
inside medical terms of the text vocabulary (``text.vocabulary``, default the packaged one;
``speech.vocabulary.medical_matches``: imaging terms, ICD-10 terms, ICD-10 words that are not plain English), the
same terms that make an utterance medical text.

It runs in the text stage, on the speech stage's corrected words (the transcript exists for the filter's kept videos
only, so the cue costs no second transcription; a new threshold reruns the text stage, not ASR). A transcript with
fewer than ``min_words`` content words, or in another language than English (``speech.language`` null: Whisper's
detected language; the vocabulary is English), is not judged (``medical`` is null): the images decide. With the
default ``speech.language: en`` other speech is dropped before, by the speech stage (``wrong_language``).
Measured separation (devsets/speech/narration/README.md): real non-medical technical texts <= 0.036 (their read-aloud
transcripts <= 0.008), PMC case reports >= 0.076 (transcripts >= 0.078), the demo narrations >= 0.167; lay
consultation talk straddles the line (primock57 doctors: median 0.023).
"""

from __future__ import annotations

from .. import settings
from ..speech.vocabulary import STOPWORDS, medical_matches, words_of

STAGE = "text"


def narration_score(text: str, vocab_dir: str | None = None) -> dict:
    """{content_words, medical_words, density} of ``text``: medical_words counts the content words inside medical
    terms (a term's stop words, "of" in "fracture of femur", are not counted)."""
    words = words_of(text)
    content = [w not in STOPWORDS and w.isalpha() for w in words]
    medical = sum(sum(content[i:i + n]) for i, n, _ in medical_matches(words, vocab_dir))
    n_content = sum(content)
    return {"content_words": n_content, "medical_words": medical,
            "density": round(medical / n_content, 4) if n_content else 0.0}


def judge(words: list[dict], language: str | None, cfg: dict | None = None, vocab_dir: str | None = None) -> dict:
    """The record's ``narration`` block of a transcript's words: score + ``medical`` (true / false / null when the
    transcript is too short or not English) + the thresholds it was judged with (``text.narration`` config)."""
    p = settings.merged(cfg, STAGE)["narration"]
    score = narration_score(" ".join(w["word"] for w in words), vocab_dir)
    judged = score["content_words"] >= p["min_words"] and language in (None, "en")
    medical = score["density"] >= p["min_density"] if judged else None
    return {**score, "medical": medical, "min_density": p["min_density"], "min_words": p["min_words"]}
