"""``python -m mednarratives.models.oc_launch ARGS`` = ``python -m open_clip_train.main ARGS`` with two
fixes for reproducible runs, open_clip_train itself left untouched:

* WebDataset's in-shard sample shuffle is seeded from ``--seed`` (open_clip_train builds it with
  ``wds.shuffle(bufsize, initial)``, whose generator is seeded from time and pid);
* ``main()`` returning -1 (e.g. "Experiment already exists") becomes exit status 1 (plain
  ``python -m open_clip_train.main`` exits 0 then).
"""

from __future__ import annotations

import random
import sys


def _seed_from(argv: list[str]) -> int:
    for i, arg in enumerate(argv):
        if arg == "--seed" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--seed="):
            return int(arg.split("=", 1)[1])
    return 0


def main(argv: list[str]) -> int:
    import webdataset

    import open_clip_train.main as oc_main

    seed = _seed_from(argv)
    original = webdataset.shuffle

    def seeded_shuffle(*args, **kwargs):
        kwargs.setdefault("rng", random.Random(seed))
        return original(*args, **kwargs)

    webdataset.shuffle = seeded_shuffle  # open_clip_train.data calls `wds.shuffle(...)` at pipeline build
    rc = oc_main.main(argv)
    return 1 if rc == -1 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
