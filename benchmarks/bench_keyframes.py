"""Key-frame stage cost vs the cost of just decoding the video, and key-frame recall against the truth cuts.

    python3 benchmarks/bench_keyframes.py [VIDEO.mp4 ...] [--rounds 3] [--config config/config.yaml]

Default input: the demo corpus (data/demo/videos/*.mp4 with their *.truth.json). For every video, in interleaved
rounds: baseline `ffmpeg -threads 1 -i VIDEO -f null -` (a full-resolution decode, nothing else), then our
key-frame stage (mednarratives.videos.keyframes.extract with the domain's method and the config's parameters:
ffmpeg scene detection for CT/MRI/X-ray, PySceneDetect adaptive otherwise; decode at low resolution, one pass).
The fastest round of each gives its time (the round least disturbed on a shared machine).
Prints per video and in total: keyframe_s / decode_s (the ratio: < 1 means cheaper than a plain decode), and
recall / precision of the detected cuts against the truth scene cuts (0.5 s tolerance) when a truth file exists.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def decode_time(path: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-threads", "1", "-i", path, "-f", "null", "-"], check=True)
    return time.perf_counter() - t0


def main() -> int:
    import yaml

    from mednarratives.videos import keyframes as K

    ap = argparse.ArgumentParser()
    ap.add_argument("videos", nargs="*")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--config", default="config/config.yaml")
    args = ap.parse_args()
    videos = args.videos or sorted(glob.glob("data/demo/videos/*.mp4"))
    if not videos:
        print("no videos (build the demo corpus first)", file=sys.stderr)
        return 1
    kcfg = yaml.safe_load(Path(args.config).read_text())["videos"]["keyframes"]
    best = {v: [float("inf"), float("inf")] for v in videos}
    results = {}
    for _ in range(args.rounds):
        for v in videos:
            truth_path = Path(v).with_suffix("").with_suffix(".truth.json")
            truth = json.loads(truth_path.read_text()) if truth_path.is_file() else None
            domain = (truth or {}).get("query_domain", "ct")
            best[v][0] = min(best[v][0], decode_time(v))
            t0 = time.perf_counter()
            kf = K.extract(v, domain, kcfg)
            best[v][1] = min(best[v][1], time.perf_counter() - t0)
            results[v] = (kf, truth)
    print(f"load average at start of report: {os.getloadavg()[0]:.2f}")
    print(f"{'video':34s} {'method':13s} {'decode_s':>8s} {'keyfr_s':>8s} {'ratio':>6s} {'recall':>6s} {'prec':>6s}")
    tot_d = tot_k = 0.0
    matched = n_truth = n_pred = 0
    for v in videos:
        kf, truth = results[v]
        d, k = best[v]
        tot_d += d
        tot_k += k
        rec = prec = ""
        if truth:
            s = K.match_cuts(kf.cuts, truth["scene_cuts"], tolerance=0.5)
            matched, n_truth, n_pred = matched + s["matched"], n_truth + s["n_truth"], n_pred + s["n_pred"]
            rec, prec = f"{s['recall']:.3f}", f"{s['precision']:.3f}"
        print(f"{Path(v).stem[:34]:34s} {kf.method:13s} {d:8.3f} {k:8.3f} {k / d:6.2f} {rec:>6s} {prec:>6s}")
    print(f"TOTAL keyframe stage / ffmpeg decode (baseline, same run): {tot_k:.2f} s / {tot_d:.2f} s = "
          f"{tot_k / tot_d:.2f}x")
    if n_truth:
        print(f"keyframe recall {matched}/{n_truth} = {matched / n_truth:.3f}; precision {matched}/{n_pred} = "
              f"{matched / max(1, n_pred):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
