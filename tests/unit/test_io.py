import pytest

from mednarratives.io import atomic_path, read_json, read_jsonl, write_json, write_jsonl


def test_json_roundtrip_is_canonical(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    write_json(tmp_path / "b.json", {"a": [1, 2], "b": 1})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert read_json(tmp_path / "a.json") == {"a": [1, 2], "b": 1}


def test_jsonl_roundtrip(tmp_path):
    rows = [{"x": 1}, {"y": "é"}]
    write_jsonl(tmp_path / "r.jsonl", rows)
    assert read_jsonl(tmp_path / "r.jsonl") == rows


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
