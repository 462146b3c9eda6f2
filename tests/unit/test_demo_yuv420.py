"""The demo's RGB -> YUV 4:2:0 conversion: what ffmpeg's own conversion gives, also when redone box by box."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from mednarratives_demo.yuv420 import Converter

W, H = 344, 200  # not a multiple of the column step: boxes at the right edge are clipped


def _picture(rng) -> np.ndarray:
    """Smooth gradients, flat areas and noise: the chroma filter's rounding shows on each."""
    yy, xx = np.mgrid[:H, :W]
    rgb = np.stack([xx * 255 // W, yy * 255 // H, (xx + yy) % 256], axis=2).astype(np.uint8)
    rgb[40:120, 60:200] = rng.integers(0, 256, (80, 140, 3))
    rgb[150:, 250:] = (200, 30, 90)
    return rgb


def _ffmpeg_yuv(frames: list[np.ndarray]) -> list[np.ndarray]:
    """The planes ffmpeg's command line makes of RGB frames for a yuv420p encoder (as the demo's encoder did)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-i", "-",
                          "-pix_fmt", "yuv420p", "-f", "rawvideo", "-"],
                         input=b"".join(f.tobytes() for f in frames), capture_output=True, check=True).stdout
    return list(np.frombuffer(raw, np.uint8).reshape(len(frames), -1))


def _flat(planes) -> np.ndarray:
    return np.concatenate([p.ravel() for p in planes])


@pytest.fixture(scope="module")
def converter():
    with Converter() as conv:
        yield conv


def test_conversion_is_ffmpegs(converter):
    rng = np.random.default_rng(3)
    frames = [_picture(rng), rng.integers(0, 256, (H, W, 3), dtype=np.uint8)]
    for frame, expected in zip(frames, _ffmpeg_yuv(frames)):
        assert np.array_equal(_flat(converter.convert(frame)), expected)


@pytest.mark.parametrize("rows, cols", [
    (slice(0, 7), slice(0, 9)),          # top-left corner
    (slice(191, 200), slice(330, 344)),  # bottom-right corner, clipped width
    (slice(37, 58), slice(101, 133)),    # odd edges inside the noise
    (slice(95, 96), slice(3, 4)),        # one pixel
    (slice(1, 199), slice(17, 19)),      # a column over the whole height
])
def test_box_update_equals_a_whole_conversion(converter, rows, cols):
    rng = np.random.default_rng(4)
    base = _picture(rng)
    planes = tuple(p.copy() for p in converter.convert(base))
    frame = base.copy()
    frame[rows, cols] = rng.integers(0, 256, frame[rows, cols].shape)
    converter.update(planes, frame, (rows, cols))
    assert np.array_equal(_flat(planes), _flat(converter.convert(frame)))
    assert not np.array_equal(_flat(planes), _flat(converter.convert(base)))  # the box did change the planes


def test_overlapping_boxes_each_updated_from_the_final_frame(converter):
    rng = np.random.default_rng(5)
    base = _picture(rng)
    planes = tuple(p.copy() for p in converter.convert(base))
    frame = base.copy()
    boxes = [(slice(50, 90), slice(40, 80)), (slice(70, 110), slice(70, 130)), (slice(88, 92), slice(0, W))]
    for rows, cols in boxes:
        frame[rows, cols] = rng.integers(0, 256, frame[rows, cols].shape)
    for box in boxes:
        converter.update(planes, frame, box)
    assert np.array_equal(_flat(planes), _flat(converter.convert(frame)))


def test_odd_sizes_are_refused(converter):
    with pytest.raises(ValueError, match="even-sized"):
        converter.convert(np.zeros((H, W - 1, 3), np.uint8))
