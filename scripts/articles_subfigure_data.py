from mednarratives.articles.subfigures import dataset_from_annotations, synthetic_dataset
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    p = snakemake.params
    if p.source == "synthetic":
        out = synthetic_dataset(snakemake.output.data, p.n_figures, p.seed, p.realistic_share, p.val_fraction)
    else:
        out = dataset_from_annotations(snakemake.input.annotations, snakemake.output.data, p.seed, p.val_fraction)
    log.info("YOLO dataset: %s", out)
