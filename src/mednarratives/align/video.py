"""Align one video's chunks (images + traces) with its text into narrative samples (paper 3.3).

For each chunk (a representative image over [start, end]):
1. raw text = the ASR words spoken in the window [start - lead_s, end + lag_s] ("before or slightly after"
   the image); raw_keywords = RAKE phrases of that raw text (`rake_keywords`), split into content words;
2. candidate utterances = the text stage's utterances that overlap the window by at least `min_overlap` of
   their duration and carry medical or ROI text;
3. an utterance is mapped to the image if its `keywords` (LLM/rules, from the text stage) share a content
   word with the raw_keywords; without ASR words in the record, the time overlap alone decides.
The sample gets the mapped utterances' medical text (caption), ROI text, timed caption, keywords and
entities; the chunk's trace segments (restricted to the window); boxes = per-ROI-utterance trace boxes (the
traces stage's `utterance_boxes`), else the chunk's trace box. Chunks with nothing mapped are dropped
(ledger reason `no_medical_text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from mednarratives import ledger, settings
from mednarratives.domains import DOMAINS
from mednarratives.frames.stage import chunk_unit
from mednarratives.io import read_jsonl, read_jsonl_by, write_jsonl
from mednarratives.text.rake import STOPWORDS, WORD, rake_keywords

STAGE = "align"


@dataclass(frozen=True)
@settings.schema_defaults("align")
class AlignParams:
    lead_s: float  # raw text may start this long before the image's chunk ...
    lag_s: float  # ... and end this long after it
    min_overlap: float  # share of an utterance's duration inside the window


def content_words(phrases: Iterable[str]) -> set[str]:
    return {w.lower() for p in phrases for w in WORD.findall(p) if w.lower() not in STOPWORDS and len(w) > 2}


def _overlap(a0, a1, b0, b1) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def align_video(video_id: str, frames: dict, traces: dict, text: dict, speech: dict | None,
                domain: str | None, params: AlignParams = AlignParams()) -> tuple[list[dict], list[dict]]:
    """(samples, ledger rows) of one video; records as in docs/data_contract.md."""
    traces_by_chunk = {c["index"]: c for c in traces.get("chunks", [])}
    utterances = list(text.get("utterances", []))
    words = list((speech or {}).get("words", []))
    samples, rows = [], []
    scenes = {s["index"]: s for s in frames.get("scenes", [])}
    for chunk in sorted(frames.get("chunks", []), key=lambda c: c["index"]):
        unit = chunk_unit(video_id, chunk["index"])
        w0, w1 = chunk["start"] - params.lead_s, chunk["end"] + params.lag_s
        raw = " ".join(w["word"] for w in words if w0 <= 0.5 * (w["start"] + w["end"]) <= w1)
        raw_keywords = rake_keywords(raw)
        raw_words = content_words(raw_keywords)
        matched = []
        for i, u in enumerate(utterances):
            dur = max(1e-6, u["end"] - u["start"])
            if _overlap(u["start"], u["end"], w0, w1) / dur < params.min_overlap:
                continue
            if not (u.get("medical_text") or u.get("roi_text")):
                continue
            if words and not (content_words(u.get("keywords") or []) & raw_words):
                continue
            matched.append((i, u))
        if not matched:
            rows.append(ledger.dropped(STAGE, unit, "no_medical_text", start=chunk["start"], end=chunk["end"]))
            continue
        tr = traces_by_chunk.get(chunk["index"], {})
        t0, t1 = min(u["start"] for _, u in matched), max(u["end"] for _, u in matched)
        segments = [[p for p in seg if w0 <= p[2] <= w1] for seg in tr.get("segments", [])]
        segments = [s for s in segments if s]
        matched_ids = {i for i, _ in matched}
        boxes = [ub["box"] for ub in tr.get("utterance_boxes", [])
                 if ub["utterance"] in matched_ids and utterances[ub["utterance"]].get("roi_text") and ub.get("box")]
        if not boxes and tr.get("box"):
            boxes = [tr["box"]]
        scene_domain = scenes.get(chunk.get("scene"), {}).get("domain")
        sample_domain = scene_domain if scene_domain in DOMAINS else (domain if domain in DOMAINS else None)
        keywords = sorted({k for _, u in matched for k in (u.get("keywords") or [])})
        entities = sorted({(e["text"], e.get("id", ""), e.get("vocab", "")) for _, u in matched for e in (u.get("entities") or [])})
        samples.append({
            "sample_id": f"v:{video_id}:{chunk['index']:04d}",
            "source": "video",
            "image": chunk["image"], "width": chunk["width"], "height": chunk["height"],
            "caption": " ".join(u["medical_text"] for _, u in matched if u.get("medical_text")).strip(),
            "roi_text": " ".join(u["roi_text"] for _, u in matched if u.get("roi_text")).strip(),
            "domain": sample_domain,
            "timed_caption": [{"utterance": u.get("medical_text") or u.get("roi_text") or u["text"],
                               "start_time": round(u["start"], 3), "end_time": round(u["end"], 3)} for _, u in matched],
            "traces": segments,
            "boxes": boxes,
            "keywords": keywords,
            "raw_keywords": raw_keywords[:20],
            "entities": [{"text": t, "id": i, "vocab": v} for t, i, v in entities],
            "inline_refs": [],
            "provenance": {"video_id": video_id, "chunk": chunk["index"], "kind": chunk["kind"],
                           "start": chunk["start"], "end": chunk["end"], "text_start": round(t0, 3), "text_end": round(t1, 3),
                           "utterances": sorted(matched_ids),
                           "subdomains": sorted({u["subdomain"] for _, u in matched if u.get("subdomain")}),
                           "modalities": sorted({m for _, u in matched for m in (u.get("modalities") or [])}),
                           "models": {"asr": (speech or {}).get("model"), "text": text.get("model")}},
        })
        rows.append(ledger.kept(STAGE, unit, sample=samples[-1]["sample_id"], utterances=len(matched)))
    return samples, rows


def run_shard(frames_jsonl: str, traces_jsonl: str, text_jsonl: str, speech_jsonl: str, filter_jsonl: str,
              out_jsonl: str, out_ledger: str, params: AlignParams = AlignParams()) -> list[dict]:
    """The samples and ledger rows of every video of a shard's frames records; the video's domain is the one
    the filter classified (for chunks whose scene has none)."""
    traces, texts, speech, filtered = (read_jsonl_by(p) for p in (traces_jsonl, text_jsonl, speech_jsonl, filter_jsonl))
    samples, rows = [], []
    for frames in read_jsonl(frames_jsonl):
        vid = frames["video_id"]
        video_samples, video_rows = align_video(vid, frames, traces.get(vid, {}), texts.get(vid, {}), speech.get(vid),
                                                filtered.get(vid, {}).get("domain"), params)
        samples += video_samples
        rows += video_rows
    write_jsonl(out_jsonl, samples)
    ledger.write(out_ledger, rows)
    return samples
