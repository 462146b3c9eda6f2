"""Precise partial reruns: rule params hold exactly the config keys each rule's results depend on, so a dry run
after a config change plans that stage and what follows it, and a key that only says where caches live plans
nothing. Also: local sources never plan the demo corpus."""

from __future__ import annotations

import pytest
import yaml

from conftest import run_snakemake
from test_workflow import dry_run_with, planned_jobs

DATASET_ON = {"dataset_assemble", "dataset_gallery", "benchmark_demo_registry", "models_genmedclip",
              "benchmark_tables", "ledger_check", "all"}
AFTER_FRAMES = {"align_video", "traces_score"} | DATASET_ON  # align_video makes the traces, then the samples
AFTER_SPEECH = {"text_video", "speech_score"} | AFTER_FRAMES


@pytest.mark.slow
def test_keys_that_do_not_change_results_rerun_nothing(demo_run, tmp_path):
    """One dry run with all of them changed (each alone is then covered too)."""
    assert dry_run_with(demo_run, tmp_path, {
        "speech": {"cache_dir": "elsewhere/models"},
        "text": {"llm": {"timeout_s": 5, "url": "http://10.0.0.1:8000/v1"}},  # backend: rules
        "videos": {"download": {"attempts": 9}},  # demo source: nothing is downloaded
        "articles": {"source": {"base_url": "https://mirror.example/", "media": "all"}},
    }) == {}


@pytest.mark.slow
@pytest.mark.parametrize("override, rules", [
    ({"speech": {"beam_size": 5}}, {"speech_asr"} | AFTER_SPEECH),
    ({"text": {"vocabulary": "src/mednarratives/speech/data/vocabulary"}}, {"text_video"} | AFTER_FRAMES),
    ({"text": {"narration": {"min_density": 0.03}}}, {"text_video"} | AFTER_FRAMES),  # not ASR
    ({"frames": {"pad_time": 0.5}}, {"frames_video"} | AFTER_FRAMES),
    ({"traces": {"cursor": {"diff_threshold": 30}}}, {"frames_video"} | AFTER_FRAMES),
    ({"traces": {"max_gap_s": 0.3}}, AFTER_FRAMES),  # not frames_video: cursor points are raw
    ({"traces": {"score_edge_s": 0.5}}, {"traces_score", "all"}),
    ({"articles": {"pairing": {"reading_order": False}}},
     {"articles_pairs", "articles_index", "articles_score"} | DATASET_ON),
    # keys that only the schema lists (their defaults fill the config): rule params hold them too
    ({"speech": {"corrector": {"min_score": 0.65}}}, {"speech_asr"} | AFTER_SPEECH),
    ({"speech": {"score_tolerance_s": 0.3}}, {"speech_score", "all"}),
    ({"articles": {"pairing": {"prior": 0.8}}}, {"articles_pairs", "articles_index", "articles_score"} | DATASET_ON),
], ids=["speech.beam_size", "text.vocabulary", "text.narration", "frames.pad_time", "traces.cursor", "traces.max_gap_s",
        "traces.score_edge_s", "articles.pairing", "speech.corrector", "speech.score_tolerance_s",
        "articles.pairing.prior"])
def test_a_stage_key_reruns_that_stage_and_what_follows(demo_run, tmp_path, override, rules):
    assert set(dry_run_with(demo_run, tmp_path, override)) == rules


def test_local_sources_never_plan_the_demo_corpus(workflow_dir, tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "articles").mkdir()
    config = tmp_path / "local.yaml"
    config.write_text(yaml.safe_dump({"videos": {"source": {"kind": "local", "path": str(tmp_path / "videos")}},
                                      "articles": {"source": {"kind": "local", "path": str(tmp_path / "articles")}}}))
    jobs = planned_jobs(run_snakemake(workflow_dir, "-n", "--configfile", str(config)).stdout)
    assert {"videos_manifest", "articles_manifest", "all"} <= set(jobs)
    assert not [rule for rule in jobs if rule.startswith("demo_") or rule.endswith("_score")], jobs
