"""Whisper ASR with word timestamps, offline, behind one interface.

``transcribe(audio, model_dir, backend=...)`` returns::

    {"language": "en", "language_probability": 1.0, "duration": 61.2,
     "segments": [{"start": 0.0, "end": 5.3, "text": "...",
                   "words": [{"word": "chest", "start": 0.6, "end": 1.0, "probability": 0.93}, ...]}, ...],
     "speech": [[start, end], ...],          # voice activity regions used (None when vad_filter=False)
     "model": {"name", "backend", "version", "params", "path", ...}}

Backends (all on CPU, deterministic: temperature 0 without fallback, beam search of ``beam_size``):

* ``faster-whisper`` (default): CTranslate2, ``compute_type="int8"``; its bundled Silero VAD drops non-speech
  before decoding (``vad_filter=True``), so silence yields no words.
* ``openai-whisper``: the reference implementation used by the paper (through stable-ts). It runs on an
  openai-whisper checkpoint converted once from the same CTranslate2 directory (``models.convert_ct2_to_openai``,
  alignment heads from config.json), float32. Voice activity: the same Silero VAD (from faster-whisper) gives the
  speech regions, passed as ``clip_timestamps``; words outside them are dropped.
* ``stable-ts``: openai-whisper modified by stable-ts (``stable_whisper.modify_model``), same VAD handling
  (stable-ts' own ``vad=True`` would fetch Silero through torch.hub, i.e. the network, so it is not used).

``model_dir`` is a CTranslate2 model directory or a packaged model name (``models.resolve_model``). Nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from .. import settings
from . import models as _models

CONFIG = settings.defaults("speech")  # the defaults of the keyword arguments below

__all__ = ["BACKENDS", "SAMPLE_RATE", "load_audio", "speech_regions", "transcribe", "load_openai_whisper",
           "transcript_text"]

SAMPLE_RATE = 16000
BACKENDS = ("faster-whisper", "openai-whisper", "stable-ts")
_BACKEND_DIST = {"faster-whisper": "faster-whisper", "openai-whisper": "openai-whisper", "stable-ts": "stable-ts"}


def load_audio(path: str | os.PathLike) -> np.ndarray:
    """Decode any audio/video file to 16 kHz mono float32 (PyAV, through faster-whisper)."""
    from faster_whisper.audio import decode_audio

    return decode_audio(str(path), sampling_rate=SAMPLE_RATE)


def speech_regions(audio: np.ndarray, vad_parameters: dict | None = None) -> list[tuple[float, float]]:
    """Silero VAD (faster-whisper's bundled ONNX model) -> [(start_s, end_s), ...]."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(**(vad_parameters or {}))
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in get_speech_timestamps(audio, opts)]


def _version(backend: str) -> str:
    try:
        return metadata.version(_BACKEND_DIST[backend])
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=4)
def _faster_whisper_model(model_dir: str, compute_type: str, cpu_threads: int, device: str = "cpu"):
    from faster_whisper import WhisperModel

    return WhisperModel(model_dir, device=device, compute_type=compute_type, cpu_threads=cpu_threads,
                        local_files_only=True)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when CTranslate2 sees a GPU, else ``cpu``; other values pass through."""
    if device != "auto":
        return device
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:
        return "cpu"


@functools.lru_cache(maxsize=2)
def load_openai_whisper(checkpoint: str):
    """Load a checkpoint written by ``models.convert_ct2_to_openai`` (weights only) with its alignment heads."""
    import torch
    import whisper

    ck = torch.load(checkpoint, map_location="cpu", weights_only=True)
    dims = whisper.model.ModelDimensions(**ck["dims"])
    model = whisper.model.Whisper(dims)
    model.load_state_dict(ck["model_state_dict"])
    heads = ck.get("alignment_heads")
    if heads:
        model.set_alignment_heads(_models.alignment_heads_dump(heads, dims.n_text_layer, dims.n_text_head))
    return model.eval()


def load_model(model_dir: str | os.PathLike, backend: str = CONFIG["backend"], *,
               compute_type: str = CONFIG["compute_type"], cpu_threads: int = 0,
               cache_dir: str | os.PathLike | None = None, device: str = CONFIG["device"]):
    """The model ``transcribe`` will use with these arguments, loaded (and cached) now: raises when it cannot load
    (a missing or corrupt model, a wrong device), so that a stage fails at once instead of per video."""
    cache = Path(cache_dir) if cache_dir is not None else _models.default_cache_dir()
    mdir = _models.resolve_model(model_dir, cache_dir=cache)
    if backend == "faster-whisper":
        return _faster_whisper_model(str(mdir), compute_type, int(cpu_threads), resolve_device(device))
    return load_openai_whisper(str(_models.convert_ct2_to_openai(mdir, cache)))


def _round(x: float) -> float:
    return round(float(x), 3)


def _word(word: str, start: float, end: float, prob: float) -> dict:
    return {"word": word.strip(), "start": _round(start), "end": _round(end), "probability": round(float(prob), 4)}


def _inside(t0: float, t1: float, regions: list[tuple[float, float]], pad: float) -> bool:
    mid = (t0 + t1) / 2
    return any(a - pad <= mid <= b + pad for a, b in regions)




def transcribe(audio_path: str | os.PathLike | np.ndarray, model_dir: str | os.PathLike,
               backend: str = CONFIG["backend"], *, language: str | None = CONFIG["language"],
               beam_size: int = CONFIG["beam_size"], vad_filter: bool = CONFIG["vad_filter"],
               vad_parameters: dict | None = None, compute_type: str = CONFIG["compute_type"], cpu_threads: int = 0,
               condition_on_previous_text: bool = False, initial_prompt: str | None = CONFIG["initial_prompt"],
               cache_dir: str | os.PathLike | None = None, device: str = CONFIG["device"],
               language_min_p: float = CONFIG["language_min_p"]) -> dict:
    """Transcribe one audio file (or a 16 kHz float32 array) with word-level timestamps; see module doc.

    ``cache_dir`` holds assembled packaged models and converted openai-whisper checkpoints
    (default ``models.default_cache_dir()``). ``cpu_threads=0`` lets the backend choose.
    ``condition_on_previous_text`` is off by default: on narration it mostly propagates errors and loops.
    For the PyTorch backends ``cpu_threads`` calls ``torch.set_num_threads`` (process-wide); on a busy 2-core
    machine 1 thread was ~8x faster than 2 (OpenMP threads spin while competing for cores).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    cache = Path(cache_dir) if cache_dir is not None else _models.default_cache_dir()
    mdir = _models.resolve_model(model_dir, cache_dir=cache)
    audio = audio_path if isinstance(audio_path, np.ndarray) else load_audio(audio_path)
    audio = np.asarray(audio, dtype=np.float32)
    duration = len(audio) / SAMPLE_RATE
    params = {"beam_size": beam_size, "temperature": 0.0, "language": language, "vad_filter": vad_filter,
              "vad_parameters": dict(vad_parameters or {}), "condition_on_previous_text": condition_on_previous_text,
              "initial_prompt": initial_prompt, "word_timestamps": True}
    model_block = {**_models.model_description(mdir), "backend": backend, "version": _version(backend)}

    if backend == "faster-whisper":
        params.update(compute_type=compute_type, cpu_threads=cpu_threads, device=resolve_device(device))
        result = _run_faster_whisper(audio, str(mdir), params, language_min_p)
    else:
        params.update(compute_type="float32", cpu_threads=cpu_threads)
        result = _run_openai(audio, mdir, cache, backend, params)
    model_block["params"] = params
    return {"language": result["language"], "language_probability": result.get("language_probability"),
            "duration": _round(duration), "segments": result["segments"], "speech": result.get("speech"),
            "model": model_block}


def _run_faster_whisper(audio: np.ndarray, model_dir: str, p: dict, language_min_p: float) -> dict:
    model = _faster_whisper_model(model_dir, p["compute_type"], int(p["cpu_threads"]), p.get("device", "cpu"))
    speech = None
    if p["vad_filter"]:
        speech = speech_regions(audio, p["vad_parameters"])
    if p["vad_filter"] and not speech:
        return {"language": p["language"] or "en", "language_probability": None, "segments": [], "speech": []}
    segments, info = model.transcribe(  # lazy: nothing is encoded or decoded before the first segment is asked for
        audio, language=p["language"], task="transcribe", beam_size=p["beam_size"], best_of=1,
        temperature=[0.0], word_timestamps=True, vad_filter=p["vad_filter"],
        vad_parameters=p["vad_parameters"] or None, condition_on_previous_text=p["condition_on_previous_text"],
        initial_prompt=p["initial_prompt"])
    regions = [[_round(a), _round(b)] for a, b in speech] if speech is not None else None
    out = []
    try:
        with _language_check(model, p["language"], language_min_p):
            for seg in segments:
                words = [_word(w.word, w.start, w.end, w.probability) for w in (seg.words or []) if w.word.strip()]
                if words:
                    out.append({"start": _round(seg.start), "end": _round(seg.end), "text": seg.text.strip(),
                                "words": words})
    except _OtherLanguage as e:
        return {"language": e.language, "language_probability": round(e.probability, 4), "segments": [],
                "speech": regions}
    return {"language": info.language, "language_probability": round(float(info.language_probability), 4),
            "segments": out, "speech": regions}


class _OtherLanguage(Exception):
    def __init__(self, language: str, probability: float):
        super().__init__(language)
        self.language, self.probability = language, probability


@contextlib.contextmanager
def _language_check(model, language: str | None, min_p: float):
    """A forced language would turn other speech into confident nonsense: Whisper's language scores on the
    transcription's first 30 s window (its own encoder pass, so the check costs no second one) stop the
    transcription with ``_OtherLanguage`` when that window is another language with probability >= min_p."""
    if not language or not model.model.is_multilingual:
        yield
        return
    encode = model.encode

    def checked_encode(features):
        del model.encode  # only the first window is checked
        encoded = encode(features)
        token, prob = model.model.detect_language(encoded)[0][0]
        if token[2:-2] != language and prob >= min_p:
            raise _OtherLanguage(token[2:-2], float(prob))
        return encoded

    model.encode = checked_encode
    try:
        yield
    finally:
        model.__dict__.pop("encode", None)


def _run_openai(audio: np.ndarray, model_dir: Path, cache: Path, backend: str, p: dict) -> dict:
    import torch

    checkpoint = _models.convert_ct2_to_openai(model_dir, cache)
    model = load_openai_whisper(str(checkpoint))
    if p["cpu_threads"]:
        torch.set_num_threads(int(p["cpu_threads"]))
    speech = speech_regions(audio, p["vad_parameters"]) if p["vad_filter"] else None
    if speech is not None and not speech:
        return {"language": p["language"] or "en", "segments": [], "speech": []}
    clips = [t for ab in speech for t in ab] if speech else [0.0]
    kwargs = dict(language=p["language"], task="transcribe", temperature=0.0, beam_size=p["beam_size"],
                  best_of=None, word_timestamps=True, fp16=False,
                  condition_on_previous_text=p["condition_on_previous_text"], initial_prompt=p["initial_prompt"],
                  clip_timestamps=clips, verbose=None)
    if backend == "stable-ts":
        import copy

        import stable_whisper

        model = copy.copy(model)  # keep the cached plain model unmodified
        stable_whisper.modify_model(model)
        with torch.inference_mode():
            res = model.transcribe(audio, vad=False, suppress_silence=True, regroup=False, ignore_compatibility=True,
                                   **kwargs)
        raw = [{"start": s.start, "end": s.end, "text": s.text,
                "words": [(w.word, w.start, w.end, w.probability) for w in (s.words or [])]} for s in res.segments]
        language = res.language
    else:
        import whisper

        with torch.inference_mode():
            res = whisper.transcribe(model, audio, **kwargs)
        raw = [{"start": s["start"], "end": s["end"], "text": s["text"],
                "words": [(w["word"], w["start"], w["end"], w["probability"]) for w in s.get("words", [])]}
               for s in res["segments"]]
        language = res.get("language")
    out = []
    for seg in raw:
        words = [_word(*w) for w in seg["words"] if w[0].strip()
                 and (speech is None or _inside(w[1], w[2], speech, pad=0.2))]
        if not words:
            continue
        out.append({"start": _round(seg["start"]), "end": _round(seg["end"]),
                    "text": " ".join(w["word"] for w in words) if len(words) != len(seg["words"])
                    else seg["text"].strip(), "words": words})
    return {"language": language or p["language"], "language_probability": None, "segments": out,
            "speech": [[_round(a), _round(b)] for a, b in speech] if speech is not None else None}


def transcript_text(transcript: dict) -> str:
    return " ".join(seg["text"] for seg in transcript.get("segments", [])).strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Offline Whisper ASR with word timestamps (JSON to stdout or --out)")
    ap.add_argument("audio")
    ap.add_argument("--model", default="tiny.en", help="CTranslate2 model dir or packaged name (tiny.en, base)")
    ap.add_argument("--backend", default=CONFIG["backend"], choices=BACKENDS)
    ap.add_argument("--beam-size", type=int, default=CONFIG["beam_size"])
    ap.add_argument("--no-vad", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--correct", action="store_true", help="apply medical-term correction (correction.py)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    res = transcribe(a.audio, a.model, a.backend, beam_size=a.beam_size, vad_filter=not a.no_vad,
                     cpu_threads=a.threads, cache_dir=a.cache_dir)
    if a.correct:
        from .correction import correct_transcript

        res = correct_transcript(res)
    text = json.dumps(res, indent=1)
    if a.out:
        Path(a.out).write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
