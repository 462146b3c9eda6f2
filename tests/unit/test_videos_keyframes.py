"""Key-frames: ffmpeg scene detection (static domains) and PySceneDetect adaptive (non-static) on a generated
video with known cuts, the recall scoring function, and the thumbnail track."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from mednarratives.videos import keyframes as K

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")

FPS, W, H = 10, 160, 96
CUTS = [2.0, 4.5, 6.0]          # seconds; the video lasts 8 s


def _scene(rng: np.random.Generator, k: int) -> np.ndarray:
    """A dark slide with a textured picture whose place and content change per scene (like the demo)."""
    img = np.full((H, W, 3), 20, np.uint8)
    x0 = 10 + 30 * (k % 3)
    tex = rng.integers(0, 255, (8, 8, 1), dtype=np.uint8).repeat(8, 0).repeat(8, 1).repeat(3, 2)
    img[16:80, x0:x0 + 64] = tex
    return img


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    rng = np.random.default_rng(3)
    bounds = [0.0, *CUTS, 8.0]
    frames = []
    for k in range(len(bounds) - 1):
        base = _scene(rng, k)
        for i in range(int(round(bounds[k] * FPS)), int(round(bounds[k + 1] * FPS))):
            f = base.copy()
            cx = 5 + (i * 3) % (W - 10)     # a small moving cursor: motion that is not a cut
            f[50:54, cx:cx + 3] = 255
            frames.append(f)
    path = tmp_path_factory.mktemp("kf") / "cuts.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
                    "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(path)], input=np.stack(frames).tobytes(), check=True)
    return path


@pytest.mark.parametrize("method", ["ffmpeg_scene", "adaptive"])
def test_cuts_found(video, method):
    kf = K.extract(video, "ct" if method == "ffmpeg_scene" else "ultrasound",
                   {"default": {"width": 160, "min_scene_s": 0.5, "image_delay_s": 0.2}})
    assert kf.method == method
    assert kf.times[0] == 0.0
    score = K.match_cuts(kf.cuts, CUTS, tolerance=0.25)
    assert score["recall"] == 1.0, (kf.times, score)
    assert score["precision"] == 1.0, (kf.times, score)
    assert kf.images.shape == (len(kf.times), H, W, 3)
    assert kf.thumbs.shape[1:] == (32, 32)
    assert len(kf.thumbs) == pytest.approx(8 * 2, abs=1)   # thumb_fps 2 over 8 s


def test_keyframe_images_show_their_scene(video):
    kf = K.extract(video, "ultrasound", {"default": {"width": 160, "min_scene_s": 0.5, "image_delay_s": 0.2}})
    rng = np.random.default_rng(3)
    for k, img in enumerate(kf.images):
        want = _scene(rng, k).astype(float)
        # the key-frame image is the frame of its own scene, not of the previous one
        assert np.abs(img.astype(float) - want)[16:48].mean() < 25


def test_domain_parameters_override_defaults():
    p = K.params_for("ct", {"default": {"ffmpeg_threshold": 0.2}, "domains": {"ct": {"ffmpeg_threshold": 0.4}}})
    assert p["ffmpeg_threshold"] == 0.4
    assert K.params_for("mri", {"default": {"ffmpeg_threshold": 0.2}})["ffmpeg_threshold"] == 0.2
    assert K.is_static("xray") and not K.is_static("surgery")


def test_high_threshold_misses_cuts(video):
    kf = K.extract(video, "ct", {"default": {"width": 160, "ffmpeg_threshold": 0.99}})
    assert K.match_cuts(kf.cuts, CUTS)["recall"] < 1.0


def test_match_cuts_scoring():
    s = K.match_cuts([1.0, 5.2, 9.0], [1.1, 5.0, 7.0], tolerance=0.5)
    assert s["matched"] == 2 and s["missed"] == [7.0]
    assert s["recall"] == pytest.approx(2 / 3) and s["precision"] == pytest.approx(2 / 3)
    # one prediction cannot match two true cuts
    assert K.match_cuts([3.0], [2.9, 3.1], tolerance=0.5)["matched"] == 1
    assert K.match_cuts([], [])["recall"] == 1.0


def test_broken_file_raises_keyframe_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 20)
    with pytest.raises(K.KeyframeError):
        K.extract(bad, "ct")
