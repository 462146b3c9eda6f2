"""Axis-aligned boxes [x0, y0, x1, y1] shared by the stages (pointing boxes, sub-figure panels)."""

from __future__ import annotations

from typing import Sequence


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (0 when the union is empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def same_row(a: Sequence[float], b: Sequence[float], h: float) -> bool:
    """Boxes a and b share their top edge within h / 2 (h: a glyph height): two letters on one row of panels."""
    return abs(b[1] - a[1]) <= 0.5 * h


def same_column(a: Sequence[float], b: Sequence[float], h: float) -> bool:
    """Boxes a and b share their left edge within h / 2: two letters in one column of panels."""
    return abs(b[0] - a[0]) <= 0.5 * h


def transposed(b: Sequence[float]) -> list:
    """Box b with x and y swapped: what holds for rows of boxes then holds for their columns."""
    return [b[1], b[0], b[3], b[2]]
