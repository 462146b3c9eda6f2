from mednarratives.settings import from_config
from mednarratives.smk import logged
from mednarratives.traces.stage import TracesParams, run_shard

with logged(snakemake.log[0]) as log:
    params = from_config(TracesParams, snakemake.params.traces)
    records = run_shard(snakemake.input.frames, snakemake.input.points, snakemake.input.text, snakemake.output.traces,
                        params)
    log.info("%d videos, %d chunks", len(records), sum(len(r["chunks"]) for r in records))
