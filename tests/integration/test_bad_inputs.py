"""The reliability suite: a run over bad videos and bad article packages, beside one good video and one good
article, finishes (no whole-run crash), accounts for every input in the ledger, and lets nothing escape."""

from __future__ import annotations

import shutil

import pytest
import yaml

from bad_inputs import bad_articles, bad_videos, german_speech, off_topic_lecture
from conftest import make_workflow_dir, run_snakemake
from mednarratives import ledger

pytestmark = pytest.mark.slow

EVIL_NAME = "$(touch PWNED); x.mp4"  # a shell injection through a file name (a video id)
EXPECTED = {  # unit -> (stage, reason) among its ledger rows
    "bad_corrupt": ("videos_filter", "probe_failed"),
    "bad_empty": ("videos_filter", "probe_failed"),
    "bad_no_audio": ("videos_filter", "no_audio"),
    "bad_three_hours": ("videos_filter", "too_long"),
    "bad_absurd_resolution": ("videos_filter", "bad_resolution"),
    "bad_german_speech": ("speech", "wrong_language"),
    "bad_off_topic_narration": ("text", "narration_not_medical"),  # the pictures pass the filter
    "PMC9000001": ("articles_parse", "xml_syntax"),
    "PMC9000002": ("dataset_assemble", "empty_caption"),  # the external entity is not resolved: nothing left
    "PMC9000003": ("articles_parse", "xml_syntax"),  # entities are not expanded
    "PMC9000004": ("articles_parse", "path_traversal"),
    "PMC9000005": ("articles_parse", "image_unreadable"),
    "PMC9000006": ("articles_parse", "image_missing"),
    "PMC9000007": ("dataset_assemble", "empty_caption"),
    "PMC9000008": ("articles_parse", "corrupt_archive"),
}


@pytest.fixture(scope="module")
def bad_run(demo_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    videos, articles = root / "videos", root / "articles"
    good_video = (demo_run / "results/videos/kept.tsv").read_text().splitlines()[1].split("\t")[0]
    video_cases = bad_videos(videos, german_speech(root / "de.wav"), demo_run / f"data/demo/videos/{good_video}.mp4",
                             off_topic_lecture(root / "lecture.wav"))
    article_cases = bad_articles(articles)
    shutil.copy(demo_run / f"data/demo/videos/{good_video}.mp4", videos / f"{good_video}.mp4")
    shutil.copy(demo_run / f"data/demo/videos/{good_video}.mp4", videos / EVIL_NAME)
    good_article = "PMC9000012"  # the bad cases use PMC9000001-8
    shutil.copy(demo_run / f"data/demo/articles/{good_article}.tar.gz", articles / f"{good_article}.tar.gz")
    workdir = make_workflow_dir(root / "wf")
    arch = yaml.safe_load((workdir / "config/config.yaml").read_text())["videos"]["classifier"]["arch"]
    override = root / "bad.yaml"
    override.write_text(yaml.safe_dump({
        "videos": {"source": {"kind": "local", "path": str(videos)},  # trained models of the demo run: no retraining
                   "classifier": {"model": str(demo_run / f"results/models/domain/{arch}/model.pt")}},
        "articles": {"source": {"kind": "local", "path": str(articles)},
                     "subfigures": {"weights": str(demo_run / "results/models/subfigure_yolo/weights.pt")}},
    }))
    proc = run_snakemake(workdir, "results/ledger/funnel.tsv", "--cores", "2", "--keep-going",
                         "--configfile", str(override), check=False)
    rows = ledger.read(sorted((workdir / "results/ledger").rglob("*.jsonl")))
    return proc, rows, video_cases, article_cases, good_video, good_article, root


def test_the_run_finishes_and_the_ledger_adds_up(bad_run):
    proc, *_ = bad_run
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]


def decisions_of(rows, unit):
    """(stage, decision, reason) of one unit and its finer parts."""
    return [(r["stage"], r["decision"], r["reason"]) for r in rows
            if r["unit"] == unit or r["unit"].startswith(unit + "/")]


def test_every_bad_input_is_dropped_with_its_reason_and_the_good_ones_go_on(bad_run):
    _, rows, video_cases, article_cases, good_video, good_article, _ = bad_run
    assert set(video_cases) | set(article_cases) == set(EXPECTED)
    for unit, case in {**video_cases, **article_cases}.items():
        dropped = [(stage, reason) for stage, decision, reason in decisions_of(rows, unit) if decision == "dropped"]
        assert EXPECTED[unit] in dropped and all(reason for _, reason in dropped), (case, decisions_of(rows, unit))
    assert ("align", "kept", "") in decisions_of(rows, good_video)
    assert ("articles_pairs", "kept", "") in decisions_of(rows, good_article)


def test_nothing_escapes(bad_run):
    proc, rows, *_, root = bad_run
    assert not list(root.rglob("PWNED")), "a file name reached a shell"
    assert not list(root.parent.rglob("evil.txt")), "an archive member escaped its folder"
    assert any(r["reason"] == "invalid_id" for r in rows if r["stage"] == "videos_manifest")
    outputs = [p for p in (root / "wf/results").rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".tsv")]
    assert not [p for p in outputs if "root:x:0:0" in p.read_text(errors="replace")], "/etc/passwd leaked (XXE)"
