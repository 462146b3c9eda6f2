"""`pip install .` (not editable) into a fresh venv runs the workflow: the demo run's dry run, and one real demo job,
from a copy of the workflow files without src/, so the installed packages (code and package data) are what runs.

The venv gets no third-party packages of its own: a path line in a .pth file lends it this interpreter's
site-packages (a path line, so that folder's own .pth files, e.g. an editable install of this checkout, are not
read), and pip installs the project alone (--no-deps, --no-build-isolation) from a copy of pyproject.toml + src/
(pip builds in the source tree; the checkout stays clean)."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

COPIED = ("Snakefile", "rules", "scripts")  # copied, so the workflow's base folder is the copy (it has no src/)
LINKED = ("config", "resources", "envs", "profiles", "devsets")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing on the path but the venv's own


def run(*args, cwd: Path, timeout: int = 600) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(python of a fresh venv with the project installed, its site-packages)."""
    root = tmp_path_factory.mktemp("install")
    project = root / "project"
    project.mkdir()
    shutil.copy(REPO / "pyproject.toml", project)
    shutil.copytree(REPO / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    run(sys.executable, "-m", "venv", "--without-pip", root / "venv", cwd=root)
    python = root / "venv" / "bin" / "python"
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).strip())
    (purelib / "lent_site_packages.pth").write_text("".join(f"{p}\n" for p in site.getsitepackages()))
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", project, cwd=root)
    return python, purelib


def test_the_installed_packages_and_their_data_load(installed, tmp_path):
    python, purelib = installed
    out = run(python, "-c", """
import mednarratives, mednarratives_demo
from mednarratives.articles import synthetic
from mednarratives.benchmark import evaluate
from mednarratives.models import clip_configs
from mednarratives.speech import vocabulary
from mednarratives.text import extract
print(mednarratives.__file__)
print(mednarratives_demo.__file__)
print(vocabulary.load_vocabulary().path)
assert extract.resource_dir().joinpath("prompts.yaml").is_file()
assert clip_configs.load_variants()["variants"] and evaluate.load_templates()
assert synthetic.plan_article("PMC9000001", 1).figures
""", cwd=tmp_path).split()
    assert all(Path(p).is_relative_to(purelib) for p in out), out


def test_the_demo_dry_run_and_a_demo_job_run_from_the_installed_package(installed, tmp_path):
    python, _ = installed
    wf = tmp_path / "wf"
    wf.mkdir()
    for name in COPIED:
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, wf / name)
    for name in LINKED:
        (wf / name).symlink_to(REPO / name)
    assert not (wf / "src").exists()
    dry = run(python, "-m", "snakemake", "-n", "--cores", "1", cwd=wf)
    assert "demo_article" in dry and "benchmark_tables" in dry
    run(python, "-m", "snakemake", "--cores", "1", "data/demo/articles/PMC9000001.tar.gz", cwd=wf)
    assert (wf / "data/demo/articles/PMC9000001.truth.json").is_file()
