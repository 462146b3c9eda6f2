"""Demo video synthesizer: the decoded video and audio agree with the ground truth; builds are byte-identical."""

from __future__ import annotations

import subprocess
from unittest import mock
from pathlib import Path

import numpy as np
import pytest

from mednarratives_demo import video
from mednarratives.domains import DOMAINS
from mednarratives.io import read_json

REPO = Path(__file__).resolve().parents[2]
W, H, FPS, SR = 640, 360, 30, 16000
NARRATION = {
    "voice": "en-us", "rate": 150,
    "domains": {"ct": {"intro": ["Welcome to this short computed tomography teaching video."],
                       "outro": ["Thank you for watching this short test."], "slides": []}},
    "images": {
        "ct_head": {"describe": ["The calvarium appears intact on this axial slice."],
                    "roi": [{"at": [0.5, 0.22], "text": "Look here at the frontal bone of the skull."}]},
        "us_cine": {"describe": [], "roi": [{"at": [0.5, 0.55], "text": "Look here at the mitral valve leaflets moving."}]},
    },
}
SPEC = {
    "id": "unit_short", "kind": "positive", "domain": "ct", "title": "CT Head: unit test", "channel": "Test Channel",
    "theme": "dark", "narration": NARRATION,
    "segments": [
        {"kind": "title"},
        {"kind": "image", "source": "ct_head", "sentences": 2, "min_duration": 0},
        {"kind": "cine", "source": "us_cine", "sentences": 1, "min_duration": 0},
    ],
}
TRUTH_KEYS = {
    "video_id", "kind", "expected", "expected_reason", "domain", "static_domain", "fps", "width", "height",
    "n_frames", "duration", "seed", "segments", "scene_cuts", "stable_intervals", "speech", "cursor", "pointing",
    "webcam_box", "icon_box", "title", "channel", "query_domain",
}


def _decode(path: Path) -> tuple[np.ndarray, np.ndarray]:
    gray = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo",
                           "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(SR), "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(gray, np.uint8).reshape(-1, H, W), np.frombuffer(pcm, np.int16).astype(float)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo_video")
    for run in ("a", "b"):
        video.build_video(SPEC, 7, str(d / f"{run}.mp4"), str(d / f"{run}.json"), fps=FPS, size=(W, H))
    with mock.patch.object(video.yuv420, "converter", lambda: None):  # no libswscale to load: RGB piped
        video.build_video(SPEC, 7, str(d / "rgb.mp4"), str(d / "rgb.json"), fps=FPS, size=(W, H))
    frames, audio = _decode(d / "a.mp4")
    return {"dir": d, "truth": read_json(d / "a.json"), "frames": frames, "audio": audio}


def test_two_builds_are_byte_identical(built):
    d = built["dir"]
    for run in ("b", "rgb"):
        assert (d / "a.mp4").read_bytes() == (d / f"{run}.mp4").read_bytes()
        assert (d / "a.json").read_bytes() == (d / f"{run}.json").read_bytes()
    assert not [p.name for p in d.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_truth_schema_and_stream_geometry(built):
    t, frames = built["truth"], built["frames"]
    assert set(t) == TRUTH_KEYS
    assert (t["kind"], t["expected"], t["expected_reason"], t["static_domain"]) == ("positive", "keep", None, True)
    assert (t["width"], t["height"], t["fps"]) == (W, H, FPS)
    assert len(frames) == t["n_frames"] == len(t["cursor"]["x"]) == len(t["cursor"]["y"])
    assert t["duration"] == pytest.approx(t["n_frames"] / FPS, abs=1e-3)
    assert len(built["audio"]) / SR == pytest.approx(t["duration"], abs=0.05)
    segs = t["segments"]
    assert [s["kind"] for s in segs] == ["title", "image", "cine"]
    assert segs[0]["start_frame"] == 0 and segs[-1]["end_frame"] == t["n_frames"]
    assert all(a["end_frame"] == b["start_frame"] for a, b in zip(segs, segs[1:]))
    assert t["scene_cuts"] == [s["start"] for s in segs[1:]]
    assert t["stable_intervals"] == [[s["start"], s["end"]] for s in segs if s["kind"] != "cine"]
    assert [s["medical"] for s in segs] == [False, True, True]


def test_cursor_is_drawn_at_the_truth_tip(built):
    """Around the truth tip, a frame differs strongly from a frame of the same segment with the cursor elsewhere."""
    t, frames = built["truth"], built["frames"]
    cx, cy = np.array(t["cursor"]["x"]), np.array(t["cursor"]["y"])
    checked = 0
    for seg in t["segments"]:
        if seg["kind"] == "cine":
            continue
        idx = np.arange(seg["start_frame"], seg["end_frame"])
        for f in idx[::7]:
            far = idx[np.hypot(cx[idx] - cx[f], cy[idx] - cy[f]) > 40]
            if not len(far):
                continue
            g = far[np.argmin(np.abs(far - f))]
            patch = lambda k: frames[k, cy[f]:cy[f] + 18, cx[f]:cx[f] + 10].astype(int)  # noqa: E731
            assert np.abs(patch(f) - patch(g)).max() > 100, f  # white fill / black outline vs background
            # the tip itself: the 3x3 around it holds sprite pixels (a shifted sprite would not)
            near = np.abs(frames[f, cy[f]:cy[f] + 3, cx[f]:cx[f] + 3].astype(int) - frames[g, cy[f]:cy[f] + 3, cx[f]:cx[f] + 3])
            assert near.max() > 60, f
            checked += 1
    assert checked > 20


def test_cursor_avoids_the_webcam_and_pointing_boxes_are_exact(built):
    t = built["truth"]
    cx, cy = np.array(t["cursor"]["x"]), np.array(t["cursor"]["y"])
    wx0, wy0, wx1, wy1 = t["webcam_box"]
    assert np.all((cx + 14 < wx0) | (cy + 22 < wy0))
    assert len(t["pointing"]) == 2
    for p in t["pointing"]:
        u = t["speech"][p["utterance"]]
        assert u["roi"] and (u["start"], u["end"], u["segment"]) == (p["start"], p["end"], p["segment"])
        f = np.arange(int(np.ceil(p["start"] * FPS)), int(np.floor(p["end"] * FPS)) + 1)
        assert p["box"] == [cx[f].min(), cy[f].min(), cx[f].max(), cy[f].max()]
        x0, y0, x1, y1 = p["box"]
        ix0, iy0, ix1, iy1 = p["image_box"]
        assert ix0 <= x0 and iy0 <= y0 and x1 <= ix1 and y1 <= iy1
        assert 20 <= max(x1 - x0, y1 - y0) <= 120  # a scribble of radius ~10-60 px
        assert np.all(np.hypot(np.diff(cx[f]), np.diff(cy[f])) > 0)  # keeps moving while the sentence is spoken


def test_scene_cuts_are_the_only_big_changes(built):
    t, frames = built["truth"], built["frames"].astype(np.int16)
    diff = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))  # diff[k]: frame k -> k+1
    cuts = [s["start_frame"] for s in t["segments"][1:]]
    for f in cuts:
        assert diff[f - 1] > 8, f
    cine = next(s for s in t["segments"] if s["kind"] == "cine")
    other = [k for k in range(len(diff)) if k + 1 not in cuts and not cine["start_frame"] <= k + 1 < cine["end_frame"]]
    assert diff[other].max() < 1.5
    assert diff[cine["start_frame"]:cine["end_frame"] - 1].mean() > diff[other].mean()  # the cine moves


def test_stable_intervals_are_constant_apart_from_distractors(built):
    t, frames = built["truth"], built["frames"]
    cx, cy = np.array(t["cursor"]["x"]), np.array(t["cursor"]["y"])
    for seg in t["segments"]:
        if seg["kind"] == "cine":
            continue
        clip = frames[seg["start_frame"]:seg["end_frame"]].astype(np.int16)
        mask = np.ones(clip.shape[1:], bool)
        for x0, y0, x1, y1 in (t["webcam_box"], t["icon_box"]):
            mask[max(0, y0 - 4):y1 + 4, max(0, x0 - 4):x1 + 4] = False
        for f in range(seg["start_frame"], seg["end_frame"]):  # everywhere the cursor went (codec trails)
            mask[max(0, cy[f] - 6):cy[f] + 28, max(0, cx[f] - 6):cx[f] + 20] = False
        residual = np.abs(clip - np.median(clip, axis=0))[:, mask]
        assert mask.mean() > 0.5
        assert np.percentile(residual, 99.9) <= 10 and residual.mean() < 1.0  # codec and noise only


def test_webcam_moves_every_second(built):
    t, frames = built["truth"], built["frames"].astype(np.int16)
    x0, y0, x1, y1 = t["webcam_box"]
    cam = frames[:, y0:y1, x0:x1]
    moving = np.abs(np.diff(cam[::FPS // 2], axis=0)).mean(axis=(1, 2))
    assert (moving > 1.0).mean() > 0.8


def test_audio_is_speech_inside_utterances_and_silent_outside(built):
    t, audio = built["truth"], built["audio"]
    spoken = np.zeros(len(audio), bool)
    for u in t["speech"]:
        seg = audio[int(u["start"] * SR):int(u["end"] * SR)]
        assert np.sqrt(np.mean(seg ** 2)) > 1000, u["text"]
        for w in u["words"]:
            assert u["start"] <= w["start"] < w["end"] <= u["end"]
            assert np.sqrt(np.mean(audio[int(w["start"] * SR):int(w["end"] * SR)] ** 2)) > 300, w
        spoken[max(0, int(u["start"] * SR) - 1600):int(u["end"] * SR) + 1600] = True  # 100 ms codec margin
    assert len(t["speech"]) == 4 and sum(u["roi"] for u in t["speech"]) == 2
    assert np.abs(audio[~spoken]).max() < 300


def test_plan_covers_the_corpus():
    plan = video.load_plan(REPO / "resources/demo/videos.yaml")
    kinds = [s["kind"] for s in plan]
    positives = [s for s in plan if s["kind"] == "positive"]
    assert len(plan) >= 12 and {"no_speech", "non_medical", "too_short"} <= set(kinds)
    assert len(positives) >= 9 and len({s["domain"] for s in positives}) >= 6
    assert {s["domain"] for s in positives} <= set(DOMAINS)
    assert any(seg["kind"] == "cine" for s in positives for seg in s["segments"])
    layout = video.Layout(1280, 720)
    for spec in plan:  # every seed finds fresh sentences and a visible ROI for every image
        for seed in range(10):
            segments = video._script(spec, layout, video._Picker(np.random.default_rng(seed)))
            assert all(seg.lines for seg in segments)


def test_video_seed_is_stable():
    assert video.video_seed(1, "a") == video.video_seed(1, "a") != video.video_seed(1, "b")
    assert video.video_seed(20250107, "x") == 9934505304650909231


# ---- cursor styles and a scrolling viewer ---------------------------------------------------------

STACK_SPEC = {**SPEC, "id": "unit_stack", "cursor": "disc",
              "segments": [{"kind": "title"},
                           {"kind": "stack", "source": "ct_head", "stack": ["ct_spine"], "sentences": 2, "min_duration": 0}]}


@pytest.mark.parametrize("name", sorted(video.CURSOR_STYLES))
def test_each_cursor_style_has_its_hot_spot_where_the_pointer_designates(name):
    s = video.CURSOR_STYLES[name]
    a, (hx, hy) = s.alpha, s.hotspot
    left, up, right, down = s.extent()
    assert (left, up) == (hx, hy) and (right + 1 + hx, down + 1 + hy) == a.shape[::-1]
    if name in ("arrow", "hand"):  # the tip: in the topmost row of the pointer, the middle of the fingertip
        top = np.flatnonzero(a[0])
        assert hy == 0 and a[0, hx] == 1 and abs(top.mean() - hx) <= 1 and len(top) <= 4
    elif name == "ibeam":  # the middle of a symmetric bar
        assert np.array_equal(a, a[::-1]) and np.array_equal(a, a[:, ::-1]) and (hx, hy) == ((a.shape[1] - 1) // 2, (a.shape[0] - 1) // 2)
    else:  # the centre of the circle: up and left of it (the arrow points right and down) the circle is symmetric
        r = {"disc": video.HIGHLIGHT_RADIUS, "ring": video.RING_RADIUS, "laser": video.LASER_RADIUS}[name]
        a, hx, hy = np.pad(a, 4), hx + 4, hy + 4  # room around the sprite
        assert a[hy, hx - r + 1] == a[hy - r + 1, hx] > 0.3 and a[hy, hx - r - 3] == a[hy - r - 3, hx] == 0
        if name == "laser":  # no pointer on top: the whole dot is symmetric
            assert np.array_equal(a, a[::-1]) and np.array_equal(a, a[:, ::-1])
    assert s.opaque == (name in ("arrow", "hand", "ibeam"))


@pytest.fixture(scope="module")
def stacked(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo_stack")
    video.build_video(STACK_SPEC, 7, str(d / "s.mp4"), str(d / "s.json"), fps=FPS, size=(W, H))
    rgb = subprocess.run(["ffmpeg", "-v", "error", "-i", str(d / "s.mp4"), "-fps_mode", "passthrough", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return read_json(d / "s.json"), np.frombuffer(rgb, np.uint8).reshape(-1, H, W, 3)


def test_stack_pages_under_the_cursor_then_holds_its_source(stacked):
    t, frames = stacked
    seg = t["segments"][1]
    pages = seg["pages"]
    assert seg["kind"] == "stack" and len(pages) == video.STACK_PAGES and pages[-1][1] == "ct_head"
    assert {p[1] for p in pages} == {"ct_head", "ct_spine"} and seg["still_frames"] == [pages[-1][0], seg["end_frame"]]
    assert t["stable_intervals"][1:] == [[round(pages[-1][0] / FPS, 3), seg["end"]]] and t["segments"][0]["pages"] == []
    x0, y0, x1, y1 = seg["image_box"]
    pic = frames[:, y0:y1, x0:x1].astype(np.int16)
    change = np.abs(np.diff(pic, axis=0)).mean(axis=(1, 2, 3))  # change[k]: frame k -> k+1
    for (f, now), (_, before) in zip(pages[1:], pages):  # every page flip changes the picture
        assert now != before and change[f - 1] > 5, f
    assert change[pages[-1][0]:].max() < 3  # still after the last page (noise, cursor, codec)
    cx, cy = np.array(t["cursor"]["x"]), np.array(t["cursor"]["y"])
    f0, f1, hold = pages[0][0], pages[-1][0], seg["start_frame"] + int(video.HOLD * FPS)
    assert (x0 <= cx[f0:f1]).all() and (cx[f0:f1] < x1).all() and (y0 <= cy[f0:f1]).all() and (cy[f0:f1] < y1).all()
    start = seg["start_frame"]  # the cursor came to rest over the picture before the cut
    assert f0 < hold < f1 and np.ptp(cx[start:hold]) == np.ptp(cy[start:hold]) == 0  # pages under a still cursor ...
    assert np.ptp(cx[hold:f1]) + np.ptp(cy[hold:f1]) > 20  # ... then under a moving one
    assert len(t["pointing"]) == 1 and t["pointing"][0]["start"] * FPS > f1  # points once the stack holds


def test_highlight_disc_is_centred_on_the_truth_hot_spot(stacked):
    t, frames = stacked
    cx, cy = np.array(t["cursor"]["x"]), np.array(t["cursor"]["y"])
    assert t["cursor"]["style"] == "disc"
    r, checked = video.HIGHLIGHT_RADIUS, 0
    for f in range(0, len(frames), 11):
        x, y = cx[f], cy[f]
        px = frames[f].astype(int)
        yellow = lambda v: v[0] + v[1] - 2 * v[2]  # noqa: E731  (R + G - 2B: high for yellow, ~0 for grey)
        inside = [px[y, x - r + 4], px[y - r + 4, x], px[y + r - 4, x - 4]]
        outside = [px[y, x - r - 5], px[y - r - 5, x], px[y + r + 5, x]]
        if min(yellow(v) for v in inside) > 60 and max(yellow(v) for v in outside) < 40:
            checked += 1
    assert checked >= 0.8 * len(range(0, len(frames), 11))
