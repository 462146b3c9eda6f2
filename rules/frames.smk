# Frames, traces and alignment (paper 3.2.4-3.3): one decode pass per video -> chunks + images + raw cursor
# points; traces -> segments and boxes; align -> narrative samples. One job per manifest shard, over the videos
# its filter kept (scene chunks from the filter's key-frames with keyframes_from: filter). Records:
# docs/data_contract.md.
FRAMES = config["frames"]
TRACES = config["traces"]
ALIGN = config["align"]


rule frames_video:
    input:
        media="results/videos/full/{shard}",
        records="results/videos/filter/{shard}.jsonl",
    output:
        records="results/frames/{shard}.jsonl",
        images=directory("results/frames/{shard}"),
        points="results/frames/{shard}.points.jsonl",
        ledger="results/ledger/frames/{shard}.jsonl",
    params:
        frames=FRAMES,
        traces=pick(TRACES, "face_detector", "face_min_prob", "cursor"),
    log:
        "logs/frames/{shard}.log",
    benchmark:
        "logs/benchmark/frames/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=4 * 60,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/frames_video.py"


rule traces_video:
    input:
        frames="results/frames/{shard}.jsonl",
        points="results/frames/{shard}.points.jsonl",
        text="results/text/{shard}.jsonl",  # utterance times: per-utterance boxes
    output:
        traces="results/traces/{shard}.jsonl",
    params:
        traces=pick(TRACES, "max_gap_s", "max_jump_px", "cluster_eps_px", "min_utterance_points"),
    log:
        "logs/traces/{shard}.log",
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
        frames="results/frames/{shard}.jsonl",
        traces="results/traces/{shard}.jsonl",
        text="results/text/{shard}.jsonl",
        speech="results/speech/{shard}.jsonl",
        records="results/videos/filter/{shard}.jsonl",  # the video's domain (scene chunks without a classified domain)
    output:
        samples="results/narratives/{shard}.jsonl",
        ledger="results/ledger/align/{shard}.jsonl",
    params:
        align=ALIGN,
    log:
        "logs/align/{shard}.log",
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
        traces=PER_VIDEO_SHARD("results/traces/{shard}.jsonl"),
        truth=expand(f"{DEMO_DIR}/videos/{{video_id}}.truth.json", video_id=DEMO_VIDEO_IDS),
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


ALL_TARGETS.append(PER_VIDEO_SHARD("results/narratives/{shard}.jsonl"))
ALL_TARGETS += ["results/traces/score.tsv"] if VIDEO_SOURCE["kind"] == "demo" else []
