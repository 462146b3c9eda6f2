import subprocess

import numpy as np
import pytest

from mednarratives.assets import load_cine, load_image
from mednarratives.frames.chunks import ChunkParams, StableChunker, thumbnail, to_gray
from mednarratives.videos.decode import (LIMITED_LUMA_SPAN, DecodeError, i420_luma, i420_to_rgb, iter_batches, read_all, scaled_size,
                                         stream_info)

FPS = 15
H, W = 180, 320


def slide(name):
    from PIL import Image

    img = np.asarray(Image.fromarray(load_image(name)).resize((H, H)))
    frame = np.full((H, W, 3), 20, np.uint8)
    frame[:, 70:70 + H] = img
    return frame


def sequence():
    """still A 3 s | still B 4 s with a moving cursor | ultrasound cine 3 s | still C 3 s (frames 0..194)."""
    a, b, c = slide("ct_head"), slide("xray_chest"), slide("retina_fundus")
    cine = load_cine("us_cine")
    parts = [np.repeat(a[None], 3 * FPS, 0), np.repeat(b[None], 4 * FPS, 0).copy()]
    for i in range(4 * FPS):
        x = 100 + 2 * i
        parts[1][i, 50:60, x:x + 6] = 255
    from PIL import Image

    parts.append(np.stack([np.asarray(Image.fromarray(cine[i % 30]).resize((W, H))) for i in range(3 * FPS)]))
    parts.append(np.repeat(c[None], 3 * FPS, 0))
    return np.concatenate(parts)


def run_chunker(frames, batch=16, luma_span=255, **kw):
    chunker = StableChunker(FPS, ChunkParams(min_duration_s=1.0, **kw), luma_span=luma_span)
    chunks = []
    for s in range(0, len(frames), batch):
        gray = to_gray(frames[s:s + batch])
        if luma_span != 255:  # the luma of a limited-range video
            gray = np.round(16 + gray * (luma_span / 255)).astype(np.uint8)
        chunks += chunker.feed(gray, s, frames[s:s + batch])
    return chunks + chunker.close()


def test_stable_chunks_match_still_segments_and_skip_cine():
    chunks = run_chunker(sequence())
    spans = [(c.start, c.end) for c in chunks]
    truth = [(0, 45), (45, 105), (150, 195)]
    assert len(spans) == len(truth), spans
    for (s, e), (ts, te) in zip(spans, truth):
        assert abs(s - ts) <= 4 and abs(e - te) <= 4
    for c in chunks:
        assert len(c.gray) == c.end - c.start
        assert c.colour[0].shape == (H, W, 3)


def test_limited_range_luma_gives_the_same_chunks():
    full, limited = run_chunker(sequence()), run_chunker(sequence(), luma_span=LIMITED_LUMA_SPAN)
    assert [(c.start, c.end) for c in limited] == [(c.start, c.end) for c in full]
    assert all(abs(a.ssim - b.ssim) < 0.01 for a, b in zip(full, limited))


def test_chunk_colour_is_converted_on_request():
    """The chunker keeps colour frames as decoded (copied); `rgb` converts only the frames asked for."""
    frames = sequence()[:60]
    converted = []

    def to_rgb(frame):
        converted.append(frame)
        return frame[..., ::-1]

    chunker = StableChunker(FPS, ChunkParams(min_duration_s=1.0), to_rgb=to_rgb)
    (chunk,) = chunker.feed(to_gray(frames), 0, frames) + chunker.close()
    stride_frames = [i for i in range(chunk.start, chunk.end) if i % 6 == 0]  # colour_stride
    assert not converted and np.array_equal(chunk.colour, frames[stride_frames])
    assert not any(np.shares_memory(c, frames) for c in chunk.colour)  # copies: the decoded batch can go
    rgb = chunk.rgb(np.array([0, 2]))
    assert len(converted) == 2 and np.array_equal(rgb, np.stack([chunk.colour[0], chunk.colour[2]])[..., ::-1])


def test_batching_does_not_change_chunks():
    frames = sequence()
    assert [(c.start, c.end) for c in run_chunker(frames, 7)] == [(c.start, c.end) for c in run_chunker(frames, 64)]


def test_long_still_runs_are_cut_to_max_duration():
    frames = np.repeat(slide("ct_head")[None], 10 * FPS, 0)
    chunks = run_chunker(frames, max_duration_s=4.0)
    assert [c.end - c.start for c in chunks] == [60, 60, 30]


def test_thumbnail_and_gray():
    gray = to_gray(np.full((2, 16, 16, 3), 100, np.uint8))
    assert gray.dtype == np.uint8 and (gray == 100).all()
    assert thumbnail(gray, 8).shape == (2, 2, 2)
    frames = np.random.default_rng(0).integers(0, 256, (3, 150, 100), np.uint8)
    view = frames[:, :100]  # the Y planes of I420 frames are such a strided view
    for block in (8, 6):  # halving steps, and one area resize
        thumbs = thumbnail(view, block)
        k = 100 // block
        exact = view[:, :k * block, :k * block].reshape(3, k, block, k, block).mean(axis=(2, 4))
        assert thumbs.shape == (3, k, k) and np.abs(thumbs - exact).max() <= 1.5


@pytest.fixture(scope="module")
def small_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "test.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "2",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_decode_counts_and_scales(small_video):
    info = stream_info(small_video)
    assert (info.width, info.height, round(info.fps)) == (320, 240, 30)
    size = scaled_size(info.width, info.height, 0.5)
    frames = read_all(small_video, size)
    assert frames.shape == (60, 120, 160, 3)
    gray = np.concatenate(list(iter_batches(small_video, size, "gray", batch=7)))
    assert gray.shape == (60, 120, 160)
    i420 = read_all(small_video, size, "yuv420p")
    assert i420.shape == (60, 180, 160)
    # the I420 path gives the pictures of ffmpeg's own gray (full range) and RGB conversions, its luma in
    # limited range (testsrc's sharp edges: a few pixels differ by up to 5 levels after scaling; measured mean 0.06)
    luma = i420_luma(i420)
    assert luma.shape == gray.shape  # measured mean 0.22 (rounding of the range mapping)
    assert np.abs((luma.astype(int) - 16) * 255 / LIMITED_LUMA_SPAN - gray).mean() < 0.3
    rgb = i420_to_rgb(i420[30])
    assert rgb.shape == (120, 160, 3) and np.abs(rgb.astype(int) - frames[30]).mean() < 3  # measured 2.05: chroma edges
    with pytest.raises(ValueError):
        next(iter_batches(small_video, size, "bgr0"))


def test_decode_without_loop_filter_is_close_but_not_the_same(tmp_path):
    # a sharp moving pattern at a low bitrate, so deblocking has work to do
    path = tmp_path / "blocky.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2",
                    "-c:v", "libx264", "-b:v", "150k", "-pix_fmt", "yuv420p", str(path)], check=True)
    full, fast = (read_all(path, (320, 240), "gray", loop_filter=lf).astype(float) for lf in (True, False))
    psnr = 10 * np.log10(255 ** 2 / ((full - fast) ** 2).mean())
    assert full.shape == fast.shape and 25 < psnr < 60  # the filter was skipped, and little changed


def test_decode_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(DecodeError):
        stream_info(bad)
    with pytest.raises(DecodeError):
        read_all(bad, (160, 120))


def test_a_hanging_input_times_out(tmp_path):
    """A FIFO nobody writes to blocks ffprobe/ffmpeg forever on open: the timeouts turn that into DecodeError."""
    import os

    fifo = tmp_path / "stalled.mp4"
    os.mkfifo(fifo)
    with pytest.raises(DecodeError, match="timed out"):
        stream_info(fifo, timeout=1)
    with pytest.raises(DecodeError, match="timed out"):
        next(iter_batches(fifo, (160, 120), timeout=1))


def test_busy_area_rejects_a_large_moving_region_but_not_a_corner():
    from PIL import Image

    base = slide("ct_head")
    cine = load_cine("us_cine")
    moving = np.repeat(base[None], 3 * FPS, 0).copy()
    corner = moving.copy()
    for i in range(len(moving)):
        moving[i, :, 20:300] = np.asarray(Image.fromarray(cine[i % 30]).resize((280, 180)))
        corner[i, 140:176, 270:316] = (i * 37) % 256  # a small flickering webcam corner
    chunker = StableChunker(FPS, ChunkParams())
    assert chunker.busy_area(thumbnail(to_gray(moving), 8)) > ChunkParams().max_busy_area
    assert chunker.busy_area(thumbnail(to_gray(corner), 8)) < ChunkParams().max_busy_area
