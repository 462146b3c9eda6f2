"""Snakemake itself on the default (demo) config: lint, dry run, the real demo run, determinism."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import REPO, make_workflow_dir, run_snakemake

DEMO = yaml.safe_load((REPO / "config/config.yaml").read_text())["demo"]


def test_lint_is_clean(workflow_dir):
    proc = run_snakemake(workflow_dir, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_run_lists_the_pipeline(workflow_dir):
    out = run_snakemake(workflow_dir, "-n").stdout
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    assert int(counts["demo_video"]) >= 11
    assert int(counts["demo_article"]) == DEMO["n_articles"]
    for rule in ("demo_corpus", "all"):
        assert counts[rule] == "1"


def sha256_tree(root, patterns=("videos/*", "articles/*", "*.tsv", "*.json")):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for pattern in patterns for p in sorted(root.glob(pattern)) if p.is_file()
    }


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    workdir = make_workflow_dir(tmp_path_factory.mktemp("demo") / "wf")
    start = time.monotonic()
    run_snakemake(workdir, "--cores", "2", "demo_corpus")
    print(f"demo corpus: {time.monotonic() - start:.0f} s on 2 cores")
    return workdir


@pytest.mark.slow
def test_demo_corpus_is_complete(demo_run):
    root = demo_run / DEMO["dir"]
    summary = json.loads((root / "corpus.json").read_text())
    videos = [json.loads(p.read_text()) for p in sorted(root.glob("videos/*.truth.json"))]
    positives = [v for v in videos if v["kind"] == "positive"]
    assert len(positives) >= 8
    assert len({v["domain"] for v in positives}) >= 5
    assert {v["kind"] for v in videos} >= {"positive", "no_speech", "non_medical", "too_short"}
    for v in positives:
        assert 60 <= v["duration"] <= 180
        assert (v["width"], v["height"], v["fps"]) == (1280, 720, 30)
    articles = sorted(root.glob("articles/*.tar.gz"))
    assert len(articles) == DEMO["n_articles"]
    assert summary["videos"]["total"] == len(videos)
    assert summary["articles"]["total"] == len(articles)
    manifest = (root / "videos.tsv").read_text().splitlines()
    assert len(manifest) == len(videos) + 1


@pytest.mark.slow
def test_same_seed_gives_identical_files(demo_run, tmp_path):
    """A second run from scratch of one video and all articles reproduces the bytes."""
    again = make_workflow_dir(tmp_path / "wf")
    root = demo_run / DEMO["dir"]
    video = sorted(root.glob("videos/*.mp4"))[0].name
    targets = [f"{DEMO['dir']}/videos/{video}"] + [
        f"{DEMO['dir']}/articles/{p.name}" for p in sorted(root.glob("articles/*.tar.gz"))
    ]
    run_snakemake(again, "--cores", "2", *targets)
    first, second = sha256_tree(root), sha256_tree(again / DEMO["dir"])
    assert second and all(first[name] == digest for name, digest in second.items())


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_bytes(demo_run, tmp_path):
    """kill -9 of the whole process group mid-job (a node crash), unlock, rerun: identical outputs."""
    again = make_workflow_dir(tmp_path / "wf")
    root = demo_run / DEMO["dir"]
    video = sorted(root.glob("videos/*.mp4"))[0].name
    target = f"{DEMO['dir']}/videos/{video}"
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", target], cwd=again,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    log = again / "logs/demo/video" / video.replace(".mp4", ".log")
    while not log.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(5)  # inside the render
    assert proc.poll() is None, "the job ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (again / target).exists(), "a killed job left its output behind"
    run_snakemake(again, "--unlock")
    run_snakemake(again, "--cores", "1", target)
    assert (again / target).read_bytes() == (root / "videos" / video).read_bytes()
