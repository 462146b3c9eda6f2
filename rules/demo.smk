# The embedded demo corpus: narrated videos and PMC-style article packages with exact ground truth.
from mednarratives_demo.articles import article_ids
from mednarratives_demo.video import load_plan

DEMO = config["demo"]

DEMO_VIDEO_IDS = [spec["id"] for spec in load_plan(DEMO["video_plan"], DEMO["narration"])]
DEMO_ARTICLE_IDS = article_ids(DEMO["n_articles"], DEMO["seed"])


rule demo_video:
    input:
        plan=DEMO["video_plan"],
        narration=DEMO["narration"],
    output:
        video=f"{DEMO_DIR}/videos/{{video_id}}.mp4",
        truth=f"{DEMO_DIR}/videos/{{video_id}}.truth.json",
    params:
        seed=DEMO["seed"],
        fps=DEMO["video_fps"],
        size=DEMO["video_size"],
    log:
        "logs/demo/video/{video_id}.log",
    benchmark:
        "logs/benchmark/demo/video/{video_id}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../envs/demo.yaml"
    script:
        "../scripts/demo_video.py"


rule demo_article:
    output:
        package=f"{DEMO_DIR}/articles/{{article_id}}.tar.gz",
        truth=f"{DEMO_DIR}/articles/{{article_id}}.truth.json",
    params:
        seed=DEMO["seed"],
    log:
        "logs/demo/article/{article_id}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/demo.yaml"
    script:
        "../scripts/demo_article.py"


rule demo_corpus:
    input:
        videos=expand(f"{DEMO_DIR}/videos/{{video_id}}.mp4", video_id=DEMO_VIDEO_IDS),
        video_truth=expand(f"{DEMO_DIR}/videos/{{video_id}}.truth.json", video_id=DEMO_VIDEO_IDS),
        articles=expand(f"{DEMO_DIR}/articles/{{article_id}}.tar.gz", article_id=DEMO_ARTICLE_IDS),
        article_truth=expand(f"{DEMO_DIR}/articles/{{article_id}}.truth.json", article_id=DEMO_ARTICLE_IDS),
    output:
        videos=f"{DEMO_DIR}/videos.tsv",
        articles=f"{DEMO_DIR}/articles.tsv",
        summary=f"{DEMO_DIR}/corpus.json",
    log:
        "logs/demo/corpus.log",
    conda:
        "../envs/demo.yaml"
    script:
        "../scripts/demo_corpus.py"


# Built only when a source is the demo: local, YouTube and PMC runs never plan it.
if config["videos"]["source"]["kind"] == "demo" or config["articles"]["source"]["kind"] == "demo":
    ALL_TARGETS.append(rules.demo_corpus.output)
