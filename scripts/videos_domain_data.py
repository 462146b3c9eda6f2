from mednarratives.smk import logged
from mednarratives.videos.classify import build_demo_imagefolder

with logged(snakemake.log[0]) as log:
    counts = build_demo_imagefolder(snakemake.output.data, seed=snakemake.params.seed,
                                    per_class=snakemake.params.per_class,
                                    render=snakemake.params.demo_data)
    log.info("demo ImageFolder: %s", counts)
