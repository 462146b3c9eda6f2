from mednarratives_demo.articles import build_article
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    build_article(
        snakemake.wildcards.article_id,
        seed=snakemake.params.seed,
        out_tar=snakemake.output.package,
        out_truth=snakemake.output.truth,
    )
