from mednarratives.align.video import AlignParams, run_shard as align_shard
from mednarratives.settings import from_config
from mednarratives.smk import logged
from mednarratives.traces.stage import TracesParams, run_shard as traces_shard

with logged(snakemake.log[0]) as log:
    i, o = snakemake.input, snakemake.output
    records = traces_shard(i.frames, i.points, i.text, o.traces, from_config(TracesParams, snakemake.params.traces))
    log.info("traces: %d videos, %d chunks", len(records), sum(len(r["chunks"]) for r in records))
    samples = align_shard(i.frames, o.traces, i.text, i.speech, i.records, o.samples, o.ledger,
                          from_config(AlignParams, snakemake.params.align))
    log.info("%d samples", len(samples))
