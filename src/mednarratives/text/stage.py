"""The text stage for one video: ASR record -> text record (docs/data_contract.md) + ledger row."""

from __future__ import annotations

import logging

from .. import ledger
from ..io import read_json, write_json
from .extract import extract
from .llm import make_backend

STAGE = "text"


def speech_has_words(speech_json: str) -> bool:
    try:
        return bool(read_json(speech_json).get("words"))
    except (OSError, ValueError):
        return True  # an unreadable speech record: the text stage ledgers its own failure
log = logging.getLogger(__name__)


def run(video_id: str, speech_json: str, out_json: str, out_ledger: str, cfg: dict | None = None) -> dict:
    """A video the speech stage dropped (no words) gets an empty record and no ledger row: it never entered."""
    try:
        speech = read_json(speech_json)
        rec = extract(speech, make_backend(cfg), (cfg or {}).get("vocabulary"))
        rec["video_id"] = video_id
        n_med = sum(1 for u in rec["utterances"] if u["medical_text"] or u["roi_text"])
        row = (ledger.kept(STAGE, video_id, utterances=len(rec["utterances"]), medical=n_med,
                           fallbacks=len(rec["fallbacks"]))
               if n_med else ledger.dropped(STAGE, video_id, "no_medical_text", utterances=len(rec["utterances"])))
    except Exception as e:  # one bad video never stops the run
        log.exception("text extraction failed for %s", video_id)
        rec = {"video_id": video_id, "model": {"backend": (cfg or {}).get("backend", "rules")}, "utterances": [],
               "modalities": [], "subdomain": "", "fallbacks": [], "error": f"{type(e).__name__}: {e}"}
        row = ledger.dropped(STAGE, video_id, "text_failed", error=rec["error"])
    write_json(out_json, rec)
    ledger.write(out_ledger, [row] if speech_has_words(speech_json) else [])
    return rec
