"""frames.follow: the cursor followed by its appearance through frames where the background changes."""

import numpy as np

from mednarratives.frames.follow import Follower, find, template

H, W = 60, 80
ARROW = np.array([[1, 0, 0, 0],
                  [1, 1, 0, 0],
                  [1, 1, 1, 0],
                  [1, 1, 1, 1],
                  [1, 1, 0, 0],
                  [1, 0, 1, 0]], bool)


def frame(x, y, seed):
    """A noisy, ever-changing background (a cine) with a white arrow whose tip is at (x, y), grey chroma."""
    rng = np.random.default_rng(seed)
    luma = rng.integers(20, 120, (H, W)).astype(np.uint8)
    luma[y:y + ARROW.shape[0], x:x + ARROW.shape[1]][ARROW] = 235
    return luma, np.full((H, W // 2), 128, np.uint8)


def blob_at(x, y):
    return ARROW, x, y


def test_find_locates_the_template_on_a_new_background():
    tpl = template(*frame(10, 10, 0), ARROW, 10, 10, (10.0, 10.0))
    x, y, rms = find(tpl, *frame(30, 25, 1), (20.0, 20.0), 20)
    assert (x, y) == (30.0, 25.0) and rms < 1


def test_a_confirmed_anchor_is_followed_forwards_and_backwards_and_an_unconfirmed_one_is_not():
    path = [(5 + 3 * i, 8 + 2 * i) for i in range(12)]
    follower = Follower(max_step_px=10, max_rms=20, max_pending=100, templates=4)
    for i, (x, y) in enumerate(path):
        anchor = i in (4, 5, 9)  # frames with a point from background subtraction
        follower.add(i, frame(x, y, i), (float(x), float(y)) if anchor else None, blob_at(x, y) if anchor else None)
    follower.finish()
    # 4 is not confirmed (nothing before it), 5 is (4's arrow, moved): 6-8 forwards, 0-3 backwards once 5 confirms 4
    assert sorted(follower.xy) == list(range(12))
    assert all(follower.xy[i] == tuple(map(float, path[i])) for i in range(12))

    lone = Follower(max_step_px=10, max_rms=20, max_pending=100, templates=4)
    for i, (x, y) in enumerate(path):
        lone.add(i, frame(x, y, i), (float(x), float(y)) if i == 4 else None, blob_at(x, y) if i == 4 else None)
    lone.finish()
    assert sorted(lone.xy) == [4]  # one sighting is no evidence: no point rather than a wrong one
