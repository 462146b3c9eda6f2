"""Synthetic narration with known word times (espeak-ng), for tests, benchmarks and ASR evaluation.

``synthesize`` drives libespeak-ng through ctypes in synchronous mode: the library reports a WORD event with its
audio position for every word it speaks, so each word's true start time is known to the sample. Word ends are the
last non-silent 10 ms frame before the next word (or the sentence end). Without the library it falls back to the
``espeak-ng -w`` command line per sentence (sentence-level truth only: ``words`` is then empty).

Sentences are separated by ``pause`` seconds of silence, optionally preceded by ``lead`` seconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Narration", "synthesize", "write_wav", "espeak_available"]

# espeak_EVENT_TYPE values (speak_lib.h)
_EV_LIST_TERMINATED, _EV_WORD, _EV_SENTENCE, _EV_END, _EV_MSG_TERMINATED = 0, 1, 2, 5, 6
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


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
    return _load_lib() is not None or shutil.which("espeak-ng") is not None


_LIB: list = []


def _load_lib():
    if _LIB:
        return _LIB[0]
    lib = None
    for name in (ctypes.util.find_library("espeak-ng"), "libespeak-ng.so.1"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is not None:
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0)
        if sr <= 0:
            lib = None
        else:
            lib.sample_rate = sr
    _LIB.append(lib)
    return lib


def _speech_span(clip: np.ndarray, sr: int, thr: float = 0.01) -> tuple[float, float]:
    hop = max(1, sr // 100)
    n = len(clip) // hop
    if n == 0:
        return 0.0, len(clip) / sr
    rms = np.sqrt((clip[: n * hop].reshape(n, hop) ** 2).mean(1))
    on = np.flatnonzero(rms > thr)
    if len(on) == 0:
        return 0.0, 0.0
    return on[0] * hop / sr, (on[-1] + 1) * hop / sr


def _synth_lib(lib, text: str, voice: str, rate: int) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    chunks: list[np.ndarray] = []
    events: list[tuple[int, int, float]] = []

    def cb(wav, n, ev):
        if n > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while ev[i].type != _EV_LIST_TERMINATED:
            if ev[i].type == _EV_WORD:
                events.append((ev[i].text_position, ev[i].length, ev[i].audio_position / 1000.0))
            i += 1
        return 0

    callback = _CALLBACK(cb)
    lib.espeak_SetSynthCallback(callback)
    lib.espeak_SetVoiceByName(voice.encode())
    lib.espeak_SetParameter(_ESPEAK_RATE, int(rate), 0)
    data = text.encode("utf-8") + b"\0"
    buf = ctypes.create_string_buffer(data)
    err = lib.espeak_Synth(buf, len(data), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None)
    if err != 0:
        raise RuntimeError(f"espeak_Synth failed with {err}")
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return audio.astype(np.float32) / 32768.0, events


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
    lib = _load_lib() if use_library else None
    sr = lib.sample_rate if lib is not None else None
    pieces: list[np.ndarray] = []
    sents: list[dict] = []
    words: list[dict] = []
    pos = 0.0

    def add_silence(sec: float, rate_: int):
        nonlocal pos
        n = int(round(sec * rate_))
        pieces.append(np.zeros(n, np.float32))
        pos += n / rate_

    for k, text in enumerate(sentences):
        if lib is not None:
            clip, events = _synth_lib(lib, text, voice, rate)
        else:
            clip, sr = _synth_cli(text, voice, rate)
            events = []
        if k == 0:
            add_silence(lead, sr)
        elif pause > 0:
            add_silence(pause, sr)
        a, b = _speech_span(clip, sr)
        sents.append({"text": text, "start": round(float(pos + a), 3), "end": round(float(pos + b), 3)})
        raw = text.encode("utf-8")
        for i, (tpos, length, t0) in enumerate(events):
            # text_position is 1-based in characters; the text is ASCII in practice.
            w = raw[max(tpos - 1, 0): max(tpos - 1, 0) + length].decode("utf-8", "ignore").strip()
            if not w:
                continue
            t1 = events[i + 1][2] if i + 1 < len(events) else len(clip) / sr
            seg = clip[int(t0 * sr): int(t1 * sr)]
            s0, s1 = _speech_span(seg, sr)
            end = t0 + (s1 if s1 > 0 else (t1 - t0))
            words.append({"word": w, "start": round(float(pos + t0), 3), "end": round(float(pos + end), 3)})
        pieces.append(clip)
        pos += len(clip) / sr
    add_silence(lead, sr or 22050)
    audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    return Narration(audio=audio, sample_rate=int(sr or 22050), sentences=sents, words=words)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    path = Path(path)
    pcm = np.clip(np.asarray(audio, np.float32), -1.0, 1.0)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes((pcm * 32767.0).astype(np.int16).tobytes())
    return path
