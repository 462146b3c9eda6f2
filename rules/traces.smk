# Stage traces (mednarratives.traces; paper 3.3): the frames' raw cursor points -> trace segments and
# per-utterance pointing boxes; one job per video shard. Records: docs/data_contract.md.


rule traces_video:
    input:
        frames="results/frames/{shard}.jsonl",
        points="results/frames/{shard}.points.jsonl",
        text="results/text/{shard}.jsonl",  # utterance times: per-utterance boxes
    output:
        traces="results/traces/{shard}.jsonl",
    params:
        traces=pick("traces", "max_gap_s", "max_jump_px", "cluster_eps_px", "min_utterance_points"),
    log:
        "logs/traces/{shard}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/traces_video.py"


rule traces_score:
    # Demo only: trace error, share within 10 px, pointing-box IoU, webcam points, per video (prints the table).
    input:
        traces=per_shard("videos", "results/traces/{shard}.jsonl"),
        truth=demo_files("videos", ".truth.json"),
    output:
        json="results/traces/score.json",
        tsv="results/traces/score.tsv",
    params:
        edge_s=cfg("traces/score_edge_s"),
    log:
        "logs/traces/score.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/traces_score.py"
