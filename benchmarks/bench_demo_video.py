"""CPU cost of synthesizing demo videos: the current mednarratives_demo.video vs a baseline git revision, and byte identity.

    PYTHONPATH=src python3 benchmarks/bench_demo_video.py [VIDEO_ID ...] [--base REV] [--rounds 2] [--reference DIR]

Baseline: src/mednarratives_demo/video.py, src/mednarratives/speech/espeak.py and the demo plan and narration
(resources/demo/) as of REV (default 143fdfc, before the #19 changes), copied into a temporary folder and run with
the same seed, rate and size. Each synthesis runs in its own
process (interpreter, imports, espeak workers, ffmpeg: what rule demo_video pays) and is charged the CPU time of
that whole process tree (user + system). Rounds interleave baseline and current; the least CPU of each is kept
(the round least disturbed on a shared machine). Prints per video: CPU s of each, current/baseline ratio, and
whether the mp4, its audio stream and truth.json of the two (and of --reference DIR, e.g. a finished demo run's
data/demo/videos) are byte-identical (sha256): a change to the pictures alone (cursor styles) keeps the audio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIDEOS = ["neg_too_short", "us_echo_cine", "ct_thoracic_spine"]

# Run in a child: build one video, print the CPU time of this process and all its children.
CHILD = """
import importlib.util, json, resource, sys
base, vid, out = sys.argv[1:4]
if base:  # the baseline modules, from files; the baseline video module speaks through the baseline espeak
    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod
    espeak = load("baseline_espeak", base + "/espeak.py")
    import mednarratives.speech
    mednarratives.speech.espeak = espeak
    sys.modules["mednarratives.speech.espeak"] = espeak
    video = load("baseline_video", base + "/video.py")
else:
    from mednarratives_demo import video
specs = {s["id"]: s for s in video.load_plan(sys.argv[4], sys.argv[5])}
video.build_video(specs[vid], seed=int(sys.argv[6]), out_mp4=out + ".mp4", out_truth=out + ".truth.json",
                  fps=int(sys.argv[7]), size=(int(sys.argv[8]), int(sys.argv[9])))
cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
          for f in ("ru_utime", "ru_stime"))
print(json.dumps({"cpu_s": cpu}))
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def audio_sha256(path: Path) -> str:
    """The mp4's audio stream, as coded (no decoding)."""
    return hashlib.sha256(subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "adts",
                                          "-"], check=True, capture_output=True).stdout).hexdigest()


def main() -> int:
    import yaml

    ap = argparse.ArgumentParser()
    ap.add_argument("videos", nargs="*", default=DEFAULT_VIDEOS)
    ap.add_argument("--base", default="143fdfc")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--config", default=str(REPO / "config/config.yaml"))
    ap.add_argument("--reference", help="folder with <id>.mp4 and <id>.truth.json to compare with")
    args = ap.parse_args()
    demo = yaml.safe_load(Path(args.config).read_text())["demo"]
    inputs = {"current": (REPO / demo["video_plan"], REPO / demo["narration"])}
    settings = [str(demo["seed"]), str(demo["video_fps"]), *map(str, demo["video_size"])]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp, "base")
        base.mkdir()
        for src, name in (("src/mednarratives_demo/video.py", "video.py"), ("src/mednarratives/speech/espeak.py", "espeak.py"),
                          (demo["video_plan"], "videos.yaml"), (demo["narration"], "narration.yaml")):
            (base / name).write_bytes(subprocess.run(["git", "-C", str(REPO), "show", f"{args.base}:{src}"],
                                                     check=True, capture_output=True).stdout)
        inputs["baseline"] = (base / "videos.yaml", base / "narration.yaml")
        best: dict = {}
        for _ in range(args.rounds):
            for vid in args.videos:
                for label, base_dir in (("baseline", str(base)), ("current", "")):
                    out = Path(tmp, label, vid)
                    out.parent.mkdir(exist_ok=True)
                    proc = subprocess.run([sys.executable, "-c", CHILD, base_dir, vid, str(out), *map(str, inputs[label]),
                                           *settings], env=env, cwd=REPO, capture_output=True, text=True)
                    if proc.returncode:
                        print(proc.stderr, file=sys.stderr)
                        return 1
                    cpu = json.loads(proc.stdout.splitlines()[-1])["cpu_s"]
                    best[vid, label] = min(best.get((vid, label), float("inf")), cpu)
        print(f"{'video':32} {'baseline_cpu_s':>14} {'current_cpu_s':>13} {'ratio':>6}  identical")
        total = [0.0, 0.0]
        for vid in args.videos:
            b, c = best[vid, "baseline"], best[vid, "current"]
            total[0], total[1] = total[0] + b, total[1] + c
            same = []
            for ext, digest_of in (("mp4", sha256), ("audio", audio_sha256), ("truth.json", sha256)):
                file = f"{vid}.{'mp4' if ext == 'audio' else ext}"
                digest = digest_of(Path(tmp, "current", file))
                ok = digest == digest_of(Path(tmp, "baseline", file))
                if args.reference:
                    ok = ok and digest == digest_of(Path(args.reference, file))
                same.append(f"{ext}={'yes' if ok else 'NO'}")
            print(f"{vid:32} {b:14.2f} {c:13.2f} {c / b:6.3f}  {' '.join(same)}")
        print(f"{'total':32} {total[0]:14.2f} {total[1]:13.2f} {total[1] / total[0]:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
