"""Trace segments, boxes, per-utterance boxes, and the honest demo scoring."""
import numpy as np

from mednarratives.traces.evaluate import (counted_frames, passes, score, score_track, score_traces, score_video,
                                           to_video_pixels)
from mednarratives.io import read_json, read_jsonl, write_json, write_jsonl
from mednarratives.traces.stage import (TracesParams, build_traces, chunk_traces, cluster_box, run_shard, split_segments,
                                     utterances_of)


def test_split_segments_on_gaps_and_jumps():
    pts = [[0, 0, 0.0], [1, 0, 0.033], [2, 0, 0.066], [2, 0, 0.5], [100, 0, 0.533], [101, 0, 0.566]]
    segs = split_segments(pts, max_gap_s=0.2, max_jump_px=40)
    assert [len(s) for s in segs] == [3, 1, 2]


def test_cluster_box_drops_the_transit():
    loop = [[50 + 5 * np.cos(a), 50 + 5 * np.sin(a), i] for i, a in enumerate(np.linspace(0, 6, 30))]
    transit = [[200 - 10 * i, 200 - 10 * i, 30 + i] for i in range(5)]  # far points, spaced 14 px apart
    box = cluster_box(loop + transit, eps=8)
    assert 44 <= box[0] < box[2] <= 56 and 44 <= box[1] < box[3] <= 56
    assert cluster_box([], 8) is None


def test_chunk_traces_boxes_per_utterance():
    pts = [[10 + i, 20, i * 0.1] for i in range(50)]  # t 0..4.9
    utts = [{"index": 0, "start": 1.0, "end": 2.0}, {"index": 1, "start": 7.0, "end": 8.0}, {"index": 2, "start": 4.0, "end": 9.0}]
    out = chunk_traces(pts, utts, TracesParams())
    assert out["box"] == [10.0, 20.0, 59.0, 20.0]
    assert [(u["utterance"], u["box"]) for u in out["utterance_boxes"]] == [(0, [20.0, 20.0, 30.0, 20.0]), (2, [50.0, 20.0, 59.0, 20.0])]
    empty = chunk_traces([], utts, TracesParams())
    assert empty["box"] is None and empty["segments"] == [] and empty["utterance_boxes"] == []


def test_build_traces_and_utterances_of():
    frames = {"video_id": "v", "chunks": [{"index": 0, "kind": "stable", "start": 0, "end": 5, "width": 64, "height": 36},
                                          {"index": 1, "kind": "scene", "start": 5, "end": 9, "width": 64, "height": 36}]}
    points = {"chunks": [{"index": 0, "points": [[1, 2, 0.5], [2, 3, 0.6]]}, {"index": 1, "points": []}]}
    utts = utterances_of({"utterances": [{"text": "x", "start": 0.4, "end": 0.7}]}, None)
    rec = build_traces(frames, points, utts)
    assert rec["chunks"][0]["box"] == [1.0, 2.0, 2.0, 3.0] and rec["chunks"][1]["box"] is None
    assert utterances_of(None, {"segments": [{"text": "a", "start": 1, "end": 2}]}) == [{"index": 0, "start": 1.0, "end": 2.0}]
    assert utterances_of(None, None) == []


def test_run_shard_matches_points_and_text_by_video(tmp_path):
    chunk = {"index": 0, "kind": "stable", "start": 0, "end": 5, "width": 64, "height": 36}
    write_jsonl(tmp_path / "f.jsonl", [{"video_id": v, "chunks": [chunk]} for v in ("a", "b")])
    write_jsonl(tmp_path / "p.jsonl", [{"video_id": "b", "chunks": [{"index": 0, "points": [[9, 9, 1.0], [10, 11, 1.1]]}]},
                                       {"video_id": "a", "chunks": [{"index": 0, "points": [[1, 2, 0.5], [2, 3, 0.6], [2, 2, 0.65]]}]}])
    write_jsonl(tmp_path / "t.jsonl", [{"video_id": "a", "utterances": [{"start": 0.4, "end": 0.7}]}])
    records = run_shard(str(tmp_path / "f.jsonl"), str(tmp_path / "p.jsonl"), str(tmp_path / "t.jsonl"),
                        str(tmp_path / "out.jsonl"))
    assert read_jsonl(tmp_path / "out.jsonl") == records
    a, b = records
    assert a["chunks"][0]["box"] == [1.0, 2.0, 2.0, 3.0] and b["chunks"][0]["box"] == [9.0, 9.0, 10.0, 11.0]
    assert [u["utterance"] for u in a["chunks"][0]["utterance_boxes"]] == [0] and b["chunks"][0]["utterance_boxes"] == []


def truth(n=100, fps=10):
    return {"fps": fps, "width": 200, "height": 100, "cursor": {"style": "arrow", "x": list(range(n)), "y": [50] * n},
            "segments": [{"index": 0, "kind": "image", "start_frame": 0, "end_frame": 60, "still_frames": [0, 60]},
                         {"index": 1, "kind": "cine", "start_frame": 60, "end_frame": n, "still_frames": None}],
            "webcam_box": [150, 0, 199, 40],
            "pointing": [{"segment": 0, "start": 1.0, "end": 2.0, "box": [10, 50, 20, 50]},
                         {"segment": 1, "start": 7.0, "end": 8.0, "box": [70, 50, 80, 50]}]}


def test_counted_frames_skip_cine_and_cut_edges():
    c = counted_frames(truth(), edge_s=0.2)
    assert c.sum() == 56 and not c[:2].any() and c[2] and c[57] and not c[58:].any()


def test_counted_frames_skip_a_stack_while_it_pages():
    t = truth()
    t["segments"][0] = {**t["segments"][0], "kind": "stack", "still_frames": [20, 60]}  # pages over frames 0-19
    c = counted_frames(t, edge_s=0.2)
    assert c.sum() == 36 and not c[:22].any() and c[22] and c[57] and not c[58:].any()


def test_score_track_counts_every_frame_and_far_points():
    t = truth()
    track = [[f, (f + 0.5) / 2 - 0.5, (50 + 0.5) / 2 - 0.5, 0] for f in range(0, 100, 2)]  # half scale, every 2nd frame
    track.append([1, 80.0, 24.75, -1])  # frame 1 at x 161: 160 px off
    s = score_track(track, (100, 50), t, edge_s=0.0)
    assert s["points"] == 51 and s["within_10px"] == 0.5 and s["still_within_10px"] == 0.5
    assert s["far_100px"] == 1 / 51


def test_missing_points_count_as_misses_and_cine_is_apart():
    t = truth()
    perfect = [[f, 50, f / 10] for f in range(100)]
    s = score_traces(perfect, t, edge_s=0.0)
    assert s["within_10px"] == 1.0 and s["median_error_px"] == 0.0 and s["extra_points"] == 40
    assert s["pointing_events"] == 1 and s["pointing_events_skipped_cine"] == 1 and s["box_ious"] == [0.0]  # flat truth box
    half = [p for p in perfect if p[0] % 2 == 0]
    s = score_traces(half, t, edge_s=0.0)
    assert s["within_10px"] == 0.5 and s["recall"] == 0.5  # honest: a missed frame is a failure
    wrong = [[f + 30, 50, f / 10] for f in range(60)]
    assert score_traces(wrong, t, edge_s=0.0)["within_10px"] == 0.0
    webcam = score_traces([[160, 10, 0.1]], t)
    assert webcam["points_on_webcam"] == 1 and passes(webcam)["points_on_webcam"] is False


def test_score_video_maps_image_pixels_back():
    t = truth()
    t["pointing"] = [{"segment": 0, "start": 1.0, "end": 2.0, "box": [10, 40, 20, 60]}]
    pts = [[(f + 0.5) / 2 - 0.5, (50 + 0.5) / 2 - 0.5, f / 10] for f in range(60)]  # half-scale image
    assert np.allclose(to_video_pixels(pts[:1], (100, 50), (200, 100))[0], [0, 50, 0])
    rec = {"chunks": [{"width": 100, "height": 50, "points": pts}]}
    s = score_video(rec, t, edge_s=0.0)
    assert s["median_error_px"] < 1e-9 and s["passes"]["within_10px"] is True


def test_score_reads_every_shard_and_matches_truth_by_video(tmp_path):
    t = {**truth(), "pointing": []}
    write_json(tmp_path / "a.truth.json", {**t, "video_id": "a"})
    write_json(tmp_path / "b.truth.json", {**t, "video_id": "b"})
    good = {"video_id": "b", "chunks": [{"width": 200, "height": 100, "points": [[f, 50, f / 10] for f in range(60)]}]}
    on_webcam = {"video_id": "a", "chunks": [{"width": 200, "height": 100, "points": [[160, 10, 0.1]]}]}
    write_jsonl(tmp_path / "s0.jsonl", [good])
    write_jsonl(tmp_path / "s1.jsonl", [on_webcam])
    write_jsonl(tmp_path / "s0.points.jsonl", [{"video_id": "b", "work_size": [200, 100],
                                               "track": [[f, f, 50, 0] for f in range(100)]}])
    table = score([str(tmp_path / "s0.jsonl"), str(tmp_path / "s1.jsonl")], [str(tmp_path / "s0.points.jsonl")],
                  [str(tmp_path / "a.truth.json"), str(tmp_path / "b.truth.json")],
                  str(tmp_path / "score.json"), str(tmp_path / "score.tsv"), edge_s=0.0)
    rows = [line.split("\t") for line in table.splitlines()]
    assert [r[0] for r in rows] == ["video_id", "a", "b"] and [r[-1] for r in rows[1:]] == ["NO", "yes"]
    assert (tmp_path / "score.tsv").read_text() == table + "\n"
    saved = read_json(tmp_path / "score.json")
    assert saved["videos"]["a"]["points_on_webcam"] == 1 and saved["videos"]["b"]["within_10px"] == 1.0
    assert saved["videos"]["b"]["track"]["within_10px"] == 1.0 and "track" not in saved["videos"]["a"]
    assert rows[2][1] == "arrow" and rows[2][-3:-1] == ["1.000", "0.000"] and rows[1][-3:-1] == ["", ""]
