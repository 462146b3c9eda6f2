# The embedded demo corpus (mednarratives_demo): narrated videos and PMC-style article packages with exact ground
# truth. Planned only when a source is the demo (see final_targets in common.smk).


rule demo_video:
    input:
        plan=cfg("demo/video_plan"),
        narration=cfg("demo/narration"),
    output:
        video=f"{demo_dir()}/videos/{{video_id}}.mp4",
        truth=f"{demo_dir()}/videos/{{video_id}}.truth.json",
    params:
        seed=cfg("demo/seed"),
        fps=cfg("demo/video_fps"),
        size=cfg("demo/video_size"),
    log:
        "logs/demo/video/{video_id}.log",
    benchmark:
        "logs/timings/demo_video/{video_id}.tsv"
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
        package=f"{demo_dir()}/articles/{{article_id}}.tar.gz",
        truth=f"{demo_dir()}/articles/{{article_id}}.truth.json",
    params:
        seed=cfg("demo/seed"),
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
        videos=demo_files("videos", ".mp4"),
        video_truth=demo_files("videos", ".truth.json"),
        articles=demo_files("articles", ".tar.gz"),
        article_truth=demo_files("articles", ".truth.json"),
    output:
        videos=f"{demo_dir()}/videos.tsv",
        articles=f"{demo_dir()}/articles.tsv",
        summary=f"{demo_dir()}/corpus.json",
    log:
        "logs/demo/corpus.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/demo.yaml"
    script:
        "../scripts/demo_corpus.py"
