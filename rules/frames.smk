# Stage frames (mednarratives.frames; paper 3.2.4): one decode pass per video -> scene chunks (from the filter's
# key-frames with keyframes_from: filter) + images + raw cursor points; one job per video shard, over the videos
# its filter kept. Records: docs/data_contract.md.


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
        frames=cfg("frames"),
        traces=pick("traces", "face_detector", "face_min_prob", "cursor"),
    log:
        "logs/frames/{shard}.log",
    benchmark:
        "logs/timings/frames_video/{shard}.tsv"
    threads: 1
    # per shard: one decode pass + chunks + cursor tracking + MTCNN per video (~0.2x real time)
    resources:
        mem_mb=3000,
        runtime=8 * 60,
    conda:
        "../envs/frames.yaml"
    script:
        "../scripts/frames_video.py"
