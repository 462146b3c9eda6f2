# Stage rules: see docs/data_contract.md
# PubMed Central articles (paper 3.2, appendix 8): manifest in shards (checkpoint) -> parse -> medical filter
# -> sub-figures (YOLO, crops x4, label OCR) -> pairs (samples); sub-figure detector training; demo scoring.
ART = config["articles"]
ART_SOURCE = ART["source"]
SUBFIG = ART["subfigures"]
SUBFIG_TRAIN = SUBFIG["train"]
SUBFIG_WEIGHTS = SUBFIG["weights"] or "results/models/subfigure_yolo/weights.pt"
ART_CLASSIFIER = ART["filter"]["classifier"]


# The manifest's input: the demo packages, or the local folder / PMC id list named in the config.
ARTICLES_SOURCE_INPUT = (
    expand(f"{DEMO_DIR}/articles/{{article_id}}.tar.gz", article_id=DEMO_ARTICLE_IDS)
    if ART_SOURCE["kind"] == "demo"
    else [ART_SOURCE["path"]]
)
# An input function: `pattern` expanded over the article shards (inputs of the aggregating rules).
ARTICLE_SHARDS = lambda: manifest_shards(checkpoints.articles_manifest)
PER_ARTICLE_SHARD = lambda pattern: lambda wildcards: expand(pattern, shard=ARTICLE_SHARDS())


checkpoint articles_manifest:
    input:
        ARTICLES_SOURCE_INPUT,
    output:
        manifest=directory("results/articles/manifest"),
        ledger="results/ledger/articles_manifest/all.jsonl",
    params:
        kind=ART_SOURCE["kind"],
        path=ART_SOURCE["path"],
        demo_ids=DEMO_ARTICLE_IDS if ART_SOURCE["kind"] == "demo" else [],
        shard_size=ART["shard_size"],
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
        kind=ART_SOURCE["kind"],
        base_url=ART_SOURCE["base_url"] if ART_SOURCE["kind"] == "pmc" else "",  # only pmc downloads
        media=ART_SOURCE["media"] if ART_SOURCE["kind"] == "pmc" else "",
        max_xml_bytes=ART["max_xml_bytes"],
    log:
        "logs/articles/parse/{shard}.log",
    benchmark:
        "logs/benchmark/articles/parse/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_parse.py"


rule articles_filter:
    input:
        parsed="results/articles/parsed/{shard}.jsonl",
        keywords=ART["filter"]["keywords"],
        classifier=[ART_CLASSIFIER] if ART_CLASSIFIER else [],
    output:
        filtered="results/articles/filter/{shard}.jsonl",
        ledger="results/ledger/articles_filter/{shard}.jsonl",
    params:
        classifier=ART_CLASSIFIER,
        loader=ART["filter"]["classifier_loader"],
        threshold=ART["filter"]["threshold"],
    log:
        "logs/articles/filter/{shard}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_filter.py"


rule articles_subfigure_data:
    input:
        annotations=SUBFIG_TRAIN["annotations"],
    output:
        data=directory("results/models/subfigure_yolo/data"),
    params:
        source=SUBFIG_TRAIN["source"],
        n_figures=SUBFIG_TRAIN["n_figures"],
        seed=SUBFIG_TRAIN["seed"],
        val_fraction=SUBFIG_TRAIN["val_fraction"],
    log:
        "logs/articles/subfigure_data.log",
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
    params:
        architecture=SUBFIG_TRAIN["architecture"],
        epochs=SUBFIG_TRAIN["epochs"],
        imgsz=SUBFIG_TRAIN["imgsz"],
        batch=SUBFIG_TRAIN["batch"],
        close_mosaic=SUBFIG_TRAIN["close_mosaic"],
        mosaic=SUBFIG_TRAIN["mosaic"],
        patience=SUBFIG_TRAIN["patience"],
        workers=SUBFIG_TRAIN["workers"],
        seed=SUBFIG_TRAIN["seed"],
        device=SUBFIG_TRAIN["device"],
        work="results/models/subfigure_yolo/work",
    log:
        "logs/articles/subfigure_train.log",
    benchmark:
        "logs/benchmark/articles/subfigure_train.tsv"
    threads: 2
    resources:
        mem_mb=6000,
        runtime=120,
        gpu=0 if SUBFIG_TRAIN["device"] == "cpu" else 1,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_subfigure_train.py"


rule articles_subfigures:
    input:
        parsed="results/articles/parsed/{shard}.jsonl",
        filtered="results/articles/filter/{shard}.jsonl",
        weights=SUBFIG_WEIGHTS,
    output:
        subfigures="results/articles/subfigures/{shard}.jsonl",
        crops=directory("results/articles/subfigures/{shard}"),
        ledger="results/ledger/articles_subfigures/{shard}.jsonl",
    params:
        imgsz=SUBFIG["imgsz"],
        conf=SUBFIG["conf"],
        iou=SUBFIG["iou"],
        crop_scale=SUBFIG["crop_scale"],
        refine=SUBFIG["refine"],
        ocr=ART["pairing"]["ocr"],
    log:
        "logs/articles/subfigures/{shard}.log",
    benchmark:
        "logs/benchmark/articles/subfigures/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/articles.yaml"
    script:
        "../scripts/articles_subfigures.py"


rule articles_pairs:
    input:
        parsed="results/articles/parsed/{shard}.jsonl",
        filtered="results/articles/filter/{shard}.jsonl",
        subfigures="results/articles/subfigures/{shard}.jsonl",
        weights=SUBFIG_WEIGHTS,
        keywords=ART["filter"]["keywords"],
    output:
        pairs="results/articles/pairs/{shard}.jsonl",
        ledger="results/ledger/articles_pairs/{shard}.jsonl",
    params:
        thresholds=ART["pairing"]["thresholds"],
        reading_order=ART["pairing"]["reading_order"],
        prior=ART["pairing"]["prior"],
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
        pairs=PER_ARTICLE_SHARD("results/articles/pairs/{shard}.jsonl"),
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
    input:
        truth=expand(f"{DEMO_DIR}/articles/{{article_id}}.truth.json", article_id=DEMO_ARTICLE_IDS),
        parsed=PER_ARTICLE_SHARD("results/articles/parsed/{shard}.jsonl"),
        filtered=PER_ARTICLE_SHARD("results/articles/filter/{shard}.jsonl"),
        subfigures=PER_ARTICLE_SHARD("results/articles/subfigures/{shard}.jsonl"),
        pairs=PER_ARTICLE_SHARD("results/articles/pairs/{shard}.jsonl"),
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


ALL_TARGETS.append("results/articles/pairs.tsv")
if ART_SOURCE["kind"] == "demo":
    ALL_TARGETS.append("results/articles/score.json")
    ALL_TARGETS.append("results/articles/caption_devset_score.json")  # real captions, beside the demo score


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
