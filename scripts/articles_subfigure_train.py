import os

import torch

from mednarratives.articles.subfigures import TrainOptions, train
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    opts = TrainOptions(architecture=p.architecture, epochs=p.epochs, imgsz=p.imgsz, batch=p.batch, seed=p.seed,
                        device=str(p.device), close_mosaic=p.close_mosaic, mosaic=p.mosaic, patience=p.patience,
                        workers=p.workers)
    metrics = train(os.path.join(snakemake.input.data, "data.yaml"), snakemake.output.weights, opts, snakemake.output.work,
                    snakemake.output.metrics)
    log.info("sub-figure detector: %s", metrics)
