import os

os.environ.setdefault("OMP_NUM_THREADS", str(snakemake.threads))

from mednarratives.frames.stage import params_from_config, run_shard
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    import cv2
    import torch

    torch.set_num_threads(snakemake.threads)
    cv2.setNumThreads(snakemake.threads)  # OpenCV's own thread pool otherwise takes every core
    frames_params, video_params, detector = params_from_config(snakemake.params.frames, snakemake.params.traces)
    run_shard(snakemake.input.media, snakemake.input.records, snakemake.output.records, snakemake.output.images,
              snakemake.output.points, snakemake.output.ledger, snakemake.params.frames["keyframes_from"],
              frames_params, video_params, detector)
