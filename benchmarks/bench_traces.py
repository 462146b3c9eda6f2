"""Chunk + trace time of one video as a ratio to a plain ffmpeg decode of the same video, on one core.

Baseline (measured in the same run): `ffmpeg -threads 1 -i VIDEO -f null -` (full-resolution decode).
Measured: `trace_video` (one decode at the working scale, stable chunks, cursor tracking, representative
images), with and without the MTCNN face detector. Goal: ratio <= 1.5. The whole process (and so the ffmpeg
children of both) is pinned to one CPU, so decoding and tracking cannot overlap on a second core.

    OMP_NUM_THREADS=1 python benchmarks/bench_traces.py [VIDEO ...] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("videos", nargs="*", default=["data/demo/videos/ct_head_bone_window.mp4"])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import torch

    torch.set_num_threads(1)
    from mednarratives.traces.cursor import mtcnn_face_detector
    from mednarratives.traces.video import trace_video

    detector = mtcnn_face_detector()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for video in args.videos:
        decode = best_of(lambda: subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-threads", "1", "-i", video,
                                                 "-f", "null", "-"], check=True), args.repeat)
        plain = best_of(lambda: trace_video(video), args.repeat)
        faces = best_of(lambda: trace_video(video, face_detector=detector), args.repeat)
        print(f"{os.path.basename(video)}: ffmpeg decode {decode:.2f} s | chunk+trace {plain:.2f} s "
              f"(ratio {plain / decode:.2f}x) | with MTCNN {faces:.2f} s (ratio {faces / decode:.2f}x) | goal <= 1.5x")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
