"""GenMedCLIP training throughput through open_clip_train (the training rule's own code path), on a device
against the CPU as the baseline measured in the same run, and the GPU-hours of the paper's run that follow.

The demo shards (results/dataset/wds) are repeated to make an epoch long enough to time; the timed part is
open_clip_train's whole run (data loading, bf16 AMP on CUDA, grad checkpointing), so the numbers include
what a cluster job pays. Paper scale: 4.7M pairs x 20 epochs (Table 4).

    python benchmarks/bench_clip_train.py --variant genmedclip --device cuda --repeat 40 --cpu-repeat 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mednarratives.models import clip_configs as C
from mednarratives.models import train as T

PAPER_PAIRS, PAPER_EPOCHS = 4_700_000, 20


def repeated_shards(shards: list[Path], repeat: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for r in range(repeat):
        for s in shards:
            link = folder / f"r{r:04d}-{s.name}"
            link.symlink_to(s.resolve())
            out.append(link)
    (folder / "sizes.json").write_text(
        "{" + ", ".join(f'"{p.name}": {T.shards_num_samples([s])}' for p, s in zip(out, shards * repeat)) + "}")
    return out


def throughput(variant: str, shards: list[Path], device: str, batch: int, workers: int, scratch: Path) -> dict:
    model_dir = scratch / f"model-{device}"
    C.write_model_dir(variant, model_dir)
    params = T.train_params(variant, epochs=1, batch_size=batch, device=device, workers=workers, warmup=10,
                            seeded_shuffle=False)
    n = T.shards_num_samples(shards)
    start = time.perf_counter()
    T.run_training(model_dir, shards, scratch / f"logs-{device}", f"bench-{device}", params)
    wall = time.perf_counter() - start
    return {"device": device, "samples": n, "wall_s": wall, "samples_per_s": n / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", default="results/dataset/wds")
    ap.add_argument("--variant", default="genmedclip")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=40, help="times the train shards are repeated on the device")
    ap.add_argument("--cpu-repeat", type=int, default=1, help="the same on the CPU baseline (0: skip)")
    args = ap.parse_args()
    shards = sorted(Path(args.shards).glob("train-*.tar"))
    if not shards:
        raise SystemExit(f"no train-*.tar in {args.shards}: run `snakemake results/dataset/wds/sizes.json` first")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows.append(throughput(args.variant, repeated_shards(shards, args.repeat, tmp / "dev"), args.device,
                               args.batch, args.workers, tmp))
        if args.cpu_repeat:
            rows.append(throughput(args.variant, repeated_shards(shards, args.cpu_repeat, tmp / "cpu"), "cpu",
                                   min(args.batch, 32), min(args.workers, 2), tmp))
    base = rows[-1]["samples_per_s"]
    print(f"{'device':8} {'samples':>8} {'wall s':>8} {'samples/s':>10} {'vs cpu':>8} {'paper GPU-h':>12}")
    for r in rows:
        hours = PAPER_PAIRS * PAPER_EPOCHS / r["samples_per_s"] / 3600
        print(f"{r['device']:8} {r['samples']:>8} {r['wall_s']:>8.1f} {r['samples_per_s']:>10.1f} "
              f"{r['samples_per_s'] / base:>7.1f}x {hours:>12.0f}")


if __name__ == "__main__":
    main()
