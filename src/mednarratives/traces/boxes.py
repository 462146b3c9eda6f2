"""Boxes from traces: the smallest box around the trace points of a time span."""

from __future__ import annotations

from typing import Sequence


def trace_box(trace: Sequence[Sequence[float]], t0: float = float("-inf"), t1: float = float("inf")) -> list[float] | None:
    """[x0, y0, x1, y1] around the points [x, y, t] with t0 <= t <= t1, or None without points."""
    pts = [(x, y) for x, y, t in trace if t0 <= t <= t1]
    if not pts:
        return None
    xs, ys = zip(*pts)
    return [min(xs), min(ys), max(xs), max(ys)]


