"""open_clip_train command line (Table 4) and a real, unmodified open_clip_train run on our shards."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from mednarratives.dataset import write_shards
from mednarratives.models import clip_configs as C
from mednarratives.models import train as T
from micro_clip import micro_clip_spec

MICRO = micro_clip_spec()


def _samples(n):
    rng = np.random.default_rng(0)
    organs = ["liver", "lung", "brain", "knee"]
    for i in range(n):
        img = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        yield {"key": f"s{i:04d}", "image": img, "caption": f"ct scan of the {organs[i % 4]}", "meta": {"i": i}}


def _arg(argv, flag):
    return argv[argv.index(flag) + 1]


def test_paper_defaults_are_table_4():
    p = T.train_params("genmedclip")
    assert (p.batch_size, p.epochs, p.lr, p.lr_scheduler, p.warmup) == (256, 20, 1e-5, "cosine", 2000)
    assert (p.beta1, p.beta2, p.wd, p.aug_scale, p.optimizer) == (0.9, 0.98, 0.2, (0.8, 1.0), "adamw")
    tiny = T.train_params("tiny", epochs=3)
    assert tiny.lr == 5e-4 and tiny.batch_size == 32 and tiny.epochs == 3 and tiny.wd == 0.2
    with pytest.raises(KeyError):
        T.train_params("tiny", bogus=1)


def test_build_argv(tmp_path):
    shards = write_shards(_samples(10), tmp_path / "shards", "train", maxcount=4)
    model_dir = C.write_model_dir(MICRO, tmp_path / "model")
    params = T.train_params("genmedclip", workers=8, seed=7)
    argv = T.build_train_argv(model_dir, shards, tmp_path / "logs", "run1", params)
    assert argv[:3] == [sys.executable, "-m", "open_clip_train.main"]
    assert _arg(argv, "--model") == f"local-dir:{model_dir.resolve()}"
    assert _arg(argv, "--train-data") == f"{(tmp_path / 'shards').resolve()}/train-{{000000..000002}}.tar"
    assert _arg(argv, "--dataset-type") == "webdataset"
    assert _arg(argv, "--train-num-samples") == "10"
    assert _arg(argv, "--workers") == "3"                 # capped at the shard count
    assert (_arg(argv, "--lr"), _arg(argv, "--wd"), _arg(argv, "--beta1"), _arg(argv, "--beta2")) == (
        "1e-05", "0.2", "0.9", "0.98")
    assert (_arg(argv, "--warmup"), _arg(argv, "--lr-scheduler"), _arg(argv, "--epochs")) == ("2000", "cosine", "20")
    assert _arg(argv, "--aug-cfg") == "scale=(0.8,1.0)"
    assert (_arg(argv, "--device"), _arg(argv, "--precision"), _arg(argv, "--seed")) == ("cpu", "fp32", "7")
    assert _arg(argv, "--save-frequency") == "0" and "--save-most-recent" not in argv  # the final checkpoint alone
    assert "--grad-checkpointing" not in argv
    gpu = T.build_train_argv(model_dir, shards, tmp_path / "logs", "r", T.train_params("genmedclip", device="cuda"))
    assert _arg(gpu, "--precision") == "amp_bf16" and "--grad-checkpointing" in gpu


def test_warmup_fraction_counts_open_clip_steps():
    p = T.train_params("tiny", batch_size=32, epochs=2, workers=1, warmup=0.1)
    assert T.steps_per_epoch(500, 32, 1) == 16
    assert T.warmup_steps(p, 500) == 3                    # round(0.1 * 32)


def test_open_clip_train_runs_one_epoch_on_our_shards(tmp_path):
    """The bar: shards load in open_clip_train unmodified, and a checkpoint comes out."""
    shards = write_shards(_samples(64), tmp_path / "shards", "train", maxcount=32)
    model_dir = C.write_model_dir(MICRO, tmp_path / "model")
    params = T.train_params(MICRO, epochs=1, batch_size=16, lr=1e-3, warmup=2, workers=1)
    ckpt = T.run_training(model_dir, shards, tmp_path / "logs", "micro", params, timeout=300)
    assert ckpt == tmp_path / "logs" / "micro" / "checkpoints" / "epoch_1.pt"
    log = (tmp_path / "logs" / "micro" / "out.log").read_text()
    assert "Train Epoch: 0 [64/64 (100%)]" in log

    weights = T.export_weights(ckpt, tmp_path / "micro.pt")
    baseline = T.random_init_checkpoint(model_dir, tmp_path / "random.pt", seed=0)
    trained = torch.load(weights, weights_only=False)["state_dict"]
    random_sd = torch.load(baseline, weights_only=False)["state_dict"]
    assert trained.keys() == random_sd.keys()
    assert not torch.equal(trained["visual.conv1.weight"], random_sd["visual.conv1.weight"])

    from mednarratives.benchmark.evaluate import encode_texts, load_model

    bundle = load_model(model_dir, weights)
    assert encode_texts(bundle, ["ct scan of the liver"]).shape == (1, 32)


def test_random_init_is_seeded(tmp_path):
    model_dir = C.write_model_dir(MICRO, tmp_path / "model")
    a = torch.load(T.random_init_checkpoint(model_dir, tmp_path / "a.pt", seed=3), weights_only=False)["state_dict"]
    b = torch.load(T.random_init_checkpoint(model_dir, tmp_path / "b.pt", seed=3), weights_only=False)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_seeded_launcher_makes_training_reproducible(tmp_path):
    """open_clip_train seeds WebDataset's sample shuffle from time+pid; oc_launch seeds it from --seed."""
    shards = write_shards(_samples(32), tmp_path / "shards", "train", maxcount=16)
    model_dir = C.write_model_dir(MICRO, tmp_path / "model")
    params = T.train_params(MICRO, epochs=1, batch_size=8, lr=1e-3, warmup=1, workers=0, seeded_shuffle=True)
    assert T.build_train_argv(model_dir, shards, tmp_path, "x", params)[2] == "mednarratives.models.oc_launch"
    a, b = (torch.load(T.run_training(model_dir, shards, tmp_path / f"logs{i}", "run", params), weights_only=False)
            for i in range(2))
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
