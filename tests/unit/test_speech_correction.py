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


def test_modality_names_are_attested(corrector):
    """ICD titles only say "computerized tomography": the usual name must not be "corrected" into it."""
    text = "This computed tomography of the head shows a lytic lesion."
    out, cs = run(corrector, text, {"computed"})
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


def test_split_medical_word_is_merged_when_one_half_is_doubtful(corrector):
    out, cs = run(corrector, "The gall bladder wall is thickened.", {"gall"})
    assert out == "The gallbladder wall is thickened."
    (c,) = cs
    assert c["word"] == "gall bladder" and c["replacement"] == "gallbladder"
    assert c["evidence"]["type"] == "merge" and c["evidence"]["count"] > 0 and c["evidence"]["suspect"] == ["gall"]
    out, _ = run(corrector, "There is a right sided hydro nephrosis.", {"hydro"})
    assert out == "There is a right sided hydronephrosis."
    # both halves confident: left alone; ordinary English compounds are not medical words
    out, cs = run(corrector, "The gall bladder wall is thickened.")
    assert cs == []
    out, cs = run(corrector, "We sat by the camp fire and sang.", {"camp", "fire"})
    assert cs == []


def test_real_word_errors_need_a_medical_ngram(corrector):
    # a confident English word that sounds like a medical one, verified by a medical n-gram with its neighbour
    out, cs = run(corrector, "There is bilateral plural thickening.")
    assert out == "There is bilateral pleural thickening."
    (c,) = cs
    assert c["word"] == "plural" and c["replacement"] == "pleural"
    assert c["evidence"]["real_word"] and c["evidence"]["ngram"].startswith("pleural") and c["evidence"]["count"] >= 3
    out, cs = run(corrector, "moderate pericardial diffusion is seen")
    assert out == "moderate pericardial effusion is seen"
    # the same words in plain English are left alone
    for text in ("He said the plural form of the word is irregular.", "The perfume had a pleasant diffusion.",
                 "This is important for library code, which may contain code to log events.",
                 "The special sequences consist of a backslash and a character."):
        out, cs = run(corrector, text)
        assert cs == [] and out == text


def test_real_words_that_are_common_medical_words_or_word_forms_are_trusted(corrector):
    # "retinal" is frequent in the medical corpus and "retinal artery" is attested (up to the plural)
    for text in ("The retinal arteries are narrower than the veins.", "Left ventricular wall motion is normal.",
                 "This fundus photography lesson ends here."):
        out, cs = run(corrector, text)
        assert cs == [] and out == text


def test_long_unknown_words_are_corrected_without_context(corrector):
    out, cs = run(corrector, "Signs of cholangiocarcinomma, see above.")
    assert out == "Signs of cholangiocarcinoma, see above."  # the comma is kept once
    (c,) = cs
    assert c["evidence"]["type"] == "oov" and c["evidence"]["score"] >= 0.8 and "runner_up" in c["evidence"]
    out, _ = run(corrector, "Known spondylolisthesus, again.")
    assert out == "Known spondylolisthesis, again."
    # unknown words whose nearest medical word is ordinary English, short or far ones are left alone
    for text in ("It can alter the default behaviour.", "Force write of the file without its metadata.",
                 "a string, bytes, or bytearray instance", "the sarca and chamom are here"):
        out, cs = run(corrector, text)
        assert cs == [] and out == text


def test_plain_english_is_not_changed(corrector):
    import codecs
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        import this  # the Zen of Python, stored rot13-encoded
    text = codecs.decode(this.s, "rot13")
    assert len(text.split()) > 100
    for line in text.splitlines():
        if line.strip():
            out, cs = run(corrector, line)
            assert cs == [], line


class FakeScorer:
    """Stands in for ``rescore.WhisperScorer``: a fixed delta log-likelihood per replacement text; records calls."""

    def __init__(self, deltas: dict[str, float], default: float = -10.0):
        self.deltas, self.default, self.edits = deltas, default, []

    def __call__(self, words, edits):
        self.edits += [(" ".join(w["word"] for w in words[a:b]), rep) for a, b, rep in edits]
        return [self.deltas.get(rep, self.default) for _, _, rep in edits]


def test_acoustic_route_accepts_a_sound_alike_term_within_the_margin(corrector):
    text = "The node has a fatty helium and a thin cortex."
    out, cs = run(corrector, text)
    assert cs == [] and out == text  # "hilum" is not verified by any n-gram
    for delta, expected in ((-1.0, "hilum"), (-2.9, "hilum"), (-3.5, "helium")):
        scorer = FakeScorer({"hilum": delta})
        new, cs = corrector.correct_words(words(text), scorer)
        assert " ".join(w["word"] for w in new) == text.replace("helium", expected)
        assert ("helium", "hilum") in scorer.edits
        if expected == "hilum":
            (c,) = cs
            assert c["word"] == "helium" and c["replacement"] == "hilum" and (c["start"], c["end"]) == (2.0, 2.35)
            ev = c["evidence"]
            assert ev["type"] == "acoustic" and ev["delta_logprob"] == delta and ev["margin"] == 3.0
            assert ev["real_word"] and ev["phon"] >= corrector.oov_min_phon
        else:
            assert cs == []


def test_acoustic_route_lets_the_audio_choose_between_candidates(corrector):
    text = "Normal calonic mucosa."
    scorer = FakeScorer({"colonic": -1.5, "clonic": -4.0})
    new, cs = corrector.correct_words(words(text), scorer)
    assert " ".join(w["word"] for w in new) == "Normal colonic mucosa."
    assert {r for _, r in scorer.edits} == {"colonic", "clonic"} and cs[0]["evidence"]["delta_logprob"] == -1.5
    # the edit the scorer sees keeps the capital and the punctuation of the words it replaces
    scorer = FakeScorer({"Hilum.": -1.0})
    new, cs = corrector.correct_words(words("Helium."), scorer)
    assert scorer.edits == [("Helium.", "Hilum.")] and new[0]["word"] == "Hilum." and new[0]["corrected"]


def test_acoustic_route_keeps_its_prior(corrector):
    # even with audio that fits anything, known words do not become English words or other forms of themselves,
    # and text-verified corrections are not sent to the scorer
    scorer = FakeScorer({}, default=0.0)
    for text in ("The residents extend the training session.", "Thanks for watching and see you next time."):
        new, cs = corrector.correct_words(words(text), scorer)
        assert cs == [] and " ".join(w["word"] for w in new) == text
    new, cs = corrector.correct_words(words("There is bilateral plural thickening."), scorer)
    assert cs[0]["replacement"] == "pleural" and cs[0]["evidence"]["type"] == "ngram"
    assert all(w != "plural" for w, _ in scorer.edits)


def test_correct_transcript_with_a_scorer_names_the_method(corrector):
    tr = {"segments": [{"start": 0.0, "end": 2.0, "text": "A fatty helium.", "words": words("A fatty helium.")}]}
    out = correct_transcript(tr, corrector, FakeScorer({"hilum.": -0.5}))
    assert out["segments"][0]["text"] == "A fatty hilum." and "acoustic" in out["correction"]["method"]
    assert "acoustic" not in correct_transcript(tr, corrector)["correction"]["method"]
