# Stage rules: see docs/data_contract.md
# Video acquisition and filtering (paper 3.2.1-3.2.2, appendix 7.1-7.3): manifest shards (checkpoint) ->
# per-shard filter (duration, speech, key-frames + domain classifiers, Table 3 thresholds, narrative check)
# -> per shard, the media of its kept videos (youtube: full-resolution download; demo, local: a symlink), which
# the per-shard speech/frames stages read; kept.tsv lists every kept video.
VID = config["videos"]
VID_CLF = VID["classifier"]
VID_CLF_MODEL = VID_CLF["model"] or f"results/models/domain/{VID_CLF['arch']}/model.pt"
VID_CLF_DATA = VID_CLF["data"] or "results/videos/domain_data"
# yt-dlp options: only the youtube source downloads.
YOUTUBE_DOWNLOAD = VID["download"] if VIDEO_SOURCE["kind"] == "youtube" else {}


# The manifest's input: the demo index, the local folder / manifest, or the YouTube keyword file.
if VIDEO_SOURCE["kind"] == "demo":
    VIDEOS_SOURCE_INPUT = [f"{DEMO_DIR}/videos.tsv"]
elif VIDEO_SOURCE["kind"] == "local":
    VIDEOS_SOURCE_INPUT = [VIDEO_SOURCE["path"]]
else:
    VIDEOS_SOURCE_INPUT = [VID["youtube"]["keywords"]]


# An input function: `pattern` expanded over the video shards. The per-video stages run per shard on the videos
# the shard's filter kept, so the DAG is planned right after the manifest checkpoint, a few jobs per shard.
VIDEO_SHARDS = lambda: manifest_shards(checkpoints.videos_manifest)
PER_VIDEO_SHARD = lambda pattern: lambda wildcards: expand(pattern, shard=VIDEO_SHARDS())


checkpoint videos_manifest:
    input:
        VIDEOS_SOURCE_INPUT,
    output:
        manifest=directory("results/videos/manifest"),
        ledger="results/ledger/videos_manifest/all.jsonl",
    params:
        kind=VIDEO_SOURCE["kind"],
        path=lambda wc, input: input[0] if VIDEO_SOURCE["kind"] in ("demo", "local") else "",
        domain_hint=VIDEO_SOURCE.get("domain_hint", ""),
        youtube=VID["youtube"] if VIDEO_SOURCE["kind"] == "youtube" else {},
        shard_size=VID["shard_size"],
    log:
        "logs/videos/manifest.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=24 * 60 if VIDEO_SOURCE["kind"] == "youtube" else 10,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_manifest.py"


rule videos_domain_data:
    output:
        data=directory("results/videos/domain_data"),
    params:
        seed=VID_CLF["seed"],
        per_class=VID_CLF["demo_per_class"],
        demo_data=VID_CLF["demo_data"],
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
        data=VID_CLF_DATA,
    output:
        model="results/models/domain/{arch}/model.pt",
        metrics="results/models/domain/{arch}/metrics.json",
    params:
        arch=lambda wc: wc.arch,
        preset=lambda wc: VID_CLF["architectures"].get(wc.arch, {}),
        seed=VID_CLF["seed"],
        overrides={k: VID_CLF[k] for k in ("epochs", "img_size", "device") if VID_CLF.get(k)},
    log:
        "logs/videos/domain_train_{arch}.log",
    benchmark:
        "logs/benchmark/videos/domain_train_{arch}.tsv"
    # CPU (demo): one thread; torch's extra threads spin against other jobs on a shared machine (10x slower)
    threads: 1 if VID_CLF["device"] == "cpu" else 8
    resources:
        mem_mb=16000,
        runtime=12 * 60,
        gpu=0 if VID_CLF["device"] == "cpu" else 1,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_domain_train.py"


rule videos_filter:
    input:
        manifest="results/videos/manifest/{shard}.tsv",
        model=VID_CLF_MODEL,
    output:
        records="results/videos/filter/{shard}.jsonl",
        ledger="results/ledger/videos_filter/{shard}.jsonl",
    params:
        kind=VIDEO_SOURCE["kind"],
        keyframes=VID["keyframes"],
        thresholds=VID["thresholds"],
        duration=VID["duration"],
        max_subscribers=VID["max_subscribers"],
        speech=VID["speech"],
        narrative=VID["narrative"],
        classify_threshold=VID_CLF["threshold"],
        keep_near_positive=VID["keep_near_positive"],
        lowres_dir="results/videos/lowres",
        download=YOUTUBE_DOWNLOAD,
    log:
        "logs/videos/filter/{shard}.log",
    benchmark:
        "logs/benchmark/videos/filter/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=12 * 60,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_filter.py"


rule videos_kept:
    input:
        records=PER_VIDEO_SHARD("results/videos/filter/{shard}.jsonl"),
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


rule videos_full:
    input:
        records="results/videos/filter/{shard}.jsonl",
        manifest="results/videos/manifest/{shard}.tsv",
    output:
        media=directory("results/videos/full/{shard}"),
        ledger="results/ledger/videos_full/{shard}.jsonl",
    params:
        kind=VIDEO_SOURCE["kind"],
        download=YOUTUBE_DOWNLOAD,
    log:
        "logs/videos/full/{shard}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=12 * 60 if VIDEO_SOURCE["kind"] == "youtube" else 10,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/videos_full.py"


rule videos_score:
    """Demo only: decisions and key-frame recall against the demo truth."""
    input:
        records=PER_VIDEO_SHARD("results/videos/filter/{shard}.jsonl"),
        ledgers=PER_VIDEO_SHARD("results/ledger/videos_filter/{shard}.jsonl"),
        truth=expand(f"{DEMO_DIR}/videos/{{video_id}}.truth.json", video_id=DEMO_VIDEO_IDS),
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


ALL_TARGETS.append("results/videos/kept.tsv")
if VIDEO_SOURCE["kind"] == "demo":
    ALL_TARGETS.append("results/videos/score.json")
