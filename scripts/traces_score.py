"""Score the demo videos' traces against their truth: one row per video, and the bar."""
import json

from mednarratives.smk import logged
from mednarratives.traces.evaluate import BAR, score

with logged(snakemake.log[0]) as log:
    print(score(snakemake.input.traces, snakemake.input.points, snakemake.input.truth, snakemake.output.json, snakemake.output.tsv,
                snakemake.params.edge_s))
    log.info("bar: %s", json.dumps(BAR))
