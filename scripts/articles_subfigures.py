import torch

from mednarratives.articles.pipeline import subfigures_shard
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    subfigures_shard(snakemake.input.parsed, snakemake.input.filtered, snakemake.input.weights,
                     snakemake.output.subfigures, snakemake.output.crops, snakemake.output.ledger,
                     imgsz=p.imgsz, conf=p.conf, iou=p.iou, crop_scale=p.crop_scale, ocr=p.ocr, refine=p.refine,
                     grid_similarity=p.grid_similarity, layout_small=p.layout_small,
                     layout_tol=p.layout_tol, layout_thin=p.layout_thin)
