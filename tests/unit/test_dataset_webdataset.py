"""WebDataset shard writer: deterministic bytes, sizes.json, read back by webdataset."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import numpy as np
import pytest
from PIL import Image

from mednarratives.dataset import encode_jpeg, read_shards, sanitize_key, shard_pattern, shards_num_samples, write_shards


def _samples(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for i in range(n):
        kind = i % 3
        if kind == 0:
            image = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)            # RGB array
        elif kind == 1:
            image = Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8), mode="L")  # PIL
        else:
            buf = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(buf, format="PNG")
            image = buf.getvalue()                                                  # PNG bytes
        yield {"key": f"vid.{i:03d}", "image": image, "caption": f"CT image {i} – ünïcode",
               "meta": {"i": np.int64(i), "domain": "ct", "boxes": [[1, 2, 3, 4]]}}


def _digest(paths):
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_two_writes_are_byte_identical(tmp_path):
    a = write_shards(_samples(7), tmp_path / "a", "train", maxcount=3)
    b = write_shards(_samples(7), tmp_path / "b", "train", maxcount=3)
    assert [p.name for p in a] == ["train-000000.tar", "train-000001.tar", "train-000002.tar"]
    assert _digest(a) == _digest(b)
    assert (tmp_path / "a" / "sizes.json").read_bytes() == (tmp_path / "b" / "sizes.json").read_bytes()
    assert json.loads((tmp_path / "a" / "sizes.json").read_text()) == {
        "train-000000.tar": 3, "train-000001.tar": 3, "train-000002.tar": 1}
    assert shards_num_samples(a) == 7


def test_tar_members_have_fixed_headers(tmp_path):
    (shard,) = write_shards(_samples(2), tmp_path, "s", maxcount=10)
    with tarfile.open(shard) as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == ["vid_000.jpg", "vid_000.json", "vid_000.txt",
                                       "vid_001.jpg", "vid_001.json", "vid_001.txt"]
    assert {(i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode) for i in infos} == {(0, 0, 0, "", "", 0o444)}


def test_webdataset_reads_shards_back(tmp_path):
    import webdataset as wds

    shards = write_shards(_samples(5), tmp_path, "train", maxcount=2)
    ds = wds.WebDataset(shard_pattern(shards), shardshuffle=False).decode("pilrgb")
    got = list(ds)
    assert [s["__key__"] for s in got] == [f"vid_{i:03d}" for i in range(5)]
    assert got[0]["txt"] == "CT image 0 – ünïcode"
    assert got[0]["json"] == {"i": 0, "domain": "ct", "boxes": [[1, 2, 3, 4]], "key": "vid.000"}
    assert got[0]["jpg"].size == (32, 24) and got[1]["jpg"].size == (20, 20)
    # the plain tarfile reader agrees
    plain = list(read_shards(shards))
    assert [s["txt"] for s in plain] == [s["txt"] for s in got]


def test_jpeg_bytes_pass_through_and_arrays_encode_deterministically():
    arr = np.arange(48 * 48 * 3, dtype=np.uint8).reshape(48, 48, 3)
    jpg = encode_jpeg(arr)
    assert jpg[:3] == b"\xff\xd8\xff"
    assert encode_jpeg(jpg) == jpg                     # already JPEG: unchanged
    assert encode_jpeg(Image.fromarray(arr)) == jpg    # PIL and array give the same bytes
    rgba = np.dstack([arr, np.full((48, 48), 255, np.uint8)])
    assert encode_jpeg(rgba) == jpg                    # alpha dropped
    with pytest.raises(ValueError):
        encode_jpeg(arr.astype(np.float32))


def test_rewrite_removes_stale_shards_and_keeps_other_prefixes(tmp_path):
    write_shards(_samples(6), tmp_path, "train", maxcount=2)
    write_shards(_samples(2, seed=1), tmp_path, "val", maxcount=2)
    shards = write_shards(_samples(3), tmp_path, "train", maxcount=2)
    assert sorted(p.name for p in tmp_path.glob("*.tar")) == [
        "train-000000.tar", "train-000001.tar", "val-000000.tar"]
    assert json.loads((tmp_path / "sizes.json").read_text()) == {
        "train-000000.tar": 2, "train-000001.tar": 1, "val-000000.tar": 2}
    assert len(shards) == 2


def test_keys_are_sanitised_and_must_be_unique(tmp_path):
    assert sanitize_key("abc/d.e f") == "abc_d_e_f"
    dup = [{"key": "a.b", "image": np.zeros((4, 4), np.uint8), "caption": "x"},
           {"key": "a_b", "image": np.zeros((4, 4), np.uint8), "caption": "y"}]
    with pytest.raises(ValueError, match="duplicate"):
        write_shards(dup, tmp_path, "t")


def test_shard_pattern():
    assert shard_pattern(["d/t-000000.tar"]) == "d/t-000000.tar"
    assert shard_pattern(["d/t-000003.tar", "d/t-000004.tar", "d/t-000005.tar"]) == "d/t-{000003..000005}.tar"
    assert shard_pattern(["d/t-000000.tar", "d/t-000002.tar"]) == "d/t-000000.tar::d/t-000002.tar"


def test_empty_input_writes_no_shard(tmp_path):
    assert write_shards([], tmp_path, "train") == []
    assert json.loads((tmp_path / "sizes.json").read_text()) == {}
