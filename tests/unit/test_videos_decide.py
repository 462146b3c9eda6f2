"""Video decisions: Table 3 categories, narrative streaks and speech around key-frames, the order of the checks
and their ledger reasons, on generated videos with a stub classifier and stub speech detector."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from mednarratives.io import read_jsonl
from mednarratives.videos import decide as D
from mednarratives.videos import speech_presence

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
FPS, W, H = 5, 96, 64


def make_video(path, scenes, seconds_each, audio=True):
    """Scenes: list of (kind, seed) or (kind, seed, seconds); 'med' pictures are bright on the left, 'other' bright
    on the right."""
    frames = []
    for kind, seed, *seconds in scenes:
        rng = np.random.default_rng(seed)
        img = np.full((H, W, 3), 10, np.uint8)
        tex = rng.integers(100, 255, (H // 8, 5, 1), dtype=np.uint8).repeat(8, 0).repeat(8, 1).repeat(3, 2)
        if kind == "med":
            img[:, :40] = tex
        else:
            img[:, 56:96] = tex
        frames += [img] * int((seconds[0] if seconds else seconds_each) * FPS)
    args = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
            "-r", str(FPS), "-i", "-"]
    if audio:
        args += ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-shortest", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(args, input=np.stack(frames).tobytes(), check=True)
    return str(path)


class StubClassifier:
    """p(ct) = 0.9 when the left half is brighter than the right, else 0.1."""
    domains = ["ct", "ultrasound"]

    def predict(self, images):
        out = []
        for im in images:
            a = np.asarray(im, float)
            med = a[:, : a.shape[1] // 2].mean() > a[:, a.shape[1] // 2:].mean()
            p = 0.9 if med else 0.1
            out.append({"ct": p, "ultrasound": p, "non_medical": round(1 - p, 4)})
        return out


@pytest.fixture
def speech_ok(monkeypatch):
    def fake(video_id, path, stage="speech", window_s=60, backend="silero", min_ratio=0.1):
        return None, D.ledger.kept(stage, video_id)
    monkeypatch.setattr(speech_presence, "speech_filter", fake)


def cfg(**kw):
    return D.FilterConfig(thresholds=D.Thresholds.from_config(), min_duration=kw.pop("min_duration", 10.0),
                          keyframes={"default": {"width": 96, "min_scene_s": 0.5}}, streak_gap_s=1.0, **kw)


def test_table3_thresholds_loaded():
    t = D.Thresholds.from_config()
    assert t.share_for("ct") == 0.10 and t.share_for("xray") == 0.10 and t.share_for("mri") == 0.05
    assert t.share_for("endoscopy") == 0.50 and t.share_for("ultrasound") == 0.40
    assert t.share_for("ophthalmology") == 0.35 and t.share_for("mammography") == 0.25
    assert t.share_for("dermatology") == 0.30 and t.share_for("illustration") == 0.20
    assert D.Thresholds.from_config({"share": {"mri": 0.2}}).share_for("mri") == 0.2


def test_categorize():
    assert D.categorize(0.5, 0.4, 0.5) == "positive"
    assert D.categorize(0.25, 0.4, 0.5) == "near_positive"
    assert D.categorize(0.1, 0.4, 0.5) == "negative"


def test_keyframe_domain_takes_the_majority_among_domains_at_their_threshold():
    t = D.Thresholds.from_config()
    domains = ["ultrasound", "ct", "mri"]  # listed ultrasound first: no case here is decided by the order
    us, ct = {"ct": 0.1, "ultrasound": 0.8, "mri": 0.0}, {"ct": 0.7, "ultrasound": 0.2, "mri": 0.0}
    # 2 of 3 key-frames ultrasound (>= its 40%), 1 CT (>= its 10%): both positive, the majority wins
    assert D.keyframe_domain([us, ct, us], domains, t, 0.5)[0] == "ultrasound"
    # as many CT as ultrasound key-frames: the larger share relative to its threshold
    assert D.keyframe_domain([us, ct], domains, t, 0.5)[0] == "ct"
    # ultrasound below its threshold (1 of 4 < 40%): CT at its threshold outranks it
    none = {"ct": 0.0, "ultrasound": 0.0, "mri": 0.0}
    assert D.keyframe_domain([us, ct, none, none], domains, t, 0.5)[0] == "ct"
    # none positive: the largest share relative to its threshold (CT 1/20 = half its 10%, ultrasound 3/20 < half)
    assert D.keyframe_domain([ct] + [us] * 3 + [none] * 16, domains, t, 0.5)[0] == "ct"
    assert D.keyframe_domain([us, ct, us], domains, t, 0.5, hint="ct")[0] == "ct"


def test_cosine_and_streak():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (16, 16)).astype(np.uint8)
    b = a.copy()
    b[0, 0] = 255 - b[0, 0]
    assert D.cosine(a, a) == pytest.approx(1.0)
    c = rng.integers(0, 255, (16, 16)).astype(np.uint8)
    assert D.cosine(a, c) < 0.5   # unrelated images: mean-centred cosine is low
    ok, sims = D.streak(a, np.stack([a, b, a]))
    assert ok and len(sims) == 3
    assert not D.streak(a, np.stack([a, c, a]))[0]
    assert not D.streak(a, np.stack([a, a]))[0]       # fewer than 3 following frames


def test_narrated_seconds_and_scenes():
    assert D.scene_intervals([0.0, 5.0], 12.0) == [(0.0, 5.0), (5.0, 12.0)]
    assert D.narrated_seconds([(1, 3), (4, 8)], 2, 6) == pytest.approx(3.0)


def test_static_positive_video_kept(tmp_path, speech_ok):
    path = make_video(tmp_path / "v.mp4", [("other", 1), ("med", 2), ("med", 3), ("other", 4)], 5)
    row = {"video_id": "v1", "query_domain": "ct", "subscribers": "100"}
    rec, lrow = D.filter_video(row, path, StubClassifier(), cfg())
    assert lrow["decision"] == "kept", lrow
    assert rec["decision"] == "positive" and rec["domain"] == "ct"
    assert rec["medical_share"] == pytest.approx(0.5)
    assert rec["narrative"]["method"] == "streaks" and rec["narrative"]["share"] == 1.0
    assert [k["t"] for k in rec["keyframes"]] == pytest.approx([0, 5, 10, 15], abs=0.3)


def test_a_scrolled_stack_is_one_standing_keyframe(tmp_path, speech_ok):
    """Pages of a scrolled stack (key-frames 0.6 s apart) pass: the streak share is over the key-frames that stand."""
    pages = [("med", 10 + k, 0.6) for k in range(12)]
    path = make_video(tmp_path / "v.mp4", [("other", 1), ("med", 2)] + pages + [("med", 3), ("other", 4)], 5)
    rec, lrow = D.filter_video({"video_id": "v1", "query_domain": "ct", "subscribers": "100"}, path, StubClassifier(), cfg())
    n = rec["narrative"]
    assert lrow["decision"] == "kept", lrow
    assert n["passing"] >= 6 and n["share"] == 1.0 and len(n["streaks"]) == 2  # the slides before and after the scroll


def test_non_medical_video_dropped(tmp_path, speech_ok):
    path = make_video(tmp_path / "v.mp4", [("other", 1), ("other", 2), ("other", 3)], 5)
    rec, lrow = D.filter_video({"video_id": "v2", "query_domain": "ct"}, path, StubClassifier(), cfg())
    assert (lrow["decision"], lrow["reason"]) == ("dropped", "not_medical")
    assert rec["medical_share"] == 0.0


def test_near_positive_dropped_unless_configured(tmp_path, speech_ok):
    # ultrasound threshold 0.40, near factor 0.5: one medical key-frame of four (0.25) is near-positive
    path = make_video(tmp_path / "v.mp4", [("other", 1), ("med", 2), ("other", 3), ("other", 4)], 5)
    row = {"video_id": "v3", "query_domain": "ultrasound"}
    _, lrow = D.filter_video(row, path, StubClassifier(), cfg(), speech_segments=lambda *a: [(0, 20)])
    assert lrow["reason"] == "near_positive"
    rec, lrow = D.filter_video(row, path, StubClassifier(), cfg(keep_near_positive=True),
                               speech_segments=lambda *a: [(0, 20)])
    assert lrow["decision"] == "kept" and rec["decision"] == "near_positive"


def test_non_static_needs_speech_around_medical_keyframes(tmp_path, speech_ok):
    path = make_video(tmp_path / "v.mp4", [("med", 1), ("med", 2), ("other", 3)], 5)
    row = {"video_id": "v4", "query_domain": "ultrasound"}
    rec, lrow = D.filter_video(row, path, StubClassifier(), cfg(), speech_segments=lambda *a: [(11, 15)])
    assert lrow["reason"] == "not_narrative" and rec["narrative"]["method"] == "speech_around_keyframes"
    rec, lrow = D.filter_video(row, path, StubClassifier(), cfg(), speech_segments=lambda *a: [(1, 9)])
    assert lrow["decision"] == "kept"


def test_cheap_checks_first(tmp_path, speech_ok):
    path = make_video(tmp_path / "v.mp4", [("med", 1)], 4)
    _, lrow = D.filter_video({"video_id": "a", "query_domain": "ct", "subscribers": "2000000"}, path,
                             StubClassifier(), cfg())
    assert lrow["reason"] == "too_many_subscribers"
    _, lrow = D.filter_video({"video_id": "b", "query_domain": "ct"}, path, StubClassifier(), cfg())
    assert lrow["reason"] == "too_short"


def test_no_speech_reason(tmp_path):
    path = make_video(tmp_path / "v.mp4", [("med", 1), ("med", 2)], 6)   # silent audio track
    _, lrow = D.filter_video({"video_id": "c", "query_domain": "ct"}, path, StubClassifier(), cfg())
    assert lrow["reason"] == "no_speech"


def test_shard_survives_bad_units(tmp_path, speech_ok):
    good = make_video(tmp_path / "g.mp4", [("other", 1), ("med", 2), ("med", 3)], 5)
    (tmp_path / "bad.mp4").write_bytes(b"garbage" * 50)
    manifest = tmp_path / "s00000.tsv"
    D.write_tsv(manifest, D.MANIFEST_FIELDS, [
        {"video_id": "good", "path_or_url": good, "query_domain": "ct"},
        {"video_id": "bad", "path_or_url": str(tmp_path / "bad.mp4"), "query_domain": "ct"},
        {"video_id": "gone", "path_or_url": str(tmp_path / "missing.mp4"), "query_domain": "ct"},
    ])

    def media_for(row):
        if "missing" in row["path_or_url"]:
            raise FileNotFoundError(row["path_or_url"])
        return row["path_or_url"]

    recs = D.filter_shard(str(manifest), str(tmp_path / "f.jsonl"), str(tmp_path / "l.jsonl"), StubClassifier(),
                          cfg(), media_for)
    assert [r["video_id"] for r in recs] == ["bad", "gone", "good"]
    assert recs[1]["media"] is None and recs[2]["media"] == good
    rows = {r["unit"]: r for r in read_jsonl(tmp_path / "l.jsonl")}
    assert rows["good"]["decision"] == "kept"
    assert rows["bad"]["reason"] == "probe_failed" and rows["gone"]["reason"] == "filter_failed"
    kept = D.kept_table([str(tmp_path / "f.jsonl")], str(tmp_path / "kept.tsv"))
    assert kept == [{"video_id": "good", "path": good, "domain": "ct"}]


def test_score_demo(tmp_path):
    from mednarratives.io import write_json, write_jsonl

    write_json(tmp_path / "a.truth.json", {"video_id": "a", "expected": "keep", "expected_reason": None,
                                           "scene_cuts": [5.0, 10.0]})
    write_json(tmp_path / "b.truth.json", {"video_id": "b", "expected": "drop", "expected_reason": "no_speech",
                                           "scene_cuts": [3.0]})
    write_json(tmp_path / "c.truth.json", {"video_id": "c", "expected": "drop", "expected_reason": "too_short",
                                           "scene_cuts": []})
    write_jsonl(tmp_path / "f.jsonl", [{"video_id": "a", "keyframes": [{"t": 0.0}, {"t": 5.1}, {"t": 12.0}]}])
    write_jsonl(tmp_path / "l.jsonl", [D.ledger.kept(D.STAGE, "a"), D.ledger.dropped(D.STAGE, "b", "no_speech"),
                                       D.ledger.dropped(D.STAGE, "c", "not_medical")])
    s = D.score_demo([str(tmp_path / "f.jsonl")], [str(tmp_path / "l.jsonl")],
                     [str(tmp_path / f"{v}.truth.json") for v in "abc"])
    assert [v["correct"] for v in s["videos"]] == [True, True, False]   # c: dropped, but for the wrong reason
    assert s["keyframe_recall"] == 0.5 and s["keyframe_precision"] == 0.5


def test_score_demo_counts_a_key_frame_at_a_page_turn_as_right_but_does_not_require_one(tmp_path):
    from mednarratives.io import write_json, write_jsonl

    # a stack segment from 4 s: its first page at the cut, page turns at 5 s and 6 s (frames 50 and 60 at 10 fps)
    write_json(tmp_path / "a.truth.json", {"video_id": "a", "expected": "keep", "expected_reason": None, "fps": 10,
                                           "scene_cuts": [4.0, 9.0], "segments": [
                                               {"pages": []}, {"pages": [[40, "s1"], [50, "s2"], [60, "src"]]}]})
    write_jsonl(tmp_path / "f.jsonl", [{"video_id": "a", "keyframes": [{"t": 0.0}, {"t": 4.0}, {"t": 5.1},
                                                                       {"t": 7.5}]}])
    write_jsonl(tmp_path / "l.jsonl", [D.ledger.kept(D.STAGE, "a")])
    s = D.score_demo([str(tmp_path / "f.jsonl")], [str(tmp_path / "l.jsonl")], [str(tmp_path / "a.truth.json")])
    assert s["keyframe_recall"] == 0.5  # the cut at 9 s is missed; the turn at 6 s is not required
    assert s["keyframe_precision"] == round(2 / 3, 4)  # 4.0 (cut) and 5.1 (turn) right, 7.5 a false alarm
