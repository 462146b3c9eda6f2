"""Medical-term correction on synthetic Whisper-like misrecognitions (find -> propose -> verify)."""

from __future__ import annotations

import pytest

pytest.importorskip("jellyfish")
pytest.importorskip("rapidfuzz")

from mednarratives.speech.correction import MedicalCorrector, correct_text, correct_transcript  # noqa: E402
from mednarratives.speech.vocabulary import load_vocabulary  # noqa: E402


@pytest.fixture(scope="module")
def corrector():
    return MedicalCorrector(load_vocabulary())


def words(text: str, doubtful: set[str] = frozenset(), step: float = 0.4) -> list[dict]:
    """Timed words; those in ``doubtful`` get the low probability Whisper gives misheard words."""
    return [{"word": w, "start": round(i * step, 3), "end": round(i * step + 0.35, 3),
             "probability": 0.2 if w.strip(".,").lower() in doubtful else 0.95}
            for i, w in enumerate(text.split())]


def run(c, text, doubtful=frozenset()):
    new, corrections = c.correct_words(words(text, doubtful))
    return " ".join(w["word"] for w in new), corrections


def test_out_of_vocabulary_split_term_is_corrected_and_recorded(corrector):
    out, cs = run(corrector, "The findings are consistent with hepatosular carcinoma in a cirrhotic liver.")
    assert out == "The findings are consistent with hepatocellular carcinoma in a cirrhotic liver."
    (c,) = cs
    assert c["word"] == "hepatosular" and c["replacement"] == "hepatocellular"
    assert (c["start"], c["end"]) == (2.0, 2.35)  # the misheard word's own span
    assert c["evidence"]["ngram"] == "hepatocellular carcinoma" and c["evidence"]["count"] > 0


def test_hyphenated_fragments_keep_the_correct_part(corrector):
    out, cs = run(corrector, "Notice the blunting of the castor-frenic angle.")
    assert out == "Notice the blunting of the costophrenic angle."
    assert cs[0]["word"] == "castor frenic" and cs[0]["replacement"] == "costophrenic"
    out, cs = run(corrector, "consolidation with air-brung cadrems.")
    assert out == "consolidation with air bronchograms."
    assert cs[0]["replacement"] == "bronchograms" and cs[0]["evidence"]["ngram"] == "air bronchograms"


def test_english_words_with_low_probability_are_suspects(corrector):
    out, cs = run(corrector, "There is a tension new motor ax on the left.", {"new", "motor", "ax"})
    assert out == "There is a tension pneumothorax on the left."
    assert cs[0]["word"] == "new motor ax" and cs[0]["evidence"]["ngram"] == "tension pneumothorax"
    assert (cs[0]["start"], cs[0]["end"]) == (1.6, 2.75)
    out, cs = run(corrector, "an ulcer in the gastric and trim with a clean base", {"and", "trim"})
    assert out == "an ulcer in the gastric antrum with a clean base"
    out, _ = run(corrector, "which suggests a small clearly fusion.", {"clearly", "fusion"})
    assert out == "which suggests a small pleural effusion."


def test_unverified_ngrams_are_not_corrected(corrector):
    # "new motor ax" sounds like pneumothorax, but nothing medical around it verifies the change
    out, cs = run(corrector, "I bought a new motor ax yesterday.", {"new", "motor", "ax"})
    assert cs == [] and out == "I bought a new motor ax yesterday."
    # an out-of-vocabulary word close to "hepatocellular" whose neighbours are not medical
    out, cs = run(corrector, "the hepatosular banana")
    assert cs == []
    # the same words, confidently recognised, are left alone
    out, cs = run(corrector, "There is a tension new motor ax on the left.")
    assert cs == []


def test_doubtful_context_cannot_verify(corrector):
    # "tension" is doubtful too: it may not vouch for "pneumothorax"
    _, cs = run(corrector, "There is a tension new motor ax on the left.", {"tension", "new", "motor", "ax"})
    assert cs == []


def test_correct_words_are_untouched(corrector):
    text = ("The chest radiograph shows a right lower lobe consolidation with air bronchograms. There is a large "
            "left sided pneumothorax with mediastinal shift.")
    out, cs = run(corrector, text, {"radiograph", "consolidation", "pneumothorax"})
    assert cs == [] and out == text


def test_correct_text_and_transcript(corrector):
    text, cs = correct_text("compatible with guamas cell carcinoma", corrector)
    assert text == "compatible with squamous cell carcinoma" and len(cs) == 1
    tr = {"language": "en", "segments": [
        {"start": 0.0, "end": 2.4, "text": "Consistent with hepatosular carcinoma.",
         "words": words("Consistent with hepatosular carcinoma.")},
        {"start": 3.0, "end": 4.0, "text": "Next slide.", "words": words("Next slide.")},
    ]}
    out = correct_transcript(tr, corrector)
    assert out["segments"][0]["text"] == "Consistent with hepatocellular carcinoma."
    assert out["segments"][0]["original_text"] == "Consistent with hepatosular carcinoma."
    assert out["segments"][1] == tr["segments"][1]
    fixed = out["segments"][0]["words"][2]
    assert fixed["word"] == "hepatocellular" and fixed["corrected"] and fixed["original"] == "hepatosular"
    assert out["corrections"][0]["replacement"] == "hepatocellular"
    assert tr["segments"][0]["text"] == "Consistent with hepatosular carcinoma."  # input not modified


def test_known_words_are_not_dropped_or_reinflected():
    from mednarratives.speech.correction import correct_words

    def words(text, low):
        return [{"word": w, "start": float(i), "end": i + 0.9, "probability": 0.2 if w.strip(".") in low else 0.95}
                for i, w in enumerate(text.split())]

    for text, low in [("The color fundus photographs show it.", {"photographs", "color"}),
                      ("No lytic or sclerotic bone lesion.", {"bone"}),
                      ("The retinal vessels are thin.", {"retinal", "vessels"})]:
        new, corr = correct_words(words(text, low))
        assert corr == [] and " ".join(w["word"] for w in new) == text
