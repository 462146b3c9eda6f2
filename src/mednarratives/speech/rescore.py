"""Acoustic rescoring of transcript edits with Whisper itself (teacher forcing), for medical-term correction.

``WhisperScorer(model, audio)(words, edits)`` returns, for each proposed edit of a transcript, how much less (or
more) likely Whisper finds the edited text than its own, given the audio::

    delta = log P(edited text | audio) - log P(original text | audio)     (natural log, summed over tokens)

Both texts are forced through the decoder (CTranslate2 ``Whisper.align``: one decoder pass over the given tokens,
no search) on the same encoded audio window (30 s, Whisper's input, starting shortly before a segment); an edit is
scored on the text from the window's first segment to the end of its own segment, so the decoder sees the speech
that precedes it, as in decoding. Tokens before the edit are identical in both texts and cancel; the end-of-text
token is not scored (the text may stop before the audio). The windows tile the transcript's segments like Whisper's
own 30 s windows, so an edit's score does not depend on which other edits are scored with it.

A delta close to 0 means the audio supports the edit about as well as Whisper's choice: the medical-term corrector
(``correction.py``) accepts a sound-alike medical term within a margin of it (shallow fusion: Whisper's acoustic
score plus a fixed domain prior). The scorer runs on the CTranslate2 model (``asr._faster_whisper_model``): the
instance faster-whisper already loaded for the transcription, or, after an openai-whisper / stable-ts transcription,
the CTranslate2 directory its weights were converted from.
Cost: one encoder pass per window holding an edit (0.7-1 s on one busy CPU thread for ``base``) and one decoder
pass per text (0.1-0.2 s); on the demo the speech stage took about 20-30% longer.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import asr as _asr
from . import models as _models

__all__ = ["WhisperScorer", "load_scorer"]

WINDOW_S = 30.0   # Whisper's input length
LEAD_S = 0.2      # audio kept before a window's first word (word starts are a little late)


def _text(words: list[dict]) -> str:
    # faster-whisper words carry a leading space; the transcript stores them stripped
    return "".join(" " + w["word"].strip() for w in words)


class WhisperScorer:
    """Log-likelihood differences of edited transcripts under a faster-whisper model (see module doc)."""

    def __init__(self, model, audio: np.ndarray, language: str | None = "en"):
        from faster_whisper.tokenizer import Tokenizer

        self.model = model                              # faster_whisper.WhisperModel
        self.audio = np.asarray(audio, dtype=np.float32)
        multilingual = model.model.is_multilingual
        self.tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe",
                                   language=(language or "en") if multilingual else None)
        self.prompt = list(self.tokenizer.sot_sequence) + [self.tokenizer.no_timestamps]

    def _encode(self, start_s: float):
        from faster_whisper.audio import pad_or_trim

        a = int(max(0.0, start_s) * _asr.SAMPLE_RATE)
        chunk = self.audio[a:a + int(WINDOW_S * _asr.SAMPLE_RATE)]
        feats = self.model.feature_extractor(chunk)
        frames = min(feats.shape[-1], self.model.feature_extractor.nb_max_frames)
        return self.model.encode(pad_or_trim(feats)), frames

    def _logprob(self, encoded, frames: int, text: str) -> float:
        tokens = self.tokenizer.encode(text)
        (res,) = self.model.model.align(encoded, self.prompt, [tokens], frames)
        return float(np.log(np.maximum(np.asarray(res.text_token_probs, dtype=np.float64), 1e-30)).sum())

    def __call__(self, words: list[dict], edits: list[tuple[int, int, str]]) -> list[float]:
        """``words``: timed words with a ``segment`` index (``correction`` passes them so); ``edits``: (first word,
        end word (exclusive), replacement surface text), each inside one segment -> delta log-likelihood per edit."""
        segs: dict[int, list[int]] = defaultdict(list)
        for k, w in enumerate(words):
            segs[int(w.get("segment", 0))].append(k)
        order = sorted(segs, key=lambda s: float(words[segs[s][0]]["start"]))
        # fixed 30 s windows over the segments, as Whisper decodes: a segment's window (and the text before it)
        # does not depend on which edits are asked for
        window_of, starts = {}, []
        for s in order:
            t0, t1 = float(words[segs[s][0]]["start"]), float(words[segs[s][-1]]["end"])
            if not starts or t1 > starts[-1][1] + WINDOW_S:
                starts.append((s, t0 - LEAD_S))
            window_of[s] = len(starts) - 1
        encoded: dict[int, tuple] = {}
        base: dict[int, float] = {}
        out = []
        for k0, k1, rep in edits:
            s = int(words[k0].get("segment", 0))
            win = window_of[s]
            if win not in encoded:
                encoded[win] = self._encode(starts[win][1])
            first = order.index(starts[win][0])
            ks = [k for t in order[first:order.index(s) + 1] for k in segs[t]]
            if s not in base:
                base[s] = self._logprob(*encoded[win], _text([words[k] for k in ks]))
            edited = [words[k] for k in ks if k < k0] + [{"word": rep}] + [words[k] for k in ks if k >= k1]
            out.append(self._logprob(*encoded[win], _text(edited)) - base[s])
        return out


def load_scorer(audio: np.ndarray, model: str | os.PathLike, *, language: str | None = _asr.CONFIG["language"],
                compute_type: str = _asr.CONFIG["compute_type"], cpu_threads: int = 0,
                device: str = _asr.CONFIG["device"],
                cache_dir: str | os.PathLike | None = None) -> WhisperScorer:
    """A scorer on the CTranslate2 model ``model`` (directory or packaged name; the transcription's cached
    faster-whisper instance when the arguments match)."""
    cache = Path(cache_dir) if cache_dir is not None else _models.default_cache_dir()
    mdir = _models.resolve_model(model, cache_dir=cache)
    fw = _asr._faster_whisper_model(str(mdir), compute_type, int(cpu_threads), _asr.resolve_device(device))
    return WhisperScorer(fw, audio, language)
