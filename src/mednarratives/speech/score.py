"""Demo score of the ASR stage: WER before/after correction and word-timestamp agreement against the truth."""

from __future__ import annotations

from .. import settings
from ..io import read_json, read_jsonl, write_json
from .metrics import timestamp_agreement, wer

TOLERANCE_S = settings.defaults("speech", "score_tolerance_s")


def raw_words(words: list[dict]) -> list[str]:
    """The words before correction: a correction spans several output words that share one ``original``."""
    out, last = [], None
    for w in words:
        if "original" in w:
            if w["original"] != last:
                out.append(w["original"])
            last = w["original"]
        else:
            out.append(w["word"])
            last = None
    return out


def score_video(speech: dict, truth: dict, tolerance: float = TOLERANCE_S) -> dict:
    ref = [w for s in truth.get("speech", []) for w in s.get("words", [])]
    hyp = speech.get("words", [])
    ref_text = " ".join(w["word"] for w in ref)
    after = wer(ref_text, " ".join(w["word"] for w in hyp))
    before = wer(ref_text, " ".join(raw_words(hyp)))
    ts = timestamp_agreement(ref, hyp, tolerance)
    return {"video_id": truth.get("video_id"), "n_ref": after["n_ref"], "errors_before": round(before["wer"] * before["n_ref"]),
            "errors_after": round(after["wer"] * after["n_ref"]), "wer_before": round(before["wer"], 4),
            "wer_after": round(after["wer"], 4), "corrections": len(speech.get("corrections", [])),
            "ts_within": round(ts["agreement_all"] * ts["n_ref"]), "ts_agreement_all": round(ts["agreement_all"], 4),
            "ts_median_abs_error": None if ts["median_abs_error"] is None else round(ts["median_abs_error"], 3)}


def score(speech_jsonls: list[str], truth_paths: list[str], out_json: str, out_tsv: str,
          tolerance: float = TOLERANCE_S) -> dict:
    """Score every speech record of the shards against the truth of its video (truth_paths: every demo video)."""
    truths = {t["video_id"]: t for t in map(read_json, truth_paths)}
    rows = [score_video(rec, truths[rec["video_id"]], tolerance) for p in speech_jsonls for rec in read_jsonl(p)]
    n = sum(r["n_ref"] for r in rows) or 1
    total = {"videos": len(rows), "n_ref": n,
             "wer_before": round(sum(r["errors_before"] for r in rows) / n, 4),
             "wer_after": round(sum(r["errors_after"] for r in rows) / n, 4),
             "ts_within_tolerance": round(sum(r["ts_within"] for r in rows) / n, 4), "tolerance_s": tolerance,
             "bar": {"wer_after_max": 0.10, "ts_within_min": 0.90}}
    total["passes_bar"] = total["wer_after"] <= 0.10 and total["ts_within_tolerance"] >= 0.90
    rec = {"total": total, "videos": rows}
    write_json(out_json, rec)
    cols = list(rows[0]) if rows else ["video_id"]
    lines = ["\t".join(cols)] + ["\t".join(str(r[c]) for c in cols) for r in rows]
    from ..io import atomic_path

    with atomic_path(out_tsv) as p:
        p.write_text("\n".join(lines) + "\n")
    return rec
