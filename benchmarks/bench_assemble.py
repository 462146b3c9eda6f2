"""Near-duplicate detection cost: DCT pHash (mednarratives.dataset.assemble.phash) vs. the baseline
"exact duplicate" hash (SHA-256 of the decoded pixels), on the same generated 512x512 images in one run.

    OMP_NUM_THREADS=1 python benchmarks/bench_assemble.py [N]
Prints images/s of both and the ratio phash/baseline (>= 1 would mean pHash is as cheap as exact hashing)."""

import hashlib
import sys
import time

import numpy as np
from PIL import Image

from mednarratives.dataset.assemble import phash

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
rng = np.random.default_rng(0)
images = [Image.fromarray(rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)) for _ in range(n)]

t0 = time.perf_counter()
base = [hashlib.sha256(im.tobytes()).hexdigest() for im in images]
t_base = time.perf_counter() - t0
t0 = time.perf_counter()
ours = [phash(im) for im in images]
t_ours = time.perf_counter() - t0
print(f"baseline sha256(pixels): {n / t_base:.1f} images/s")
print(f"phash (DCT 32->8x8):     {n / t_ours:.1f} images/s")
print(f"ratio phash/baseline throughput: {t_base / t_ours:.3f}")
