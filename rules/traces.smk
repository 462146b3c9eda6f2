# Stage traces (mednarratives.traces; paper 3.3): the frames' raw cursor points -> trace segments and
# per-utterance pointing boxes, made per video shard by align_video (rules/align.smk) before the samples that
# use them. Records: docs/data_contract.md.


rule traces_score:
    # Demo only: trace error, share within 10 px, pointing-box IoU, webcam points, per video (prints the table);
    # and the frames stage's per-frame track (reported, no bar).
    input:
        traces=per_shard("videos", "results/traces/{shard}.jsonl"),
        points=per_shard("videos", "results/frames/{shard}.points.jsonl"),
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
