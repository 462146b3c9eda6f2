from mednarratives.align.video import AlignParams, run_shard
from mednarratives.settings import from_config
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    samples = run_shard(snakemake.input.frames, snakemake.input.traces, snakemake.input.text, snakemake.input.speech,
                        snakemake.input.records, snakemake.output.samples, snakemake.output.ledger,
                        from_config(AlignParams, snakemake.params.align))
    log.info("%d samples", len(samples))
