import os

os.environ.setdefault("OMP_NUM_THREADS", str(snakemake.threads))

from mednarratives.frames.stage import run_frames, params_from_config, keyframes_for
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    import torch

    torch.set_num_threads(snakemake.threads)
    frames_params, video_params, detector = params_from_config(snakemake.params.frames, snakemake.params.traces)
    keyframes = keyframes_for(snakemake.wildcards.video_id, snakemake.params.filter_glob) \
        if snakemake.params.frames["keyframes_from"] == "filter" else None
    record = run_frames(snakemake.input.video, snakemake.wildcards.video_id, keyframes, snakemake.output.record,
                        snakemake.output.images, snakemake.output.points, snakemake.output.ledger,
                        frames_params, video_params, detector)
    log.info("%s: %d chunks", snakemake.wildcards.video_id, len(record["chunks"]))
