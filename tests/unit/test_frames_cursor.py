import numpy as np
import pytest
from PIL import Image, ImageDraw

from mednarratives.assets import load_image
from mednarratives.frames.chunks import to_gray
from mednarratives.frames import cursor
from mednarratives.frames.cursor import ActiveForeground, activity, blob_tips, face_mask, foreground, track

H, W, FPS = 360, 640, 15
ARROW = [(0, 0), (0, 16), (4, 12), (7, 19), (10, 18), (7, 11), (12, 11)]


def arrow_sprite():
    img = Image.new("L", (14, 21), 0)
    draw = ImageDraw.Draw(img)
    draw.polygon(ARROW, fill=255, outline=128)
    sprite = np.asarray(img)
    return sprite > 0, np.where(sprite == 128, 0, 255).astype(np.uint8)


def background():
    img = Image.fromarray(load_image("ct_head")).resize((H, H))
    frame = np.full((H, W, 3), 30, np.uint8)
    frame[:, 140:140 + H] = np.asarray(img)
    return to_gray(frame)


def cursor_path(n):
    """Rest at (300, 150) for 60% of the chunk (so the median holds the cursor), then circle around (250, 200)."""
    rest = int(0.6 * n)
    t = np.arange(n - rest) / FPS
    circle = np.stack([250 + 30 * np.cos(2 * np.pi * t), 200 + 30 * np.sin(2 * np.pi * t)], 1)
    return np.concatenate([np.tile([300.0, 150.0], (rest, 1)), circle]).round().astype(int)


def render(n=150, blink=True, face=None):
    mask, values = arrow_sprite()
    bg = background()
    path = cursor_path(n)
    frames = np.repeat(bg[None], n, 0)
    rng = np.random.default_rng(0)
    for i, (x, y) in enumerate(path):
        region = frames[i, y:y + mask.shape[0], x:x + mask.shape[1]]
        region[mask] = values[mask]
        if blink and (i // (FPS // 2)) % 2 == 0:
            frames[i, 10:22, 600:612] = 220
        if face is not None:
            dx = int(round(3 * np.sin(i / 5)))
            frames[i, 280:340, 540 + dx:600 + dx] = rng.integers(60, 200, (60, 60), dtype=np.uint8)
    noise = rng.integers(-2, 3, frames.shape)
    return np.clip(frames.astype(int) + noise, 0, 255).astype(np.uint8), path


def test_tip_error_with_resting_cursor_and_blinking_icon():
    frames, path = render()
    xy = track(frames, FPS)["xy"]
    found = ~np.isnan(xy[:, 0])
    assert found.mean() > 0.97
    err = np.hypot(*(xy[found] - path[found]).T)
    assert np.median(err) <= 1.0
    assert (err <= 3).mean() >= 0.97
    # nothing was ever placed on the blinking icon
    assert not ((xy[found, 0] >= 596) & (xy[found, 1] <= 26)).any()


def test_faces_are_masked():
    frames, path = render(face=True)
    xy = track(frames, FPS, face_boxes=[[540.0, 280.0, 600.0, 340.0]])["xy"]  # as MTCNN would box it
    found = ~np.isnan(xy[:, 0])
    assert not ((xy[found, 0] >= 530) & (xy[found, 1] >= 270)).any()
    assert np.median(np.hypot(*(xy[found] - path[found]).T)) <= 1.0


def test_face_mask_grows_boxes():
    mask = face_mask((100, 100), [[40, 40, 60, 60]], margin=0.25)
    ys, xs = np.nonzero(mask)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (35, 64, 35, 64)


@pytest.mark.parametrize("n", [30])
def test_still_chunk_without_cursor_gives_no_points(n):
    frames = np.repeat(background()[None], n, 0)
    assert np.isnan(track(frames, FPS)["xy"]).all()


def render_path(path, extra=None):
    mask, values = arrow_sprite()
    frames = np.repeat(background()[None], len(path), 0)
    for i, (x, y) in enumerate(path):
        region = frames[i, y:y + mask.shape[0], x:x + mask.shape[1]]
        region[mask] = values[mask]
        if extra is not None:
            extra(i, frames[i])
    rng = np.random.default_rng(1)
    return np.clip(frames.astype(int) + rng.integers(-2, 3, frames.shape), 0, 255).astype(np.uint8)


def smooth_move(a, b, n):
    s = np.linspace(0, 1, n)[:, None]
    s = s * s * (3 - 2 * s)
    return (np.asarray(a) * (1 - s) + np.asarray(b) * s).round().astype(int)


def test_two_rests_only_the_median_one_is_a_ghost():
    """Rest at A (20%), glide to B, rest at B (65%, in the median): both rests are still blobs next to a moving
    one; the edge votes must repair only B, so the tip is found at A first and at B later."""
    n = 150
    path = np.concatenate([np.tile([200, 100], (30, 1)), smooth_move([200, 100], [330, 220], 22),
                           np.tile([330, 220], (n - 52, 1))])
    frames = render_path(path)
    xy = track(frames, FPS)["xy"]
    found = ~np.isnan(xy[:, 0])
    assert found.mean() > 0.95
    err = np.hypot(*(xy[found] - path[found]).T)
    assert (err <= 3).mean() >= 0.95


def test_webcam_activity_around_the_face_is_masked():
    """A webcam frame moves around the face: MTCNN boxes the face only; the activity joined to it is masked."""
    rng = np.random.default_rng(2)

    def webcam(i, frame):
        dx = int(round(3 * np.sin(i / 4)))
        frame[240:350, 470 + dx:630 + dx] = 90 + 40 * ((np.arange(160)[None, :] // 8 + i) % 2)  # busy backdrop
        frame[270:330, 520 + dx:580 + dx] = rng.integers(60, 200, (60, 60), dtype=np.uint8)  # the face

    path = cursor_path(150)
    frames = render_path(path, webcam)
    xy = track(frames, FPS, face_boxes=[[520.0, 270.0, 580.0, 330.0]])["xy"]
    found = ~np.isnan(xy[:, 0])
    assert not ((xy[found, 0] >= 460) & (xy[found, 1] >= 230)).any()
    assert np.median(np.hypot(*(xy[found] - path[found]).T)) <= 1.0


def test_active_foreground_holds_the_dense_foreground():
    rng = np.random.default_rng(4)
    gray = rng.integers(100, 110, (30, 20, 24), dtype=np.uint8)
    gray[:, 3:8, 5:9] = rng.integers(0, 256, (30, 5, 4), dtype=np.uint8)
    gray[4:9, 15, 20] = 250
    background = np.full((20, 24), 105, np.uint8)
    dense = foreground(gray, background, 40)
    fg = ActiveForeground.of(gray, background, 40)
    assert np.array_equal(fg.pixels, np.flatnonzero(dense.any(axis=0)))
    assert np.array_equal(fg.values, dense.reshape(30, -1)[:, fg.pixels])
    assert np.array_equal(ActiveForeground.from_dense(dense).values, fg.values)
    box = (slice(2, 9), slice(6, 40))  # clipped at the right edge, as numpy slicing is
    assert np.array_equal(fg.dense(box), dense[(slice(None),) + box])
    mask = np.zeros((20, 24), bool)
    mask[3:5] = True
    kept = fg.without(mask)
    assert np.array_equal(kept.dense((slice(0, 20), slice(0, 24))), dense & ~mask)
    box = (slice(10, 18), slice(12, 24))
    patch = rng.random((30, 8, 12)) < 0.2
    replaced = dense.copy()
    replaced[(slice(None),) + box] = patch
    swapped = fg.with_box(box, patch)
    assert np.array_equal(swapped.pixels, np.flatnonzero(replaced.any(axis=0)))
    assert np.array_equal(swapped.dense((slice(0, 20), slice(0, 24))), replaced)


def test_activity_counts_equal_full_counts():
    rng = np.random.default_rng(4)
    dense = np.zeros((40, 9, 11), bool)
    dense[:, 2:5, 3:7] = rng.random((40, 3, 4)) < 0.4
    dense[7:30, 8, 0] = True  # one long run: two toggles
    act = activity(ActiveForeground.from_dense(dense))
    assert np.array_equal(act.frequency, dense.mean(axis=0))
    assert np.array_equal(act.toggles, (dense[1:] != dense[:-1]).sum(axis=0))
    assert act.toggles[8, 0] == 2 and act.frames == 40
    still = activity(ActiveForeground.from_dense(np.zeros((5, 4, 4), bool)))
    assert not still.frequency.any() and not still.toggles.any()


def test_blob_tips_match_labelling_the_whole_frame(monkeypatch):
    """Blobs far apart (a cursor, a webcam), blobs touching only diagonally, and specks below the size."""
    from scipy import ndimage

    rng = np.random.default_rng(6)
    fg = np.zeros((60, 90), bool)
    fg[5:25, 60:85] = rng.random((20, 25)) < 0.5  # webcam-like noise
    fg[30:36, 10:13] = True                       # a cursor
    fg[36, 13] = fg[37, 14] = True                # diagonal tail: same blob
    fg[50, 50] = fg[50, 52] = True                # specks, one empty column apart
    ys, xs = np.nonzero(fg)
    got = blob_tips(ys, xs, 3)
    for gap in (1, 2, 8):  # the same blobs when labelled in groups, however narrow the gaps cut
        monkeypatch.setattr(cursor, "SPLIT_AREA", 0)
        monkeypatch.setattr(cursor, "SPLIT_GAP", gap)
        assert blob_tips(ys, xs, 3) == got
    labels, n = ndimage.label(fg, structure=np.ones((3, 3), bool))
    want = []
    for k in range(1, n + 1):
        by, bx = np.nonzero(labels == k)
        if len(by) >= 3:
            top = by.min()
            want.append((int(bx[by == top].min()), int(top), len(by)))
    assert got == sorted(want, key=lambda b: (b[1], b[0]))
    assert (10, 30, 20) in got
    assert blob_tips(np.array([50, 50]), np.array([50, 52]), 1) == [(50, 50, 1), (52, 50, 1)]
    assert blob_tips(np.array([50, 50]), np.array([52, 50]), 1) == [(50, 50, 1), (52, 50, 1)]


def test_a_list_of_frames_tracks_like_the_stacked_array():
    """The chunker hands over its frames unstacked; the resting cursor also exercises the ghost crops."""
    frames, _ = render(n=90)
    stacked, listed = track(frames, FPS), track(list(frames), FPS)
    assert np.array_equal(stacked["xy"], listed["xy"], equal_nan=True)
    assert np.array_equal(stacked["background"], listed["background"])


def test_limited_range_luma_tracks_like_full_range():
    """Video luma is used in limited range (16..235): the thresholds follow its span, the tips stay put."""
    frames, _ = render(n=90)
    limited = np.round(16 + frames * (219 / 255)).astype(np.uint8)
    full, narrow = track(frames, FPS), track(limited, FPS, luma_span=219)
    found = ~np.isnan(full["xy"][:, 0])
    assert found.mean() > 0.9 and np.array_equal(found, ~np.isnan(narrow["xy"][:, 0]))
    assert np.abs(full["xy"][found] - narrow["xy"][found]).max() <= 1
    assert cursor.diff_threshold(cursor.TraceParams(), 219) == 34  # 40 levels of 255 are 34.4 codes of 219


def test_dilate_is_scipy_binary_dilation():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    for iterations in (0, 1, 2, 6):
        mask = rng.random((37, 53)) > 0.97
        mask[0, 5] = mask[-1, -1] = True  # the border
        for m in (mask, mask[3:20, 4:30]):  # and a strided view
            want = ndimage.binary_dilation(m, iterations=iterations) if iterations else m
            assert np.array_equal(cursor.dilate(m, iterations), want)


def test_faces_are_looked_for_around_activity_only():
    """The finder sees the regions around pixels that ever differ from the background, not the still rest."""
    frames, _ = render(n=90, face=True)
    seen = []

    def find(regions):
        seen.extend(regions)
        return [[520.0, 270.0, 580.0, 330.0]]

    tracked = track(frames, FPS, find_faces=find)
    assert tracked["faces"] == [[520.0, 270.0, 580.0, 330.0]]
    assert seen and sum((ys.stop - ys.start) * (xs.stop - xs.start) for ys, xs in seen) < 0.8 * frames[0].size
    assert any(ys.start <= 280 and ys.stop >= 340 and xs.start <= 540 and xs.stop >= 600 for ys, xs in seen)
    given = track(frames, FPS, face_boxes=[[520.0, 270.0, 580.0, 330.0]])
    assert np.array_equal(tracked["xy"], given["xy"], equal_nan=True)
    assert track(np.repeat(frames[:1], 30, 0), FPS, find_faces=find)["faces"] == []  # nothing moves: not asked


def test_active_regions_grow_merge_and_drop_specks():
    freq = np.zeros((100, 200))
    freq[10:12, 10:60] = freq[10:60, 10:12] = 0.5  # an L ...
    freq[40:50, 40:50] = 0.5     # ... with a group inside its box, apart from it: one region
    freq[80:90, 150:160] = 0.5   # apart
    freq[50, 120] = 0.5          # a speck under min_px: no region
    act = cursor.Activity(freq, np.zeros(freq.shape), 10)
    regions = cursor.active_regions(act, pad=5, min_px=6)
    assert regions == [(slice(5, 65), slice(5, 65)), (slice(75, 95), slice(145, 165))]
    assert cursor.active_regions(cursor.Activity(np.zeros(freq.shape), np.zeros(freq.shape), 10), 5, 6) == []


def test_faces_in_regions_returns_image_coordinates():
    image = np.zeros((100, 200, 3), np.uint8)
    seen = []

    def detector(crop):
        seen.append(crop.shape)
        return [[1.0, 2.0, 11.0, 12.0]]  # crop pixels

    boxes = cursor.faces_in_regions(detector, image, [(slice(10, 40), slice(50, 90)), (slice(60, 100), slice(0, 30))])
    assert seen == [(30, 40, 3), (40, 30, 3)]
    assert boxes == [[51.0, 12.0, 61.0, 22.0], [1.0, 62.0, 11.0, 72.0]]


def _disc(r, ring=0):
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    d = np.hypot(yy, xx)
    return (d <= r) & ((d >= r - ring) if ring else True)


def test_hotspot_follows_the_cursor_shape():
    from mednarratives.frames.cursor import hotspot

    mask, _ = arrow_sprite()
    assert hotspot(mask, 5.0, 0.6) == (0.0, 0.0)                     # arrow: its tip
    beam = np.zeros((16, 5), bool)
    beam[0, :] = beam[-1, :] = True
    beam[:, 2] = True
    assert hotspot(beam, 5.0, 0.6) == (2.0, 7.5)                     # I-beam: its middle
    assert hotspot(_disc(3), 5.0, 0.6) == (3.0, 3.0)                 # laser dot: its middle, not its top
    hand = np.zeros((11, 9), bool)                              # a hand: finger up, wide palm below
    hand[:5, 2:4] = hand[4:, :] = True
    assert hotspot(hand, 5.0, 0.6) == (2.0, 0.0)                     # its fingertip
    disc = _disc(10)
    disc[10:, 10:] |= np.pad(mask[:11, :11], ((0, 0), (0, 0)))  # an arrow sticking out of the disc's centre
    wide = np.zeros((26, 26), bool)
    wide[:21, :21] = disc
    wide[10:31, 10:24] |= mask[:16, :14]
    x, y = hotspot(wide, 5.0, 0.6)
    assert abs(x - 10) <= 0.5 and abs(y - 10) <= 0.5          # highlight disc: its centre, not the arrow
    ring = _disc(11, ring=2)
    ring[:, 4:7] = False                                        # broken where it matched the background
    x, y = hotspot(ring, 5.0, 0.6)
    assert abs(x - 11) <= 1.0 and abs(y - 11) <= 1.0
    arc = _disc(11, ring=2)
    arc[13:, :] = False                                         # only its upper part left (the rest masked)
    arc = arc[:13]
    x, y = hotspot(arc, 5.0, 0.6)
    assert abs(x - 11) <= 1.0 and abs(y - 11) <= 1.0            # an arc of a ring: the circle's centre, not its top
    big_hand = np.zeros((18, 17), bool)                         # a hand of a disc's size, about square
    big_hand[:9, 5:9] = big_hand[6:, 2:] = big_hand[8:13, :3] = True
    assert hotspot(big_hand, 5.0, 0.6) == (5.0, 0.0)           # the notch left of its finger: no disc, its tip
    broken_hand = big_hand.copy()                               # its white fill matching a light panel: holes
    broken_hand[1:4, 6:8] = broken_hand[10, 6:12] = False       # in the finger and the palm (not solid)
    broken_hand[8:13, 3] = False
    assert hotspot(broken_hand, 5.0, 0.6) == (5.0, 0.0)        # the same notch: no disc, its tip
    stroke = np.zeros((14, 14), bool)
    stroke[np.arange(14), np.arange(14)] = True                 # a straight stroke of that length is no arc
    assert hotspot(stroke, 5.0, 0.6) == (0.0, 0.0)


def test_highlight_hotspot_is_a_pointed_sprites_tip_and_else_the_centre():
    from mednarratives.frames.cursor import highlight_hotspot

    hand = np.zeros((12, 8), bool)                              # a one-colour hand, taller than a disc's diameter
    hand[:6, 2:4] = hand[5:, :] = True
    assert highlight_hotspot(hand, 100, 50, (104.0, 56.0), 5.0, 0.6) == (102.0, 50.0)   # its fingertip
    assert highlight_hotspot(_disc(6), 100, 50, (106.0, 56.0), 5.0, 0.6) == (106.0, 56.0)  # a disc: its centre
    small = hand[:10, :]                                        # shorter than a disc's diameter: too coarse to tell
    assert highlight_hotspot(small, 100, 50, (104.0, 55.0), 5.0, 0.6) == (104.0, 55.0)


def test_a_small_highlight_region_takes_the_luma_tip_above_it():
    """A region too small to tell its shape (a 24 px one-colour hand, a laser dot): background subtraction's tip of
    the same frame counts where it lies above the region (a hand's uncoloured outline and fingertip), not where it
    lies on it (a laser dot's halo) or far from it."""
    from mednarratives.frames.cursor import highlight_hotspot, luma_tip_above, shows_its_shape

    small = np.ones((8, 8), bool)
    small[:2, :2] = small[:2, 6:] = False
    centre = (103.5, 54.0)
    assert not shows_its_shape(small, 5.0)
    assert highlight_hotspot(small, 100, 50, centre, 5.0, 0.6) == centre  # by its own shape: the centre
    assert luma_tip_above(small, 100, 50, 5.0, (102.0, 48.0)) is True  # the fingertip
    assert luma_tip_above(small, 100, 50, 5.0, (102.0, 50.0)) is False  # on the region: a dot
    assert luma_tip_above(small, 100, 50, 5.0, (102.0, 42.0)) is True  # a 32 px Chameleon hand: its coloured fill
    # is the cuff, the fingertip up to a disc's diameter above it
    assert luma_tip_above(small, 100, 50, 5.0, (102.0, 39.0)) is None  # farther: another blob
    assert luma_tip_above(small, 100, 50, 5.0, None) is None
    hand = np.zeros((12, 8), bool)                              # large enough: its own tip
    hand[:6, 2:4] = hand[5:, :] = True
    assert shows_its_shape(hand, 5.0) and highlight_hotspot(hand, 100, 50, (104.0, 56.0), 5.0, 0.6) == (102.0, 50.0)


def test_blob_tips_join_broken_blobs():
    ring = _disc(11, ring=2)
    ring[:, 10:12] = False                                      # cut in two, 2 px apart
    ys, xs = np.nonzero(ring)
    assert len(blob_tips(ys, xs, 3)) == 2
    joined = blob_tips(ys, xs, 3, join=1)
    assert len(joined) == 1 and joined[0][2] == len(ys)


def test_ui_changes_are_not_the_cursor():
    """A slice counter that changes once, a read-out that changes every frame, a scrolled image region: the
    moving cursor is tracked through all of them."""
    mask, values = arrow_sprite()
    n = 90
    bg = background()
    t = np.arange(n) / FPS
    path = np.stack([200 + 120 * np.cos(t), 180 + 100 * np.sin(t)], 1).round().astype(int)
    frames = np.repeat(bg[None], n, 0)
    rng = np.random.default_rng(1)
    for i, (x, y) in enumerate(path):
        if i >= n // 3:
            frames[i, 20:34, 560:600] = 250                     # the counter: changed once, then still
        frames[i, 320:332, 540:620] = rng.integers(0, 2, (12, 80)) * 240  # live read-out
        if 40 <= i < 44:
            frames[i, 100:300, 420:520] = 255 - frames[i, 100:300, 420:520]  # a scroll: a large region
        region = frames[i, y:y + mask.shape[0], x:x + mask.shape[1]]
        region[mask] = values[mask]
    xy = track(frames, FPS)["xy"]
    found = ~np.isnan(xy[:, 0])
    assert found.mean() > 0.9
    err = np.hypot(*(xy[found] - path[found]).T)
    assert (err <= 3).mean() >= 0.95 and err.max() < 100


def test_chroma_finds_a_red_dot_on_grey_of_its_own_brightness():
    """A red dot whose luma equals the grey under it: invisible in luma, found in the chroma planes."""
    h, w, n = 96, 128, 30
    gray = np.full((n, h, w), 81, np.uint8)           # the dot's luma: no luma foreground at all
    chroma = np.full((n, h, w // 2), 128, np.uint8)    # U rows [0, h/2), V rows [h/2, h), (h/2, w/2) each
    truth = []
    for i in range(n):
        cx, cy = 20 + 3 * i, 40 + i
        yy, xx = np.mgrid[:h // 2, :w // 2]
        dot = np.hypot(yy - cy / 2, xx - cx / 2) <= 3
        chroma[i, h // 2:][dot] = 240                  # V (Cr) of red
        chroma[i, :h // 2][dot] = 90
        truth.append((cx, cy))
    assert np.isnan(track(gray, 10.0)["xy"]).all()
    xy = track(gray, 10.0, chroma=list(chroma))["xy"]
    err = np.hypot(*(xy - np.asarray(truth, float)).T)
    assert np.isfinite(err).mean() >= 0.9 and np.nanmax(err) <= 3.0   # the round dot's centre


def test_cursor_resting_at_the_chunk_start_is_followed_back_and_a_ui_change_is_not_acquired():
    """The cursor rests for a third of the chunk, then moves; a patch larger than the cursor is changed
    meanwhile (a still blob, like a counter): the rest is found backwards from the first move, the patch
    never taken for the cursor."""
    path = [(200, 60)] * 10 + [tuple(p) for p in smooth_move((200, 60), (330, 150), 20)]
    frames = render_path(path)
    frames[:12, 20:40, 20:50] = 255
    xy = track(frames, 10.0)["xy"]
    err = np.hypot(*(xy - np.asarray(path, float)).T)
    assert np.isfinite(err).all() and err.max() <= 2.0
