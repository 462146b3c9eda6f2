from mednarratives.align.video import AlignParams, run_shard
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    p = snakemake.params.align
    samples = run_shard(snakemake.input.frames, snakemake.input.traces, snakemake.input.text, snakemake.input.speech,
                        snakemake.input.records, snakemake.output.samples, snakemake.output.ledger,
                        AlignParams(lead_s=p["lead_s"], lag_s=p["lag_s"], min_overlap=p["min_overlap"]))
    log.info("%d samples", len(samples))
