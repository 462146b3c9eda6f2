from mednarratives_demo.corpus import write_index
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    write_index(
        snakemake.input.videos, snakemake.input.video_truth,
        snakemake.input.articles, snakemake.input.article_truth,
        out_videos=snakemake.output.videos, out_articles=snakemake.output.articles,
        out_summary=snakemake.output.summary,
    )
