# Frames, traces and alignment (paper 3.2.4-3.3): one decode pass per video -> chunks + images + raw cursor
# points; traces -> segments and boxes; align -> narrative samples. Records: docs/data_contract.md.
from mednarratives.frames.smk_inputs import align_inputs, frames_inputs, produced, traces_inputs

FRAMES = config["frames"]
TRACES = config["traces"]
ALIGN = config["align"]

# TODO(lead): switch to kept_video_ids (the filter checkpoint) once rules/videos.smk writes kept.tsv.
_DEMO_SPECS = load_plan(DEMO["video_plan"], DEMO["narration"])
FRAMES_VIDEO_IDS = [spec["id"] for spec in _DEMO_SPECS if spec["kind"] == "positive"]
DEMO_VIDEO_DOMAINS = {spec["id"]: spec["domain"] for spec in _DEMO_SPECS}


rule frames_video:
    input:
        unpack(lambda w: frames_inputs(video_media(w.video_id), FRAMES["keyframes_from"])),
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
        unpack(lambda w: traces_inputs(workflow.rules, w.video_id)),
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
        unpack(lambda w: align_inputs(workflow.rules, w.video_id)),
    output:
        samples="results/narratives/{video_id}.jsonl",
        ledger="results/ledger/align/{video_id}.jsonl",
    params:
        align=ALIGN,
        domain=lambda w: DEMO_VIDEO_DOMAINS.get(w.video_id),  # TODO(lead): kept.tsv's domain for real videos
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
        traces=expand("results/traces/{video_id}.json", video_id=FRAMES_VIDEO_IDS),
        truth=expand(f"{DEMO_DIR}/videos/{{video_id}}.truth.json", video_id=FRAMES_VIDEO_IDS),
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


ALL_TARGETS += expand("results/traces/{video_id}.json", video_id=FRAMES_VIDEO_IDS)
ALL_TARGETS += ["results/traces/score.tsv"] if VIDEO_SOURCE["kind"] == "demo" else []
if produced(workflow.rules, "results/text/x.json"):  # the text stage exists: narratives for every video
    ALL_TARGETS += expand("results/narratives/{video_id}.jsonl", video_id=FRAMES_VIDEO_IDS)
