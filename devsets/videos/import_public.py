"""Cut a downloaded public clip into the dev set: <= 20 s, <= 1280x720, H.264 (CRF 23) + AAC when it has audio.

Sources are listed in `public_sources.tsv` (repository, commit, path, licence, sha256 of the original and of the
cut). PLUS ultrasound sequences (`.igs.mha`, MetaImage with one frame per slice) are decoded here and piped to
ffmpeg at the frame rate given; every other input goes to ffmpeg as it is.

    python devsets/videos/import_public.py SOURCE OUT.mp4 [--start S] [--duration D] [--fps F] [--loop]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import zlib
from pathlib import Path

import numpy as np

SCALE = "scale='min(1280,iw)':'min(720,ih)':force_original_aspect_ratio=decrease,scale=trunc(iw/2)*2:trunc(ih/2)*2"
ENCODE = ["-c:v", "libx264", "-crf", "23", "-preset", "medium", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]


def read_mha_sequence(path: Path) -> np.ndarray:
    """Frames (n, h, w) uint8 of a PLUS sequence file (MET_UCHAR, first channel, zlib or raw data)."""
    raw = path.read_bytes()
    start = raw.index(b"ElementDataFile = LOCAL")
    header = {}
    for line in raw[:start].decode("latin1").splitlines():
        if " = " in line and not line.startswith("Seq_"):
            key, value = line.split(" = ", 1)
            header[key.strip()] = value.strip()
    if header.get("ElementType") != "MET_UCHAR":
        raise ValueError(f"{path}: only MET_UCHAR sequences are handled, not {header.get('ElementType')}")
    w, h, n = (int(v) for v in header["DimSize"].split())
    channels = int(header.get("ElementNumberOfChannels", 1))
    data = raw[raw.index(b"\n", start) + 1:]
    if header.get("CompressedData") == "True":
        data = zlib.decompress(data)
    return np.frombuffer(data, np.uint8)[: n * h * w * channels].reshape(n, h, w, channels)[..., 0]


def cut(source: Path, out: Path, start: float, duration: float, fps: float, loop: bool) -> None:
    if source.name.endswith(".mha"):
        frames = read_mha_sequence(source)[int(start * fps):][: int(duration * fps)]
        cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray",
               "-s", f"{frames.shape[2]}x{frames.shape[1]}", "-r", str(fps), "-i", "-", "-vf", SCALE, *ENCODE, str(out)]
        subprocess.run(cmd, input=np.ascontiguousarray(frames).tobytes(), check=True)
        return
    gif = source.suffix.lower() == ".gif"
    # A GIF plays in a loop where it is shown (README, docs): --loop renders that loop for the duration asked.
    # GIF frame delays vary; fps=10 turns them into a constant rate, the last frame's delay included.
    looping = ["-ignore_loop", "0"] if gif and loop else []
    vf = f"fps={fps}," + SCALE if gif else SCALE
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", *looping, "-ss", str(start), "-t", str(duration),
           "-i", str(source), "-vf", vf, *ENCODE, "-c:a", "aac", "-b:a", "96k", str(out)]
    subprocess.run(cmd, check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--start", type=float, default=0.0)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--fps", type=float, default=10.0, help="frame rate of an .mha sequence or a GIF's encoding")
    ap.add_argument("--loop", action="store_true", help="play a looping GIF for the whole duration")
    args = ap.parse_args()
    cut(args.source, args.out, args.start, args.duration, args.fps, args.loop)
    for p in (args.source, args.out):
        print(hashlib.sha256(p.read_bytes()).hexdigest(), p)


if __name__ == "__main__":
    main()
