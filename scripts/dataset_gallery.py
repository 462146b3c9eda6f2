from mednarratives.dataset.gallery import write_gallery
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    write_gallery(snakemake.input.sidecar, snakemake.output.gallery, n=snakemake.params.n)
