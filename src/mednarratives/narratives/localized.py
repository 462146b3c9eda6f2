"""Export to Google's Localized Narratives JSONL, plus a sidecar for our extra fields.

Google's loader builds `LocalizedNarrative(**record)` from each line, so a record must hold exactly the
seven fields below; boxes, domain, ROI text, entities and provenance go to the sidecar, keyed the same way.
"""

from __future__ import annotations

from typing import Sequence

from mednarratives import settings

LN_FIELDS = ("dataset_id", "image_id", "annotator_id", "caption", "timed_caption", "traces", "voice_recording")


def normalised_traces(traces: Sequence[Sequence[Sequence[float]]], width: int, height: int) -> list[list[dict]]:
    """[[x, y, t] ...] segments in image pixels -> [[{"x", "y", "t"}]] with x, y in 0..1 (Google's convention)."""
    return [[{"x": round(min(max(x / width, 0.0), 1.0), 4), "y": round(min(max(y / height, 0.0), 1.0), 4),
              "t": round(t, 3)} for x, y, t in segment] for segment in traces if len(segment)]


def localized_narrative(dataset_id: str, image_id: str, annotator_id: str, caption: str,
                        utterances: Sequence[dict], traces: Sequence[Sequence[Sequence[float]]],
                        width: int, height: int, voice_recording: str) -> dict:
    """utterances: [{"text", "start", "end"}]; traces in image pixels with times on the same clock."""
    record = {
        "dataset_id": dataset_id,
        "image_id": image_id,
        "annotator_id": annotator_id,
        "caption": caption,
        "timed_caption": [{"utterance": u["text"], "start_time": round(u["start"], 3), "end_time": round(u["end"], 3)}
                          for u in utterances],
        "traces": normalised_traces(traces, width, height),
        "voice_recording": voice_recording,
    }
    assert tuple(record) == LN_FIELDS
    return record


SIDECAR_FIELDS = ("boxes", "roi_text", "domain", "keywords", "entities", "inline_refs", "provenance", "image", "width", "height")


def from_sample(sample: dict, dataset_id: str = settings.defaults("dataset", "dataset_id"),
                voice_recording: str = "") -> tuple[dict, dict]:
    """(Localized Narrative record, sidecar record) of one narrative sample (docs/data_contract.md).

    image_id = the sample id; annotator_id = the video (narrator) or article id; the timed caption is the
    sample's own (already in Google's field names); traces are normalised by the sample image's size.
    """
    prov = sample.get("provenance", {})
    annotator = prov.get("video_id") or prov.get("article_id") or ""
    utterances = [{"text": u["utterance"], "start": u["start_time"], "end": u["end_time"]} for u in sample.get("timed_caption", [])]
    record = localized_narrative(dataset_id, sample["sample_id"], annotator, sample.get("caption", ""), utterances,
                                 sample.get("traces", []), sample["width"], sample["height"], voice_recording)
    sidecar = {"dataset_id": dataset_id, "image_id": sample["sample_id"], "annotator_id": annotator,
               **{k: sample.get(k) for k in SIDECAR_FIELDS}}
    return record, sidecar
