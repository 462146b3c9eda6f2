"""Is there a narrator? Speech in the first minute of a video (appendix 7.2-7.3), and speech inside an interval
(the non-static narrative check around medical key-frames).

Audio is decoded by ffmpeg (subprocess, list argv) to 16 kHz mono PCM. Backends:
- "silero" (default): silero-vad's TorchScript model bundled in the pip wheel, loaded from the package's files
  (never torch.hub, nothing downloaded). Tells speech from music, tones and noise.
- "webrtc": webrtcvad-wheels, frame-level GMM VAD. Fast, but it also fires on music and broadband noise:
  a fallback for clean narration only.
- "ina": inaSpeechSegmenter, the paper's tool, only if it is importable and its Keras models are already on disk
  (it downloads them at run time otherwise); a clear BackendUnavailable error if not.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mednarratives import ledger, settings

SAMPLE_RATE = 16000
CONFIG = settings.defaults("videos", "speech")
WINDOW_S = CONFIG["window_s"]
MIN_SPEECH_RATIO = CONFIG["min_ratio"]
BACKENDS = ("silero", "webrtc", "ina")

Segment = tuple[float, float]


class AudioDecodeError(RuntimeError):
    """ffmpeg could not decode the audio."""


class NoAudioStream(AudioDecodeError):
    """The file has no audio stream."""


class BackendUnavailable(RuntimeError):
    """A VAD backend cannot run here (package missing, or its model files are not on disk)."""


# ---------------------------------------------------------------------------------------------- audio


def decode_audio(path: str | Path, start: float = 0.0, duration: float | None = None, sr: int = SAMPLE_RATE,
                 timeout: float = 600.0) -> np.ndarray:
    """Decode [start, start + duration) of the first audio stream to mono float32 in [-1, 1] at `sr` Hz.
    Raises NoAudioStream if there is no audio stream, AudioDecodeError on other failures; a window past the
    end gives an empty array."""
    cmd = ["ffmpeg", "-v", "error", "-nostdin"]
    if start > 0:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-i", str(path)]
    if duration is not None:
        cmd += ["-t", f"{max(0.0, duration):.3f}"]
    cmd += ["-map", "0:a:0?", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(sr), "-f", "s16le", "-acodec", "pcm_s16le",
            "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AudioDecodeError(f"ffmpeg timed out after {timeout} s on {path}") from exc
    except OSError as exc:
        raise AudioDecodeError(f"ffmpeg could not run: {exc}") from exc
    err = proc.stderr.decode(errors="replace").strip()
    if "does not contain any stream" in err:
        raise NoAudioStream(f"no audio stream in {path}")
    if proc.returncode != 0:
        raise AudioDecodeError(f"ffmpeg failed on {path}: {err[:500]}")
    return np.frombuffer(proc.stdout, np.int16).astype(np.float32) / 32768.0


def write_wav(path: str | Path, audio: np.ndarray, sr: int = SAMPLE_RATE) -> None:
    pcm = (np.clip(np.asarray(audio, np.float32), -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


# ---------------------------------------------------------------------------------------------- segments


def merge_segments(segments: Sequence[Segment], max_gap: float = 0.0, min_len: float = 0.0) -> list[Segment]:
    """Sort, join segments closer than max_gap, drop those shorter than min_len."""
    out: list[list[float]] = []
    for s, e in sorted((float(s), float(e)) for s, e in segments if e > s):
        if out and s - out[-1][1] <= max_gap:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out if e - s >= min_len]


def total(segments: Sequence[Segment]) -> float:
    return float(sum(e - s for s, e in merge_segments(segments)))


def frame_f1(pred: Sequence[Segment], truth: Sequence[Segment], length: float, hop: float = 0.01) -> dict:
    """Frame-level precision / recall / F1 of predicted speech segments against true ones."""
    n = int(np.ceil(length / hop))

    def mask(segs):
        m = np.zeros(n, bool)
        for s, e in segs:
            m[max(0, int(round(s / hop))):min(n, int(round(e / hop)))] = True
        return m

    p, t = mask(pred), mask(truth)
    tp = float(np.sum(p & t))
    precision = tp / max(1.0, float(p.sum()))
    recall = tp / max(1.0, float(t.sum()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if not p.any() and not t.any():
        precision = recall = f1 = 1.0
    return {"precision": precision, "recall": recall, "f1": f1}


# ---------------------------------------------------------------------------------------------- backends


@functools.lru_cache(maxsize=1)
def _silero_model():
    """silero-vad's TorchScript model from the installed wheel (no hub, no download).

    Importing silero_vad calls torch.set_num_threads(1); the caller's thread count is restored."""
    import warnings

    import torch

    threads = torch.get_num_threads()
    try:
        import silero_vad
    except ImportError as exc:
        raise BackendUnavailable("silero backend needs the pip package silero-vad") from exc
    finally:
        torch.set_num_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load deprecation notice
        warnings.simplefilter("ignore", DeprecationWarning)  # importlib.resources.path in silero_vad
        model = silero_vad.load_silero_vad(onnx=False)
    return model, silero_vad.get_speech_timestamps


@dataclass
class SileroVad:
    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 100
    pad_ms: int = 30
    threads: int = 1
    name: str = field(default="silero", init=False)

    def segments(self, audio: np.ndarray, sr: int = SAMPLE_RATE) -> list[Segment]:
        import torch

        model, get_speech_timestamps = _silero_model()
        if len(audio) < 512:
            return []
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            ts = get_speech_timestamps(torch.from_numpy(np.ascontiguousarray(audio, np.float32)), model,
                                       threshold=self.threshold, sampling_rate=sr,
                                       min_speech_duration_ms=self.min_speech_ms,
                                       min_silence_duration_ms=self.min_silence_ms, speech_pad_ms=self.pad_ms)
        finally:
            torch.set_num_threads(before)
        return [(t["start"] / sr, t["end"] / sr) for t in ts]


@dataclass
class WebrtcVad:
    aggressiveness: int = 3
    frame_ms: int = 30
    min_speech_ms: int = 250
    max_gap_ms: int = 300
    name: str = field(default="webrtc", init=False)

    def segments(self, audio: np.ndarray, sr: int = SAMPLE_RATE) -> list[Segment]:
        try:
            import webrtcvad
        except ImportError as exc:
            raise BackendUnavailable("webrtc backend needs the pip package webrtcvad-wheels") from exc
        vad = webrtcvad.Vad(self.aggressiveness)
        n = sr * self.frame_ms // 1000
        pcm = (np.clip(np.asarray(audio, np.float32), -1, 1) * 32767).astype("<i2")
        raw = [(i / sr, (i + n) / sr) for i in range(0, len(pcm) - n + 1, n)
               if vad.is_speech(pcm[i:i + n].tobytes(), sr)]
        return merge_segments(raw, self.max_gap_ms / 1000, self.min_speech_ms / 1000)


def ina_model_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "inaSpeechSegmenter"


@dataclass
class InaVad:
    engine: str = "smn"
    name: str = field(default="ina", init=False)

    def __post_init__(self) -> None:
        model = {"smn": "keras_speech_music_noise_cnn.hdf5", "sm": "keras_speech_music_cnn.hdf5"}.get(self.engine)
        if model is None:
            raise ValueError(f"ina engine must be 'smn' or 'sm', not {self.engine!r}")
        places = [ina_model_dir() / model, Path("/root/.keras/inaSpeechSegmenter") / model]
        if not any(p.is_file() for p in places):
            raise BackendUnavailable(
                f"inaSpeechSegmenter model {model} is not on disk ({places[0]}); it would be downloaded at run "
                "time, which this pipeline does not do. Use backend 'silero', or place the model file there.")
        try:
            from inaSpeechSegmenter import Segmenter
        except Exception as exc:  # ImportError, or TensorFlow failing to load
            raise BackendUnavailable(f"inaSpeechSegmenter is not importable: {exc}") from exc
        self._segmenter = Segmenter(vad_engine=self.engine, detect_gender=False)

    def segments(self, audio: np.ndarray, sr: int = SAMPLE_RATE) -> list[Segment]:
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "audio.wav"
            write_wav(wav, audio, sr)
            labelled = self._segmenter(str(wav))
        return merge_segments([(s, e) for label, s, e in labelled if label in ("speech", "male", "female")])


def get_backend(backend: str | Any = CONFIG["backend"], **kwargs: Any):
    """A backend instance by name ("silero", "webrtc", "ina"); an object with .segments() passes through."""
    if not isinstance(backend, str):
        return backend
    if backend == "silero":
        return SileroVad(**kwargs)
    if backend == "webrtc":
        return WebrtcVad(**kwargs)
    if backend == "ina":
        return InaVad(**kwargs)
    raise ValueError(f"unknown speech backend {backend!r}; choose one of {BACKENDS}")


# ---------------------------------------------------------------------------------------------- decisions


@dataclass
class SpeechResult:
    start: float                 # analysed window, seconds in the file
    end: float
    analysed: float              # seconds of audio actually analysed (shorter if the file ends early)
    speech_seconds: float
    ratio: float                 # speech_seconds / analysed
    segments: list[Segment]      # speech segments, seconds in the file
    backend: str
    min_ratio: float
    has_speech: bool

    def to_dict(self) -> dict:
        d = asdict(self)
        d["segments"] = [[round(s, 3), round(e, 3)] for s, e in self.segments]
        return d


def _result(audio: np.ndarray, start: float, end: float, vad, sr: int, min_ratio: float) -> SpeechResult:
    analysed = len(audio) / sr
    segs = [(start + s, start + min(e, analysed)) for s, e in vad.segments(audio, sr)] if analysed else []
    speech = total(segs)
    ratio = speech / analysed if analysed > 0 else 0.0
    return SpeechResult(start, end, analysed, speech, ratio, segs, vad.name, min_ratio,
                        bool(analysed > 0 and ratio >= min_ratio))


def speech_in_interval(audio: str | Path | np.ndarray, start: float, end: float, backend: str | Any = CONFIG["backend"],
                       min_ratio: float = MIN_SPEECH_RATIO, sr: int = SAMPLE_RATE) -> SpeechResult:
    """Speech inside [start, end) seconds: of a media file (only that interval is decoded) or of an already
    decoded mono track at `sr` Hz (sample 0 = time 0). Segment times are in the file's time."""
    if end <= start:
        raise ValueError(f"empty interval [{start}, {end})")
    vad = get_backend(backend)
    if isinstance(audio, np.ndarray):
        clip = audio[max(0, int(round(start * sr))):max(0, int(round(end * sr)))]
    else:
        clip = decode_audio(audio, start, end - start, sr)
    return _result(clip, start, end, vad, sr, min_ratio)


def speech_presence(path: str | Path, window_s: float = WINDOW_S, backend: str | Any = CONFIG["backend"],
                    min_ratio: float = MIN_SPEECH_RATIO, start: float = 0.0) -> SpeechResult:
    """Speech in the first `window_s` seconds (from `start`) of a media file."""
    return speech_in_interval(path, start, start + window_s, backend, min_ratio)


def speech_filter(video_id: str, path: str | Path, stage: str = "speech", window_s: float = WINDOW_S,
                  backend: str | Any = CONFIG["backend"], min_ratio: float = MIN_SPEECH_RATIO
                  ) -> tuple[SpeechResult | None, dict]:
    """The "contains speech" heuristic as a ledger row: kept, or dropped with no_speech / no_audio /
    audio_decode_failed. A BackendUnavailable error is a configuration error and is raised."""
    try:
        res = speech_presence(path, window_s, backend, min_ratio)
    except NoAudioStream:
        return None, ledger.dropped(stage, video_id, "no_audio")
    except AudioDecodeError as exc:
        return None, ledger.dropped(stage, video_id, "audio_decode_failed", error=str(exc)[:500])
    detail = {"ratio": round(res.ratio, 4), "speech_seconds": round(res.speech_seconds, 3),
              "analysed": round(res.analysed, 3), "backend": res.backend, "segments": len(res.segments)}
    if res.analysed <= 0:
        return res, ledger.dropped(stage, video_id, "no_audio", **detail)
    if not res.has_speech:
        return res, ledger.dropped(stage, video_id, "no_speech", min_ratio=min_ratio, **detail)
    return res, ledger.kept(stage, video_id, **detail)
