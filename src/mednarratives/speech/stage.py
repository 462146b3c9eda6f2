"""The ASR stage: Whisper with word timestamps + medical-term correction -> the contract record, per video of a shard.

With ``correction`` and ``rescore`` on, corrections that the medical n-grams cannot verify are decided by Whisper's
own acoustic score of the corrected text on the video's audio (``rescore.py``, same model).

Record (docs/data_contract.md, one line of ``results/speech/{shard}.jsonl`` per video)::

    {"video_id", "model": {name, backend, version, params, ...}, "language", "duration",
     "words": [{word, start, end, p}], "segments": [{text, start, end}],
     "corrections": [{word, replacement, evidence, ...}], "error": "" | "<why the transcript is empty>"}

A failing video never crashes the run: the record is written with no words and ``error`` set, and the
ledger row says ``dropped`` with the reason (``asr_failed`` / ``no_words``). A systematic fault fails the shard:
a model that cannot load, or most videos failing with the same error (``ledger.fail_if_systematic``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from .. import ledger, settings
from ..io import write_jsonl

STAGE = "speech"
log = logging.getLogger(__name__)


def to_record(video_id: str, transcript: dict) -> dict:
    """Reshape an ``asr.transcribe`` (+ ``correct_transcript``) result into the contract record."""
    words, segments = [], []
    for seg in transcript.get("segments", []):
        segments.append({"text": seg["text"], "start": seg["start"], "end": seg["end"]})
        for w in seg.get("words", []):
            rec = {"word": w["word"].strip(), "start": w["start"], "end": w["end"],
                   "p": round(float(w.get("probability", w.get("p", 1.0))), 4)}
            if w.get("corrected"):
                rec["original"] = w.get("original", "")
            words.append(rec)
    model = dict(transcript.get("model") or {})
    model.pop("path", None)  # machine-specific; name + sha identify the model
    return {"video_id": video_id, "model": model, "language": transcript.get("language"),
            "duration": transcript.get("duration"), "words": words, "segments": segments,
            "corrections": transcript.get("corrections", []), "correction": transcript.get("correction"),
            "error": ""}


def transcribe_video(video_id: str, media: str, cfg: dict | None = None, cpu_threads: int = 1) -> tuple[dict, dict]:
    """(record, ledger row) of one video; `cfg`: the `speech:` config section (schema defaults for what it leaves out)."""
    from .asr import load_audio, transcribe
    from .correction import correct_transcript, corrector_for
    from .rescore import load_scorer

    p = settings.merged(cfg, STAGE)
    try:
        audio = load_audio(media)
        tr = transcribe(audio, p["model"], p["backend"], language=p["language"], beam_size=int(p["beam_size"]),
                        vad_filter=bool(p["vad_filter"]), compute_type=p["compute_type"],
                        cpu_threads=cpu_threads, cache_dir=Path(p["cache_dir"]), device=p["device"],
                        initial_prompt=p["initial_prompt"] or None, language_min_p=p["language_min_p"])
        if p["correction"]:
            scorer = None
            if p["rescore"] and tr["segments"]:
                scorer = load_scorer(audio, p["model"], language=tr.get("language") or p["language"],
                                     compute_type=p["compute_type"], cpu_threads=cpu_threads,
                                     device=p["device"], cache_dir=Path(p["cache_dir"]))
            tr = correct_transcript(tr, corrector_for(p["corrector"]), scorer=scorer)
        rec = to_record(video_id, tr)
        if rec["words"]:
            row = ledger.kept(STAGE, video_id, words=len(rec["words"]), corrections=len(rec["corrections"]))
        elif p["language"] and tr.get("language") not in (None, p["language"]):
            row = ledger.dropped(STAGE, video_id, "wrong_language", language=tr["language"],
                                 probability=tr.get("language_probability"))
        else:
            row = ledger.dropped(STAGE, video_id, "no_words")
    except Exception as e:  # one bad video never stops the run
        log.exception("ASR failed for %s", video_id)
        rec = {"video_id": video_id, "model": {"name": str(p["model"]), "backend": p["backend"]},
               "language": p["language"], "duration": None, "words": [], "segments": [], "corrections": [],
               "error": f"{type(e).__name__}: {e}"}
        row = ledger.dropped(STAGE, video_id, "asr_failed", error=rec["error"])
    return rec, row


def run_shard(media_dir: str, out_jsonl: str, out_ledger: str, cfg: dict | None = None,
              cpu_threads: int = 1) -> list[dict]:
    """Transcribe every video of a shard's media folder (the model loads once per process, before the first video:
    a model that cannot load fails the shard)."""
    from ..videos.manifest import media_files
    from .asr import load_model

    p = settings.merged(cfg, STAGE)
    videos = media_files(media_dir)
    if videos:
        load_model(p["model"], p["backend"], compute_type=p["compute_type"], cpu_threads=cpu_threads,
                   cache_dir=Path(p["cache_dir"]), device=p["device"])
    done = [transcribe_video(vid, path, cfg, cpu_threads) for vid, path in videos]
    ledger.fail_if_systematic([row for _, row in done], "asr_failed")
    write_jsonl(out_jsonl, [rec for rec, _ in done])
    ledger.write(out_ledger, [row for _, row in done])
    return [rec for rec, _ in done]
