# Stage align (mednarratives.align; paper 3.3): frames + traces + text + speech -> narrative samples; one job per
# video shard. Records: docs/data_contract.md.


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
        align=cfg("align"),
    log:
        "logs/align/{shard}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/align_video.py"
