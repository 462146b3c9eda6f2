# Stage align (mednarratives.align; paper 3.3): frames + text + speech -> trace segments and pointing boxes
# (mednarratives.traces) -> narrative samples; one job per video shard. Records: docs/data_contract.md.


# Traces and samples in one job per shard (two jobs were one more per shard to plan: the DAG of the paper's scale
# has ~370 video shards): both take seconds per shard, so a changed traces or align key redoes both.
rule align_video:
    input:
        frames="results/frames/{shard}.jsonl",
        points="results/frames/{shard}.points.jsonl",
        text="results/text/{shard}.jsonl",  # utterance times (per-utterance boxes), text of the samples
        speech="results/speech/{shard}.jsonl",
        records="results/videos/filter/{shard}.jsonl",  # the video's domain (scene chunks without a classified domain)
    output:
        traces="results/traces/{shard}.jsonl",
        samples="results/narratives/{shard}.jsonl",
        ledger="results/ledger/align/{shard}.jsonl",
    params:
        traces=pick("traces", "max_gap_s", "max_jump_px", "cluster_eps_px", "min_utterance_points"),
        align=cfg("align"),
    log:
        "logs/align/{shard}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/align_video.py"
