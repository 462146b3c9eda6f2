import torch

from mednarratives.articles.pipeline import filter_shard, subfigures_shard
from mednarratives.articles.subfigures import SubfigureOptions
from mednarratives.settings import from_config
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    filter_shard(i.parsed, o.filtered, o.filter_ledger, keywords_path=i.keywords, classifier_path=p.classifier,
                 classifier_loader=p.loader, threshold=p.threshold)
    subfigures_shard(i.parsed, o.filtered, i.weights, o.subfigures, o.crops, o.ledger,
                     from_config(SubfigureOptions, p.subfigures), ocr=p.ocr)
