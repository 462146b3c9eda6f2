"""Shared fixtures: an isolated copy of the workflow to run Snakemake in."""

from __future__ import annotations

import os
import resource
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


def reused_demo_run(workdir: Path) -> Path:
    """A finished demo workdir whose workflow links resolve into this checkout; one that links elsewhere (a copy
    of another clone's run) would test that clone's code, so it stops the session."""
    foreign = [name for name in WORKFLOW_ENTRIES
               if (workdir / name).exists() and (workdir / name).resolve() != (REPO / name).resolve()]
    if foreign:
        raise pytest.UsageError(
            f"MEDNARRATIVES_DEMO_RUN={workdir}: {', '.join(foreign)} resolve(s) to {(workdir / foreign[0]).resolve()}, "
            f"not into this checkout ({REPO}); relink them (ln -sfn {REPO}/NAME {workdir}/NAME) or run without it")
    return workdir


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """`snakemake all` on the demo config, once per test session: the whole pipeline, every stage scored.
    MEDNARRATIVES_DEMO_RUN=<workdir of a finished run of this checkout> reuses one (when iterating on tests)."""
    if os.environ.get("MEDNARRATIVES_DEMO_RUN"):
        return reused_demo_run(Path(os.environ["MEDNARRATIVES_DEMO_RUN"]).resolve())
    workdir = make_workflow_dir(tmp_path_factory.mktemp("demo") / "wf")
    start, before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    run_snakemake(workdir, "--cores", "2", "all", timeout=3600)
    wall, after = time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    # Snakemake waits for its jobs and they for their tools (ffmpeg, espeak), so the children's CPU is the run's.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    DEMO_RUN_COST.append(f"demo run (snakemake --cores 2 all): {wall:.0f} s wall, {cpu:.0f} s CPU ({cpu / wall:.0%})")
    return workdir


DEMO_RUN_COST: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    for line in DEMO_RUN_COST:
        terminalreporter.write_line(line)
