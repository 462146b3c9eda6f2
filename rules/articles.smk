# Stage articles (mednarratives.articles; paper 3.2, appendix 8): PubMed Central articles -> manifest in shards
# (checkpoint) -> parse -> medical filter + sub-figures (YOLO, crops x4, label OCR) -> pairs (samples);
# sub-figure detector training; demo and caption dev-set scoring. Records: docs/data_contract.md.
import glob


checkpoint articles_manifest:
    input:
        articles_source(),
    output:
        manifest=directory("results/articles/manifest"),
        ledger="results/ledger/articles_manifest/all.jsonl",
    params:
        kind=cfg("articles/source/kind"),
        path=cfg("articles/source/path"),
        demo_ids=demo_article_ids() if is_demo("articles") else [],
        shard_size=cfg("articles/shard_size"),
    log:
        "logs/articles/manifest.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_manifest.py"


rule articles_parse:
    input:
        manifest="results/articles/manifest/{shard}.tsv",
    output:
        parsed="results/articles/parsed/{shard}.jsonl",
        figures=directory("results/articles/figures/{shard}"),
        ledger="results/ledger/articles_parse/{shard}.jsonl",
    params:
        kind=cfg("articles/source/kind"),
        base_url=articles_pmc("base_url"),  # only pmc downloads
        media=articles_pmc("media"),
        max_xml_bytes=cfg("articles/max_xml_bytes"),
    log:
        "logs/articles/parse/{shard}.log",
    benchmark:
        "logs/timings/articles_parse/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_parse.py"


rule articles_subfigure_data:
    input:
        annotations=cfg("articles/subfigures/train/annotations"),
    output:
        data=directory("results/models/subfigure_yolo/data"),
    params:
        **pick("articles/subfigures/train", "source", "n_figures", "seed", "realistic_share", "val_fraction"),
    log:
        "logs/articles/subfigure_data.log",
    priority: 10  # the demo's longest chain starts here (see articles_subfigure_train)
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_subfigure_data.py"


rule articles_subfigure_train:
    input:
        data="results/models/subfigure_yolo/data",
    output:
        weights="results/models/subfigure_yolo/weights.pt",
        metrics="results/models/subfigure_yolo/metrics.json",
        work=directory("results/models/subfigure_yolo/work"),  # the ultralytics run: per-epoch results, args
    params:
        **pick("articles/subfigures/train", "architecture", "epochs", "imgsz", "batch", "close_mosaic", "mosaic",
               "patience", "workers", "seed", "device"),
    log:
        "logs/articles/subfigure_train.log",
    benchmark:
        "logs/timings/articles_subfigure_train/all.tsv"
    # The longest chain of the demo run (training -> sub-figures -> pairs -> dataset -> GenMedCLIP): it starts first
    # and trains beside the video stages. On CPU it keeps one core busy whatever it is given (2 threads: 359 s CPU in
    # 392 s), and one thread gives the same weights tensor for tensor, so it asks for one core, not two.
    priority: 10
    threads: 1 if cfg("articles/subfigures/train/device") == "cpu" else 8
    resources:
        mem_mb=16000,
        runtime=4 * 60,
        gpu=0 if cfg("articles/subfigures/train/device") == "cpu" else 1,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_subfigure_train.py"


# The medical filter and the sub-figures of its figures in one job per shard (two jobs were one more per shard to
# plan: the DAG of the paper's scale has 540 article shards). A changed filter key redoes the sub-figures anyway;
# a changed sub-figure key also redoes the filter, a small share of the job (YOLO is the rest).
rule articles_subfigures:
    input:
        parsed="results/articles/parsed/{shard}.jsonl",
        keywords=cfg("articles/filter/keywords"),
        classifier=articles_classifier(),
        weights=subfigure_weights(),
    output:
        filtered="results/articles/filter/{shard}.jsonl",
        filter_ledger="results/ledger/articles_filter/{shard}.jsonl",
        subfigures="results/articles/subfigures/{shard}.jsonl",
        crops=directory("results/articles/subfigures/{shard}"),
        ledger="results/ledger/articles_subfigures/{shard}.jsonl",
    params:
        classifier=cfg("articles/filter/classifier"),
        loader=cfg("articles/filter/classifier_loader"),
        threshold=cfg("articles/filter/threshold"),
        subfigures=omit("articles/subfigures", "weights", "train"),  # weights: an input; train: its rules'
        ocr=cfg("articles/pairing/ocr"),
    log:
        "logs/articles/subfigures/{shard}.log",
    benchmark:
        "logs/timings/articles_subfigures/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=2 * 60 + 30,  # + the filter (30 min was its own job's limit)
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_subfigures.py"


rule articles_pairs:
    input:
        parsed="results/articles/parsed/{shard}.jsonl",
        filtered="results/articles/filter/{shard}.jsonl",
        subfigures="results/articles/subfigures/{shard}.jsonl",
        weights=subfigure_weights(),
        keywords=cfg("articles/filter/keywords"),
    output:
        pairs="results/articles/pairs/{shard}.jsonl",
        ledger="results/ledger/articles_pairs/{shard}.jsonl",
    params:
        thresholds=cfg("articles/pairing/thresholds"),
        reading_order=cfg("articles/pairing/reading_order"),
        prior=cfg("articles/pairing/prior"),
    log:
        "logs/articles/pairs/{shard}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_pairs.py"


rule articles_index:
    input:
        pairs=per_shard("articles", "results/articles/pairs/{shard}.jsonl"),
    output:
        index="results/articles/pairs.tsv",
    log:
        "logs/articles/index.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_index.py"


rule articles_score:
    """Demo only: parse, filter, sub-figures and pairs against the demo truth."""
    input:
        truth=demo_files("articles", ".truth.json"),
        parsed=per_shard("articles", "results/articles/parsed/{shard}.jsonl"),
        filtered=per_shard("articles", "results/articles/filter/{shard}.jsonl"),
        subfigures=per_shard("articles", "results/articles/subfigures/{shard}.jsonl"),
        pairs=per_shard("articles", "results/articles/pairs/{shard}.jsonl"),
    output:
        score="results/articles/score.json",
    log:
        "logs/articles/score.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_score.py"


rule articles_caption_devset_score:
    """Caption/citation scoring only: figures, citing-sentence counts and sub-caption splits of the real caption
    dev set (devsets/articles/captions) against its hand-checked truth."""
    input:
        truth="devsets/articles/captions/truth.json",
        xml=sorted(glob.glob("devsets/articles/captions/*.xml")),
    output:
        score="results/articles/caption_devset_score.json",
    log:
        "logs/articles/caption_devset_score.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_caption_devset.py"
