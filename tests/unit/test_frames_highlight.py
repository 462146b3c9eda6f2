"""frames.highlight: a recorder's highlight disc found by its recurring look, moving or resting."""

import numpy as np
import pytest

from mednarratives.frames.cursor import TraceParams
from mednarratives.frames.highlight import HighlightFinder, candidates

H, W = 90, 160  # chroma planes of a 320 x 180 working frame (each sample covers 2 x 2 working px)


def chroma(discs, seed):
    """U over V planes: grey with chroma noise, and filled discs (cx, cy, r, u, v) in chroma samples."""
    rng = np.random.default_rng(seed)
    u = 128 + rng.integers(-4, 5, (H, W))
    v = 128 + rng.integers(-4, 5, (H, W))
    yy, xx = np.mgrid[:H, :W]
    for cx, cy, r, du, dv in discs:
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        u[inside] = 128 + du
        v[inside] = 128 + dv
    return np.vstack([u, v]).astype(np.uint8)


def test_the_moving_disc_is_found_moving_and_resting_and_content_blobs_never_are():
    p = TraceParams()
    path = [(30 + 6 * i, 40 + i) for i in range(10)] + [(90, 49)] * 10  # moves, then rests
    f = HighlightFinder(p)
    found = []
    for i, (cx, cy) in enumerate(path):
        content = [(140, 15, 6, 40, -30),  # a round coloured structure that stays put
                   (20 + 3 * i, 75, 3 + i % 4, -10 - 3 * i, 30)]  # a colour jet: moves, but its size and colour change
        found.append(f.add(i, chroma([(cx, cy, 5, -45, 12)] + content, i)))
    assert found[0] is None and found[1] is None  # two sightings are no evidence yet
    for i in range(p.highlight_sightings - 1, len(path)):
        s = found[i]
        assert s is not None and abs(s.x - (2 * path[i][0] + 0.5)) <= 1 and abs(s.y - (2 * path[i][1] + 0.5)) <= 1
        blob, x0, y0 = s.blob
        assert blob.sum() == s.area and x0 <= s.x <= x0 + blob.shape[1]


def test_a_disc_that_never_moves_and_rings_are_not_highlights():
    f = HighlightFinder(TraceParams())
    assert all(f.add(i, chroma([(50, 50, 5, -45, 12)], i)) is None for i in range(10))
    yy, xx = np.mgrid[:H, :W]
    ring = chroma([], 0)
    ring[:H][np.abs(np.hypot(xx - 80, yy - 40) - 6) < 0.8] = 128 + 60
    assert candidates(0, ring, 25, 5.0, 1500, 0.7, 8) == []
    assert candidates(0, chroma([(80, 40, 1, 60, 0)], 0), 25, 5.0, 1500, 0.7, 8) == []  # a laser dot: too small
    two_tone = chroma([(80, 40, 6, -45, 12), (80, 43, 4, 20, 40)], 0)  # round, but not one colour (a face, a logo)
    assert candidates(0, two_tone, 25, 5.0, 1500, 0.7, 8) == []
    assert len(candidates(0, chroma([(80, 40, 6, -45, 12)], 0), 25, 5.0, 1500, 0.7, 8)) == 1


def test_a_small_laser_dot_of_any_colour_with_a_blended_rim_is_found():
    """A green or red laser dot (r 5 working px) whose rim blends with its halo: smaller than a disc, U and V vary
    inside it by more than a disc's colour tolerance; the finder takes it all the same, by the config's range."""
    p = TraceParams()
    for du, dv in ((-30, -55), (55, 10)):  # green, red
        f = HighlightFinder(p)
        found = []
        for i in range(8):
            cx, cy = 30 + 9 * i, 40 + 2 * i
            frame = chroma([(cx, cy, 2.5, du + du // 2, dv + dv // 2), (cx, cy, 1.5, du * 2, dv * 2)], i)
            found.append(f.add(i, frame))
        assert found[0] is None and all(s is not None for s in found[p.highlight_sightings - 1:])
        assert all(abs(s.x - (2 * (30 + 9 * s.index) + 0.5)) <= 1.5 for s in found if s is not None)


def test_alike_coloured_content_at_several_places_that_stays_put_never_is_a_highlight():
    """Several small coloured spots of one look (a photograph's details, Doppler speckles) at several places
    look like a disc seen at places apart; none of them moved, so none qualifies."""
    f = HighlightFinder(TraceParams())
    spots = [(20 + 30 * k, 20 + 12 * k, 3, -45, 40) for k in range(4)]
    assert all(f.add(i, chroma(spots, i)) is None for i in range(12))
    page = [(x + 7, y + 25, r, u, v) for x, y, r, u, v in spots]  # a page turn: the same spots elsewhere, again still
    assert all(f.add(i, chroma(page, i)) is None for i in range(12, 24))


def test_a_dot_resting_on_a_coloured_button_is_taken_apart_by_its_hue():
    """Once its look is known, a green dot that rests on a blue button (one saturated region of two colours,
    neither round nor one colour) is still found, at its own centre; the button alone never is."""
    p = TraceParams()
    f = HighlightFinder(p)
    for i in range(4):  # the look, confirmed on grey
        assert (f.add(i, chroma([(30 + 12 * i, 40, 2.5, -45, -70)], i)) is not None) == (i >= p.highlight_sightings - 1)
    yy, xx = np.mgrid[:H, :W]

    def on_button(dot, seed):
        frame = chroma([dot] if dot else [], seed)
        button = (np.abs(yy - 60) <= 4) & (xx >= 60) & (xx <= 140)
        frame[:H][button], frame[H:][button] = 128 + 34, 128 - 21
        if dot:
            inside = (xx - dot[0]) ** 2 + (yy - dot[1]) ** 2 <= dot[2] ** 2
            frame[:H][inside], frame[H:][inside] = 128 + dot[3], 128 + dot[4]
        return frame

    s = f.add(4, on_button((100, 61, 2.5, -45, -70), 4))
    assert s is not None and abs(s.x - (2 * 100 + 0.5)) <= 1 and abs(s.y - (2 * 61 + 0.5)) <= 1
    assert f.add(5, on_button(None, 5)) is None


def test_a_mask_repeated_from_the_last_frame_has_its_colours_read_again():
    f = HighlightFinder(TraceParams())
    assert [f.add(i, chroma([(cx, 40, 5, -45, 12)], 0)) is not None for i, cx in enumerate((30, 50, 70))] == [
        False, False, True]
    recoloured = chroma([(70, 40, 5, 45, 12)], 0)  # the same samples saturated (the same mask), another colour
    assert f.add(3, recoloured) is None
    again = f.add(4, chroma([(70, 40, 5, -45, 12)], 0))
    assert again is not None and again.u == candidates(4, chroma([(70, 40, 5, -45, 12)], 0), 35, 5.0, 1500, 0.7, 8)[0].u


def test_a_disc_circling_one_place_is_the_chunk_trace(tmp_path):
    """A recorder's disc looping around one spot for seconds toggles its pixels like a blinking distractor, so
    background subtraction keeps only pieces of it (their top as a pointer tip, a radius off); the disc's centre,
    found by its look, is the chunk's trace point."""
    import subprocess

    from mednarratives.frames.video import VideoTraceParams, trace_video

    w, h, fps, n, r = 640, 360, 30, 240, 20
    rng = np.random.default_rng(0)
    base = np.clip(128 + rng.normal(0, 6, (h // 8, w // 8, 1)), 0, 255).repeat(8, 0).repeat(8, 1).repeat(3, 2)
    t = np.arange(n) / fps
    cx, cy = 300 + 28 * np.cos(2 * np.pi * t / 1.2), 180 + 24 * np.sin(2 * np.pi * t / 1.2)
    yy, xx = np.mgrid[:h, :w]
    out = tmp_path / "disc.mp4"
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps),
                             "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p", str(out)],
                            stdin=subprocess.PIPE)
    for x, y in zip(cx, cy):
        a = 0.45 * np.clip(r + 0.5 - np.hypot(xx - x, yy - y), 0, 1)[:, :, None]
        proc.stdin.write(np.round(base * (1 - a) + np.array([255, 220, 0]) * a).astype(np.uint8).tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    res = trace_video(str(out), VideoTraceParams())
    pts = np.array([p for c in res["chunks"] for p in c.trace]).reshape(-1, 3)
    f = np.round(pts[:, 2] * fps).astype(int)
    err = np.hypot((pts[:, 0] + 0.5) * 2 - 0.5 - cx[f], (pts[:, 1] + 0.5) * 2 - 0.5 - cy[f])
    assert len(pts) >= 0.8 * n and (err <= 10).mean() >= 0.95


@pytest.mark.parametrize("scale", [1.0, 0.6])
def test_a_hand_pointer_of_one_saturated_colour_is_traced_at_its_fingertip(tmp_path, scale):
    """An orange hand cursor sprite (a coloured theme, white outline) is round enough and of one colour like a
    recorder's disc; its hot spot is still its fingertip, not its centre: at 40 px (box about square, a disc's
    size) and at 24 px (its colour region narrower than a disc on some frames, taller than a laser dot)."""
    import subprocess

    from mednarratives.frames.video import VideoTraceParams, trace_video

    w, h, fps = 640, 360, 10
    big = np.zeros((36, 34), bool)  # finger up, thumb left, round palm below (video px at scale 1)
    big[:18, 11:19] = True
    big[12:36, 5:34] = True
    big[17:27, :6] = True
    big[34:, 5:8] = big[34:, 31:] = False
    hand = big[(np.arange(round(36 * scale)) / scale).astype(int)][:, (np.arange(round(34 * scale)) / scale).astype(int)]
    hh, hw = hand.shape
    outline = np.zeros((hh + 4, hw + 4), bool)
    for dy in range(5):
        for dx in range(5):
            outline[dy:dy + hh, dx:dx + hw] |= hand
    tip = round(13 * scale)  # the fingertip's outline top, from the sprite's left
    path = [(100 + 12 * i, 80 + 5 * i) for i in range(20)] + [(340, 180)] * 10
    path += [(340 - 9 * i, 180 + 4 * i) for i in range(20)]
    out = tmp_path / "hand.mp4"
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps),
                             "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p", str(out)],
                            stdin=subprocess.PIPE)
    for x, y in path:  # the hot spot (x, y): the top of the fingertip's outline
        frame = np.full((h, w, 3), 16, np.uint8)
        frame[y:y + hh + 4, x - tip:x - tip + hw + 4][outline] = 245
        frame[y + 2:y + hh + 2, x - tip + 2:x - tip + hw + 2][hand] = (255, 140, 0)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    res = trace_video(str(out), VideoTraceParams())
    truth = np.array(path, float)
    track = (res["track"][:len(path)] + 0.5) * 2 - 0.5  # working px to video px
    err = np.hypot(*(track - truth).T)
    found = ~np.isnan(err)
    # the small sprite's region is 6 x 6 chroma samples on some phases of the first glide, too coarse to show the
    # notch between fingertip and thumb: taken for a disc there (its centre) on about a quarter of the frames
    assert found.mean() >= 0.8 and (err[found] <= 6).mean() >= (0.9 if scale == 1.0 else 0.7)


def test_still_content_of_the_highlights_look_is_not_taken_for_it_once_the_highlight_moves_on():
    """After a content change a still blob of the confirmed look appears (a colour Doppler blob under an orange
    hand) while the highlight is hidden; once the highlight moves on beside it, the blob stays put and is dropped."""
    p = TraceParams()
    look = (5, -45, 12)
    path = [(30 + 6 * i, 40 + i) for i in range(10)]  # the highlight, confirmed
    f = HighlightFinder(p)
    for i, (cx, cy) in enumerate(path):
        f.add(i, chroma([(cx, cy, *look)], i))
    still = (130, 60)
    assert f.add(10, chroma([(*still, *look)], 10)) is not None  # only the blob: taken for the highlight there
    found = {}
    for i in range(11, 25):
        at = (20 + 7 * (i - 11), 20 + (i - 11))
        found[i] = (at, f.add(i, chroma([(*still, *look), (*at, *look)], i)))
    for i in range(14, 25):
        at, s = found[i]
        assert s is not None and abs(s.x - (2 * at[0] + 0.5)) <= 1 and abs(s.y - (2 * at[1] + 0.5)) <= 1, i


def test_a_small_regions_luma_tip_counts_once_it_lay_above_the_regions_in_most_frames():
    """HighlightFinder.hotspot: a region too small to tell its shape takes background subtraction's tip above it
    only after `highlight_sightings` frames, and only while that was so in most frames (a 24 px hand's outlined
    fingertip), not for a laser dot whose luma tip lies on its region in most frames."""
    from mednarratives.frames.highlight import Sighting

    def sighting(i):
        box = np.ones((8, 8), bool)
        return Sighting(i, 24.0, 34.0, 64.0, 60.0, 0.0, (box, 20 + i, 30), 35.0)

    hand = HighlightFinder(TraceParams())
    got = [hand.hotspot(sighting(i), (22.0 + i, 28.0)) for i in range(4)]
    assert got[:2] == [(24.0, 34.0)] * 2 and got[2:] == [(24.0, 28.0), (25.0, 28.0)]
    dot = HighlightFinder(TraceParams())
    tips = [(22.0, 33.0), (22.0, 33.0), (22.0, 29.0), (22.0, 33.0), (22.0, 29.0), (22.0, 29.0), (22.0, 29.0)]
    got = [dot.hotspot(sighting(0), tip) for tip in tips]
    assert got[:6] == [(24.0, 34.0)] * 6 and got[6] == (22.0, 29.0)  # above in 4 of 7 frames: most, from then on


def test_a_pointed_sprites_tip_keeps_its_offset_where_the_luma_tip_is_missing():
    """HighlightFinder.hotspot: once a small region's luma tip counts (a pointed sprite), frames without that tip
    (the pointer rests: nothing to subtract) or with it not above the region take the region's centre moved by the
    median offset the tips above it showed, not the bare centre (a 32 px Chameleon hand's cuff: 8-10 px below)."""
    from mednarratives.frames.highlight import Sighting

    def sighting(i):
        box = np.ones((6, 6), bool)
        return Sighting(i, 23.0 + i, 33.0, 36.0, 60.0, 0.0, (box, 20 + i, 30), 35.0)

    hand = HighlightFinder(TraceParams())
    got = [hand.hotspot(sighting(i), (21.0 + i, 22.0 + 0.5 * i)) for i in range(4)]
    assert got[:2] == [(23.0, 33.0), (24.0, 33.0)] and got[2:] == [(23.0, 23.0), (24.0, 23.5)]
    assert hand.hotspot(sighting(5), None) == (26.0, 33.0 - 10.25)  # resting: centre + median offset (-2, -10.25)
    assert hand.hotspot(sighting(6), (29.0, 34.0)) == (27.0, 33.0 - 10.25)  # the tip on the region: the same
    dot = HighlightFinder(TraceParams())  # never pointed: its centre
    assert [dot.hotspot(sighting(0), tip) for tip in [(22.0, 33.0), None]] == [(23.0, 33.0)] * 2
    large = np.zeros((12, 8), bool)  # a region that shows its shape: its own tip, whatever the luma tip says
    large[:6, 2:4] = large[5:, :] = True
    assert hand.hotspot(Sighting(7, 24.0, 36.0, 66.0, 60.0, 0.0, (large, 20, 30), 35.0), (21.0, 27.0)) == (22.0, 30.0)


def test_a_translucent_disc_too_faint_for_highlight_chroma_is_found_by_its_shape_and_a_faint_sprite_is_not():
    """A recorder's disc at alpha 100/255 over grey content keeps 25-30 codes of chroma, below highlight_chroma:
    its region at highlight_faint_chroma is disc-shaped, so it is a candidate and its look is confirmed once it
    moved; a pointed sprite of the same faint colour (an amber hand's soft edges) is not disc-shaped and never is."""
    p = TraceParams()
    assert p.highlight_faint_chroma < 20 * np.sqrt(2) < p.highlight_chroma
    path = [(30 + 6 * i, 40 + i) for i in range(10)]
    f = HighlightFinder(p)
    found = [f.add(i, chroma([(cx, cy, 10, -20, -20)], i)) for i, (cx, cy) in enumerate(path)]
    assert all(s is None for s in found[:p.highlight_sightings - 1])
    for i in range(p.highlight_sightings - 1, len(path)):
        s = found[i]
        assert s is not None and abs(s.x - (2 * path[i][0] + 0.5)) <= 1 and abs(s.y - (2 * path[i][1] + 0.5)) <= 1
    strong_only = HighlightFinder(p.__class__(**{**p.__dict__, "highlight_faint_chroma": p.highlight_chroma}))
    assert all(strong_only.add(i, chroma([(cx, cy, 10, -20, -20)], i)) is None for i, (cx, cy) in enumerate(path))
    yy, xx = np.mgrid[:H, :W]
    sprite = HighlightFinder(p)
    for i, (cx, cy) in enumerate(path):  # taller than wide, pointed at its top: a sprite, not a disc
        frame = chroma([], i)
        inside = (np.abs(xx - cx) <= 4 + (yy - (cy - 8)) // 2) & (yy >= cy - 8) & (yy <= cy + 8) & (np.abs(xx - cx) <= 5)
        frame[:H][inside], frame[H:][inside] = 128 - 20, 128 - 20
        assert sprite.add(i, frame) is None


def test_a_disc_whose_region_is_pointed_now_and_then_keeps_its_centre():
    """HighlightFinder.hotspot: a region that shows its shape is a sprite's tip only while such regions were pointed
    at least as often as not; a moving disc cut at the chroma planes' scale is pointed now and then (its top lies a
    radius above its centre)."""
    from mednarratives.frames.highlight import Sighting

    yy, xx = np.mgrid[:20, :20]
    disc = (xx - 9.5) ** 2 + (yy - 9.5) ** 2 <= 90
    pointed = np.zeros((12, 8), bool)  # a hand-like sprite: a fingertip at the top, a wide palm below
    pointed[:6, 2:4] = pointed[5:, :] = True
    f = HighlightFinder(TraceParams())
    assert f.hotspot(Sighting(0, 30.0, 40.0, 300.0, 60.0, 0.0, (disc, 20, 30), 35.0), None) == (30.0, 40.0)
    assert f.hotspot(Sighting(1, 30.0, 40.0, 300.0, 60.0, 0.0, (disc, 20, 30), 35.0), None) == (30.0, 40.0)
    assert f.hotspot(Sighting(2, 28.0, 42.0, 250.0, 60.0, 0.0, (pointed, 20, 30), 35.0), None) == (28.0, 42.0)
    hand = HighlightFinder(TraceParams())  # pointed from the start: its tip
    assert hand.hotspot(Sighting(0, 28.0, 42.0, 250.0, 60.0, 0.0, (pointed, 20, 30), 35.0), None) == (22.0, 30.0)


def test_a_small_coloured_sprites_tip_is_learnt_from_its_sightings_before_its_look_was_confirmed():
    """A coloured pointer's fill (a crystal arrow: too small to tell its shape) glides, background subtraction's tip
    above it each frame, then rests (no tip): the glide frames before its look was confirmed count for the tip, so
    from the confirming frame on, and through the rest, the hot spot is the tip, not the fill's centre (main: 9 px
    below it at rest)."""
    f = HighlightFinder(TraceParams())
    path = [(20 + 8 * i, 40) for i in range(3)] + [(36, 40)] * 3  # glides, then rests
    got = []
    for i, (cx, cy) in enumerate(path):
        tip = (2 * cx + 0.5 - 3, 2 * cy + 0.5 - 8.5) if i < 3 else None
        s = f.add(i, chroma([(cx, cy, 2.5, -30, -36)], i), lambda: tip)
        got.append(None if s is None else f.hotspot(s, tip))
    assert got[:2] == [None, None]  # two sightings are no evidence yet
    for i in range(2, 6):
        assert got[i] == pytest.approx((2 * path[i][0] + 0.5 - 3, 2 * path[i][1] + 0.5 - 8.5), abs=0.6), i


def test_a_look_alike_out_of_the_pointers_reach_is_not_the_highlight():
    """A confirmed look met by a look-alike in a new picture (a green scatter dot for a green pointer's fill) more than
    `max_step_px` per frame from where the cursor was last found is not the highlight; of several sightings the one
    nearest the cursor's last place counts, where that is more recent than the finder's own last sighting."""
    p = TraceParams()
    f = HighlightFinder(p)
    for i in range(5):  # the disc glides: its look confirmed
        assert (f.add(i, chroma([(20 + 6 * i, 40, 5, -45, 12)], i)) is None) == (i < 2)
    alike = (140, 15, 5, -45, 12)
    last = (4, (2 * 44 + 0.5, 80.5))  # the cursor found last on frame 4, at the disc
    assert f.add(5, chroma([alike], 5), cursor=last) is None  # 192 working px away in one frame
    s = f.add(6, chroma([(50, 40, 5, -45, 12), alike], 6), cursor=(5, (100.5, 80.5)))
    assert s is not None and abs(s.x - 100.5) <= 1 and abs(s.y - 80.5) <= 1
