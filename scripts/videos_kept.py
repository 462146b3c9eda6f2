from mednarratives.smk import logged
from mednarratives.videos.decide import kept_table

with logged(snakemake.log[0]) as log:
    kept = kept_table(list(snakemake.input.records), snakemake.output.kept)
    log.info("%d videos kept", len(kept))
