"""Score traces against the demo ground truth: tip error, pointing-box IoU, points on the webcam.

Which truth points count (`counted`): every frame over which a segment's picture stays still (truth
`still_frames`: none in an ultrasound cine, whose picture always moves, and not while a viewer's stack pages, so
the paper's method has no stable chunk there), minus `edge_s` seconds after and before each cut or the end of a
scroll (the stable-chunk detector needs a few frames to see them). The demo cursor (of any style, its truth
point the hot spot) is drawn in every frame, so it is visible in all of them. A counted frame without a trace point is a
miss: `within_10px` is the share of COUNTED frames that have a point within 10 px, so missing points lower
it exactly as wrong ones do. `median_error_px` is over the counted frames that have a point. Points outside
counted frames (cine, cut edges) are reported apart (`extra_points`, `extra_median_error_px`).

Pointing events: the smallest box around the trace points within the ROI utterance [start, end] against the
truth box (the same definition on the truth cursor path); a missed event scores IoU 0. Events spoken over a
cine segment are not counted (no stable chunk there) and reported as `pointing_events_skipped_cine`.

Per-frame track (`score_track`; the frames stage's `track`, which follows the cursor on every frame, stable or
not): `within_10px` over ALL truth frames (a frame without a point is a miss), `still_within_10px` over the
counted frames, `far_100px` the share of track points more than 100 px off. Reported, no bar.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from mednarratives import settings
from mednarratives.geometry import box_iou
from mednarratives.traces.boxes import trace_box

EDGE_S = settings.defaults("traces", "score_edge_s")


def to_video_pixels(points: Sequence[Sequence[float]], image_size: Sequence[int], video_size: Sequence[int]) -> list[list[float]]:
    """[x, y, t] from an image of `image_size` (w, h) scaled from the video -> video pixel coordinates."""
    sx, sy = video_size[0] / image_size[0], video_size[1] / image_size[1]
    return [[(x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, t] for x, y, t in points]


def counted_frames(truth: dict, edge_s: float = 0.25) -> np.ndarray:
    """Boolean per truth frame: does this frame's cursor point count (see module doc)."""
    fps, n = truth["fps"], len(truth["cursor"]["x"])
    keep = np.zeros(n, bool)
    edge = int(round(edge_s * fps))
    for seg in truth["segments"]:
        if seg["still_frames"]:
            f0, f1 = seg["still_frames"]
            keep[f0 + edge:max(f0 + edge, f1 - edge)] = True
    return keep


def score_traces(traces: Sequence[Sequence[float]], truth: dict, edge_s: float = EDGE_S) -> dict:
    """traces: [x, y, t] points of a whole video (video pixels); truth: the demo video's truth JSON."""
    fps = truth["fps"]
    tx, ty = np.asarray(truth["cursor"]["x"], float), np.asarray(truth["cursor"]["y"], float)
    pts = np.asarray(traces, float).reshape(-1, 3)
    frames = np.clip(np.round(pts[:, 2] * fps).astype(int), 0, len(tx) - 1)
    err = np.hypot(pts[:, 0] - tx[frames], pts[:, 1] - ty[frames])
    counted = counted_frames(truth, edge_s)
    on_counted = counted[frames]
    best = np.full(len(tx), np.inf)  # per truth frame: the error of its point (inf: no point)
    np.minimum.at(best, frames[on_counted], err[on_counted])
    n_counted = int(counted.sum())
    hit = best[counted]
    wx0, wy0, wx1, wy1 = truth["webcam_box"]
    on_webcam = int(((pts[:, 0] >= wx0) & (pts[:, 0] <= wx1) & (pts[:, 1] >= wy0) & (pts[:, 1] <= wy1)).sum())
    ious = []
    moving = {seg["index"] for seg in truth["segments"] if not seg["still_frames"]}
    skipped = [e for e in truth["pointing"] if e["segment"] in moving]
    for event in [e for e in truth["pointing"] if e["segment"] not in moving]:
        box = trace_box(pts.tolist(), event["start"], event["end"])
        ious.append(box_iou(box, event["box"]) if box else 0.0)
    found = np.isfinite(hit)
    return {
        "points": int(len(pts)),
        "counted_truth_points": n_counted,
        "counted_with_point": int(found.sum()),
        "recall": float(found.mean()) if n_counted else None,
        "median_error_px": float(np.median(hit[found])) if found.any() else None,
        "within_10px": float((hit <= 10).mean()) if n_counted else None,
        "extra_points": int((~on_counted).sum()),
        "extra_median_error_px": float(np.median(err[~on_counted])) if (~on_counted).any() else None,
        "points_on_webcam": on_webcam,
        "pointing_events": len(ious),
        "pointing_events_skipped_cine": len(skipped),
        "box_ious": [round(v, 4) for v in ious],
        "mean_box_iou": float(np.mean(ious)) if ious else None,
        "min_box_iou": float(np.min(ious)) if ious else None,
    }


def score_track(track: Sequence[Sequence[float]], work_size: Sequence[int], truth: dict, edge_s: float = EDGE_S) -> dict:
    """track: [frame, x, y, chunk] (working pixels of `work_size`) from the frames stage; truth: the demo video's."""
    tx, ty = np.asarray(truth["cursor"]["x"], float), np.asarray(truth["cursor"]["y"], float)
    t = np.asarray(track, float).reshape(-1, 4)
    frames = t[:, 0].astype(int)
    xy = np.asarray(to_video_pixels([[x, y, 0.0] for x, y in t[:, 1:3]], work_size, (truth["width"], truth["height"])))
    err = np.hypot(xy[:, 0] - tx[frames], xy[:, 1] - ty[frames]) if len(t) else np.zeros(0)
    best = np.full(len(tx), np.inf)
    np.minimum.at(best, frames, err)
    counted = counted_frames(truth, edge_s)
    return {"points": int(len(t)), "within_10px": float((best <= 10).mean()),
            "still_within_10px": float((best[counted] <= 10).mean()) if counted.any() else None,
            "far_100px": float((err > 100).mean()) if len(t) else None}


BAR = {"median_error_px": 5.0, "within_10px": 0.95, "mean_box_iou": 0.8, "points_on_webcam": 0}


def passes(score: dict) -> dict:
    """Per criterion of the bar: True/False (None when the video has nothing to score for it)."""
    def ok(key, good):
        v = score.get(key)
        return None if v is None else bool(good(v))
    return {"median_error_px": ok("median_error_px", lambda v: v <= BAR["median_error_px"]),
            "within_10px": ok("within_10px", lambda v: v >= BAR["within_10px"]),
            "mean_box_iou": ok("mean_box_iou", lambda v: v >= BAR["mean_box_iou"]),
            "points_on_webcam": ok("points_on_webcam", lambda v: v <= BAR["points_on_webcam"])}


def score_video(traces_record: dict, truth: dict, edge_s: float = EDGE_S) -> dict:
    """Score a traces-stage record (chunk-image pixels) against the truth (video pixels)."""
    video_size = (truth["width"], truth["height"])
    pts = []
    for c in traces_record["chunks"]:
        pts += to_video_pixels(c["points"], (c["width"], c["height"]), video_size)
    score = score_traces(pts, truth, edge_s)
    score["chunks"] = len(traces_record["chunks"])
    score["passes"] = passes(score)
    return score


SCORE_COLUMNS = ("median_error_px", "within_10px", "recall", "mean_box_iou", "min_box_iou", "points_on_webcam")


def score(traces_jsonls: Sequence[str], points_jsonls: Sequence[str], truth_paths: Sequence[str], out_json: str,
          out_tsv: str, edge_s: float = EDGE_S) -> str:
    """Score every traces record of the shards, and the per-frame track of the frames stage's points records,
    against the truth of its video (truth_paths: every demo video); writes the scores (json) and one row per
    video (tsv) and returns that table."""
    from mednarratives.io import atomic_path, read_json, read_jsonl, write_json

    truths = {t["video_id"]: t for t in map(read_json, truth_paths)}
    scores = {rec["video_id"]: score_video(rec, truths[rec["video_id"]], edge_s)
              for path in traces_jsonls for rec in read_jsonl(path)}
    for rec in (r for path in points_jsonls for r in read_jsonl(path)):
        scores[rec["video_id"]]["track"] = score_track(rec["track"], rec["work_size"], truths[rec["video_id"]], edge_s)
    lines = ["video_id\tcursor\t" + "\t".join(SCORE_COLUMNS) + "\ttrack_within_10px\ttrack_far_100px\tpasses"]
    fmt = lambda v: "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
    for vid, s in sorted(scores.items()):
        vals = [fmt(s[c]) for c in SCORE_COLUMNS] + [fmt(s.get("track", {}).get(k)) for k in ("within_10px", "far_100px")]
        ok = all(v is not False for v in s["passes"].values())
        lines.append(f"{vid}\t{truths[vid]['cursor']['style']}\t" + "\t".join(vals) + "\t" + ("yes" if ok else "NO"))
    table = "\n".join(lines)
    write_json(out_json, {"bar": BAR, "edge_s": edge_s, "videos": scores})
    with atomic_path(out_tsv) as tmp:
        tmp.write_text(table + "\n", encoding="utf-8")
    return table
