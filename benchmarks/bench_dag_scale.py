"""DAG scale: `snakemake -n` wall time and peak memory for synthetic corpora of growing size.

For each size, a scratch workflow directory gets a synthetic id list (videos: a local manifest of ids;
articles: a PMC id list), the sharding checkpoints run for real (they only write shard tables), then the
dry run of a wrapper Snakefile's target (the narratives of every video shard, the article pairs table) is timed
(wall and CPU seconds) with its peak RSS: it plans each video shard's filter (+ media), ASR, text, frames and
traces + align jobs (they run per shard on the videos its filter keeps, whatever their number) and each article
shard's jobs. Goal: the paper's full scale (738K candidate videos and 5.4M articles in one config, shards of 2000
and 10000) dry-runs in <= 5 s and <= 512 MiB (issue 19; issue 9 had 10 s, 1 GiB). On a shared machine read the
CPU seconds: the wall time is mostly the other processes'.

    python benchmarks/bench_dag_scale.py                 # 1K, 10K, 100K videos; 1M articles
    python benchmarks/bench_dag_scale.py --full          # adds 738K videos, 5.4M articles, and both together
    python benchmarks/bench_dag_scale.py --full --video-shard 2000 --article-shard 10000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ENTRIES = ("Snakefile", "config", "rules", "scripts", "resources", "envs", "profiles")
GOAL_S, GOAL_MIB = 5.0, 512.0


def workflow_dir(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in ENTRIES:
        (root / name).symlink_to(REPO / name)
    return root


# Linux carries a process's peak RSS over fork and exec, so a child of this process (which held the id lists)
# would report at least this process's peak: snakemake runs as the child of a small launcher, which reports it.
LAUNCHER = """import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"\\nLAUNCHER {rc} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
"""


def snakemake(wd: Path, *args: str) -> tuple[float, float, float]:
    """Run snakemake in a grandchild; (wall seconds, CPU seconds, peak RSS MiB) of that process."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-m", "snakemake", "--nolock", *args],
                          cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - start
    out, _, report = proc.stdout.rpartition("\nLAUNCHER ")
    rc, cpu, maxrss_kib = report.split()
    if int(rc):
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{out[-5000:]}")
    return wall, float(cpu), int(maxrss_kib) / 1024


WRAPPER = """include: "Snakefile"


rule bench:
    input:
{inputs}
"""
VIDEO_TARGETS = ['"results/videos/kept.tsv"', 'per_shard("videos", "results/narratives/{shard}.jsonl")']
ARTICLE_TARGETS = ['"results/articles/pairs.tsv"']


def write_video_ids(wd: Path, n: int) -> None:
    """A local manifest of n ids (all rows point at one small file: the manifest checks files exist)."""
    (wd / "media").mkdir()
    (wd / "media/v.mp4").write_bytes(b"")
    (wd / "ids.tsv").write_text("video_id\tpath\n" + "".join(f"v{i:07d}\tmedia/v.mp4\n" for i in range(n)))


def write_article_ids(wd: Path, n: int) -> None:
    (wd / "ids.txt").write_text("".join(f"PMC{10_000_000 + i}\n" for i in range(n)))


def merged(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return out


# stage -> (id list writer, its source config, the manifest checkpoint, targets of the wrapper rule)
SOURCES = {
    "videos": (write_video_ids, lambda wd: {"kind": "local", "path": str(wd / "ids.tsv")}, "results/videos/manifest",
               VIDEO_TARGETS),
    "articles": (write_article_ids, lambda wd: {"kind": "pmc", "path": str(wd / "ids.txt")},
                 "results/articles/manifest", ARTICLE_TARGETS),
}


def run_case(sizes: dict[str, tuple[int, int]], scratch: Path) -> dict:
    """Dry run of one config; sizes: stage -> (number of ids, shard size), a stage with 0 ids is left out."""
    sizes = {stage: (n, shard) for stage, (n, shard) in sizes.items() if n}
    wd = workflow_dir(scratch / "_".join(f"{stage}{n}" for stage, (n, _) in sizes.items()))
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    checkpoints, targets = [], []
    for stage, (n, shard) in sizes.items():
        write_ids, source, checkpoint, stage_targets = SOURCES[stage]
        write_ids(wd, n)
        config = merged(config, {stage: {"source": source(wd), "shard_size": shard}})
        checkpoints.append(checkpoint)
        targets += stage_targets
    (wd / "bench_config.yaml").write_text(yaml.safe_dump(config))
    (wd / "bench.smk").write_text(WRAPPER.format(inputs="".join(f"        {t},\n" for t in targets)))
    cfg = ["--configfile", "bench_config.yaml"]
    t_ckpt, _, _ = snakemake(wd, *checkpoints, "--cores", "1", *cfg)
    wall, cpu, mib = snakemake(wd, "-s", "bench.smk", "bench", "-n", *cfg, "--quiet", "rules")
    return {"videos": sizes.get("videos", (0, 1))[0], "articles": sizes.get("articles", (0, 1))[0],
            "shards": sum(-(-n // shard) for n, shard in sizes.values()), "checkpoint_s": t_ckpt, "dry_run_s": wall,
            "dry_run_cpu_s": cpu, "peak_mib": mib}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="also the paper's full scale")
    ap.add_argument("--video-shard", type=int, default=1000)
    ap.add_argument("--article-shard", type=int, default=5000)
    args = ap.parse_args()
    plan = [(n, 0) for n in (1_000, 10_000, 100_000)] + [(0, 1_000_000)]
    if args.full:
        plan += [(738_000, 0), (0, 5_400_000), (738_000, 5_400_000)]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_case({"videos": (v, args.video_shard), "articles": (a, args.article_shard)}, Path(tmp))
                for v, a in plan]
    print(f"shards: {args.video_shard} videos, {args.article_shard} articles")
    print(f"{'videos':>8} {'articles':>9} {'shards':>7} {'checkpoints s':>13} {'dry-run s':>10} {'CPU s':>6} "
          f"{'peak MiB':>9} {'vs goal (5 s, 512 MiB)':>22}")
    for r in rows:
        print(f"{r['videos']:>8} {r['articles']:>9} {r['shards']:>7} {r['checkpoint_s']:>13.1f} {r['dry_run_s']:>10.1f} "
              f"{r['dry_run_cpu_s']:>6.1f} {r['peak_mib']:>9.0f} {r['dry_run_s'] / GOAL_S:>9.2f}x "
              f"{r['peak_mib'] / GOAL_MIB:>9.2f}x")


if __name__ == "__main__":
    main()
