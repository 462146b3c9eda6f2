"""Cost model: per-unit CPU cost of each stage, measured by the `benchmark:` files of a finished demo run
(logs/timings/<rule>/), and extrapolated to the paper's scale (738K candidate videos, 74K kept = 4526 h;
5.4M articles, 1.03M medical figures; 4.7M samples). Baseline: real time for the video stages (CPU seconds
per second of video), so each row also reads as a real-time factor.

    snakemake --cores 2 all && python benchmarks/cost_model.py
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

PAPER = {"candidate video-h": 738_000 * 4526 / 74_000, "kept video-h": 4526.0, "article": 5_400_000,
         "figure": 1_030_000, "sample": 4_700_000}


def bench_rows(root: Path, pattern: str) -> list[dict]:
    rows = []
    for path in sorted(root.glob(pattern)):
        with open(path, newline="") as fh:
            rows += [{k: float(v) if k != "h:m:s" else v for k, v in r.items()} for r in csv.DictReader(fh, delimiter="\t")]
    return rows


def video_hours(root: Path, ids: list[str], demo_dir: str) -> float:
    return sum(json.loads((root / demo_dir / "videos" / f"{v}.truth.json").read_text())["duration"] for v in ids) / 3600


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=".")
    ap.add_argument("--demo-dir", default="data/demo")
    args = ap.parse_args()
    root = Path(args.workdir)
    all_ids = [r.split("\t")[0] for r in (root / args.demo_dir / "videos.tsv").read_text().splitlines()[1:]]
    kept = [r.split("\t")[0] for r in (root / "results/videos/kept.tsv").read_text().splitlines()[1:]]
    articles = len(list((root / args.demo_dir / "articles").glob("*.tar.gz")))
    figures = json.loads((root / "results/articles/score.json").read_text())["figures"]["total"]
    samples = sum(1 for _ in open(root / "results/dataset/localized_narratives.jsonl"))
    units = {"candidate video-h": video_hours(root, all_ids, args.demo_dir), "kept video-h": video_hours(root, kept, args.demo_dir),
             "article": articles, "figure": figures, "sample": samples}
    stages = [  # stage, timing files, unit
        ("videos_filter", "logs/timings/videos_filter/*.tsv", "candidate video-h"),
        ("speech_asr", "logs/timings/speech_asr/*.tsv", "kept video-h"),
        ("frames_video", "logs/timings/frames_video/*.tsv", "kept video-h"),
        ("articles_parse", "logs/timings/articles_parse/*.tsv", "article"),
        ("articles_subfigures", "logs/timings/articles_subfigures/*.tsv", "figure"),
        ("dataset_assemble", "logs/timings/dataset_assemble/all.tsv", "sample"),
    ]
    print(f"{'stage':20} {'unit':18} {'demo units':>10} {'CPU s/unit':>11} {'x real time':>11} {'max RSS MiB':>11} "
          f"{'paper units':>12} {'paper CPU-h':>12}")
    total = 0.0
    for stage, pattern, unit in stages:
        rows = bench_rows(root, pattern)
        if not rows:
            print(f"{stage:20} (no timing files under {pattern})")
            continue
        cpu = sum(r["cpu_time"] for r in rows)
        per_unit = cpu / units[unit]
        rtf = f"{per_unit / 3600:.3f}" if unit.endswith("video-h") else "-"
        paper_h = per_unit * PAPER[unit] / 3600
        total += paper_h
        print(f"{stage:20} {unit:18} {units[unit]:>10.3g} {per_unit:>11.3g} {rtf:>11} "
              f"{max(r['max_rss'] for r in rows):>11.0f} {PAPER[unit]:>12.3g} {paper_h:>12.0f}")
    print(f"{'total':20} {'':18} {'':>10} {'':>11} {'':>11} {'':>11} {'':>12} {total:>12.0f}")
    frames_per_h = du(root / "results/frames") / units["kept video-h"]
    shards_per_sample = du(root / "results/dataset/wds") / samples
    print(f"storage: frames {frames_per_h / 2**30:.2f} GiB per kept video-hour -> "
          f"{frames_per_h * PAPER['kept video-h'] / 2**40:.2f} TiB; WebDataset {shards_per_sample / 1024:.0f} KiB per sample "
          f"-> {shards_per_sample * PAPER['sample'] / 2**40:.2f} TiB")


if __name__ == "__main__":
    main()
