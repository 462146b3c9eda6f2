from mednarratives.smk import logged
from mednarratives.text.stage import run_shard

with logged(snakemake.log[0]):
    run_shard(snakemake.input.speech, snakemake.output.records, snakemake.output.ledger, snakemake.params.text)
