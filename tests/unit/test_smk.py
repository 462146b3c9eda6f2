"""tune_snakemake: the memos it puts into Snakemake answer as the functions they replace."""

from __future__ import annotations

import atexit
import gc

import snakemake.common
import snakemake.rules
import snakemake.sourcecache
from smart_open import parse_uri

from mednarratives.smk import tune_snakemake


def test_tuned_snakemake_answers_as_before(monkeypatch):
    monkeypatch.setattr(snakemake.sourcecache, "parse_uri", snakemake.sourcecache.parse_uri)
    monkeypatch.setattr(snakemake.common, "get_function_params", snakemake.common.get_function_params)
    monkeypatch.setattr(snakemake.rules, "get_function_params", snakemake.rules.get_function_params)
    monkeypatch.setattr(atexit, "register", lambda func: func)  # no frozen heap at this test session's exit
    threshold = gc.get_threshold()
    try:
        tune_snakemake()
        assert gc.get_threshold() == (threshold[0], threshold[1], 1000)
    finally:
        gc.set_threshold(*threshold)

    for path in ("scripts/videos_filter.py", "/abs/path/x.py", "file:///abs/y.py"):
        assert snakemake.sourcecache.parse_uri(path) == parse_uri(path)
        assert snakemake.sourcecache.parse_uri(path) is snakemake.sourcecache.parse_uri(path)  # memoized

    class Evaluator:
        __hash__ = None  # unhashable: read each time

        def __call__(self, wildcards, input, threads):
            return 1

        def method(self, wildcards, attempt):
            return 1

    def files(wildcards, groupid):
        return []

    for func, names in ((files, ["wildcards", "groupid"]), (Evaluator(), ["wildcards", "input", "threads"]),
                        (Evaluator().method, ["wildcards", "attempt"])):
        for module in (snakemake.common, snakemake.rules):
            assert list(module.get_function_params(func)) == names
    assert snakemake.common.get_input_function_aux_params(files, {"groupid": 1, "input": []}) == {"groupid": 1}
