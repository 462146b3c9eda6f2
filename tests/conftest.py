"""Shared fixtures: an isolated copy of the workflow to run Snakemake in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAPER_REGISTRY = REPO / "config" / "benchmark" / "paper.yaml"  # the paper benchmark's registry (docs/benchmark.md)
WORKFLOW_ENTRIES = ("Snakefile", "config", "rules", "scripts", "resources", "envs", "profiles", "src", "devsets")


def make_workflow_dir(path: Path) -> Path:
    """A working directory that links the repo's workflow files, so outputs stay out of the repo."""
    path.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_ENTRIES:
        (path / name).symlink_to(REPO / name)
    return path


def run_snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 1800,
                  env: dict | None = None) -> subprocess.CompletedProcess:
    """`snakemake ARGS` in `workdir`; `env` is laid over the current environment."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def workflow_dir(tmp_path: Path) -> Path:
    return make_workflow_dir(tmp_path / "wf")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """`snakemake all` on the demo config, once per test session: the whole pipeline, every stage scored.
    MEDNARRATIVES_DEMO_RUN=<workdir of a finished run of this checkout> reuses one (when iterating on tests)."""
    if os.environ.get("MEDNARRATIVES_DEMO_RUN"):
        return Path(os.environ["MEDNARRATIVES_DEMO_RUN"]).resolve()
    workdir = make_workflow_dir(tmp_path_factory.mktemp("demo") / "wf")
    start = time.monotonic()
    run_snakemake(workdir, "--cores", "2", "all", timeout=3600)
    print(f"demo run (all): {time.monotonic() - start:.0f} s on 2 cores")
    return workdir
