"""Synthetic narration with known word times (espeak-ng), for tests, benchmarks and ASR evaluation.

Each sentence is spoken by ``mednarratives.speech.espeak`` (libespeak-ng in a fresh process, word times exact to
the sample, the same text always gives the same samples). Without the library it falls back to the
``espeak-ng -w`` command line per sentence (sentence-level truth only: ``words`` is then empty).

Sentences are separated by ``pause`` seconds of silence, optionally preceded by ``lead`` seconds.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mednarratives.speech import espeak

__all__ = ["Narration", "synthesize", "write_wav", "espeak_available"]


@dataclass
class Narration:
    audio: np.ndarray                   # float32 mono in [-1, 1]
    sample_rate: int
    sentences: list[dict] = field(default_factory=list)   # {text, start, end} (speech span, seconds)
    words: list[dict] = field(default_factory=list)       # {word, start, end} when the library was used

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def text(self) -> str:
        return " ".join(s["text"] for s in self.sentences)


def espeak_available() -> bool:
    return _library_available() or shutil.which("espeak-ng") is not None


def _library_available() -> bool:
    try:
        ctypes.CDLL(espeak.LIBRARY)
    except OSError:
        return False
    return True


def _synth_cli(text: str, voice: str, rate: int) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(out), text], check=True,
                       capture_output=True, timeout=300)
        with wave.open(str(out)) as w:
            sr = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    return pcm.astype(np.float32) / 32768.0, sr


def synthesize(sentences: list[str], *, voice: str = "en-us", rate: int = 150, pause: float = 0.8,
               lead: float = 0.5, use_library: bool = True) -> Narration:
    """Speak ``sentences`` one after another; return audio plus sentence (and word) truth times."""
    use_library = use_library and _library_available()
    pieces: list[np.ndarray] = []
    sents: list[dict] = []
    words: list[dict] = []
    sr = espeak.SAMPLE_RATE
    pos = 0.0
    for k, text in enumerate(sentences):
        gap = lead if k == 0 else pause
        pieces.append(np.zeros(int(round(gap * sr)), np.float32))
        pos += len(pieces[-1]) / sr
        if use_library:
            utt = espeak.synthesize(text, voice, rate)
            clip = utt.audio.astype(np.float32) / 32768.0
            words += [{"word": w.word, "start": round(pos + w.start, 3), "end": round(pos + w.end, 3)}
                      for w in utt.words]
            a, b = 0.0, utt.duration
        else:
            clip, sr_cli = _synth_cli(text, voice, rate)
            if sr_cli != sr:
                raise RuntimeError(f"espeak-ng CLI runs at {sr_cli} Hz, expected {sr}")
            a, b = _speech_span(clip, sr)
        sents.append({"text": text, "start": round(pos + a, 3), "end": round(pos + b, 3)})
        pieces.append(clip)
        pos += len(clip) / sr
    pieces.append(np.zeros(int(round(lead * sr)), np.float32))
    return Narration(audio=np.concatenate(pieces), sample_rate=sr, sentences=sents, words=words)


def _speech_span(clip: np.ndarray, sr: int) -> tuple[float, float]:
    """First and last audible sample of ``clip`` in seconds (the CLI path has no word events)."""
    loud = np.flatnonzero(np.abs(clip) * 32768.0 > espeak.SILENCE)
    return (loud[0] / sr, (loud[-1] + 1) / sr) if len(loud) else (0.0, 0.0)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    path = Path(path)
    pcm = np.clip(np.asarray(audio, np.float32), -1.0, 1.0)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes((pcm * 32767.0).astype(np.int16).tobytes())
    return path
