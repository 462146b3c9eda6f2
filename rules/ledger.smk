# Ledger (mednarratives.ledger; issue: nothing is lost): every unit a stage keeps reaches the stages it feeds,
# every unit comes from a kept unit upstream, no unit is counted twice; per-stage funnel like the paper's
# 738K -> 74K. The ledger files: ledger_files in common.smk.


rule ledger_check:
    input:
        ledger_files,
    output:
        funnel=report("results/ledger/funnel.tsv", category="Ledger", caption="../docs/report/funnel.rst"),
    params:
        # each ledger stage and the stage(s) that feed it (see mednarratives.ledger.check)
        flow={
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
        },
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
