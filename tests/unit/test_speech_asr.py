"""Whisper ASR on espeak-ng narration: words, timestamps, silence, model block; openai-whisper on converted weights."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

from mednarratives.speech import asr, metrics, synth
from speech_marks import NEEDS_TINY_EN

pytestmark = NEEDS_TINY_EN
SENTENCES = [
    "The chest radiograph shows a right lower lobe consolidation.",
    "There is a large left sided pleural effusion.",
    "This histology slide shows glandular structures lined by columnar epithelium.",
]


@pytest.fixture(scope="module")
def narration(tmp_path_factory):
    narr = synth.synthesize(SENTENCES, pause=0.8, lead=0.5)
    wav = synth.write_wav(tmp_path_factory.mktemp("asr") / "narration.wav", narr.audio, narr.sample_rate)
    return narr, wav


@pytest.fixture(scope="module")
def result(narration, tmp_path_factory):
    _, wav = narration
    return asr.transcribe(wav, "tiny.en", cache_dir=tmp_path_factory.mktemp("cache"), cpu_threads=2)


def test_espeak_truth_times(narration):
    narr, _ = narration
    assert 12 < narr.duration < 25
    assert [s["text"] for s in narr.sentences] == SENTENCES
    if narr.words:  # libespeak-ng word events
        assert len(narr.words) == sum(len(s.split()) for s in SENTENCES)
        starts = [w["start"] for w in narr.words]
        assert starts == sorted(starts) and narr.words[0]["start"] == pytest.approx(0.5, abs=0.05)


def test_transcript_structure_and_quality(narration, result):
    narr, _ = narration
    assert result["language"] == "en"
    assert set(result["model"]) >= {"name", "backend", "version", "params", "path"}
    assert result["model"]["name"] == "tiny.en" and result["model"]["backend"] == "faster-whisper"
    assert result["model"]["params"]["beam_size"] == asr.CONFIG["beam_size"] and result["model"]["params"]["temperature"] == 0.0
    words = metrics.transcript_words(result)
    assert all(set(w) == {"word", "start", "end", "probability"} for w in words)
    assert metrics.wer(narr.text, asr.transcript_text(result))["wer"] < 0.35
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w["start"] <= w["end"] <= narr.duration + 0.05 for w in words)
    if narr.words:
        assert metrics.timestamp_agreement(narr.words, words, 0.5)["agreement"] >= 0.8


def test_deterministic(narration, result, tmp_path):
    _, wav = narration
    again = asr.transcribe(wav, "tiny.en", cache_dir=tmp_path, cpu_threads=2)
    assert again["segments"] == result["segments"]


def test_silence_and_noise_give_no_words(tmp_path):
    rng = np.random.default_rng(0)
    for name, audio in (("silence", np.zeros(16000 * 8, np.float32)),
                        ("hiss", (0.003 * rng.standard_normal(16000 * 8)).astype(np.float32))):
        wav = synth.write_wav(tmp_path / f"{name}.wav", audio, 16000)
        res = asr.transcribe(wav, "tiny.en", cache_dir=tmp_path)
        assert res["segments"] == [] and res["speech"] == [], name


@pytest.mark.skipif(importlib.util.find_spec("whisper") is None, reason="pip install openai-whisper")
def test_openai_whisper_backend_on_converted_weights(narration, tmp_path):
    narr, wav = narration
    audio = asr.load_audio(wav)[: int(16000 * (narr.sentences[0]["end"] + 0.4))]  # first sentence only
    res = asr.transcribe(audio, "tiny.en", "openai-whisper", beam_size=1, cache_dir=tmp_path)
    assert res["model"]["backend"] == "openai-whisper" and res["model"]["params"]["compute_type"] == "float32"
    words = metrics.transcript_words(res)
    # same weights, same audio: the reference implementation and CTranslate2 (int8) agree closely
    fw = asr.transcribe(audio, "tiny.en", beam_size=1, cache_dir=tmp_path)
    assert metrics.wer(asr.transcript_text(fw), asr.transcript_text(res))["wer"] <= 0.25
    assert metrics.wer(SENTENCES[0], asr.transcript_text(res))["wer"] < 0.6  # one sentence alone is hard for tiny
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    silent = asr.transcribe(np.zeros(16000 * 5, np.float32), "tiny.en", "openai-whisper", cache_dir=tmp_path)
    assert silent["segments"] == []


def test_cli_espeak_fallback(tmp_path):
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng command missing")
    narr = synth.synthesize(SENTENCES[:1], use_library=False)
    assert narr.words == [] and narr.sentences[0]["end"] > narr.sentences[0]["start"] > 0.4


def test_other_languages_are_detected_not_transcribed(tmp_path):
    """German speech with language 'en': no words (a forced language would give confident nonsense)."""
    import subprocess

    wav = tmp_path / "de.wav"
    subprocess.run(["espeak-ng", "-v", "de", "-w", str(wav), "Guten Tag. Heute sprechen wir über das Wetter in den "
                    "Bergen und über die Geschichte der Stadt."], check=True, timeout=60)
    result = asr.transcribe(wav, "base", cache_dir=tmp_path / "cache", cpu_threads=2)
    assert result["language"] == "de" and result["segments"] == []
