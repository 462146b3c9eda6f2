"""espeak-ng narration with exact word times, through libespeak-ng's synchronous callback API (ctypes).

- PHONEME events carry the sample where each phoneme starts and the text position of its word, so a
  word starts at its first phoneme (WORD events can fire one phoneme early, on linked consonants).
  espeak merges some pairs into one dictionary entry ("in the", "of the"): the second word then has no
  phonemes of its own, and the entry's phonemes are split by each word's own phoneme count
  (espeak_TextToPhonemes).
- espeak keeps state between utterances (rand() and synthesis buffers) and cannot be re-initialised in
  a process, so every utterance is synthesised in a fresh worker process (this file run as a script):
  the same text always gives the same samples, whatever was spoken before.
- Word starts/ends and the utterance are then trimmed to the audible samples, so every truth interval
  starts and ends on sound.
"""

from __future__ import annotations

import bisect
import ctypes
import json
import subprocess
import sys
from dataclasses import dataclass

if __name__ != "__main__":  # the worker (this file run as a script) needs only the standard library; numpy would
    import numpy as np      # double its start-up CPU

LIBRARY = "libespeak-ng.so.1"
SAMPLE_RATE = 22050      # espeak-ng's native rate; checked against espeak_Initialize's answer
SILENCE = 300            # |sample| at or below this (int16, about -40 dBFS) is silence
PUNCTUATION = "\"'.,;:!?()[]"

# speak_lib.h constants
_SYNCHRONOUS, _PHONEME_EVENTS, _DONT_EXIT = 2, 0x0001, 0x8000
_EV_END, _EV_PHONEME = 0, 7
_RATE, _POS_CHARACTER, _CHARS_UTF8 = 1, 1, 1
_STRESS = "',%=_"


@dataclass(frozen=True)
class Word:
    word: str
    start: float  # seconds from the start of the utterance's audio
    end: float


@dataclass(frozen=True)
class Utterance:
    text: str
    audio: np.ndarray  # int16 mono at SAMPLE_RATE, leading/trailing silence trimmed
    words: tuple[Word, ...]

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def tokens(text: str) -> list[tuple[int, str]]:
    """Whitespace tokens as (character offset, token)."""
    out, pos = [], 0
    for tok in text.split():
        pos = text.index(tok, pos)
        out.append((pos, tok))
        pos += len(tok)
    return out


def synthesize(text: str, voice: str = "en-us", rate: int = 150) -> Utterance:
    """Speak one sentence in a fresh espeak-ng process; word times are exact to the sample."""
    if not text.isascii() or not text.strip():
        raise ValueError(f"narration must be non-empty ASCII: {text!r}")
    proc = subprocess.run([sys.executable, __file__], input=json.dumps({"text": text, "voice": voice, "rate": rate}).encode(),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"espeak-ng worker failed for {text!r}: {proc.stderr.decode(errors='replace')}")
    header, _, pcm = proc.stdout.partition(b"\n")
    meta = json.loads(header)
    if meta["sample_rate"] != SAMPLE_RATE:
        raise RuntimeError(f"espeak-ng runs at {meta['sample_rate']} Hz, expected {SAMPLE_RATE}")
    return _trim(text, np.frombuffer(pcm, dtype=np.int16), meta["starts"])


def _trim(text: str, audio: np.ndarray, starts: list[int]) -> Utterance:
    """Words from start samples: each runs from its first to its last audible sample before the next word."""
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > SILENCE)
    if not len(loud):
        raise RuntimeError(f"espeak-ng produced silence for {text!r}")
    bounds = list(starts) + [len(audio)]
    spans = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        inside = loud[(loud >= a) & (loud < b)]
        if not len(inside):
            raise RuntimeError(f"a word of {text!r} is silent in espeak-ng's audio")
        spans.append((int(inside[0]), int(inside[-1]) + 1))
    first, last = spans[0][0], spans[-1][1]
    words = tuple(Word(tok.strip(PUNCTUATION), (a - first) / SAMPLE_RATE, (b - first) / SAMPLE_RATE)
                  for (_, tok), (a, b) in zip(tokens(text), spans))
    return Utterance(text, np.ascontiguousarray(audio[first:last]), words)


# ---- worker: runs in its own process, standard library only ---------------------------------------

class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


def _phoneme_count(lib, word: str) -> int:
    buf = ctypes.c_char_p(word.encode())
    ptr = ctypes.pointer(buf)
    names = []
    while ptr.contents.value:
        out = lib.espeak_TextToPhonemes(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_void_p)), _CHARS_UTF8, ord(" ") << 8)
        names += out.decode().split()
    return sum(1 for n in names if n.strip(_STRESS))


def _worker(text: str, voice: str, rate: int) -> tuple[int, list[int], bytes]:
    lib = ctypes.CDLL(LIBRARY)
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    sample_rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, None, _PHONEME_EVENTS | _DONT_EXIT)
    if sample_rate <= 0 or lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise RuntimeError(f"espeak-ng cannot start voice {voice!r}")
    lib.espeak_SetParameter(_RATE, rate, 0)
    pcm, events = [], []

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
    def callback(wav, n, ev):
        if n > 0:
            pcm.append(ctypes.string_at(wav, 2 * n))
        i = 0
        while ev[i].type != _EV_END:
            e = ev[i]
            events.append((e.type, e.text_position - 1, e.sample, e.id.decode(errors="replace")))
            i += 1
        return 0

    lib.espeak_SetSynthCallback(callback)
    raw = text.encode()
    if lib.espeak_Synth(raw, len(raw) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None) != 0:
        raise RuntimeError("espeak_Synth failed")
    # each phoneme event names the token it belongs to (its text position); a token's start is its
    # first phoneme. Tokens espeak merged into the preceding entry get no phonemes of their own: the
    # entry's phonemes are split by each token's own phoneme count, counted from the end.
    toks = tokens(text)
    offsets = [pos for pos, _ in toks]
    owned: list[list[int]] = [[] for _ in toks]
    for kind, pos, sample, name in events:
        if kind == _EV_PHONEME and not name.startswith("_") and pos >= 0:
            owned[bisect.bisect_right(offsets, pos) - 1].append(sample)
    starts: list[int] = []
    i = 0
    while i < len(toks):
        if not owned[i]:
            raise RuntimeError(f"no phonemes for {toks[i][1]!r} in {text!r}")
        j = i + 1
        while j < len(toks) and not owned[j]:
            j += 1
        counts = [_phoneme_count(lib, tok.strip(PUNCTUATION)) for _, tok in toks[i:j]] if j > i + 1 else [1]
        if sum(counts) > len(owned[i]):
            raise RuntimeError(f"cannot split merged words {[t for _, t in toks[i:j]]} in {text!r}")
        tail = len(owned[i])
        starts += [owned[i][0]] + [owned[i][tail - sum(counts[k:])] for k in range(1, len(counts))]
        i = j
    return sample_rate, starts, b"".join(pcm)


if __name__ == "__main__":
    job = json.loads(sys.stdin.read())
    rate, starts, pcm = _worker(job["text"], job["voice"], job["rate"])
    sys.stdout.buffer.write(json.dumps({"sample_rate": rate, "starts": starts}).encode() + b"\n" + pcm)
