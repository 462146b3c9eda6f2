"""Train GenMedCLIP with ``python -m open_clip_train.main`` on WebDataset shards.

:func:`build_train_argv` turns a model directory (:mod:`mednarratives.models.clip_configs`), the
shards written by :func:`mednarratives.dataset.write_shards` and :class:`TrainParams` (paper
Table 4 by default) into open_clip_train's command line; :func:`run_training` runs it as a
subprocess (argument list, no shell, hub access disabled) and returns the final checkpoint.

open_clip_train writes ``<logs>/<name>/{out.log,params.txt,checkpoints/epoch_N.pt,epoch_latest.pt}``;
its checkpoints are ``{"epoch", "name", "state_dict", "optimizer"}``. :func:`export_weights`
strips the optimizer state (a third of the size) for evaluation and release.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import mednarratives
from mednarratives import settings
from mednarratives.dataset.webdataset_io import shard_pattern, shards_num_samples
from mednarratives.models.clip_configs import get_variant, load_variants, model_name

@dataclass
@settings.schema_defaults("models", "genmedclip", device=("models", "genmedclip", "settings", "device"))
class TrainParams:
    """open_clip_train hyperparameters. The optimisation ones have one home, paper Table 4 (``paper_train`` of
    mednarratives/models/data/variants.yaml; ``train_params()`` reads it): per-device batch 256, 20 epochs, peak lr 1e-5,
    cosine decay, 2000 warmup steps, AdamW beta 0.9/0.98, weight decay 0.2, RandomResizedCrop scale (0.8, 1.0)."""

    batch_size: int
    epochs: int
    lr: float
    lr_scheduler: str
    warmup: float                 # optimizer steps; a value in (0, 1) = fraction of all steps
    aug_scale: tuple[float, float]
    beta1: float
    beta2: float
    eps: float
    wd: float
    optimizer: str
    seed: int
    workers: int = 1
    device: str
    precision: str | None = None  # None: fp32 on CPU, amp_bf16 on CUDA (paper: bf16 AMP)
    grad_checkpointing: bool | None = None  # None: on for CUDA (paper), off on CPU
    save_frequency: int = 0       # 0: the final epoch's checkpoint alone (the one exported)
    save_most_recent: bool = False  # True: epoch_latest.pt after every epoch (for ``run_training(resume=True)``)
    log_every_n_steps: int = 10
    threads: int | None = None    # OMP/MKL threads of the training process (None: inherit)
    seeded_shuffle: bool = False  # True: run via mednarratives.models.oc_launch (bit-reproducible on CPU)
    grad_clip_norm: float | None = None
    extra_args: list[str] = field(default_factory=list)

    def resolved_precision(self) -> str:
        if self.precision:
            return self.precision
        return "amp_bf16" if self.device.startswith("cuda") else "fp32"


def train_params(variant: str | Mapping[str, Any] | None = None,
                 variants_path: str | os.PathLike | None = None, **overrides: Any) -> TrainParams:
    """Table 4 (``paper_train`` of the variants file), then the variant's ``train`` block, then
    ``overrides`` (None values ignored)."""
    values: dict[str, Any] = dict(load_variants(variants_path)["paper_train"])
    if variant is not None:
        spec = get_variant(variant, variants_path) if isinstance(variant, str) else dict(variant)
        values.update(spec.get("train") or {})
    values.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in dataclasses.fields(TrainParams)}
    unknown = set(values) - names
    if unknown:
        raise KeyError(f"unknown training parameters: {sorted(unknown)}")
    values["aug_scale"] = tuple(float(x) for x in values["aug_scale"])
    return TrainParams(**values)


def steps_per_epoch(num_samples: int, batch_size: int, workers: int) -> int:
    """Optimizer steps per epoch as open_clip_train counts them (get_wds_dataset, one process)."""
    nw = max(1, workers)
    return math.ceil(math.ceil(num_samples / batch_size) / nw) * nw


def warmup_steps(params: TrainParams, num_samples: int) -> int:
    if 0 < params.warmup < 1:
        total = steps_per_epoch(num_samples, params.batch_size, params.workers) * params.epochs
        return max(1, int(round(params.warmup * total)))
    return int(params.warmup)


def build_train_argv(
    model_dir: str | os.PathLike,
    train_shards: Sequence[str | os.PathLike],
    logs_dir: str | os.PathLike,
    name: str,
    params: TrainParams | None = None,
    val_shards: Sequence[str | os.PathLike] | None = None,
    python: str = sys.executable,
) -> list[str]:
    """The argument list of ``python -m open_clip_train.main`` (no shell quoting needed).

    With ``params.seeded_shuffle`` the entry point is :mod:`mednarratives.models.oc_launch`, which
    runs the same ``open_clip_train.main`` with WebDataset's sample shuffle seeded from ``--seed``.
    """
    params = params or train_params()
    train_shards = [Path(s) for s in train_shards]
    if not train_shards:
        raise ValueError("no training shards")
    num_samples = shards_num_samples(train_shards)
    # open_clip_train asserts shards >= workers (each worker reads whole shards).
    workers = max(0, min(params.workers, len(train_shards)))
    precision = params.resolved_precision()
    grad_ckpt = params.grad_checkpointing if params.grad_checkpointing is not None else params.device.startswith("cuda")
    warm = warmup_steps(dataclasses.replace(params, workers=workers), num_samples)
    entry = "mednarratives.models.oc_launch" if params.seeded_shuffle else "open_clip_train.main"
    argv = [
        python, "-m", entry,
        "--model", model_name(model_dir),
        "--train-data", shard_pattern([os.fspath(p.resolve()) for p in train_shards]),
        "--dataset-type", "webdataset",
        "--train-num-samples", str(num_samples),
        "--batch-size", str(params.batch_size),
        "--epochs", str(params.epochs),
        "--lr", repr(float(params.lr)),
        "--lr-scheduler", params.lr_scheduler,
        "--warmup", str(warm),
        "--wd", repr(float(params.wd)),
        "--beta1", repr(float(params.beta1)),
        "--beta2", repr(float(params.beta2)),
        "--eps", repr(float(params.eps)),
        "--opt", params.optimizer,
        "--aug-cfg", f"scale=({params.aug_scale[0]!r},{params.aug_scale[1]!r})",
        "--seed", str(params.seed),
        "--workers", str(workers),
        "--device", params.device,
        "--precision", precision,
        "--logs", os.fspath(Path(logs_dir).resolve()),
        "--name", name,
        "--save-frequency", str(params.save_frequency),
        "--log-every-n-steps", str(params.log_every_n_steps),
        "--zeroshot-frequency", "0",
        "--report-to", "",
    ]
    if params.save_most_recent:
        argv.append("--save-most-recent")
    if grad_ckpt:
        argv.append("--grad-checkpointing")
    if params.grad_clip_norm is not None:
        argv += ["--grad-clip-norm", repr(float(params.grad_clip_norm))]
    if val_shards:
        val_shards = [Path(s) for s in val_shards]
        argv += ["--val-data", shard_pattern([os.fspath(p.resolve()) for p in val_shards]),
                 "--val-num-samples", str(shards_num_samples(val_shards)), "--val-frequency", "1"]
    argv += list(params.extra_args)
    return argv


def checkpoint_path(logs_dir: str | os.PathLike, name: str, epoch: int) -> Path:
    return Path(logs_dir) / name / "checkpoints" / f"epoch_{epoch}.pt"


def offline_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for the training subprocess: HF hub and transformers forced offline; this package importable
    (`-m mednarratives.models.oc_launch`) where it is not installed, as in the workflow's conda envs."""
    env = dict(os.environ if base is None else base)
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false"})
    src = str(Path(mednarratives.__path__[0]).parent)  # the folder holding this package
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_training(
    model_dir: str | os.PathLike,
    train_shards: Sequence[str | os.PathLike],
    logs_dir: str | os.PathLike,
    name: str,
    params: TrainParams | None = None,
    val_shards: Sequence[str | os.PathLike] | None = None,
    console_log: str | os.PathLike | None = None,
    timeout: float | None = None,
    resume: bool = False,
) -> Path:
    """Run open_clip_train and return ``<logs>/<name>/checkpoints/epoch_<epochs>.pt``.

    An earlier run of the same name is deleted first (open_clip_train refuses to reuse a name and
    then exits 0), unless ``resume`` (then ``--resume latest``: the checkpoint an earlier run with
    ``save_most_recent`` wrote). Console output goes to ``console_log`` (default
    ``<logs>/<name>.console.log``). Raises RuntimeError when the process fails or the final checkpoint
    is missing.
    """
    params = params or train_params()
    argv = build_train_argv(model_dir, train_shards, logs_dir, name, params, val_shards)
    run_dir = Path(logs_dir) / name
    if resume:
        argv += ["--resume", "latest"]
    elif run_dir.exists():
        shutil.rmtree(run_dir)
    Path(logs_dir).mkdir(parents=True, exist_ok=True)
    console = Path(console_log) if console_log else Path(logs_dir) / f"{name}.console.log"
    console.parent.mkdir(parents=True, exist_ok=True)
    with open(console, "w", encoding="utf-8") as fh:
        fh.write(" ".join(argv) + "\n")
        fh.flush()
        env = offline_env()
        if params.threads:
            env.update({"OMP_NUM_THREADS": str(params.threads), "MKL_NUM_THREADS": str(params.threads)})
        proc = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT, env=env,
                              timeout=timeout, check=False)
    final = checkpoint_path(logs_dir, name, params.epochs)
    if proc.returncode != 0 or not final.is_file():
        tail = console.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RuntimeError(f"open_clip_train failed (exit {proc.returncode}, {final} "
                           f"{'present' if final.is_file() else 'missing'}); console tail:\n{tail}")
    return final


def export_weights(train_checkpoint: str | os.PathLike, out_path: str | os.PathLike) -> Path:
    """Model-only checkpoint ``{"state_dict", "epoch", "name"}`` from an open_clip_train checkpoint
    (drops optimizer state; strips a DDP ``module.`` prefix)."""
    import torch

    from mednarratives.io import atomic_path

    ckpt = torch.load(train_checkpoint, map_location="cpu", weights_only=True)
    sd = ckpt.get("state_dict", ckpt)
    if next(iter(sd)).startswith("module."):
        sd = {k[len("module."):]: v for k, v in sd.items()}
    out = {"state_dict": sd, "epoch": ckpt.get("epoch"), "name": ckpt.get("name")}
    # saved to a file object: the archive's inner folder is then "archive", not the random temporary name
    with atomic_path(out_path) as tmp, open(tmp, "wb") as f:
        torch.save(out, f)
    return Path(out_path)


def random_init_checkpoint(model_dir: str | os.PathLike, out_path: str | os.PathLike, seed: int = 0) -> Path:
    """A randomly initialised model of the same architecture, saved like :func:`export_weights`
    (``epoch`` 0): the untrained baseline."""
    import open_clip
    import torch

    from mednarratives.io import atomic_path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.manual_seed(seed)
    model = open_clip.create_model(model_name(model_dir), load_weights=False, pretrained_text=False)
    out = {"state_dict": model.state_dict(), "epoch": 0, "name": f"random-init-seed{seed}"}
    # saved to a file object: the archive's inner folder is then "archive", not the random temporary name
    with atomic_path(out_path) as tmp, open(tmp, "wb") as f:
        torch.save(out, f)
    return Path(out_path)
