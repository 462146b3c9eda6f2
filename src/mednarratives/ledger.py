"""The ledger: every input unit of every stage ends as kept or dropped, with a reason.

Rows are JSON lines {stage, unit, decision, reason, detail}; each rule writes the rows of its own units
into a file next to its outputs, and a final rule collects them.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from mednarratives.io import atomic_path, read_jsonl, write_jsonl

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


class SystematicFailure(RuntimeError):
    """Most units of a shard failed with the same error: a broken model, tool, device or library, not bad input."""


def fail_if_systematic(rows: Iterable[dict], reason: str) -> None:
    """Raise SystematicFailure when more than half of a shard's units (and at least two) were dropped with `reason`
    (a stage's catch-all for unexpected errors) and the same error class ('ValueError: ...' -> ValueError).
    Units are counted at the level of the failed ones ('VID' when chunk rows 'VID/0003' are kept). One bad unit
    among good ones stays a ledger row; a fault that hits most units stops the job, and with it the run."""
    rows = list(rows)
    failed = [r for r in rows if r["decision"] == DROPPED and r["reason"] == reason]
    if not failed:
        return
    depth = failed[0]["unit"].count("/") + 1
    units = {"/".join(r["unit"].split("/")[:depth]) for r in rows if r["unit"].count("/") + 1 >= depth}
    errors = [str(r["detail"].get("error") or r["detail"].get("detail") or "") for r in failed]
    name, count = Counter(e.split(":", 1)[0].strip() for e in errors).most_common(1)[0]
    if count >= 2 and 2 * count > len(units):
        first = next(e for e in errors if e.split(":", 1)[0].strip() == name)
        raise SystematicFailure(f"{count} of {len(units)} units dropped as {reason} with {name}: a systematic fault, "
                                f"not bad input. First error: {first}")


def read(paths: Iterable[str | os.PathLike]) -> list[dict]:
    return [r for p in paths for r in read_jsonl(p)]


def sample_unit(sample_id: str) -> str:
    """The upstream unit of a dataset sample: 'v:VID:0003' -> 'VID/0003', 'a:PMC1:F2:p0' -> 'PMC1/F2/p0'."""
    return sample_id.split(":", 1)[-1].replace(":", "/")


def _parents(unit: str) -> list[str]:
    """'PMC1/F2/A' -> ['PMC1', 'PMC1/F2']: unit ids nest with '/' from coarse to fine."""
    parts = unit.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _parent_stages(parent: str | list[str] | None) -> list[str]:
    return [] if parent is None else [parent] if isinstance(parent, str) else list(parent)


def check(rows: Iterable[dict], flow: dict[str, str | list[str] | None]) -> list[str]:
    """Problems that mean a unit was lost or counted twice; [] when the ledger adds up.

    `flow` maps each stage to the stage or stages that feed it (None for a source stage). A unit kept by a parent
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
        parents = _parent_stages(parent)
        if not parents:
            continue
        kept_parent = {u for p in parents for u, r in by_stage.get(p, {}).items() if r["decision"] == KEPT}
        parent = "+".join(parents)
        reached = set()
        for unit in units:
            origin = [p for p in [unit, *_parents(unit)] if p in kept_parent]
            if not origin:
                problems.append(f"{stage}: {unit} does not come from a unit kept by {parent}")
            reached.update(origin)
        problems.extend(f"{stage}: {u} kept by {parent} never reached it" for u in sorted(kept_parent - reached))
    return problems


def funnel(rows: Iterable[dict], flow: dict[str, str | list[str] | None]) -> list[dict]:
    """Per stage and unit level (1 = 'PMC1', 2 = 'PMC1/F1', ...), in flow order: units in, kept, dropped, and the
    drop reasons with their counts."""
    counts: dict[tuple[str, int], dict] = {}
    for r in rows:
        c = counts.setdefault((r["stage"], r["unit"].count("/") + 1), {"kept": 0, "dropped": 0, "reasons": {}})
        c[r["decision"]] += 1
        if r["decision"] == DROPPED:
            c["reasons"][r["reason"]] = c["reasons"].get(r["reason"], 0) + 1
    return [{"stage": s, "level": level, "parent": "+".join(_parent_stages(flow.get(s))) or None,
             "in": c["kept"] + c["dropped"], "kept": c["kept"], "dropped": c["dropped"],
             "reasons": dict(sorted(c["reasons"].items()))}
            for (s, level), c in sorted(counts.items(), key=lambda kv: (_depth(kv[0][0], flow), kv[0]))]


def _depth(stage: str, flow: dict[str, str | list[str] | None], seen: frozenset = frozenset()) -> int:
    """Longest path from a source stage (flow order for the funnel)."""
    parents = [p for p in _parent_stages(flow.get(stage)) if p not in seen]
    return max((1 + _depth(p, flow, seen | {stage}) for p in parents), default=0)


def write_funnel(path: str | os.PathLike, table: list[dict]) -> None:
    """The funnel as TSV: stage, level, parent, in, kept, dropped, reasons ('reason=count; ...')."""
    lines = ["stage\tlevel\tparent\tin\tkept\tdropped\treasons"]
    lines += ["\t".join([t["stage"], str(t["level"]), t["parent"] or "", str(t["in"]), str(t["kept"]), str(t["dropped"]),
                         "; ".join(f"{k}={v}" for k, v in t["reasons"].items())]) for t in table]
    with atomic_path(path) as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n", encoding="utf-8")
