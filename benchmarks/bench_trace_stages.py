"""Per-stage CPU split of `trace_video`, as ratios to a plain `ffmpeg -threads 1 -i VIDEO -f null -` decode.

Cumulative stages, each a separate run: the working-scale decode piped into Python alone; + the stable chunker;
+ the short windows; + `trace_video` with the frames' hand-on to the follower and highlight finder replaced by a
drop (chunk tracking, representative images); + the highlight finder; the whole `trace_video`. CPU seconds of this
process and its ffmpeg/ffprobe children (user + system), pinned to one core; the stages run in turn `--repeat`
times and each keeps its best. Differences between neighbouring stages below ~0.1x are noise on a shared machine.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_trace_stages.py VIDEO... [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import subprocess

os.environ.setdefault("OMP_NUM_THREADS", "1")


def cpu_seconds(fn) -> float:
    before = os.times()
    fn()
    after = os.times()
    return sum(after[:4]) - sum(before[:4])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("videos", nargs="+")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    from mednarratives.frames import video
    from mednarratives.frames.chunks import StableChunker
    from mednarratives.frames.windows import ShortWindows
    from mednarratives.videos.decode import (LIMITED_LUMA_SPAN, i420_chroma, i420_luma, iter_batches, scaled_size,
                                             stream_info)

    params = video.VideoTraceParams()

    def decode(path: str, chunker: bool = False, windows: bool = False) -> None:
        info = stream_info(path)
        size = scaled_size(info.width, info.height, params.scale)
        chunks = StableChunker(info.fps, params.chunk, to_rgb=video.i420_to_rgb, luma_span=LIMITED_LUMA_SPAN)
        short = ShortWindows(info.fps, params.trace, int(params.chunk.min_duration_s * info.fps), LIMITED_LUMA_SPAN)
        index = 0
        for batch in iter_batches(path, size, "yuv420p", loop_filter=params.loop_filter):
            if chunker:
                luma, chroma = i420_luma(batch), i420_chroma(batch)
                chunks.feed(luma, index, batch, chroma)
                if windows:
                    for i in range(index, index + len(batch)):
                        short.add(i, luma[i - index], chroma[i - index], chunks.scores[i])
                    short.drop(min(chunks.settled, short.settled))
            index += len(batch)
        chunks.close()

    def drop_frames(tracer, end: int, highlights: bool) -> dict:
        while tracer.waiting and tracer.waiting[0][0] < end:
            i, _, chroma = tracer.waiting.popleft()
            if highlights:
                tracer.highlights.add(i, chroma)
        tracer.windows.drop(end)
        return {}

    def traced(highlights: bool | None):
        """trace_video; highlights None: whole, else its hand-on replaced by a drop (with or without highlights)."""
        def run(path: str) -> None:
            original = video._Tracer.hand_on
            if highlights is not None:
                video._Tracer.hand_on = lambda tracer, end, *_: drop_frames(tracer, end, highlights)
            try:
                video.trace_video(path, params)
            finally:
                video._Tracer.hand_on = original
        return run

    stages = {"ffmpeg decode": lambda path: subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-threads", "1",
                                                            "-i", path, "-f", "null", "-"], check=True),
              "decode+pipe": decode,
              "+chunker": lambda path: decode(path, chunker=True),
              "+windows": lambda path: decode(path, chunker=True, windows=True),
              "+tracker": traced(False), "+highlight": traced(True), "whole": traced(None)}
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for path in args.videos:
        best = dict.fromkeys(stages, float("inf"))
        for _ in range(args.repeat):
            for name, fn in stages.items():
                best[name] = min(best[name], cpu_seconds(lambda: fn(path)))
        base = best["ffmpeg decode"]
        print(os.path.basename(path) + ": " + " | ".join(f"{name} {best[name]:.2f} s {best[name] / base:.2f}x"
                                                          for name in stages), flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
