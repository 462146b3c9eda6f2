"""A systematic fault fails the run: a corrupt Whisper model directory stops the speech job, and the run exits
non-zero naming the cause (single bad videos stay ledger rows: tests/unit/test_speech_stage.py and the bad-input
suite)."""

from __future__ import annotations

import pytest
import yaml

from conftest import make_workflow_dir, run_snakemake

pytestmark = pytest.mark.slow


def test_a_corrupt_whisper_model_fails_the_run_naming_the_cause(demo_run, tmp_path):
    model = tmp_path / "whisper-base"  # what a truncated copy of a CTranslate2 model looks like
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.bin").write_bytes(b"\0" * 1024)
    (model / "vocabulary.txt").write_text("a\nb\n")
    (model / "tokenizer.json").write_text("{")
    workdir = make_workflow_dir(tmp_path / "wf")
    (workdir / "results").mkdir()
    for path in ("data", "results/videos", "results/models"):  # the demo run's inputs of the speech stage, read only
        (workdir / path).symlink_to(demo_run / path)
    shard = next(p.name for p in sorted((demo_run / "results/videos/full").iterdir()) if list(p.glob("*.mp4")))
    config = tmp_path / "corrupt.yaml"
    config.write_text(yaml.safe_dump({"speech": {"model": str(model), "cache_dir": str(tmp_path / "cache")}}))
    proc = run_snakemake(workdir, f"results/speech/{shard}.jsonl", "--cores", "1", "--allowed-rules", "speech_asr",
                         "--configfile", str(config), check=False)  # target first: both options take lists
    assert proc.returncode != 0
    log = (workdir / f"logs/speech/{shard}.log").read_text()
    cause = next(line for line in log.splitlines() if line.startswith(("RuntimeError", "ValueError", "OSError")))
    assert "model" in cause.lower() or "json" in cause.lower(), log
    assert cause in proc.stdout + proc.stderr and "Error in rule speech_asr" in proc.stdout + proc.stderr
    assert not (workdir / f"results/speech/{shard}.jsonl").exists()
