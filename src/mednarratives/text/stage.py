"""The text stage: ASR record -> text record (docs/data_contract.md) + ledger row, per video of a shard.

First the narration cue (``narration.py``): a transcript whose medical-term density is too low drops its video
(``narration_not_medical``); its record keeps the score and no utterances, so align finds nothing in it.
"""

from __future__ import annotations

import logging

from .. import ledger, settings
from ..io import read_jsonl, write_jsonl
from .extract import extract
from .llm import make_backend
from .narration import judge

STAGE = "text"
log = logging.getLogger(__name__)


def extract_video(speech: dict, cfg: dict | None = None) -> tuple[dict, list[dict]]:
    """(record, ledger rows) of one video. A video the speech stage dropped (no words) gets an empty record and
    no ledger row: it never entered."""
    video_id = speech["video_id"]
    vocab = (cfg or {}).get("vocabulary")
    try:
        narration = judge(speech.get("words") or [], speech.get("language"), cfg, vocab)
        if narration["medical"] is False:  # not read: the record of a transcript without words
            rec = {**extract({**speech, "words": []}, make_backend(cfg), vocab), "video_id": video_id,
                   "narration": narration}
            row = ledger.dropped(STAGE, video_id, "narration_not_medical", density=narration["density"],
                                 content_words=narration["content_words"])
            return rec, [row]
        rec = {**extract(speech, make_backend(cfg), vocab), "video_id": video_id, "narration": narration}
        n_med = sum(1 for u in rec["utterances"] if u["medical_text"] or u["roi_text"])
        row = (ledger.kept(STAGE, video_id, utterances=len(rec["utterances"]), medical=n_med,
                           fallbacks=len(rec["fallbacks"]), density=narration["density"])
               if n_med else ledger.dropped(STAGE, video_id, "no_medical_text", utterances=len(rec["utterances"])))
    except Exception as e:  # one bad video never stops the run
        log.exception("text extraction failed for %s", video_id)
        rec = {"video_id": video_id, "model": {"backend": settings.merged(cfg, "text")["backend"]}, "utterances": [],
               "modalities": [], "subdomain": "", "fallbacks": [], "error": f"{type(e).__name__}: {e}"}
        row = ledger.dropped(STAGE, video_id, "text_failed", error=rec["error"])
    return rec, [row] if speech.get("words") else []


def run_shard(speech_jsonl: str, out_jsonl: str, out_ledger: str, cfg: dict | None = None) -> list[dict]:
    """The text record of every video of a shard's speech records."""
    done = [extract_video(speech, cfg) for speech in read_jsonl(speech_jsonl)]
    ledger.fail_if_systematic([row for _, rows in done for row in rows], "text_failed")
    write_jsonl(out_jsonl, [rec for rec, _ in done])
    ledger.write(out_ledger, [row for _, rows in done for row in rows])
    return [rec for rec, _ in done]
