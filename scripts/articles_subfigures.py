import torch

from mednarratives.articles.pipeline import filter_shard, subfigures_shard
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    filter_shard(i.parsed, o.filtered, o.filter_ledger, keywords_path=i.keywords, classifier_path=p.classifier,
                 classifier_loader=p.loader, threshold=p.threshold)
    subfigures_shard(i.parsed, o.filtered, i.weights, o.subfigures, o.crops, o.ledger, imgsz=p.imgsz, conf=p.conf,
                     iou=p.iou, crop_scale=p.crop_scale, ocr=p.ocr, refine=p.refine,
                     grid_similarity=p.grid_similarity, layout_small=p.layout_small, layout_tol=p.layout_tol,
                     layout_thin=p.layout_thin, layout_corner=p.layout_corner, blocks_tiled=p.blocks_tiled,
                     blocks_loose=p.blocks_loose, edge_step=p.edge_step, edge_share=p.edge_share,
                     letters=p.letters)
