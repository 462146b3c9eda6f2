"""The rule files' layout: one file per stage, rules that say what they need, a profile that names real rules."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import REPO

RULE = re.compile(r"^(?:rule|checkpoint) (\w+):\n(.*?)(?=^\S|\Z)", re.M | re.S)
RULES = {name: (smk.stem, body) for smk in sorted((REPO / "rules").glob("*.smk"))
         for name, body in RULE.findall(smk.read_text())}
PROFILE = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
# What the profile may say about a rule: where its jobs go. What they need lives in the rule.
PLACEMENT = {"slurm_partition", "slurm_account", "constraint", "slurm_extra", "gpu_model"}


def test_each_rule_is_in_the_file_of_its_stage():
    assert len(RULES) >= 30
    misplaced = {name: stem for name, (stem, _) in RULES.items() if name.split("_")[0] != stem}
    assert not misplaced, misplaced


@pytest.mark.parametrize("path", ["Snakefile", *sorted(p.name for p in (REPO / "rules").glob("*.smk"))])
def test_no_lambdas_and_no_target_lists_appended_across_files(path):
    text = (REPO / ("rules" if path.endswith(".smk") else "") / path).read_text()
    assert "lambda" not in text and "ALL_TARGETS" not in text


def test_each_rule_says_what_its_jobs_need_and_times_go_to_logs_timings():
    for name, (_, body) in RULES.items():
        assert re.search(r"^    threads: ", body, re.M), name
        resources = re.search(r"^    resources:\n((?:        .*\n)+)", body, re.M)
        assert resources and {"mem_mb", "runtime"} <= set(re.findall(r"^        (\w+)=", resources.group(1), re.M)), name
        timing = re.search(r'^    benchmark:\n        "([^"]+)"', body, re.M)
        assert timing is None or timing.group(1).startswith(f"logs/timings/{name}/"), (name, timing.group(1))


def test_the_slurm_profile_places_real_rules_only():
    set_resources = PROFILE["set-resources"]
    assert set(set_resources) <= set(RULES), set(set_resources) - set(RULES)
    for name, keys in set_resources.items():
        assert set(keys) <= PLACEMENT, (name, set(keys) - PLACEMENT)
    assert set(PROFILE["default-resources"]) <= PLACEMENT
