"""Glue for the thin Snakemake entry scripts in scripts/, and the Snakemake process's DAG-building tuning."""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import logging
import sys
from typing import Iterator


@contextlib.contextmanager
def logged(log_path: str) -> Iterator[logging.Logger]:
    """Send a script's stdout, stderr and `logging` records to the rule's log file."""
    with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield logging.getLogger("mednarratives")
        except BaseException:
            logging.getLogger("mednarratives").exception("rule failed")
            raise
        finally:
            root.removeHandler(handler)
            sys.stdout.flush()


def tune_snakemake() -> None:
    """Cut the CPU cost of planning a large DAG in the Snakemake process that calls this (the Snakefile does).
    Snakemake 9.27 spends it per job; the paper's full-scale dry run (3472 jobs; benchmarks/bench_dag_scale.py,
    docs/cost_model.md) lost, of ~7.4 CPU s:
    - ~0.9 s: full garbage collections traversed the growing DAG (~2M objects) 7 times; a full collection now
      waits for 1000 young-generation ones instead of 10 (same peak memory: the DAG makes little garbage);
    - ~0.8 s: the interpreter's last collections at exit traversed it again; at exit the heap is frozen instead
      (registered here, so it runs before the earlier-registered exit handlers that close logs, locks and temp
      directories, which do their work explicitly; only cyclic garbage is left to the OS);
    - ~0.7 s: each job's `script:` path went through smart_open's parse_uri three times, which builds a
      namedtuple class per call: memoized (a pure function of the path string, its result immutable);
    - ~0.3 s: the signature of each resource evaluator and input function was re-read per job and resource
      (inspect.signature): memoized per function.
    Both memos replace module attributes of Snakemake; where a version lacks them, nothing is replaced."""
    threshold0, threshold1, _ = gc.get_threshold()
    gc.set_threshold(threshold0, threshold1, 1000)
    atexit.register(gc.freeze)
    import snakemake.common
    import snakemake.rules
    import snakemake.sourcecache

    if hasattr(snakemake.sourcecache, "parse_uri") and not hasattr(snakemake.sourcecache.parse_uri, "cache_info"):
        snakemake.sourcecache.parse_uri = functools.cache(snakemake.sourcecache.parse_uri)
    if hasattr(snakemake.common, "get_function_params") and not hasattr(snakemake.common.get_function_params,
                                                                          "uncached"):
        params = snakemake.common.get_function_params
        memo = functools.cache(params)

        def function_params(func):
            try:
                return memo(func)
            except TypeError:  # an unhashable callable
                return params(func)

        function_params.uncached = params
        snakemake.common.get_function_params = snakemake.rules.get_function_params = function_params
