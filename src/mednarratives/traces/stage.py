"""The traces stage, per video of a shard: raw cursor points per chunk -> trace segments and boxes.

Per chunk (pixels of the chunk image, times on the video clock):
* `points`: [x, y, t] tip positions, one per frame where a cursor was found;
* `segments`: the points split where the cursor was lost for more than `max_gap_s` or jumped more than
  `max_jump_px` between consecutive points (Localized Narratives keep such pieces apart);
* `box`: the smallest box around all the chunk's points (paper 3.2.4), or null without points;
* `utterance_boxes`: per utterance overlapping the chunk (Quilt-LLaVA style), the points spoken over
  [start, end]: `box` = smallest box around them, `cluster_box` = box of their largest cluster (single
  linkage, `cluster_eps_px`), which drops the transit from elsewhere and keeps where the narrator circled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from mednarratives import settings
from mednarratives.io import read_jsonl, read_jsonl_by, write_jsonl
from mednarratives.traces.boxes import trace_box


@dataclass(frozen=True)
@settings.schema_defaults("traces")
class TracesParams:
    max_gap_s: float
    max_jump_px: float
    cluster_eps_px: float
    min_utterance_points: int


def split_segments(points: Sequence[Sequence[float]], max_gap_s: float, max_jump_px: float) -> list[list[list[float]]]:
    segments: list[list[list[float]]] = []
    prev = None
    for p in points:
        if prev is None or p[2] - prev[2] > max_gap_s or np.hypot(p[0] - prev[0], p[1] - prev[1]) > max_jump_px:
            segments.append([])
        segments[-1].append(list(p))
        prev = p
    return segments


def cluster_box(points: Sequence[Sequence[float]], eps: float) -> list[float] | None:
    """Box around the largest single-linkage cluster of the points (ties: the earliest cluster)."""
    if not len(points):
        return None
    pts = np.asarray(points, float)[:, :2]
    if len(pts) == 1:
        return trace_box(points)
    labels = fcluster(linkage(pts, method="single"), t=eps, criterion="distance")
    counts = np.bincount(labels)
    best = max(range(1, len(counts)), key=lambda k: (counts[k], -int(np.argmax(labels == k))))
    return trace_box([p for p, lab in zip(points, labels) if lab == best])


def _r(box):
    return None if box is None else [round(float(v), 2) for v in box]


def chunk_traces(points: Sequence[Sequence[float]], utterances: Sequence[dict], params: TracesParams) -> dict:
    """utterances: [{"start", "end", ...}] with an `index` (position in the text record)."""
    out = {"points": [list(p) for p in points],
           "segments": split_segments(points, params.max_gap_s, params.max_jump_px),
           "box": _r(trace_box(points)), "utterance_boxes": []}
    if not len(points):
        return out
    t0, t1 = points[0][2], points[-1][2]
    for u in utterances:
        if u["end"] < t0 or u["start"] > t1:
            continue
        spoken = [p for p in points if u["start"] <= p[2] <= u["end"]]
        if len(spoken) < params.min_utterance_points:
            continue
        out["utterance_boxes"].append({"utterance": u["index"], "start": u["start"], "end": u["end"],
                                       "points": len(spoken), "box": _r(trace_box(spoken)),
                                       "cluster_box": _r(cluster_box(spoken, params.cluster_eps_px))})
    return out


def utterances_of(text_record: dict | None, speech_record: dict | None) -> list[dict]:
    """Utterance times: the text stage's utterances, else the ASR segments, else none."""
    for record, key in ((text_record, "utterances"), (speech_record, "segments")):
        if record and record.get(key):
            return [{"index": i, "start": float(u["start"]), "end": float(u["end"])} for i, u in enumerate(record[key])]
    return []


def build_traces(frames_record: dict, points_record: dict, utterances: Sequence[dict], params: TracesParams = TracesParams()) -> dict:
    by_index = {c["index"]: c["points"] for c in points_record.get("chunks", [])}
    chunks = []
    for c in frames_record.get("chunks", []):
        tr = chunk_traces(by_index.get(c["index"], []), utterances, params)
        chunks.append({"index": c["index"], "kind": c["kind"], "start": c["start"], "end": c["end"],
                       "width": c["width"], "height": c["height"], **tr})
    return {"video_id": frames_record["video_id"], "video": frames_record.get("video"),
            "coordinates": "pixels of the chunk image (pixel index of the tip); t in seconds on the video clock",
            "params": {"max_gap_s": params.max_gap_s, "max_jump_px": params.max_jump_px, "cluster_eps_px": params.cluster_eps_px},
            "chunks": chunks}


def run_shard(frames_jsonl: str, points_jsonl: str, text_jsonl: str, out_jsonl: str,
              params: TracesParams = TracesParams()) -> list[dict]:
    """The traces record of every video of a shard's frames records (utterance times from its text records)."""
    points, texts = read_jsonl_by(points_jsonl), read_jsonl_by(text_jsonl)
    records = [build_traces(frames, points.get(frames["video_id"], {}),
                            utterances_of(texts.get(frames["video_id"]), None), params)
               for frames in read_jsonl(frames_jsonl)]
    write_jsonl(out_jsonl, records)
    return records
