"""Input functions of rules/frames.smk (kept out of the rules file: Snakemake's linter wants rules alone)."""

from __future__ import annotations

import re
from typing import Iterable


def produced(rules: Iterable, path: str) -> bool:
    """Does one of these Snakemake rules write `path`? (stages of other rules files may not exist yet)"""
    for r in rules:
        for out in r.output:
            pattern = re.sub(r"\\\{([^}]+)\\\}", r".+", re.escape(str(out)))
            if re.fullmatch(pattern, path):
                return True
    return False


def frames_inputs(video: str, keyframes_from: str) -> dict:
    inputs = {"video": video}
    if keyframes_from == "filter":  # the filter shards are searched for this video's record
        inputs["kept"] = "results/videos/kept.tsv"
    return inputs


def traces_inputs(rules: Iterable, video_id: str) -> dict:
    inputs = {"frames": f"results/frames/{video_id}.json", "points": f"results/frames/{video_id}.points.json"}
    text = f"results/text/{video_id}.json"
    if produced(rules, text):  # per-utterance boxes need utterance times
        inputs["text"] = text
    return inputs


def align_inputs(rules: Iterable, video_id: str) -> dict:
    inputs = {"frames": f"results/frames/{video_id}.json", "traces": f"results/traces/{video_id}.json",
              "text": f"results/text/{video_id}.json"}
    speech = f"results/speech/{video_id}.json"
    if produced(rules, speech):
        inputs["speech"] = speech
    return inputs
