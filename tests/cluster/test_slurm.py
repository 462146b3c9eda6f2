"""The project's slurm profile (profiles/slurm) on a real single-node SLURM cluster (conftest.py).

(a) a cut of the real workflow, two `demo_article` jobs, and (b) a rule with `gpu=1`
(tests/cluster/slurm/Snakefile), each submitted by Snakemake's slurm executor through sbatch. The jobs
are checked in slurmctld (scontrol, its log) and, for the GPU, in the job's own environment.
Both Snakemake runs go at once (the cluster queues what does not fit), which saves one run's polling.
"""

from __future__ import annotations

import importlib.util
import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
GPU_SNAKEFILE = Path(__file__).resolve().parent / "slurm" / "Snakefile"
DEMO = yaml.safe_load((REPO / "config/config.yaml").read_text())["demo"]

# The repo's tests/conftest.py helpers, loaded by path (this directory has a conftest.py of its own).
_spec = importlib.util.spec_from_file_location("mednarratives_tests_conftest", REPO / "tests" / "conftest.py")
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
make_workflow_dir, run_snakemake = _helpers.make_workflow_dir, _helpers.run_snakemake

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

# On top of the profile: poll soon after submitting, keep the SLURM logs to look at, fail fast instead of
# retrying. The plugin's first poll comes after this many seconds (default 40), each poll that finds no
# job finished adds 10 s, and Snakemake's exit waits one interval: 1 s -> polls at 1, 12, 33 s.
FAST = ("--slurm-init-seconds-before-status-checks", "1", "--slurm-keep-successful-logs", "--retries", "0")
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")
TIMEOUT = 300


@dataclass
class SnakemakeRun:
    """One Snakemake process against the cluster, output in a file next to its working directory."""

    workdir: Path
    args: tuple
    proc: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    targets: list = field(default_factory=list)

    @classmethod
    def start(cls, cluster, workdir: Path, *args: str, env: dict | None = None) -> "SnakemakeRun":
        log = workdir.with_name(workdir.name + ".snakemake.out")
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "snakemake", *args, *FAST],
                cwd=workdir, env={**cluster.env, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
            )
        return cls(workdir, args, proc, log)

    def wait(self, deadline: float) -> None:
        try:
            self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGINT)  # Snakemake scancels its jobs on interrupt
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.seconds = time.monotonic() - self.started
        print(f"snakemake {' '.join(map(str, self.args))}: {self.seconds:.1f} s (rc {self.proc.returncode})")

    def jobs(self, cluster) -> list[tuple[str, str, Path]]:
        """[(rule, SLURM job id, SLURM log)] of a successful run, else an AssertionError with every log."""
        out = self.log.read_text(errors="replace")
        if self.proc.returncode != 0:
            slurm_logs = "".join(
                f"\n== {p}\n{p.read_text(errors='replace')}" for p in self.workdir.glob(".snakemake/slurm_logs/**/*.log")
            )
            raise AssertionError(
                f"snakemake failed (rc {self.proc.returncode}, {self.seconds:.0f} s):\n{out}{slurm_logs}{cluster.logs()}"
            )
        return [
            (re.search(r"slurm_logs/rule_(\w+)/", log).group(1), slurm_id, Path(log))
            for _, slurm_id, log in SUBMITTED.findall(out)
        ]


def demo_article_targets(workdir: Path, n: int) -> list[str]:
    """n demo article packages: ids from the list API, else from the dry run's job list."""
    try:
        from mednarratives_demo.articles import article_ids

        ids = list(article_ids(DEMO["n_articles"], DEMO["seed"]))
    except ImportError:
        dry = run_snakemake(workdir, "-n", "demo_corpus").stdout
        ids = re.findall(rf"{re.escape(DEMO['dir'])}/articles/([^\s,/]+)\.tar\.gz", dry)
    ids = sorted(set(ids))[:n]
    assert len(ids) == n, f"fewer than {n} demo articles: {ids}"
    return [f"{DEMO['dir']}/articles/{article_id}.tar.gz" for article_id in ids]


@pytest.fixture(scope="module")
def slurm_runs(slurm_cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm-runs")
    demo_dir = make_workflow_dir(root / "wf")
    targets = demo_article_targets(demo_dir, 2)
    gpu_dir = root / "gpu"
    gpu_dir.mkdir()
    runs = {
        # (a) the real workflow as users run it: --workflow-profile profiles/slurm, no partition set.
        "demo": SnakemakeRun.start(slurm_cluster, demo_dir, "--workflow-profile", "profiles/slurm", *targets),
        # (b) the GPU rule, with its partition from MEDNARRATIVES_SLURM_PARTITION.
        "gpu": SnakemakeRun.start(
            slurm_cluster, gpu_dir, "-s", str(GPU_SNAKEFILE), "--workflow-profile", str(REPO / "profiles" / "slurm"),
            env={"MEDNARRATIVES_SLURM_PARTITION": "gpu"},
        ),
    }
    deadline = time.monotonic() + TIMEOUT
    for run in runs.values():
        run.wait(deadline)
    runs["demo"].targets = targets
    return runs


def default_partition(cluster) -> str:
    names = cluster.run("sinfo", "-h", "-o", "%P").stdout.split()
    return next(name.rstrip("*") for name in names if name.endswith("*"))


def assert_went_through_sbatch(cluster, jobs, workdir: Path):
    log = cluster.ctld_log()
    for rule, slurm_id, slurm_log in jobs:
        assert re.search(rf"_slurm_rpc_submit_batch_job: JobId={slurm_id}\b", log), f"job {slurm_id} not submitted by sbatch"
        assert re.search(rf"_job_complete: JobId={slurm_id} done", log), f"job {slurm_id} did not complete in slurmctld"
        job = cluster.show_job(slurm_id)
        assert job["JobState"] == "COMPLETED", job
        assert job["WorkDir"] == str(workdir), job
        assert job["BatchHost"] == "localhost", job
        assert f"rule {rule}" in (workdir / slurm_log).read_text()  # the job's own Snakemake ran the rule


def test_demo_articles_run_through_sbatch(slurm_cluster, slurm_runs):
    """Two demo_article jobs of the real workflow, submitted with the profile as users run it."""
    run = slurm_runs["demo"]
    jobs = run.jobs(slurm_cluster)

    assert sorted(rule for rule, _, _ in jobs) == ["demo_article", "demo_article"], run.log.read_text()
    for target in run.targets:
        for path in (run.workdir / target, run.workdir / target.replace(".tar.gz", ".truth.json")):
            assert path.stat().st_size > 0, path
    assert_went_through_sbatch(slurm_cluster, jobs, run.workdir)
    # No MEDNARRATIVES_SLURM_PARTITION: the cluster's default partition; the rule's resources.
    partition = default_partition(slurm_cluster)
    for _, slurm_id, _ in jobs:
        job = slurm_cluster.show_job(slurm_id)
        assert job["Partition"] == partition, job
        assert job["NumCPUs"] == "1", job
        assert "mem=1000M" in job["TRES"], job  # the rule's resources: mem_mb=1000
        assert job["TimeLimit"] == "00:05:00", job  # runtime: 5
        assert "gpu" not in job.get("TresPerJob", ""), job


def test_gpu_rule_gets_a_gpu(slurm_cluster, slurm_runs):
    """resources: gpu=1 -> sbatch --gpus=1 -> SLURM allocates the (fake) GPU to the job."""
    run = slurm_runs["gpu"]
    jobs = run.jobs(slurm_cluster)

    assert [rule for rule, _, _ in jobs] == ["gpu_probe"], run.log.read_text()
    assert_went_through_sbatch(slurm_cluster, jobs, run.workdir)
    slurm_id = jobs[0][1]
    job = slurm_cluster.show_job(slurm_id)
    assert job["Partition"] == "gpu", job  # from MEDNARRATIVES_SLURM_PARTITION
    assert job["TresPerJob"] == "gres:gpu:1", job  # what --gpus=1 asked for
    assert job["JOB_GRES"] == "gpu:1", job  # what it was given
    # ... and what the job itself saw (its step, run by the slurm-jobstep executor through srun).
    seen = json.loads((run.workdir / "gpu_probe.json").read_text())
    assert seen["SLURM_JOB_ID"] == slurm_id, seen
    assert seen["SLURM_JOB_PARTITION"] == "gpu", seen
    assert seen["SLURM_GPUS_ON_NODE"] == "1", seen
    assert seen["CUDA_VISIBLE_DEVICES"] == "0", seen
    assert seen["SLURMD_NODENAME"] == "localhost", seen
