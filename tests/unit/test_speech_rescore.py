"""Whisper acoustic rescoring (teacher forcing) on espeak-ng narration transcribed by the packaged tiny.en model."""

from __future__ import annotations

import pytest

from mednarratives.speech import asr, synth
from mednarratives.speech.rescore import load_scorer
from speech_marks import NEEDS_TINY_EN

pytestmark = NEEDS_TINY_EN
SENTENCES = ["The chest radiograph shows a large left sided pleural effusion.",
             "There is no pneumothorax and the heart size is normal."]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    narr = synth.synthesize(SENTENCES, pause=1.0, lead=0.5)
    audio = asr.load_audio(synth.write_wav(cache / "n.wav", narr.audio, narr.sample_rate))  # 16 kHz
    tr = asr.transcribe(audio, "tiny.en", cache_dir=cache, cpu_threads=1)
    words = [{**w, "segment": si} for si, seg in enumerate(tr["segments"]) for w in seg["words"]]
    scorer = load_scorer(audio, "tiny.en", cpu_threads=1, cache_dir=cache)
    return words, scorer


def _index(words, text):
    return next(k for k, w in enumerate(words) if w["word"].strip(".,").lower() == text)


def test_edits_are_scored_against_whisper_own_text(setup):
    words, scorer = setup
    k = _index(words, "large")
    same, wrong, garbage = scorer(words, [(k, k + 1, words[k]["word"]), (k, k + 1, "small"),
                                          (k, k + 1, "purple banana")])
    assert same == pytest.approx(0.0, abs=1e-6)  # the unchanged text is Whisper's own: no difference
    assert wrong < -3.0 and garbage < wrong  # the audio says "large", not "small", and surely not two words
    k = _index(words, "heart")
    (late,) = scorer(words, [(k, k + 1, "art")])
    assert late < -3.0


def test_scores_do_not_depend_on_the_other_edits(setup):
    words, scorer = setup
    edits = [(_index(words, "large"), _index(words, "large") + 1, "small"),
             (_index(words, "heart"), _index(words, "heart") + 1, "art")]
    together = scorer(words, edits)
    alone = [scorer(words, [e])[0] for e in edits]
    assert together == pytest.approx(alone, abs=1e-4)
