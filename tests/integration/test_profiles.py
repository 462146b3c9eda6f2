"""The README's cluster command works verbatim: install.sh installs the slurm profile under its name."""

from __future__ import annotations

import subprocess

from conftest import REPO, run_snakemake


def install_profiles(config_home):
    """install.sh's profile step (the same code a full `bash install.sh` runs last)."""
    return subprocess.run(["bash", str(REPO / "install.sh"), "--profiles"], capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin", "HOME": str(config_home),
                                           "XDG_CONFIG_HOME": str(config_home)}).stdout


def test_profile_install_is_idempotent_and_never_replaces_a_users_profile(tmp_path):
    mine = tmp_path / "mine"
    assert "installed" in install_profiles(mine)
    assert (mine / "snakemake/slurm").resolve() == REPO / "profiles/slurm"
    assert "already installed" in install_profiles(mine)
    (mine / "snakemake/slurm").unlink()
    (mine / "snakemake/slurm").symlink_to(tmp_path / "a-deleted-checkout/profiles/slurm")
    assert "replaced a broken link" in install_profiles(mine)
    assert (mine / "snakemake/slurm").resolve() == REPO / "profiles/slurm"
    theirs = tmp_path / "theirs"
    (theirs / "snakemake/slurm").mkdir(parents=True)
    (theirs / "snakemake/slurm/config.yaml").write_text("executor: slurm\njobs: 7\n")
    assert "left as it is" in install_profiles(theirs)
    assert (theirs / "snakemake/slurm/config.yaml").read_text() == "executor: slurm\njobs: 7\n"


def test_verbatim_profile_slurm_all_dry_runs_after_the_install(workflow_dir, tmp_path):
    home = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc = run_snakemake(workflow_dir, "--profile", "slurm", "all", "-n", env=home, check=False)
    assert proc.returncode != 0 and "no profile.yaml (or config.yaml) found" in proc.stderr  # before the install
    install_profiles(tmp_path / "config")
    proc = run_snakemake(workflow_dir, "--profile", "slurm", "all", "-n", env=home)
    out = proc.stdout + proc.stderr
    assert "Using profiles slurm and workflow specific profile profiles/default" in out
    assert "videos_manifest" in out and "This was a dry-run" in out


def test_workflow_profile_path_still_works(workflow_dir):
    out = run_snakemake(workflow_dir, "--workflow-profile", "profiles/slurm", "all", "-n").stdout
    assert "This was a dry-run" in out
