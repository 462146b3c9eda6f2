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
