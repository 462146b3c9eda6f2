"""median_u8: exact lower median per pixel, with and without a validity mask, gray and colour."""

import numpy as np
import pytest

from mednarratives.frames.median import median_u8


def reference(frames, valid=None):
    """Sort each pixel's valid values and take the (count - 1) // 2-th."""
    n = len(frames)
    median, count = np.zeros(frames.shape[1:], np.uint8), np.zeros(frames.shape[1:], np.uint32)
    for idx in np.ndindex(*frames.shape[1:]):
        keep = np.ones(n, bool) if valid is None else valid[(slice(None),) + idx[:valid.ndim - 1]]
        values = np.sort(frames[(slice(None),) + idx][keep])
        count[idx] = len(values)
        median[idx] = values[(len(values) - 1) // 2] if len(values) else 0
    return median, count


@pytest.mark.parametrize("n", [1, 2, 5, 50, 51])
def test_matches_the_sorted_reference(n):
    rng = np.random.default_rng(n)
    gray = rng.integers(0, 256, (n, 11, 9), dtype=np.uint8)
    got = median_u8(gray)
    want = reference(gray)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    if n % 2:
        assert np.array_equal(got[0], np.median(gray, axis=0))
    valid = rng.random((n, 11, 9)) > 0.3
    got, want = median_u8(gray, valid), reference(gray, valid)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    colour = rng.integers(0, 256, (n, 7, 5, 3), dtype=np.uint8)
    valid = rng.random((n, 7, 5)) > 0.2
    got, want = median_u8(colour, valid), reference(colour, valid)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_extremes_and_fully_masked_pixels():
    frames = np.array([[[0, 255]], [[255, 255]], [[0, 0]]], np.uint8)
    valid = np.array([[[True, False]], [[True, False]], [[True, False]]])
    median, count = median_u8(frames, valid)
    assert median.tolist() == [[0, 0]] and count.tolist() == [[3, 0]]


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        median_u8(np.zeros((3, 4, 4), np.float32))
    with pytest.raises(ValueError):
        median_u8(np.zeros((3, 4, 4), np.uint8), np.ones((3, 5, 4), bool))


@pytest.mark.parametrize("n", [255, 256, 301, 600])
def test_counts_past_one_uint8_block(n):
    """More frames than a uint8 partial count holds: the blocks add up (no wrap-around)."""
    rng = np.random.default_rng(n)
    gray = rng.integers(0, 256, (n, 6, 5), dtype=np.uint8)
    gray[: n // 2 + 1, 0, 0] = 7  # one value holds the majority: every block counts it below the higher candidates
    valid = rng.random((n, 6, 5)) > 0.3
    for mask in (None, valid):
        got, want = median_u8(gray, mask), reference(gray, mask)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_a_known_unmasked_median_is_used_as_given():
    rng = np.random.default_rng(3)
    colour = rng.integers(0, 256, (9, 7, 5, 3), dtype=np.uint8)
    valid = rng.random((9, 7, 5)) > 0.2
    valid[:, 0, 0] = True  # one pixel never masked: it keeps the given value
    unmasked = median_u8(colour)[0]
    got = median_u8(colour, valid, unmasked=unmasked)
    want = median_u8(colour, valid)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    marked = unmasked.copy()
    marked[0, 0] = 1
    assert median_u8(colour, valid, unmasked=marked)[0][0, 0].tolist() == [1, 1, 1]


def test_video_like_frames_and_strided_views():
    """Mostly repeated values (the guess holds) with a few changing pixels, given as every 3rd frame of a run."""
    rng = np.random.default_rng(5)
    frames = np.repeat(rng.integers(0, 256, (1, 12, 10), dtype=np.uint8), 90, 0)
    frames[rng.random(frames.shape) < 0.1] += 1
    frames[:, 3:6, 4:7] = rng.integers(0, 256, (90, 3, 3), dtype=np.uint8)  # a cursor's path
    sample = frames[::3]
    got, want = median_u8(sample), reference(sample)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
