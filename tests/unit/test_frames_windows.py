"""frames.windows: the cursor found in short windows of still content, where no stable chunk exists."""

import numpy as np

from mednarratives.frames.cursor import TraceParams
from mednarratives.frames.windows import ShortWindows

H, W = 90, 120
ARROW = np.array([[1, 0, 0, 0, 0],
                  [1, 1, 0, 0, 0],
                  [1, 1, 1, 0, 0],
                  [1, 1, 1, 1, 0],
                  [1, 1, 1, 1, 1],
                  [1, 1, 1, 0, 0],
                  [1, 0, 1, 1, 0]], bool)


def page(seed, h=H, w=W):
    """A smooth grey picture (a scan), new on every page."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 160, (h // 10 + 1, w // 10 + 1)).astype(float)
    return np.kron(coarse, np.ones((10, 10)))[:h, :w].astype(np.uint8)


def frame(background, x, y, blink=False):
    luma = background.copy()
    luma[y:y + ARROW.shape[0], x:x + ARROW.shape[1]][ARROW] = 235
    if blink:  # a counter in the corner: on and off
        luma[80:86, 100:110] = 235
    return luma, np.full((luma.shape[0], luma.shape[1] // 2), 128, np.uint8)  # 4:2:0 chroma planes (U over V), grey


def feed(windows, pages, positions, blinks=()):
    """`pages`: the page shown on each frame; `positions`: the arrow's tip per frame."""
    for i, (p, (x, y)) in enumerate(zip(pages, positions)):
        windows.add(i, *frame(page(p), x, y, i in blinks), 0.5 if i and p != pages[i - 1] else 0.0)
    windows.close()


def test_each_window_gives_the_arrow_tip_on_the_frames_where_it_moves():
    """Pages changing every 4 frames (no stable chunk); the arrow moves 9 px a frame."""
    windows = ShortWindows(10.0, TraceParams(), max_frames=15)
    pages = [i // 4 for i in range(16)]
    positions = [(10 + 6 * i, 20 + 3 * i) for i in range(16)]
    feed(windows, pages, positions)
    assert windows.settled > 16
    for i, (x, y) in enumerate(positions):
        found = windows.point(i)
        assert found is not None and found[0] == (float(x), float(y))
        blob, x0, y0 = found[1]
        assert blob.sum() == ARROW.sum() and (x0, y0) == (x, y)


def test_no_anchor_from_a_ghost_where_the_pointer_rests():
    """Resting on 3 of a page's 4 frames, the arrow is in that page's median: where it moves, its resting spot is a
    ghost as large as the arrow (picked here: the first of equal blobs); no frame of that page is an anchor. The
    other pages are."""
    windows = ShortWindows(10.0, TraceParams(), max_frames=15)
    pages = [i // 4 for i in range(12)]
    positions = [(10 + 8 * i, 30) for i in range(4)] + [(60, 40)] * 3 + [(75, 50)] + [(10 + 8 * i, 60) for i in range(4)]
    feed(windows, pages, positions)
    assert [windows.point(i) is not None for i in range(12)] == [True] * 4 + [False] * 4 + [True] * 4


def test_a_pointer_arriving_at_or_leaving_its_rest_is_an_anchor():
    """Resting on 3 of a page's 4 frames, the arrow arrives in the first (or leaves in the last): that frame's pick is
    the arrow drawn there, not its resting spot in the median, and anchors the follower (which carries it through
    the rest); the frames where it rests have none."""
    for positions, moved in (([(25, 20)] + [(60, 40)] * 3, 4), ([(60, 40)] * 3 + [(75, 20)], 7)):
        windows = ShortWindows(10.0, TraceParams(), max_frames=15)
        pages = [i // 4 for i in range(12)]
        feed(windows, pages, [(10 + 8 * i, 30) for i in range(4)] + positions + [(10 + 8 * i, 60) for i in range(4)])
        assert windows.point(moved)[0] == tuple(map(float, positions[moved - 4]))
        assert all(windows.point(i) is None for i in range(4, 8) if i != moved)


def test_a_blinking_counter_is_not_the_pointer_and_short_runs_are_no_window():
    """A counter switching on and off three times in a window (a pointer passing switches a pixel twice) is masked: the arrow's tip is found. A page shown
    for fewer than window_min_frames frames is no window."""
    p = TraceParams()
    windows = ShortWindows(10.0, p, max_frames=15)
    pages = [0] * 8 + [1] * (p.window_min_frames - 1) + [2] * 4
    positions = [(10 + 7 * i, 25 + 2 * i) for i in range(len(pages))]
    feed(windows, pages, positions, blinks={0, 3, 6})
    assert all(windows.point(i)[0] == tuple(map(float, positions[i])) for i in range(8))
    assert all(windows.point(i) is None for i in range(8, 8 + p.window_min_frames - 1))


def test_a_long_calm_run_is_cut_and_dropped_windows_are_forgotten():
    windows = ShortWindows(10.0, TraceParams(), max_frames=5)
    positions = [(10 + 5 * i, 20 + 2 * i) for i in range(12)]
    feed(windows, [0] * 12, positions)
    assert windows.point(3)[0] == (25.0, 26.0) and windows.point(9)[0] == (55.0, 38.0)  # windows 0-4 and 5-9 ...
    assert windows.point(10) is None  # ... and 10-11 too short
    windows.drop(5)
    assert windows.point(3) is None and windows.point(7) is not None


def test_trace_video_anchors_the_cursor_where_no_stable_chunk_exists(tmp_path):
    """Pages (320 x 240) changing every 4 frames at 10 fps (never a stable chunk) under an arrow moving 9 px a frame: the
    per-frame track finds it by the short windows (without them: no point at all), with no stable chunk made."""
    import subprocess

    from mednarratives.frames.video import VideoTraceParams, trace_video

    positions = [(10 + 9 * (i % 10), 20 + 4 * (i % 10) + 10 * (i // 10 % 2)) for i in range(40)]
    frames = [np.repeat(frame(page(i // 4, 240, 320), x, y)[0][..., None], 3, axis=2) for i, (x, y) in enumerate(positions)]
    path = tmp_path / "pages.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "320x240", "-r", "10",
                    "-i", "-", "-pix_fmt", "yuv420p", "-crf", "10", str(path)], input=np.stack(frames).tobytes(), check=True)
    res = trace_video(str(path), VideoTraceParams(scale=1.0))
    assert res["chunks"] == [] and (res["track_chunk"] < 0).all()
    err = np.hypot(*(res["track"] - np.array(positions, float)).T)
    assert (err <= 2).mean() >= 0.8 and not (err > 10).any()
