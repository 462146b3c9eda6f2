# Frames, traces and alignment (paper 3.2.4-3.3): one decode pass per video -> chunks + images + raw cursor
# points; traces -> segments and boxes; align -> narrative samples. Records: docs/data_contract.md.
FRAMES = config["frames"]
TRACES = config["traces"]
ALIGN = config["align"]

# Scene chunks from the filter's key-frames (keyframes_from: filter) need the filter records: kept.tsv depends on them.
FRAMES_KEYFRAME_INPUT = {"kept": "results/videos/kept.tsv"} if FRAMES["keyframes_from"] == "filter" else {}


rule frames_video:
    input:
        video=lambda w: video_media(w.video_id),
        **FRAMES_KEYFRAME_INPUT,
    output:
        record="results/frames/{video_id}.json",
        images=directory("results/frames/{video_id}"),
        points="results/frames/{video_id}.points.json",
        ledger="results/ledger/frames/{video_id}.jsonl",
    params:
        frames=FRAMES,
        traces=TRACES,
        filter_glob=FRAMES["filter_glob"],
    log:
        "logs/frames/{video_id}.log",
    benchmark:
        "logs/benchmark/frames/{video_id}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/frames_video.py"


rule traces_video:
    input:
        frames="results/frames/{video_id}.json",
        points="results/frames/{video_id}.points.json",
        text="results/text/{video_id}.json",  # utterance times: per-utterance boxes
    output:
        traces="results/traces/{video_id}.json",
    params:
        traces=TRACES,
    log:
        "logs/traces/{video_id}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/traces_video.py"


rule align_video:
    input:
        frames="results/frames/{video_id}.json",
        traces="results/traces/{video_id}.json",
        text="results/text/{video_id}.json",
        speech="results/speech/{video_id}.json",
        kept="results/videos/kept.tsv",  # the video's domain (scene chunks without a classified domain)
    output:
        samples="results/narratives/{video_id}.jsonl",
        ledger="results/ledger/align/{video_id}.jsonl",
    params:
        align=ALIGN,
    log:
        "logs/align/{video_id}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/align_video.py"


rule traces_score:
    # Demo only: trace error, share within 10 px, pointing-box IoU, webcam points, per video (prints the table).
    input:
        traces=for_kept_videos("results/traces/{video_id}.json"),
        truth=for_kept_videos(f"{DEMO_DIR}/videos/{{video_id}}.truth.json"),
    output:
        json="results/traces/score.json",
        tsv="results/traces/score.tsv",
    params:
        edge_s=TRACES["score_edge_s"],
    log:
        "logs/traces/score.log",
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/traces_score.py"


ALL_TARGETS.append(for_kept_videos("results/narratives/{video_id}.jsonl"))
ALL_TARGETS += ["results/traces/score.tsv"] if VIDEO_SOURCE["kind"] == "demo" else []
