# Ledger check and funnel (issue: nothing is lost): every unit a stage keeps reaches the stages it feeds, every
# unit comes from a kept unit upstream, no unit is counted twice; per-stage funnel like the paper's 738K -> 74K.

# Each ledger stage and the stage(s) that feed it (see mednarratives.ledger.check).
LEDGER_FLOW = {
    "videos_manifest": None,
    "videos_filter": "videos_manifest",
    "videos_full": "videos_filter",
    "speech": "videos_full",
    "text": "speech",
    "frames": "videos_full",
    "align": "frames",
    "articles_manifest": None,
    "articles_parse": "articles_manifest",
    "articles_filter": "articles_parse",
    "articles_subfigures": "articles_filter",
    "articles_pairs": "articles_subfigures",
    "dataset_assemble": ["align", "articles_pairs"],
}
LEDGER_PER_VIDEO_SHARD = ["videos_filter", "videos_full", "speech", "text", "frames", "align"]
LEDGER_PER_ARTICLE_SHARD = ["articles_parse", "articles_filter", "articles_subfigures", "articles_pairs"]

ledger_files = lambda wildcards: (
    [f"results/ledger/{stage}/all.jsonl" for stage in ("videos_manifest", "articles_manifest", "dataset_assemble")]
    + expand("results/ledger/{stage}/{shard}.jsonl", stage=LEDGER_PER_VIDEO_SHARD, shard=VIDEO_SHARDS())
    + expand("results/ledger/{stage}/{shard}.jsonl", stage=LEDGER_PER_ARTICLE_SHARD, shard=ARTICLE_SHARDS())
)


rule ledger_check:
    input:
        ledger_files,
    output:
        funnel=report("results/ledger/funnel.tsv", category="Ledger", caption="../docs/report/funnel.rst"),
    params:
        flow=LEDGER_FLOW,
    log:
        "logs/ledger/check.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/videos.yaml"
    script:
        "../scripts/ledger_check.py"


ALL_TARGETS.append("results/ledger/funnel.tsv")
