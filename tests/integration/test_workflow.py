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


def planned_jobs(proc_stdout: str) -> dict[str, int]:
    """rule -> job count from the 'Job stats' table of a dry run."""
    table = proc_stdout.split("Job stats:", 1)[-1].split("Reasons:", 1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M) if rule != "total"}


def test_dry_run_of_a_fresh_checkout_plans_up_to_the_checkpoints(workflow_dir):
    jobs = planned_jobs(run_snakemake(workflow_dir, "-n").stdout)
    assert jobs["demo_video"] >= 11 and jobs["demo_article"] == DEMO["n_articles"]
    # the manifests are checkpoints: per-shard and per-video jobs are planned once they have run
    assert {"demo_corpus", "videos_manifest", "articles_manifest", "all"} <= set(jobs)


# Rules upstream of the per-shard video stages and the article shards: a fresh dry run plans them (with the
# checkpoints); the rest is planned once the manifests exist.
UPSTREAM_OF_CHECKPOINTS = {"demo_video", "demo_article", "demo_corpus", "videos_manifest", "articles_manifest",
                           "videos_domain_data", "videos_domain_train", "videos_filter", "videos_kept"}


@pytest.mark.slow
def test_dry_run_after_the_checkpoints_lists_the_whole_pipeline(demo_run):
    assert "Nothing to be done" in run_snakemake(demo_run, "-n").stdout
    rules = set(re.findall(r"^(\w+)", run_snakemake(demo_run, "--list-rules").stdout, flags=re.M))
    downstream = sorted(rules - UPSTREAM_OF_CHECKPOINTS - {"all"})
    jobs = planned_jobs(run_snakemake(demo_run, "-n", "--forcerun", *downstream).stdout)
    assert set(jobs) == set(downstream) | {"all"}
    shards = list((demo_run / "results/videos/manifest").glob("s*.tsv"))
    assert len(shards) >= 2  # the demo config shards the videos, so the per-shard plumbing is exercised
    for rule in ("speech_asr", "text_video", "frames_video", "align_video"):
        assert jobs[rule] == len(shards)  # one job per shard, not per video


def dry_run_with(workdir, tmp_path, override: dict) -> dict[str, int]:
    """Jobs a dry run plans with `override` laid over config/config.yaml (a --configfile, as users do)."""
    path = tmp_path / f"override{len(list(tmp_path.glob('override*')))}.yaml"
    path.write_text(yaml.safe_dump(override))
    return planned_jobs(run_snakemake(workdir, "-n", "--configfile", str(path)).stdout)


@pytest.mark.slow
def test_a_config_change_reruns_only_the_rules_that_use_it(demo_run, tmp_path):
    """params are a rerun trigger: a changed value plans the rules that use it and what depends on them, only."""
    assert set(dry_run_with(demo_run, tmp_path, {"align": {"lead_s": 1.5}})) == {
        "align_video", "traces_score", "dataset_assemble", "dataset_gallery", "benchmark_demo_registry",
        "models_genmedclip", "benchmark_tables", "ledger_check", "all"}
    assert set(dry_run_with(demo_run, tmp_path, {"benchmark": {"seed": 1}})) == {"benchmark_tables", "all"}


def sha256_tree(root, patterns=("videos/*", "articles/*", "*.tsv", "*.json")):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for pattern in patterns for p in sorted(root.glob(pattern)) if p.is_file()
    }


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
