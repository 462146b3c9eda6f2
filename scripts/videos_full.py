from mednarratives.smk import logged
from mednarratives.videos.manifest import shard_media

with logged(snakemake.log[0]) as log:
    media = shard_media(snakemake.input.records, snakemake.input.manifest, snakemake.output.media,
                        snakemake.output.ledger, snakemake.params.kind, snakemake.params.download)
    log.info("%d media files", len(media))
