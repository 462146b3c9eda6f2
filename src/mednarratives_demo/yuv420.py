"""RGB -> YUV 4:2:0 frames exactly as ffmpeg converts them (libswscale, bicubic), redone only where a frame changed.

A demo frame is a static slide plus a few small moving parts (webcam, cursor, icon), and libswscale's conversion is
local: luma per pixel, chroma from pixel pairs across and a few rows up and down (the bicubic 2:1 vertical filter).
So a frame's YUV is its slide's, with each changed box converted again from the frame's own pixels around it
(ROWS_AROUND rows of context on each side, wider than the filter) and written back. Piping those planes to ffmpeg
gives the mp4 it would encode from the RGB frames, byte for byte (the conversion and the box updates:
tests/unit/test_demo_yuv420.py; the 12 demo videos' mp4s: docs/cost_model.md), at a fraction of the conversion's CPU
time (about a quarter of ffmpeg's when it converted whole frames).
"""

from __future__ import annotations

import ctypes
import functools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

SWS_BICUBIC = 4                     # ffmpeg's default scaler flags for the conversion it inserts before an encoder
PIX_FMT_YUV420P, PIX_FMT_RGB24 = 0, 2
# Margins, twice what the unit tests need: a box's pixels reach 2 chroma rows above and below it (1 fails), and the
# rows written need context rows for the filter (2 chroma rows need 8, 6 fail; 3 chroma rows need more than 8).
ROWS_AROUND = 16                    # rows of context converted above and below a changed box
CHROMA_ROWS_AROUND = 4              # chroma rows written above and below it
ALIGN = 64                          # bytes: rows of the buffers handed to libswscale start at multiples of this
COLUMN_STEP = 16                    # boxes are widened to multiples of this many columns (even: chroma pairs)


@functools.cache
def _swscale() -> ctypes.CDLL:
    """The libswscale of the ffmpeg on PATH (the one whose conversion the frames must match): beside its binary
    (conda, a static prefix), else by its soname."""
    version = subprocess.run(["ffmpeg", "-hide_banner", "-version"], capture_output=True, text=True, check=True).stdout
    major = re.search(r"^libswscale\s+(\d+)\.", version, flags=re.M)
    if not major:
        raise RuntimeError(f"ffmpeg -version names no libswscale:\n{version}")
    name = f"libswscale.so.{major.group(1)}"
    beside = Path(shutil.which("ffmpeg")).resolve().parent.parent / "lib" / name
    try:
        lib = ctypes.CDLL(str(beside) if beside.exists() else name)
    except OSError as e:  # a static ffmpeg build ships no libraries; macOS names them .dylib
        raise RuntimeError(f"no shared {name} of the ffmpeg on PATH: {e}") from None
    lib.sws_getContext.restype = ctypes.c_void_p
    lib.sws_getContext.argtypes = [ctypes.c_int] * 7 + [ctypes.c_void_p] * 3
    lib.sws_scale.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                              ctypes.c_void_p, ctypes.c_void_p]
    lib.sws_freeContext.argtypes = [ctypes.c_void_p]
    return lib


def _buffer(rows: int, row_bytes: int) -> np.ndarray:
    """A zeroed picture buffer laid out as ffmpeg's frames are: every row starts ALIGN-byte aligned, with padding after
    each row and a spare row at the end. (With tight numpy arrays one demo build, under Snakemake, differed in a few
    chroma values of one frame; suspected: libswscale's x86 code reads whole vectors past a row's end and picks its
    code by the rows' alignment. See docs/cost_model.md.)"""
    stride = -(-row_bytes // ALIGN) * ALIGN + ALIGN
    raw = np.zeros((rows + 1) * stride + ALIGN, np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start:start + (rows + 1) * stride].reshape(rows + 1, stride)


def converter() -> "Converter | None":
    """A Converter, or None where the ffmpeg on PATH has no shared libswscale to load (macOS, a static build)."""
    try:
        return Converter()
    except (RuntimeError, OSError, subprocess.CalledProcessError):
        return None


class Converter:
    """RGB24 -> YUV420P conversions of any even-sized picture (one libswscale context per size)."""

    def __init__(self) -> None:
        self._lib = _swscale()
        self._contexts: dict[tuple[int, int], int] = {}

    def close(self) -> None:
        for ctx in self._contexts.values():
            self._lib.sws_freeContext(ctx)
        self._contexts.clear()

    def __enter__(self) -> "Converter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def convert(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Y (h, w), U and V (h/2, w/2) of an (h, w, 3) uint8 picture (rows may be strided)."""
        h, w, _ = rgb.shape
        if h % 2 or w % 2 or rgb.dtype != np.uint8 or rgb.strides[1:] != (3, 1):
            raise ValueError(f"need an even-sized uint8 RGB picture with packed rows, got {rgb.shape} {rgb.dtype}")
        if (w, h) not in self._contexts:
            ctx = self._lib.sws_getContext(w, h, PIX_FMT_RGB24, w, h, PIX_FMT_YUV420P, SWS_BICUBIC, None, None, None)
            if not ctx:
                raise RuntimeError(f"libswscale has no RGB24 -> YUV420P conversion for {w}x{h}")
            self._contexts[w, h] = ctx
        source = _buffer(h, w * 3)
        source[:h, :w * 3] = rgb.reshape(h, w * 3)
        buffers = _buffer(h, w), _buffer(h // 2, w // 2), _buffer(h // 2, w // 2)
        src = (ctypes.c_void_p * 4)(source.ctypes.data, None, None, None)
        src_stride = (ctypes.c_int * 4)(source.strides[0], 0, 0, 0)
        dst = (ctypes.c_void_p * 4)(*(b.ctypes.data for b in buffers), None)
        dst_stride = (ctypes.c_int * 4)(*(b.strides[0] for b in buffers), 0)
        self._lib.sws_scale(self._contexts[w, h], src, src_stride, 0, h, dst, dst_stride)
        return tuple(b[:rows, :cols] for b, rows, cols in zip(buffers, (h, h // 2, h // 2), (w, w // 2, w // 2)))

    def update(self, planes: tuple[np.ndarray, np.ndarray, np.ndarray], rgb: np.ndarray,
               box: tuple[slice, slice]) -> None:
        """Make `planes` (the conversion of a picture equal to `rgb` outside `box`, rows x columns) the conversion
        of `rgb`: convert the box with its context rows and write the part of it the box's pixels reach."""
        height, width = rgb.shape[:2]
        rows, cols = box
        y0, y1 = max(0, rows.start), min(height, rows.stop)
        x0, x1 = max(0, cols.start) // COLUMN_STEP * COLUMN_STEP, min(width, -(-cols.stop // COLUMN_STEP) * COLUMN_STEP)
        if y0 >= y1 or x0 >= x1:
            return
        top, bottom = max(0, (y0 - ROWS_AROUND) & ~1), min(height, (y1 + ROWS_AROUND + 1) & ~1)
        y, u, v = self.convert(rgb[top:bottom, x0:x1])
        planes[0][y0:y1, x0:x1] = y[y0 - top:y1 - top]
        c0, c1 = max(0, y0 // 2 - CHROMA_ROWS_AROUND), min(height // 2, (y1 + 1) // 2 + CHROMA_ROWS_AROUND)
        for plane, part in ((planes[1], u), (planes[2], v)):
            plane[c0:c1, x0 // 2:x1 // 2] = part[c0 - top // 2:c1 - top // 2]
