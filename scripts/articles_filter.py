from mednarratives.articles.pipeline import filter_shard
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    filter_shard(snakemake.input.parsed, snakemake.output.filtered, snakemake.output.ledger,
                 keywords_path=snakemake.input.keywords, classifier_path=p.classifier, classifier_loader=p.loader,
                 threshold=p.threshold)
