"""The ledger: every input unit of every stage ends as kept or dropped, with a reason.

Rows are JSON lines {stage, unit, decision, reason, detail}; each rule writes the rows of its own units
into a file next to its outputs, and a final rule collects them.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from mednarratives.io import read_jsonl, write_jsonl

KEPT = "kept"
DROPPED = "dropped"
DECISIONS = (KEPT, DROPPED)


def row(stage: str, unit: str, decision: str, reason: str = "", **detail: Any) -> dict:
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    if decision == DROPPED and not reason:
        raise ValueError(f"{stage}/{unit}: a dropped unit needs a reason")
    return {"stage": stage, "unit": unit, "decision": decision, "reason": reason, "detail": detail}


def kept(stage: str, unit: str, **detail: Any) -> dict:
    return row(stage, unit, KEPT, **detail)


def dropped(stage: str, unit: str, reason: str, **detail: Any) -> dict:
    return row(stage, unit, DROPPED, reason, **detail)


def write(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    write_jsonl(path, sorted(rows, key=lambda r: (r["stage"], r["unit"])))


def read(paths: Iterable[str | os.PathLike]) -> list[dict]:
    return [r for p in paths for r in read_jsonl(p)]
