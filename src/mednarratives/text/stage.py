"""The text stage: ASR record -> text record (docs/data_contract.md) + ledger row, per video of a shard."""

from __future__ import annotations

import logging

from .. import ledger, settings
from ..io import read_jsonl, write_jsonl
from ..speech.stage import kept as speech_kept
from .extract import extract
from .llm import make_backend

STAGE = "text"
log = logging.getLogger(__name__)


def extract_video(speech: dict, cfg: dict | None = None) -> tuple[dict, list[dict]]:
    """(record, ledger rows) of one video. A video the speech stage dropped (no words, or a narration that is not
    medical) gets an empty record and no ledger row: it never entered."""
    video_id = speech["video_id"]
    if not speech_kept(speech):
        return {"video_id": video_id, "model": {"backend": settings.merged(cfg, "text")["backend"]},
                "asr_model": speech.get("model"), "utterances": [], "modalities": [], "subdomain": "",
                "fallbacks": []}, []
    try:
        rec = extract(speech, make_backend(cfg), (cfg or {}).get("vocabulary"))
        rec["video_id"] = video_id
        n_med = sum(1 for u in rec["utterances"] if u["medical_text"] or u["roi_text"])
        row = (ledger.kept(STAGE, video_id, utterances=len(rec["utterances"]), medical=n_med,
                           fallbacks=len(rec["fallbacks"]))
               if n_med else ledger.dropped(STAGE, video_id, "no_medical_text", utterances=len(rec["utterances"])))
    except Exception as e:  # one bad video never stops the run
        log.exception("text extraction failed for %s", video_id)
        rec = {"video_id": video_id, "model": {"backend": settings.merged(cfg, "text")["backend"]}, "utterances": [],
               "modalities": [], "subdomain": "", "fallbacks": [], "error": f"{type(e).__name__}: {e}"}
        row = ledger.dropped(STAGE, video_id, "text_failed", error=rec["error"])
    return rec, [row]


def run_shard(speech_jsonl: str, out_jsonl: str, out_ledger: str, cfg: dict | None = None) -> list[dict]:
    """The text record of every video of a shard's speech records."""
    done = [extract_video(speech, cfg) for speech in read_jsonl(speech_jsonl)]
    ledger.fail_if_systematic([row for _, rows in done for row in rows], "text_failed")
    write_jsonl(out_jsonl, [rec for rec, _ in done])
    ledger.write(out_ledger, [row for _, rows in done for row in rows])
    return [rec for rec, _ in done]
