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


def _parents(unit: str) -> list[str]:
    """'PMC1/F2/A' -> ['PMC1', 'PMC1/F2']: unit ids nest with '/' from coarse to fine."""
    parts = unit.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def check(rows: Iterable[dict], flow: dict[str, str | None]) -> list[str]:
    """Problems that mean a unit was lost or counted twice; [] when the ledger adds up.

    `flow` maps each stage to the stage that feeds it (None for a source stage). A unit kept by a parent
    stage must reach the child stage, as the same unit or as the parent of finer units ('PMC1' -> 'PMC1/F2');
    a child unit must come from a unit its parent stage kept; no unit has two rows in one stage.
    """
    by_stage: dict[str, dict[str, dict]] = {}
    problems = []
    for r in rows:
        units = by_stage.setdefault(r["stage"], {})
        if r["unit"] in units:
            problems.append(f"{r['stage']}: {r['unit']} has more than one row")
        units[r["unit"]] = r
    for stage in sorted(set(by_stage) - set(flow)):
        problems.append(f"{stage}: stage is not declared in the ledger flow")
    for stage, parent in sorted(flow.items()):
        units = by_stage.get(stage, {})
        if parent is None:
            continue
        kept_parent = {u for u, r in by_stage.get(parent, {}).items() if r["decision"] == KEPT}
        reached = set()
        for unit in units:
            origin = [p for p in [unit, *_parents(unit)] if p in kept_parent]
            if not origin:
                problems.append(f"{stage}: {unit} does not come from a unit kept by {parent}")
            reached.update(origin)
        problems.extend(f"{stage}: {u} kept by {parent} never reached it" for u in sorted(kept_parent - reached))
    return problems


def funnel(rows: Iterable[dict], flow: dict[str, str | None]) -> list[dict]:
    """Per stage, in flow order: units in, kept, dropped, and the drop reasons with their counts."""
    counts: dict[str, dict] = {}
    for r in rows:
        c = counts.setdefault(r["stage"], {"kept": 0, "dropped": 0, "reasons": {}})
        c[r["decision"]] += 1
        if r["decision"] == DROPPED:
            c["reasons"][r["reason"]] = c["reasons"].get(r["reason"], 0) + 1
    return [{"stage": s, "parent": flow.get(s), "in": c["kept"] + c["dropped"], "kept": c["kept"], "dropped": c["dropped"],
             "reasons": dict(sorted(c["reasons"].items()))}
            for s, c in sorted(counts.items(), key=lambda kv: (_depth(kv[0], flow), kv[0]))]


def _depth(stage: str, flow: dict[str, str | None]) -> int:
    depth, seen = 0, set()
    while flow.get(stage) and stage not in seen:
        seen.add(stage)
        stage, depth = flow[stage], depth + 1
    return depth
