import os

from mednarratives.smk import logged
from mednarratives.videos.classify import load_classifier
from mednarratives.videos.decide import FilterConfig, Thresholds, filter_shard
from mednarratives.videos.manifest import make_media_for, shard_media

with logged(snakemake.log[0]) as log:
    import torch

    torch.set_num_threads(max(1, snakemake.threads))
    p = snakemake.params
    cfg = FilterConfig(keyframes=p.keyframes, thresholds=Thresholds.from_config(p.thresholds),
                       min_duration=p.duration["min_s"], max_duration=p.duration["max_s"],
                       max_subscribers=p.max_subscribers, speech_backend=p.speech["backend"],
                       speech_window_s=p.speech["window_s"], speech_min_ratio=p.speech["min_ratio"],
                       streak_frames=p.narrative["streak_frames"], streak_cosine=p.narrative["streak_cosine"],
                       streak_gap_s=p.narrative["streak_gap_s"], classify_threshold=p.classify_threshold,
                       keep_near_positive=p.keep_near_positive)
    clf = load_classifier(snakemake.input.model)
    os.makedirs(snakemake.output.lowres, exist_ok=True)
    recs = filter_shard(snakemake.input.manifest, snakemake.output.records, snakemake.output.ledger, clf, cfg,
                        make_media_for(p.kind, snakemake.output.lowres, p.download))
    log.info("%d videos, %d kept", len(recs), sum(r["decision"] in ("positive", "near_positive") for r in recs))
    media = shard_media(snakemake.output.records, snakemake.input.manifest, snakemake.output.media,
                        snakemake.output.media_ledger, p.kind, p.download)
    log.info("%d media files", len(media))
