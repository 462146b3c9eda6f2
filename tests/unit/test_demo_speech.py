"""espeak-ng narration: exact word times (incl. words espeak merges, "in the"), determinism, narration file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from mednarratives.speech import espeak as speech

REPO = Path(__file__).resolve().parents[2]
TEXT = "Look here at the lesion in the right lobe of the liver, suspicious for hepatocellular carcinoma."


@pytest.fixture(scope="module")
def utterance():
    return speech.synthesize(TEXT)


def test_one_word_per_token(utterance):
    assert [w.word for w in utterance.words] == [t.strip(speech.PUNCTUATION) for t in TEXT.split()]


def test_word_times_are_monotonic_and_inside_the_audio(utterance):
    words = utterance.words
    assert words[0].start == 0.0 and words[-1].end == pytest.approx(utterance.duration)
    for a, b in zip(words, words[1:]):
        assert a.start < a.end <= b.start < b.end
    assert 4.0 < utterance.duration < 8.0  # ~150 words per minute


def test_every_word_has_energy_and_pauses_are_silent(utterance):
    audio = utterance.audio.astype(float)
    sr = speech.SAMPLE_RATE
    for w in utterance.words:
        seg = audio[int(w.start * sr):int(w.end * sr)]
        assert np.sqrt(np.mean(seg ** 2)) > 500, w
        # a word starts and ends on sound (trimmed to audible samples)
        assert abs(audio[int(round(w.start * sr))]) > speech.SILENCE and abs(audio[int(round(w.end * sr)) - 1]) > speech.SILENCE
    comma = next(i for i, w in enumerate(utterance.words) if w.word == "liver")
    pause = audio[int(utterance.words[comma].end * sr) + 1:int(utterance.words[comma + 1].start * sr)]
    assert len(pause) > 0.05 * sr and np.abs(pause).max() <= speech.SILENCE


def test_merged_words_are_split():
    # espeak speaks "in the" / "of the" as one dictionary entry; each word still gets its own interval
    words = speech.synthesize("Look in the box of the doctor.").words
    the = [w for w in words if w.word == "the"]
    assert len(the) == 2 and all(w.end - w.start > 0.03 for w in the)


def test_same_text_gives_identical_samples(utterance):
    assert np.array_equal(speech.synthesize(TEXT).audio, utterance.audio)


def test_rejects_non_ascii():
    with pytest.raises(ValueError):
        speech.synthesize("Naïve text")


def _sentences():
    narration = yaml.safe_load((REPO / "resources/demo/narration.yaml").read_text())
    for pools in narration["domains"].values():
        yield from pools["intro"] + pools["outro"] + [s["say"] for s in pools["slides"]]
    for pools in narration["images"].values():
        yield from pools["describe"] + [r["text"] for r in pools["roi"]]


def test_narration_sentences_are_clear_and_short():
    for text in _sentences():
        assert text.isascii() and not any(c.isdigit() for c in text), text
        assert 8 <= len(text.split()) <= 16, text


@pytest.mark.slow
def test_every_narration_sentence_aligns():
    import concurrent.futures

    texts = sorted(set(_sentences()))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for text, u in zip(texts, pool.map(speech.synthesize, texts)):
            assert len(u.words) == len(text.split()), text
