from mednarratives.smk import logged
from mednarratives.speech.stage import run_shard

with logged(snakemake.log[0]):
    run_shard(snakemake.input.media, snakemake.output.records, snakemake.output.ledger,
              {**snakemake.params.speech, "cache_dir": snakemake.config["speech"]["cache_dir"]}, snakemake.threads)
