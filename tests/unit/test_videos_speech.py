"""Speech presence on generated audio: espeak-ng narration vs silence vs music-like chords vs noise."""

from __future__ import annotations

import shutil
import socket
import subprocess

import numpy as np
import pytest

from mednarratives.videos import speech_presence as S

pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("ffmpeg")),
                                reason="needs espeak-ng and ffmpeg")
SR = S.SAMPLE_RATE
SENTENCES = [
    "The chest radiograph shows a right lower lobe consolidation with air bronchograms.",
    "On this axial CT slice you can see a hypodense lesion in the left hepatic lobe.",
    "Notice the blunting of the costophrenic angle, which suggests a small pleural effusion.",
    "Here the ultrasound shows an anechoic structure with posterior acoustic enhancement.",
]


def active_span(clip: np.ndarray) -> tuple[float, float]:
    """First/last 10 ms frame with energy: the true speech span of one espeak clip."""
    frames = clip[: len(clip) // 160 * 160].reshape(-1, 160)
    on = np.flatnonzero(np.sqrt((frames ** 2).mean(1)) > 0.01)
    return on[0] * 0.01, (on[-1] + 1) * 0.01


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    d = tmp_path_factory.mktemp("speech")
    clips = []
    for i, text in enumerate(SENTENCES):
        wav = d / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), text], check=True)
        clips.append(S.decode_audio(wav))
    n = 60 * SR
    t = np.arange(n) / SR
    speech = np.zeros(n, np.float32)
    truth, pos, k = [], 2 * SR, 0
    while pos + len(clips[k % 4]) < n:  # speech with 2.5 s pauses, like a narrator between findings
        clip = clips[k % 4]
        speech[pos:pos + len(clip)] = clip
        a, b = active_span(clip)
        truth.append((pos / SR + a, pos / SR + b))
        pos += len(clip) + int(2.5 * SR)
        k += 1
    chords = [(261.6, 329.6, 392.0), (293.7, 370.0, 440.0), (329.6, 415.3, 493.9), (220.0, 261.6, 329.6)]
    music = np.zeros(n, np.float32)
    for j in range(n // (SR // 2)):
        seg = slice(j * SR // 2, (j + 1) * SR // 2)
        tt = t[seg]
        env = np.exp(-3 * (tt - tt[0]))
        music[seg] = sum(np.sin(2 * np.pi * f * tt) + 0.3 * np.sin(4 * np.pi * f * tt)
                         for f in chords[j % 4]) / 6 * env
    rng = np.random.default_rng(0)
    cases = {
        "speech": (speech, True),
        "silence": (np.zeros(n, np.float32), False),
        "music": (music.astype(np.float32), False),
        "noise": ((rng.standard_normal(n) * 0.1).astype(np.float32), False),
        "speech_over_music": ((speech + 0.3 * music).astype(np.float32), True),
    }
    paths = {}
    for name, (x, _) in cases.items():
        S.write_wav(d / f"{name}.wav", x)
        paths[name] = d / f"{name}.wav"
    # the speech track inside a real video container, as downloaded videos come
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "color=size=64x48:rate=5",
                    "-i", str(paths["speech"]), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", str(d / "speech.mp4")], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "color=size=64x48:rate=5",
                    "-t", "5", "-c:v", "libx264", "-preset", "ultrafast", str(d / "noaudio.mp4")], check=True)
    return {"cases": cases, "paths": paths, "truth": truth, "speech": speech, "dir": d}


@pytest.mark.parametrize("backend", ["silero", "webrtc"])
def test_speech_segments_f1(audio, backend):
    res = S.speech_presence(audio["paths"]["speech"], backend=backend)
    scores = S.frame_f1(res.segments, audio["truth"], 60.0)
    assert scores["f1"] >= 0.9, scores
    true_ratio = S.total(audio["truth"]) / 60.0
    assert res.ratio == pytest.approx(true_ratio, abs=0.1)
    assert res.has_speech and res.analysed == pytest.approx(60.0, abs=0.05)


def test_silero_decisions_on_all_cases(audio):
    decisions = {name: S.speech_presence(audio["paths"][name]).has_speech for name in audio["cases"]}
    assert decisions == {name: want for name, (_, want) in audio["cases"].items()}


def test_webrtc_separates_speech_from_silence(audio):
    # webrtcvad also fires on music and broadband noise (see module docstring); only silence is a fair negative
    assert S.speech_presence(audio["paths"]["speech"], backend="webrtc").has_speech
    assert not S.speech_presence(audio["paths"]["silence"], backend="webrtc").has_speech


def test_speech_filter_rows_from_video_files(audio):
    res, row = S.speech_filter("v1", audio["dir"] / "speech.mp4")
    assert row["decision"] == "kept" and row["detail"]["backend"] == "silero" and res.ratio > 0.3
    _, row = S.speech_filter("v2", audio["paths"]["music"])
    assert row["reason"] == "no_speech" and row["detail"]["ratio"] < S.MIN_SPEECH_RATIO
    _, row = S.speech_filter("v3", audio["dir"] / "noaudio.mp4")
    assert row["reason"] == "no_audio"
    (audio["dir"] / "junk.mp4").write_bytes(b"junk" * 100)
    _, row = S.speech_filter("v4", audio["dir"] / "junk.mp4")
    assert row["reason"] == "audio_decode_failed"
    # threshold comes from params
    _, row = S.speech_filter("v5", audio["paths"]["speech"], min_ratio=0.95)
    assert row["reason"] == "no_speech"


def test_speech_in_interval_array_and_file(audio):
    (a, b) = audio["truth"][1]
    gap = (audio["truth"][1][1] + 0.5, audio["truth"][2][0] - 0.5)
    for source in (audio["speech"], audio["paths"]["speech"]):
        inside = S.speech_in_interval(source, a, b)
        assert inside.has_speech and inside.ratio > 0.7
        assert all(a - 0.1 <= s and e <= b + 0.1 for s, e in inside.segments)  # file time, not clip time
        quiet = S.speech_in_interval(source, *gap)
        assert not quiet.has_speech and quiet.segments == []
    with pytest.raises(ValueError):
        S.speech_in_interval(audio["speech"], 5, 5)


def test_silero_loads_offline_from_the_wheel(monkeypatch):
    import torch

    def no_network(self, address):
        if not (isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1", "localhost")):
            raise AssertionError(f"network access to {address}")
        return real_connect(self, address)

    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(torch.hub, "load", lambda *a, **k: (_ for _ in ()).throw(AssertionError("torch.hub")))
    threads = torch.get_num_threads()
    S._silero_model.cache_clear()
    x = np.zeros(SR, np.float32)
    assert S.SileroVad().segments(x) == []
    assert torch.get_num_threads() == threads


def test_ina_backend_is_a_clear_error_without_its_models(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    if any((p / "inaSpeechSegmenter").exists() for p in [tmp_path, __import__("pathlib").Path("/root/.keras")]):
        pytest.skip("inaSpeechSegmenter models present")
    with pytest.raises(S.BackendUnavailable, match="not on disk"):
        S.get_backend("ina")
    with pytest.raises(ValueError, match="unknown speech backend"):
        S.get_backend("whisper")


def test_merge_and_f1_helpers():
    assert S.merge_segments([(3, 4), (0, 1), (1.2, 2)], max_gap=0.3, min_len=0.5) == [(0, 2), (3, 4)]
    assert S.frame_f1([(0, 1)], [(0, 1)], 2)["f1"] == pytest.approx(1.0)
    assert S.frame_f1([], [], 2)["f1"] == 1.0
    assert S.frame_f1([(0, 1)], [(1, 2)], 2)["f1"] == 0.0
