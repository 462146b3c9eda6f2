"""--use-conda works from the repository alone: every rule's env (envs/*.yaml + post-deploy script) holds the
third-party modules its code imports, pinned, and installs where those modules import (the workflow puts src/
on the scripts' import path, so the project itself is never installed into an env)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from envs import NOT_PYTHON, REPO, distribution, env_spec, imports, rules

RULES = rules()
ENVS = sorted({env for env, _ in RULES.values()})


def test_every_rule_with_a_script_has_an_env():
    assert len(RULES) >= 30 and set(ENVS) == {p.stem for p in (REPO / "envs").glob("*.yaml")}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_env_of_each_rule_covers_what_its_code_imports(rule):
    env, script = RULES[rule]
    spec = env_spec(env)
    missing = sorted({(m, distribution(m)) for m in imports(script)} - {
        (m, d) for m in imports(script) for d in [distribution(m)] if d in spec["conda"] or d in spec["pip"]})
    assert not missing, f"envs/{env}.yaml lacks what {script} imports: {missing}"


@pytest.mark.parametrize("env", ENVS)
def test_envs_are_pinned_and_never_install_the_project(env):
    spec = env_spec(env)
    assert all(v for name, v in spec["conda"].items() if name != "pip"), spec["conda"]
    assert all(v for v in spec["pip"].values()), spec["pip"]
    assert "-e ../" not in (REPO / f"envs/{env}.yaml").read_text()


def test_the_import_analysis_sees_lazy_backend_imports():
    speech = imports("scripts/speech_asr.py")
    assert {"faster_whisper", "whisper", "stable_whisper", "rapidfuzz"} <= {m.split(".")[0] for m in speech}
    assert "open_clip_train.main" in imports("scripts/models_genmedclip.py")
    assert not {m for m in imports("scripts/demo_corpus.py") if m.startswith(("torch", "open_clip"))}


IMPORT_ALL = """
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:  # `from X import attr`: attr is not a module
        parent, _, attr = name.rpartition(".")
        if e.name != name or not parent:
            raise
        getattr(importlib.import_module(parent), attr)
"""


def needs_torch(env: str) -> bool:
    return "torch" in env_spec(env)["pip"]


@pytest.mark.slow
@pytest.mark.parametrize("env", ENVS)
def test_each_env_installs_in_a_fresh_venv_and_its_rules_modules_import(env, tmp_path):
    """The env's pip part and its conda Python packages (same names on PyPI), then its post-deploy script, into a
    fresh venv; then every rule of the env imports its third-party modules and its script's project modules."""
    if needs_torch(env) and not os.environ.get("MEDNARRATIVES_ENV_INSTALL"):
        pytest.skip("an env with torch installs ~5 GB of wheels (3.5-6 min each on 2 cores, 11 min on a cold "
                    "download): run with MEDNARRATIVES_ENV_INSTALL=1")
    spec = env_spec(env)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin/python")
    post_deploy = REPO / f"envs/{env}.post-deploy.sh"
    deploy_only = set()
    if post_deploy.exists():
        deploy_only = {line.split()[-1].split("==")[0] for line in post_deploy.read_text().splitlines()
                       if line.startswith("python -m pip install --no-deps")}
    reqs = [f"{n}=={v}" for n, v in spec["conda"].items() if n not in NOT_PYTHON]
    reqs += [f"{n}=={v}" for n, v in spec["pip"].items() if n not in deploy_only]
    subprocess.run([py, "-m", "pip", "install", "-q", *reqs], check=True, timeout=3000)
    if post_deploy.exists():
        subprocess.run(["bash", str(post_deploy)], check=True, timeout=600,
                       env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"})
    for rule, (rule_env, script) in sorted(RULES.items()):
        if rule_env != env:
            continue
        project = [line.split()[1] for line in (REPO / script).read_text().splitlines()
                   if line.startswith("from mednarratives")]
        proc = subprocess.run([py, "-c", IMPORT_ALL, *sorted(imports(script)), *project], capture_output=True,
                              text=True, env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO / "src")})
        assert proc.returncode == 0, f"{rule} ({script}) in envs/{env}.yaml:\n{proc.stderr[-3000:]}"
