"""Score traces against the demo ground truth: tip error, pointing-box IoU, points on the webcam."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from mednarratives.traces.boxes import iou, trace_box


def score_traces(traces: Sequence[Sequence[float]], truth: dict) -> dict:
    """traces: [x, y, t] points of a whole video (video pixels); truth: the demo video's truth JSON."""
    fps = truth["fps"]
    tx, ty = np.asarray(truth["cursor"]["x"], float), np.asarray(truth["cursor"]["y"], float)
    pts = np.asarray(traces, float).reshape(-1, 3)
    frames = np.clip(np.round(pts[:, 2] * fps).astype(int), 0, len(tx) - 1)
    err = np.hypot(pts[:, 0] - tx[frames], pts[:, 1] - ty[frames])
    wx0, wy0, wx1, wy1 = truth["webcam_box"]
    on_webcam = int(((pts[:, 0] >= wx0) & (pts[:, 0] <= wx1) & (pts[:, 1] >= wy0) & (pts[:, 1] <= wy1)).sum())
    ious = []
    for event in truth["pointing"]:
        box = trace_box(pts.tolist(), event["start"], event["end"])
        ious.append(iou(box, event["box"]) if box else 0.0)
    return {
        "points": int(len(pts)),
        "median_error_px": float(np.median(err)) if len(err) else None,
        "within_10px": float((err <= 10).mean()) if len(err) else None,
        "points_on_webcam": on_webcam,
        "pointing_events": len(ious),
        "mean_box_iou": float(np.mean(ious)) if ious else None,
        "min_box_iou": float(np.min(ious)) if ious else None,
    }
