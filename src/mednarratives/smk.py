"""Glue for the thin Snakemake entry scripts in scripts/."""

from __future__ import annotations

import contextlib
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
