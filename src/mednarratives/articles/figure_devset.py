"""Figure / panel / letter scoring on a real compound-figure dev set (devsets/articles/figures).

The dev set is a folder with `truth.jsonl`: one line per figure, {"id", "image" (relative path), "width",
"height", "round" (optional, default 1: the collection round the figure was added in), "panels": [{"letter": "A" |
null, "box": [x0, y0, x1, y1]}]}, boxes in image pixels, hand-checked.
A panel box is the whole panel as a reader would crop it: its content, titles, axes, legend and its letter.

Scores:
* panels found: truth panels matched one-to-one (greedy, best IoU first) by a predicted box with IoU >= 0.7
  (the issue's bar), the mean best IoU per truth panel, and the precision of the predicted boxes at 0.7;
* letters: for each truth panel with a letter, the letter given to the predicted box matched to it
  (IoU >= 0.5) equals it, case-insensitively; a panel that was not found counts as wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from mednarratives.geometry import box_iou


@dataclass(frozen=True)
class DevFigure:
    id: str
    image: Path
    boxes: list[list[int]]
    letters: list[str | None]
    round: int = 1


def load(devset_dir: str | Path) -> list[DevFigure]:
    root = Path(devset_dir)
    out = []
    for line in (root / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out.append(DevFigure(rec["id"], root / rec["image"], [p["box"] for p in rec["panels"]],
                                 [p["letter"] for p in rec["panels"]], int(rec.get("round", 1))))
    return out


def match(pred: Sequence[Sequence[float]], truth: Sequence[Sequence[float]]) -> list[tuple[int | None, float]]:
    """For each truth box, (index of the predicted box matched to it, or None; their IoU): one-to-one,
    greedily by decreasing IoU."""
    pairs = sorted(((box_iou(p, t), i, j) for i, p in enumerate(pred) for j, t in enumerate(truth)), reverse=True)
    out: list[tuple[int | None, float]] = [(None, 0.0)] * len(truth)
    used = set()
    for iou, i, j in pairs:
        if iou <= 0 or i in used or out[j][0] is not None:
            continue
        out[j] = (i, iou)
        used.add(i)
    return out


def score_panels(pred: Mapping[str, Sequence[Sequence[float]]], figures: Sequence[DevFigure],
                 iou: float = 0.7) -> dict:
    n_truth = n_found = n_pred = 0
    best_sum = 0.0
    per_figure = {}
    for f in figures:
        boxes = pred.get(f.id, [])
        m = match(boxes, f.boxes)
        found = sum(v >= iou for _, v in m)
        n_truth += len(f.boxes)
        n_found += found
        n_pred += len(boxes)
        best_sum += sum(max((box_iou(p, t) for p in boxes), default=0.0) for t in f.boxes)
        per_figure[f.id] = (found, len(f.boxes), len(boxes))
    return {"figures": len(figures), "panels": n_truth, "found": n_found,
            "found_rate": n_found / n_truth if n_truth else 0.0,
            "mean_best_iou": best_sum / n_truth if n_truth else 0.0,
            "precision": n_found / n_pred if n_pred else 0.0, "per_figure": per_figure}


def _k(letter) -> str:
    return str(letter or "").strip().strip("()[].,:").lower()


def score_letters(pred: Mapping[str, Sequence[tuple[Sequence[float], str | None]]],
                  figures: Sequence[DevFigure], iou: float = 0.5) -> dict:
    """pred: figure id -> [(box, letter or None)]."""
    n = ok = 0
    wrong = []
    for f in figures:
        items = list(pred.get(f.id, []))
        m = match([b for b, _ in items], f.boxes)
        for (pi, v), letter in zip(m, f.letters):
            if not letter:
                continue
            n += 1
            got = items[pi][1] if pi is not None and v >= iou else None
            if _k(got) == _k(letter):
                ok += 1
            else:
                wrong.append(f"{f.id}:{letter}->{got or '-'}")
    return {"letters": n, "correct": ok, "rate": ok / n if n else 0.0, "wrong": wrong}
