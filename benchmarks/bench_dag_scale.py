"""DAG scale: `snakemake -n` wall time and peak memory for synthetic corpora of growing size.

For each size, a scratch workflow directory gets a synthetic id list (videos: a local manifest of ids;
articles: a PMC id list), the sharding checkpoints run for real (they only write shard tables), then the
dry run of the stage's final target is timed with its peak RSS. Videos: a wrapper Snakefile asks for the
narratives of every shard, so the dry run plans each shard's filter, media, ASR, text, frames, traces and align
jobs (they run per shard on the videos its filter keeps, whatever their number). Baseline: the paper's full
scale (738K candidate videos, 5.4M articles) must dry-run in <= 10 s and <= 1 GiB (issue 9).

    python benchmarks/bench_dag_scale.py                 # 1K, 10K, 100K videos; 1M articles
    python benchmarks/bench_dag_scale.py --full          # adds 738K videos and 5.4M articles
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ENTRIES = ("Snakefile", "config", "rules", "scripts", "resources", "envs", "profiles")
GOAL_S, GOAL_MIB = 10.0, 1024.0


def workflow_dir(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in ENTRIES:
        (root / name).symlink_to(REPO / name)
    return root


def snakemake(wd: Path, *args: str) -> tuple[float, float]:
    """Run snakemake in a child; (wall seconds, peak RSS MiB of that child)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--nolock", *args], cwd=wd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{out[-5000:]}")
    return wall, usage.ru_maxrss / 1024


VIDEO_WRAPPER = """include: "Snakefile"


rule bench_videos:
    input:
        "results/videos/kept.tsv",
        for_video_shards("results/narratives/{shard}.jsonl"),
"""


def write_video_ids(wd: Path, n: int) -> None:
    """A local manifest of n ids (all rows point at one small file: the manifest checks files exist)."""
    (wd / "media").mkdir()
    (wd / "media/v.mp4").write_bytes(b"")
    (wd / "ids.tsv").write_text("video_id\tpath\n" + "".join(f"v{i:07d}\tmedia/v.mp4\n" for i in range(n)))
    (wd / "bench_videos.smk").write_text(VIDEO_WRAPPER)


CASES = {
    "videos": dict(
        config=lambda wd, shard: {"videos": {"source": {"kind": "local", "path": str(wd / "ids.tsv")},
                                             "shard_size": shard}},
        checkpoint="results/videos/manifest", final=["-s", "bench_videos.smk", "bench_videos"],
        write_ids=write_video_ids,
    ),
    # kind -> (config overrides for n ids and their list file, checkpoint target, final target, id writer)
    "articles": dict(
        config=lambda wd, shard: {"articles": {"source": {"kind": "pmc", "path": str(wd / "ids.txt")},
                                               "shard_size": shard}},
        checkpoint="results/articles/manifest", final=["results/articles/pairs.tsv"],
        write_ids=lambda wd, n: (wd / "ids.txt").write_text("".join(f"PMC{10_000_000 + i}\n" for i in range(n))),
    ),
}


def merged(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return out


def run_case(kind: str, n: int, shard: int, scratch: Path) -> dict:
    case = CASES[kind]
    wd = workflow_dir(scratch / f"{kind}_{n}")
    case["write_ids"](wd, n)
    config = merged(yaml.safe_load((REPO / "config/config.yaml").read_text()), case["config"](wd, shard))
    (wd / "bench_config.yaml").write_text(yaml.safe_dump(config))
    cfg = ["--configfile", "bench_config.yaml"]
    t_ckpt, _ = snakemake(wd, case["checkpoint"], "--cores", "1", *cfg)
    wall, mib = snakemake(wd, *case["final"], "-n", *cfg, "--quiet", "rules")
    return {"kind": kind, "ids": n, "shard_size": shard, "shards": -(-n // shard), "checkpoint_s": t_ckpt,
            "dry_run_s": wall, "peak_mib": mib}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="also the paper's full scale")
    ap.add_argument("--video-shard", type=int, default=1000)
    ap.add_argument("--article-shard", type=int, default=5000)
    args = ap.parse_args()
    plan = [("videos", n, args.video_shard) for n in (1_000, 10_000, 100_000)] + [("articles", 1_000_000, args.article_shard)]
    if args.full:
        plan += [("videos", 738_000, args.video_shard), ("articles", 5_400_000, args.article_shard)]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_case(kind, n, shard, Path(tmp)) for kind, n, shard in plan]
    print(f"{'stage':9} {'ids':>9} {'shard':>6} {'shards':>7} {'checkpoint s':>12} {'dry-run s':>10} "
          f"{'peak MiB':>9} {'vs goal (10 s, 1 GiB)':>22}")
    for r in rows:
        print(f"{r['kind']:9} {r['ids']:>9} {r['shard_size']:>6} {r['shards']:>7} {r['checkpoint_s']:>12.1f} "
              f"{r['dry_run_s']:>10.1f} {r['peak_mib']:>9.0f} "
              f"{r['dry_run_s'] / GOAL_S:>9.2f}x {r['peak_mib'] / GOAL_MIB:>9.2f}x")


if __name__ == "__main__":
    main()
