# Stage videos (mednarratives.videos; paper 3.2.1-3.2.2, appendix 7.1-7.3): manifest shards (checkpoint) ->
# per-shard filter (duration, speech, key-frames + domain classifiers, Table 3 thresholds, narrative check)
# and, in the same job, the media of its kept videos (youtube: full-resolution download; demo, local: a symlink),
# which the per-shard speech and frames stages read; kept.tsv lists every kept video. Records: docs/data_contract.md.


checkpoint videos_manifest:
    input:
        videos_source(),
    output:
        manifest=directory("results/videos/manifest"),
        ledger="results/ledger/videos_manifest/all.jsonl",
    params:
        kind=cfg("videos/source/kind"),
        path=videos_source_path,
        domain_hint=lookup("videos/source/domain_hint", within=config, default=""),
        youtube=cfg("videos/youtube") if is_youtube() else {},
        shard_size=cfg("videos/shard_size"),
    log:
        "logs/videos/manifest.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=24 * 60 if is_youtube() else 10,  # youtube: a network-bound search
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_manifest.py"


rule videos_domain_data:
    output:
        data=directory("results/videos/domain_data"),
    params:
        seed=cfg("videos/classifier/seed"),
        per_class=cfg("videos/classifier/demo_per_class"),
        demo_data=cfg("videos/classifier/demo_data"),
    log:
        "logs/videos/domain_data.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_domain_data.py"


rule videos_domain_train:
    input:
        data=videos_classifier_data(),
    output:
        model="results/models/domain/{arch}/model.pt",
        metrics="results/models/domain/{arch}/metrics.json",
    params:
        arch="{arch}",
        preset=videos_classifier_preset,
        seed=cfg("videos/classifier/seed"),
        overrides=videos_classifier_overrides(),
    log:
        "logs/videos/domain_train_{arch}.log",
    benchmark:
        "logs/timings/videos_domain_train/{arch}.tsv"
    # CPU (demo): one thread; torch's extra threads spin against other jobs on a shared machine (10x slower)
    threads: 1 if cfg("videos/classifier/device") == "cpu" else 8
    resources:
        mem_mb=16000,
        runtime=12 * 60,
        gpu=0 if cfg("videos/classifier/device") == "cpu" else 1,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_domain_train.py"


# One job per shard for the filter and the kept videos' media (two jobs were one more per shard to plan: the DAG of
# the paper's scale has ~370 video shards). The media step's keys (kind, download) are filter keys, so any change
# that reruns it reruns the filter anyway; a failed download is a ledger row, not a failed job.
rule videos_filter:
    input:
        manifest="results/videos/manifest/{shard}.tsv",
        model=videos_classifier_model(),
    output:
        records="results/videos/filter/{shard}.jsonl",
        ledger="results/ledger/videos_filter/{shard}.jsonl",
        # youtube: the low-resolution downloads the filter decides on (demo, local: empty); the kept videos are
        # downloaded again at full resolution into media, so these go when the job is done
        lowres=temp(directory("results/videos/lowres/{shard}")),
        media=directory("results/videos/full/{shard}"),
        media_ledger="results/ledger/videos_full/{shard}.jsonl",
    params:
        kind=cfg("videos/source/kind"),
        keyframes=cfg("videos/keyframes"),
        thresholds=cfg("videos/thresholds"),
        duration=cfg("videos/duration"),
        max_subscribers=cfg("videos/max_subscribers"),
        speech=cfg("videos/speech"),
        narrative=cfg("videos/narrative"),
        classify_threshold=cfg("videos/classifier/threshold"),
        keep_near_positive=cfg("videos/keep_near_positive"),
        download=cfg("videos/download") if is_youtube() else {},  # yt-dlp options: only youtube downloads
    log:
        "logs/videos/filter/{shard}.log",
    benchmark:
        "logs/timings/videos_filter/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=24 * 60 if is_youtube() else 12 * 60,  # youtube: + the kept videos' full-resolution downloads
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_filter.py"


rule videos_kept:
    input:
        records=per_shard("videos", "results/videos/filter/{shard}.jsonl"),
    output:
        kept="results/videos/kept.tsv",
    log:
        "logs/videos/kept.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_kept.py"


rule videos_score:
    """Demo only: decisions and key-frame recall against the demo truth."""
    input:
        records=per_shard("videos", "results/videos/filter/{shard}.jsonl"),
        ledgers=per_shard("videos", "results/ledger/videos_filter/{shard}.jsonl"),
        truth=demo_files("videos", ".truth.json"),
    output:
        score="results/videos/score.json",
    log:
        "logs/videos/score.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_score.py"
