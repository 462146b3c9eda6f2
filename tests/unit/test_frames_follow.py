"""frames.follow: the cursor followed by its appearance through frames where the background changes."""

from dataclasses import replace

import numpy as np

from mednarratives.frames.cursor import TraceParams
from mednarratives.frames.follow import Follower, find, template

H, W = 60, 80
ARROW = np.array([[1, 0, 0, 0],
                  [1, 1, 0, 0],
                  [1, 1, 1, 0],
                  [1, 1, 1, 1],
                  [1, 1, 0, 0],
                  [1, 0, 1, 0]], bool)


def follow_params(max_step_px, near_px):
    return replace(TraceParams(), max_step_px=max_step_px, follow_max_rms=20, follow_templates=4, follow_near_px=near_px,
                   lost_frames=3, follow_dropped_max_rms=10, follow_content_ratio=2,
                   follow_confirm_contrast=0.65)


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


def test_the_luma_screen_drops_only_matches_beyond_the_limit():
    """find(..., within): the same answer as without wherever that is within the limit (even just), None only
    where not."""
    tpl = template(*frame(10, 10, 0), ARROW, 10, 10, (10.0, 10.0))
    seen = set()
    for seed in range(30):
        rng = np.random.default_rng(seed)
        x, y = 5 + seed % 50, 5 + seed % 40
        luma, chroma = frame(x, y, seed + 1)
        if seed % 3 == 0:  # no cursor: nothing matches
            luma = rng.integers(20, 120, (H, W)).astype(np.uint8)
        elif seed % 3 == 1:  # the cursor in another colour: its luma matches, Y + U + V do not
            chroma = np.full_like(chroma, 200)
        else:  # a blurred cursor: off by some codes
            luma[y:y + ARROW.shape[0], x:x + ARROW.shape[1]][ARROW] -= rng.integers(0, 60, ARROW.sum()).astype(np.uint8)
        full = find(tpl, luma, chroma, (30.0, 25.0), 40)
        for within in (full[2] * 1.001, full[2] * 0.9, 25.0):
            screened = find(tpl, luma, chroma, (30.0, 25.0), 40, within)
            assert screened == full if full[2] <= within else screened in (None, full)
            seen.add((full[2] <= within, screened is None))
    assert seen == {(True, False), (False, True), (False, False)}  # kept, screened out, alike in luma only


def test_a_confirmed_anchor_is_followed_forwards_and_backwards_and_an_unconfirmed_one_is_not():
    path = [(5 + 3 * i, 8 + 2 * i) for i in range(12)]
    follower = Follower(follow_params(max_step_px=10, near_px=16), max_pending=100)
    for i, (x, y) in enumerate(path):
        anchor = i in (4, 5, 9)  # frames with a point from background subtraction
        follower.add(i, frame(x, y, i), (float(x), float(y)) if anchor else None, blob_at(x, y) if anchor else None)
    follower.finish()
    # 4 is not confirmed (nothing before it), 5 is (4's arrow, moved): 6-8 forwards, 0-3 backwards once 5 confirms 4
    assert sorted(follower.xy) == list(range(12))
    assert all(follower.xy[i] == tuple(map(float, path[i])) for i in range(12))

    lone = Follower(follow_params(max_step_px=10, near_px=16), max_pending=100)
    for i, (x, y) in enumerate(path):
        lone.add(i, frame(x, y, i), (float(x), float(y)) if i == 4 else None, blob_at(x, y) if i == 4 else None)
    lone.finish()
    assert lone.xy == {}  # one sighting is no evidence: no point rather than a wrong one


def test_a_resting_cursor_is_followed_back_where_a_ui_change_was_picked_instead():
    """Frames 0-5: the arrow rests at (10, 20) while background subtraction picks a UI change (a square that
    toggles at (60, 40), never met elsewhere: never confirmed); from frame 6 it moves 6 px a frame and is picked.
    The resting frames get the arrow, followed back from the first confirmed pick; where the arrow is hidden
    while it rests, they get no point (neither the UI change nor a loose match)."""
    def square(luma, on):
        if on:
            luma[40:44, 60:64] = 200
        return luma

    path = [(10, 20)] * 6 + [(10 + 6 * k, 20 + 2 * k) for k in range(1, 7)]
    for hidden in (False, True):
        follower = Follower(follow_params(max_step_px=10, near_px=16), max_pending=100)
        for i, (x, y) in enumerate(path):
            luma, chroma = frame(x, y, i)
            if hidden and i < 6:
                luma = np.random.default_rng(i).integers(20, 120, (H, W)).astype(np.uint8)  # no arrow
            if i < 6:
                follower.add(i, (square(luma, i % 2 == 0), chroma), (60.0, 40.0), (np.ones((4, 4), bool), 60, 40))
            else:
                follower.add(i, (luma, chroma), (float(x), float(y)), blob_at(x, y))
        follower.finish()
        assert all(follower.xy[i] == tuple(map(float, path[i])) for i in range(6, 12))
        if hidden:
            assert not any(i in follower.xy for i in range(6))
        else:
            assert all(follower.xy[i] == (10.0, 20.0) for i in range(6))


def test_a_look_alike_in_the_picture_is_not_followed():
    """An arrow icon painted in the picture at (40, 30) (in every frame): the cursor, picked on frames 0-3 as it
    moves, is hidden on frames 4-7; the icon lies within a frame's step of its last position but is in the anchors'
    frames as well, where the cursor was elsewhere: the picture, so those frames get no point."""
    path = [(20 + 4 * i, 24 + i) for i in range(4)]
    follower = Follower(follow_params(max_step_px=30, near_px=8), max_pending=100)
    for i in range(8):
        if i < 4:
            luma, chroma = frame(*path[i], i)
        else:
            luma, chroma = frame(*path[0], i)
            luma[:] = np.random.default_rng(i).integers(20, 120, (H, W))  # the cursor hidden
        luma[30:30 + ARROW.shape[0], 40:40 + ARROW.shape[1]][ARROW] = 235  # the icon
        point, blob = (tuple(map(float, path[i])), blob_at(*path[i])) if i < 4 else (None, None)
        follower.add(i, (luma, chroma), point, blob)
    follower.finish()
    assert sorted(follower.xy) == [0, 1, 2, 3]


def test_beyond_near_px_every_template_is_tried():
    """The cursor's look changes (an arrow on frames 0-1, a hand-like block from frame 2 on): the arrow's template
    is the most successful (it confirmed frame 1), yet the block moving 10 px a frame (beyond near_px) on frames
    4-6 without a point is found by the block's template."""
    block = np.zeros((6, 4), bool)
    block[:, 1:3] = True
    block[3:, :] = True

    def drawn(x, y, seed, look):
        luma, chroma = frame(x, y, seed) if look is ARROW else (np.random.default_rng(seed).integers(20, 120, (H, W))
                                                                 .astype(np.uint8), np.full((H, W // 2), 128, np.uint8))
        luma[y:y + look.shape[0], x:x + look.shape[1]][look] = 235
        return luma, chroma

    path = [(5 + 10 * i, 10 + 2 * i) for i in range(7)]
    follower = Follower(follow_params(max_step_px=30, near_px=8), max_pending=100)
    for i, (x, y) in enumerate(path):
        look = ARROW if i < 2 else block
        anchor = i < 4
        point, blob = ((float(x), float(y)), (look, x, y)) if anchor else (None, None)
        follower.add(i, drawn(x, y, i, look), point, blob)
    follower.finish()
    assert all(follower.xy.get(i) == (float(x), float(y)) for i, (x, y) in enumerate(path))


def test_trace_video_follows_the_cursor_through_a_stretch_without_stable_chunk(tmp_path):
    """2 s grey still, 2 s of moving test pattern, 2 s grey still (160x120, 15 fps); a 7 x 9 cursor (white with a
    black outline) moves 4 px a frame at first, then rests, then moves 1 px a frame across the pattern and the second still."""
    import subprocess

    from PIL import Image

    from mednarratives.frames.chunks import ChunkParams
    from mednarratives.frames.video import VideoTraceParams, trace_video

    cursor = np.zeros((9, 7, 4), np.uint8)
    cursor[..., 3] = 255
    cursor[1:-1, 1:-1, :3] = 255
    Image.fromarray(cursor).save(tmp_path / "cursor.png")
    x = "if(lt(n,10),10+4*n,if(lt(n,20),50,30+n))"
    graph = ("color=c=gray:s=160x120:r=15:d=2[a];testsrc=s=160x120:r=15:d=2[b];color=c=gray:s=160x120:r=15:d=2[c];"
             f"[a][b][c]concat=n=3:v=1:a=0[bg];[bg][0:v]overlay=x='{x}':y=60:eval=frame[v]")
    path = tmp_path / "moving.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-filter_complex", graph, "-i", str(tmp_path / "cursor.png"), "-map", "[v]",
                    "-pix_fmt", "yuv420p", "-crf", "12", str(path)], check=True)
    res = trace_video(str(path), VideoTraceParams(scale=1.0, chunk=ChunkParams(min_duration_s=1.0)))
    n = res["n_frames"]
    expected = np.array([10 + 4 * i if i < 10 else 50 if i < 20 else 30 + i for i in range(n)], float)
    outside = res["track_chunk"] < 0  # (the overlay draws frame n at its n + 1 position: within 5 px)
    assert outside[30:60].all()  # the test pattern: no stable chunk
    found = ~np.isnan(res["track"][:, 0])
    good = found & (np.abs(res["track"][:, 0] - expected) <= 5) & (np.abs(res["track"][:, 1] - 60) <= 2)
    assert good[outside].mean() >= 0.9 and (found == good).all()


def test_a_look_alike_in_a_new_picture_is_not_followed_out_of_reach():
    """Anchors on frames 0-1 over a cine; from frame 2 a still picture with an arrow icon at (50, 30), which the
    anchors' frames never showed. The cursor is followed on frame 2, then flicked out of reach (hidden): the icon lies
    within a frame's step of its last position, but the frame the follow comes from shows it too, with the cursor
    elsewhere: the picture, so frames 3-5 get no point."""
    path = [(10, 20), (14, 22), (18, 24)]
    still = np.random.default_rng(100).integers(20, 120, (H, W)).astype(np.uint8)
    still[30:30 + ARROW.shape[0], 50:50 + ARROW.shape[1]][ARROW] = 235  # the icon
    follower = Follower(follow_params(max_step_px=40, near_px=8), max_pending=100)
    for i in range(6):
        luma, chroma = frame(*path[min(i, 2)], i)
        if i >= 2:
            luma = still.copy()
            if i == 2:
                luma[24:24 + ARROW.shape[0], 18:18 + ARROW.shape[1]][ARROW] = 235
        point, blob = (tuple(map(float, path[i])), blob_at(*path[i])) if i < 2 else (None, None)
        follower.add(i, (luma, chroma), point, blob)
    follower.finish()
    assert sorted(follower.xy) == [0, 1, 2] and follower.xy[2] == (18.0, 24.0)


def test_a_cursor_lost_out_of_reach_is_looked_for_over_the_whole_frame():
    """The pointer jumps farther than max_step_px and rests there (a slide change): once lost for lost_frames, the
    whole frame is searched (on the first frame given up on, then every lost_frames + 1 frames where the picture
    changed since the last search) and a close match taken (follow_reacquire_max_rms), not a looser one that would
    do to follow it from near."""
    path = [(5, 8), (8, 10)] + [(60, 45)] * 10
    for look, changing, shown, expected in ((235, True, 2, [0, 1] + list(range(6, 12))),  # found by the first search
                                            (207, True, 2, [0, 1]),                        # rms 16 over Y, U, V
                                            (235, True, 7, [0, 1, 10, 11]),    # shown after it: the next search
                                            (235, False, 7, [0, 1])):          # the picture stayed: no next search
        follower = Follower(follow_params(max_step_px=10, near_px=16), max_pending=100)
        for i, (x, y) in enumerate(path):
            luma, chroma = frame(x, y, i if changing else 0)
            if i >= 2:
                luma[y:y + ARROW.shape[0], x:x + ARROW.shape[1]][ARROW] = look if i >= shown else 60
            point = (float(x), float(y)) if i < 2 else None
            follower.add(i, (luma, chroma), point, blob_at(x, y) if i < 2 else None)
        follower.finish()
        assert sorted(follower.xy) == expected and all(follower.xy[i] == (60.0, 45.0) for i in expected[2:])


def test_after_frames_without_a_match_across_a_picture_change_only_a_close_match_is_taken():
    """Followed back across frames where the cursor is hidden: a close match before them is the cursor; a loose one
    (a look-alike spot of a photograph, still within follow_max_rms) is taken only where the picture stayed."""
    path = [(30, 20)] * 6 + [None, None, (34, 22), (38, 24)]
    everything = list(range(6)) + [8, 9]
    for look, changing, expected in ((235, True, everything), (207, True, [8, 9]),  # rms 0; 16 over Y, U, V
                                     (207, False, everything)):
        follower = Follower(follow_params(max_step_px=10, near_px=16), max_pending=100)
        for i, xy in enumerate(path):
            seed = i if changing else 0  # a new noise picture every frame: 33 codes apart on average
            if xy is None:
                luma, chroma = frame(0, 0, seed)
                luma[:ARROW.shape[0], :ARROW.shape[1]][ARROW] = 60  # no cursor
                follower.add(i, (luma, chroma))
                continue
            x, y = xy
            luma, chroma = frame(x, y, seed)
            anchor = i >= 8
            if not anchor:
                luma[y:y + ARROW.shape[0], x:x + ARROW.shape[1]][ARROW] = look
            follower.add(i, (luma, chroma), (float(x), float(y)) if anchor else None, blob_at(x, y) if anchor else None)
        follower.finish()
        assert sorted(follower.xy) == expected


def test_a_large_black_and_white_sprite_is_confirmed_within_its_contrast():
    """A black arrow with a white outline, confirmed at two places (frames 0, 1), then met at a third whose outline is
    half-covered (its edges at another sub-pixel position): the bank's templates differ from it by more than
    follow_max_rms (20) but by less than follow_confirm_contrast x their luma contrast: confirmed (its point
    kept), not without the rule."""
    sprite = np.full((8, 6), 235, np.uint8)
    sprite[1:7, 1:5] = 20  # black core inside a white outline
    mask = np.ones((8, 6), bool)

    def sighting(x, y, seed, blurred):
        luma, chroma = frame(0, 0, seed)
        luma[:8, :6] = luma[8:16, 6:12]  # no white arrow from `frame`
        look = sprite.copy()
        if blurred:
            look[0, ::2] = look[7, 1::2] = look[::2, 0] = 110
        luma[y:y + 8, x:x + 6] = look
        return luma, chroma

    points = {}
    for ratio in (0.0, 0.65):
        follower = Follower(replace(follow_params(max_step_px=30, near_px=16), follow_confirm_contrast=ratio), 100)
        for i, (x, y) in enumerate([(20, 20), (40, 30), (10, 40)]):
            follower.add(i, sighting(x, y, i, i == 2), (float(x), float(y)), (mask, x, y))
        follower.finish()
        points[ratio] = follower.xy
    tpl = template(*sighting(20, 20, 0, False), mask, 20, 20, (20.0, 20.0))
    rms = find(tpl, *sighting(10, 40, 2, True), (10.0, 40.0), 1)[2]
    assert 20 < rms < 0.65 * tpl.contrast
    assert points[0.0] == {0: (20.0, 20.0), 1: (40.0, 30.0)}
    assert points[0.65] == {0: (20.0, 20.0), 1: (40.0, 30.0), 2: (10.0, 40.0)}
