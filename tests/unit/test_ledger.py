import pytest

from mednarratives import ledger


def test_rows_roundtrip_sorted(tmp_path):
    rows = [ledger.dropped("filter", "v2", "too_short", duration=30.0), ledger.kept("filter", "v1")]
    ledger.write(tmp_path / "l.jsonl", rows)
    back = ledger.read([tmp_path / "l.jsonl"])
    assert [r["unit"] for r in back] == ["v1", "v2"]
    assert back[1] == {"stage": "filter", "unit": "v2", "decision": "dropped", "reason": "too_short",
                       "detail": {"duration": 30.0}}


def test_drop_without_reason_is_refused():
    with pytest.raises(ValueError, match="needs a reason"):
        ledger.row("filter", "v1", "dropped")
    with pytest.raises(ValueError, match="decision"):
        ledger.row("filter", "v1", "maybe")


FLOW = {"manifest": None, "parse": "manifest", "panels": "parse"}


def _rows():
    return [ledger.kept("manifest", "PMC1"), ledger.kept("manifest", "PMC2"), ledger.dropped("manifest", "PMC3", "bad_tar"),
            ledger.kept("parse", "PMC1/F1"), ledger.dropped("parse", "PMC1/F2", "missing_graphic"),
            ledger.dropped("parse", "PMC2", "no_figures"),
            ledger.kept("panels", "PMC1/F1/A"), ledger.kept("panels", "PMC1/F1/B")]


def test_a_complete_ledger_adds_up():
    assert ledger.check(_rows(), FLOW) == []


def test_a_lost_unit_an_orphan_and_a_double_row_are_found():
    rows = [r for r in _rows() if (r["stage"], r["unit"]) != ("parse", "PMC2")]  # PMC2 kept by manifest, never parsed
    rows.append(ledger.kept("panels", "PMC9/F1/A"))  # from nowhere
    rows.append(ledger.kept("parse", "PMC1/F1"))  # counted twice
    rows.append(ledger.kept("mystery", "x"))
    problems = ledger.check(rows, FLOW)
    assert "parse: PMC2 kept by manifest never reached it" in problems
    assert "panels: PMC9/F1/A does not come from a unit kept by parse" in problems
    assert "parse: PMC1/F1 has more than one row" in problems
    assert "mystery: stage is not declared in the ledger flow" in problems
    assert len(problems) == 4


def test_funnel_counts_in_flow_order():
    table = ledger.funnel(_rows(), FLOW)
    assert [(t["stage"], t["level"]) for t in table] == [("manifest", 1), ("parse", 1), ("parse", 2), ("panels", 3)]
    assert table[0] == {"stage": "manifest", "level": 1, "parent": None, "in": 3, "kept": 2, "dropped": 1, "reasons": {"bad_tar": 1}}
    assert table[1]["reasons"] == {"no_figures": 1} and table[2]["reasons"] == {"missing_graphic": 1}


def failed(unit, error):
    return ledger.dropped("frames", unit, "decode_error", error=error)


def test_one_failed_unit_among_good_ones_is_not_systematic():
    rows = [failed("a", "OSError: truncated"), ledger.kept("frames", "b/0000"), ledger.kept("frames", "c/0000")]
    ledger.fail_if_systematic(rows, "decode_error")
    ledger.fail_if_systematic([failed("a", "OSError: truncated")], "decode_error")  # a one-video shard
    ledger.fail_if_systematic([failed("a", "OSError: x"), failed("b", "ValueError: y"), ledger.kept("frames", "c")],
                              "decode_error")  # different causes


def test_most_units_failing_with_one_error_class_is_systematic():
    rows = [failed("a", "RuntimeError: CUDA unavailable"), failed("b", "RuntimeError: CUDA unavailable"),
            *(ledger.kept("frames", f"c/{i:04d}") for i in range(5))]  # chunk rows of one good video count once
    with pytest.raises(ledger.SystematicFailure, match="2 of 3 units dropped as decode_error with RuntimeError"):
        ledger.fail_if_systematic(rows, "decode_error")
    half = [failed("a", "RuntimeError: x"), failed("b", "RuntimeError: x"), ledger.kept("frames", "c"),
            ledger.kept("frames", "d")]
    ledger.fail_if_systematic(half, "decode_error")  # half is not most
