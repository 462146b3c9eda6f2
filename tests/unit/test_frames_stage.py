"""The frames stage: scene chunks from keyframes, stable chunk assignment, images, keyframe fallback, ledger."""
import subprocess

import numpy as np
import pytest

from mednarratives.frames.chunks import ChunkParams
from mednarratives.frames.stage import FramesParams, assign_scene, dedup_images, run_frames, run_shard, scene_chunks
from mednarratives.io import read_jsonl, write_jsonl
from mednarratives.frames.video import VideoTraceParams


def test_scene_chunks_from_medical_keyframes_padded():
    kfs = [{"t": 0.0, "p_medical": 0.1, "domain": None}, {"t": 5.0, "p_medical": 0.9, "domain": "ct"},
           {"t": 9.0, "p_medical": 0.8, "domain": "ct"}, {"t": 14.0, "p_medical": 0.2}, {"t": 20.0, "p_medical": 0.7, "domain": "mri"}]
    scenes = scene_chunks(kfs, duration=25.0, pad_time=1.0, min_p_medical=0.5)
    # 5 and 9 follow each other: one scene 5..14 padded; 20 lasts to the end (clipped)
    assert [(s["start"], s["end"], s["keyframes"], s["domain"]) for s in scenes] == [
        (4.0, 15.0, [5.0, 9.0], "ct"), (19.0, 25.0, [20.0], "mri")]


def test_scene_chunks_without_filter_record_is_whole_video():
    assert scene_chunks(None, 12.5, 1.0, 0.5) == [{"index": 0, "start": 0.0, "end": 12.5, "keyframes": [], "domain": None}]
    assert scene_chunks([], 12.5, 1.0, 0.5) == []


def test_assign_scene_by_largest_overlap():
    scenes = [{"index": 0, "start": 0.0, "end": 10.0}, {"index": 1, "start": 8.0, "end": 20.0}]
    assert assign_scene(7.0, 12.0, scenes) == 1
    assert assign_scene(1.0, 5.0, scenes) == 0
    assert assign_scene(21.0, 25.0, scenes) is None


def test_dedup_images():
    a = np.zeros((32, 32, 3), np.uint8)
    b = a.copy()
    b[0, 0] = 3  # nearly the same
    c = np.full((32, 32, 3), 200, np.uint8)
    assert dedup_images([a, b, c, a], delta=8.0) == [0, 2]


@pytest.fixture(scope="module")
def two_scene_video(tmp_path_factory):
    """2 s grey still, 2 s of moving test pattern (no stable chunk), 2 s dark still; 160x120 at 15 fps."""
    path = tmp_path_factory.mktemp("v") / "two.mp4"
    graph = ("color=c=gray:s=160x120:r=15:d=2[a];testsrc=s=160x120:r=15:d=2[b];color=c=0x202020:s=160x120:r=15:d=2[c];"
             "[a][b][c]concat=n=3:v=1:a=0[v]")
    subprocess.run(["ffmpeg", "-v", "error", "-filter_complex", graph, "-map", "[v]", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def run(path, tmp_path, keyframes):
    vp = VideoTraceParams(scale=1.0, chunk=ChunkParams(min_duration_s=1.0))
    return run_frames(str(path), "vid", keyframes, str(tmp_path / "img"), FramesParams(pad_time=0.2), vp)


def test_run_frames_without_keyframes(two_scene_video, tmp_path):
    rec, points, rows = run(two_scene_video, tmp_path, None)
    stable = [c for c in rec["chunks"] if c["kind"] == "stable"]
    assert len(stable) == 2 and rec["keyframes_source"] == "none"
    assert stable[0]["start"] < 0.2 and 3.8 <= stable[1]["start"] < 4.3
    assert (tmp_path / "img" / "0000.jpg").exists() and stable[0]["width"] == 160
    assert [c["index"] for c in points["chunks"]] == [0, 1]
    assert all(len(p) == 4 and p[3] in (-1, 0, 1) for p in points["track"])  # [frame, x, y, chunk] (no cursor here)
    assert {r["unit"]: r["decision"] for r in rows}["vid"] == "kept"


def test_run_frames_keyframes_select_scenes_and_fall_back_to_keyframe_images(two_scene_video, tmp_path):
    kfs = [{"t": 0.0, "p_medical": 0.1}, {"t": 2.0, "p_medical": 0.9, "domain": "ultrasound"}, {"t": 4.0, "p_medical": 0.1}]
    rec, _, rows = run(two_scene_video, tmp_path, kfs)
    # only the moving middle scene is medical: no stable chunk there -> its keyframe is the image
    assert [(c["kind"], c["keyframe"]) for c in rec["chunks"]] == [("scene", 2.0)]
    dropped = [r for r in rows if r["decision"] == "dropped"]
    assert len(dropped) == 2 and all(r["reason"] == "outside_medical_scenes" for r in dropped)


def test_run_frames_bad_video_is_ledgered(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"nope")
    rec, points, rows = run(bad, tmp_path, None)
    assert rec["chunks"] == [] and rows[0]["decision"] == "dropped" and rows[0]["reason"] == "decode_error"


def test_run_shard_writes_every_video_and_takes_keyframes_from_the_filter(two_scene_video, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.mp4").symlink_to(two_scene_video)
    (media / "b.mp4").write_bytes(b"nope")
    kfs = [{"t": 0.0, "p_medical": 0.1}, {"t": 2.0, "p_medical": 0.9, "domain": "ultrasound"}, {"t": 4.0, "p_medical": 0.1}]
    write_jsonl(tmp_path / "filter.jsonl", [{"video_id": "a", "decision": "positive", "keyframes": kfs}])
    out = {name: str(tmp_path / name) for name in ("f.jsonl", "img", "p.jsonl", "l.jsonl")}
    vp = VideoTraceParams(scale=1.0, chunk=ChunkParams(min_duration_s=1.0))
    records = run_shard(str(media), str(tmp_path / "filter.jsonl"), out["f.jsonl"], out["img"], out["p.jsonl"],
                        out["l.jsonl"], "filter", FramesParams(pad_time=0.2), vp)
    assert read_jsonl(out["f.jsonl"]) == records and [r["video_id"] for r in records] == ["a", "b"]
    assert records[0]["keyframes_source"] == "filter" and [c["kind"] for c in records[0]["chunks"]] == ["scene"]
    assert records[0]["chunks"][0]["image"] == str(tmp_path / "img" / "a" / "0000.jpg")
    assert [p["video_id"] for p in read_jsonl(out["p.jsonl"])] == ["a", "b"]
    rows = {r["unit"]: r for r in read_jsonl(out["l.jsonl"])}
    assert rows["a"]["decision"] == "kept" and rows["b"]["reason"] == "decode_error"
