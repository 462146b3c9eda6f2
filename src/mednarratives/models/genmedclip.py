"""Train one GenMedCLIP variant with open_clip_train (unmodified) and export its weights, plus the randomly
initialised model of the same architecture (the baseline row every benchmark table carries)."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Mapping, Sequence

from mednarratives.models import clip_configs as C
from mednarratives.models import train as T


def train_variant(variant: str | Mapping[str, Any], train_shards: Sequence[str | os.PathLike], model_config: str | os.PathLike,
                  weights: str | os.PathLike, random_init: str | os.PathLike, logs_dir: str | os.PathLike,
                  settings: Mapping[str, Any] | None = None, seed: int = 0, threads: int | None = None) -> Path:
    """``model_config`` is ``<model_dir>/open_clip_config.json``; the model directory is its parent.
    ``settings``: tokenizer_dir, text_model_dir, init_checkpoint (local paths, "" = none), device, and
    training overrides (epochs, batch_size, lr, ... None = the variant's / Table 4 value)."""
    settings = dict(settings or {})
    model_dir = Path(model_config).parent
    local = {k: (settings.pop(k, "") or None) for k in ("tokenizer_dir", "text_model_dir", "init_checkpoint")}
    C.write_model_dir(variant, model_dir, **local)
    overrides = {k: v for k, v in settings.items() if v is not None}
    overrides.setdefault("seed", seed)
    overrides.setdefault("seeded_shuffle", True)
    if threads:
        overrides.setdefault("threads", threads)
    params = T.train_params(variant, **overrides)
    name = f"genmedclip-{variant if isinstance(variant, str) else variant.get('name', 'custom')}"
    # the untrained baseline is built while the training subprocess starts (on one thread it leaves a core idle)
    with ThreadPoolExecutor(1) as pool:
        baseline = pool.submit(T.random_init_checkpoint, model_dir, random_init, seed=seed)
        final = T.run_training(model_dir, [Path(s) for s in train_shards], logs_dir, name, params)
        baseline.result()
    T.export_weights(final, weights)
    shutil.rmtree(Path(logs_dir) / name / "checkpoints", ignore_errors=True)  # keep only the exported weights
    return Path(weights)
