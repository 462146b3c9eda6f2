"""A single-node SLURM cluster on localhost for the whole test session (tests/cluster/start_slurm.sh).

Needs root (it starts munged, slurmctld and slurmd, and apt-get installs them when missing); the tests
are skipped, with the reason, when not root or when the packages cannot be installed. Everything the
cluster writes lives in a temporary directory, and its daemons are killed at the end of the session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
START = HERE / "start_slurm.sh"


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: starts a single-node SLURM cluster on localhost (root, Debian)")


@dataclass
class SlurmCluster:
    state: Path  # slurm.conf, logs, daemon state
    env: dict  # os.environ + SLURM_CONF + the srun shim on PATH: pass to every subprocess

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)
        if check and proc.returncode:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
        return proc

    def show_job(self, jobid: str) -> dict:
        """`scontrol show job -d -o` as a dict (slurmctld keeps finished jobs for MinJobAge=300 s)."""
        line = self.run("scontrol", "show", "job", "-d", "-o", str(jobid)).stdout
        return dict(re.findall(r"(\S+?)=(\S*)", line))

    def ctld_log(self) -> str:
        return (self.state / "log" / "slurmctld.log").read_text(errors="replace")

    def logs(self) -> str:
        """The tail of every daemon log, for failure messages."""
        return "".join(
            f"\n== {p}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-40:])
            for p in sorted((self.state / "log").glob("*.log"))
        )


@pytest.fixture(scope="session")
def slurm_cluster():
    if os.geteuid() != 0:
        pytest.skip("the SLURM cluster test needs root: it starts munged/slurmctld/slurmd (and may apt-get install them)")
    # Short path: munged's socket lives in it (unix socket paths are limited to ~107 bytes).
    state = Path(tempfile.mkdtemp(prefix="mn-slurm-", dir="/tmp"))
    proc = subprocess.run(["bash", str(START), str(state)], capture_output=True, text=True, timeout=900)
    if proc.returncode in (77, 78):
        shutil.rmtree(state, ignore_errors=True)
        reason = "not root" if proc.returncode == 77 else "apt-get could not install munge/slurmctld/slurmd/slurm-client"
        pytest.skip(f"no SLURM cluster: {reason}: {proc.stderr.strip()[-2000:]}")
    if proc.returncode != 0:
        subprocess.run(["bash", str(START), "--stop", str(state)], capture_output=True)
        log = proc.stdout + proc.stderr
        shutil.rmtree(state, ignore_errors=True)
        pytest.fail(f"start_slurm.sh failed ({proc.returncode}):\n{log}", pytrace=False)
    env = dict(os.environ)
    for name in list(env):  # a SLURM job or another cluster around pytest must not leak in
        if name.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "MEDNARRATIVES_SLURM_")):
            del env[name]
    env["SLURM_CONF"] = str(state / "slurm.conf")
    env["PATH"] = f"{state / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    try:
        yield SlurmCluster(state=state, env=env)
    finally:
        subprocess.run(["bash", str(START), "--stop", str(state)], capture_output=True, timeout=120)
        shutil.rmtree(state, ignore_errors=True)
