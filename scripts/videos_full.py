from mednarratives.smk import logged
from mednarratives.videos.manifest import full_media

with logged(snakemake.log[0]):
    full_media(snakemake.wildcards.video_id, snakemake.input.kept, snakemake.input.manifest_dir,
               snakemake.output.video, snakemake.params.kind, snakemake.params.download)
