"""frames.highlight: a recorder's highlight disc found by its recurring look, moving or resting."""

import numpy as np

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


def finder(p=TraceParams()):
    return HighlightFinder(p.highlight_chroma, p.disc_radius_px, p.max_blob_px, p.highlight_min_fill,
                           p.highlight_area_tol, p.highlight_colour_tol, p.highlight_sightings)


def test_the_moving_disc_is_found_moving_and_resting_and_content_blobs_never_are():
    p = TraceParams()
    path = [(30 + 6 * i, 40 + i) for i in range(10)] + [(90, 49)] * 10  # moves, then rests
    f = finder(p)
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
    f = finder()
    assert all(f.add(i, chroma([(50, 50, 5, -45, 12)], i)) is None for i in range(10))
    yy, xx = np.mgrid[:H, :W]
    ring = chroma([], 0)
    ring[:H][np.abs(np.hypot(xx - 80, yy - 40) - 6) < 0.8] = 128 + 60
    assert candidates(0, ring, 25, 5.0, 1500, 0.7, 8) == []
    assert candidates(0, chroma([(80, 40, 1, 60, 0)], 0), 25, 5.0, 1500, 0.7, 8) == []  # a laser dot: too small
    two_tone = chroma([(80, 40, 6, -45, 12), (80, 43, 4, 20, 40)], 0)  # round, but not one colour (a face, a logo)
    assert candidates(0, two_tone, 25, 5.0, 1500, 0.7, 8) == []
    assert len(candidates(0, chroma([(80, 40, 6, -45, 12)], 0), 25, 5.0, 1500, 0.7, 8)) == 1


def test_a_mask_repeated_from_the_last_frame_has_its_colours_read_again():
    f = finder()
    assert [f.add(i, chroma([(cx, 40, 5, -45, 12)], 0)) is not None for i, cx in enumerate((30, 50, 70))] == [
        False, False, True]
    recoloured = chroma([(70, 40, 5, 45, 12)], 0)  # the same samples saturated (the same mask), another colour
    assert f.add(3, recoloured) is None
    again = f.add(4, chroma([(70, 40, 5, -45, 12)], 0))
    assert again is not None and again.u == candidates(4, chroma([(70, 40, 5, -45, 12)], 0), 35, 5.0, 1500, 0.7, 8)[0].u
