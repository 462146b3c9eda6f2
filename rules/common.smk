# Wildcard constraints, config look-ups, input functions and the final targets, shared by every rule file.
# The rule files share nothing else (no globals), so their include order does not matter.
#
# Rule params are a rerun trigger (Snakemake's default): each rule's params hold exactly the config keys its
# results depend on. Keys that only say where caches live or how to reach a server stay out (the scripts read
# them from snakemake.config), so changing them reruns nothing.
#
# Resources: each rule's `resources:` and `threads:` are the one home of mem_mb, runtime, gpu and CPU count
# (the SLURM plugin turns threads into cpus_per_task): what a job needs follows from the data and the config,
# which the rule sees. profiles/slurm only says where jobs go (partition, account), which is the cluster's.
import functools
import os


# Ids reach file names and command lines: keep them to a safe alphabet.
wildcard_constraints:
    video_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    article_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    shard=r"s\d{5}",


def cfg(dpath):
    """The config value at `dpath`, e.g. cfg("videos/source/kind"). A plain walk: Snakemake's lookup(dpath=...)
    costs ~2 ms a call (dpath's glob matching), a third of a second over the rule files' ~140 look-ups."""
    value = config
    for key in dpath.split("/"):
        try:
            value = value[key]
        except (KeyError, TypeError):
            raise LookupError(f"config has no {dpath!r} (at {key!r})") from None
    return value


def pick(dpath, *keys):
    """The config keys `keys` of the section at `dpath` (a rule's params: only what its results depend on)."""
    return {key: cfg(f"{dpath}/{key}") for key in keys}


def omit(dpath, *keys):
    """The section at `dpath` less its keys `keys` (a rule's params: the rest is what its results depend on)."""
    return {key: value for key, value in cfg(dpath).items() if key not in keys}


# ---- the demo corpus ----------------------------------------------------------------------------------------
def demo_dir():
    return cfg("demo/dir")


def is_demo(stage):
    """Whether `stage`'s source (videos | articles) is the demo corpus."""
    return cfg(f"{stage}/source/kind") == "demo"


@functools.cache
def demo_video_ids():
    from mednarratives_demo.video import load_plan

    return [spec["id"] for spec in load_plan(cfg("demo/video_plan"), cfg("demo/narration"))]


@functools.cache
def demo_article_ids():
    from mednarratives_demo.articles import article_ids

    return article_ids(cfg("demo/n_articles"), cfg("demo/seed"))


def demo_paths(stage, suffix):
    """Every demo `stage` (videos | articles) file `<id><suffix>`."""
    ids = demo_video_ids() if stage == "videos" else demo_article_ids()
    return expand(f"{demo_dir()}/{stage}/{{id}}{suffix}", id=ids)


def demo_files(stage, suffix):
    """Input function: demo_paths, listed only when a job needs them (local runs never load the demo plans)."""

    def files(wildcards):
        return demo_paths(stage, suffix)

    return files


# ---- per-shard fan-in -------------------------------------------------------------------------------------------
def manifest_shards(checkpoint):
    """The shard names (s00000, ...) a manifest checkpoint wrote: every video and article stage runs per shard."""
    return sorted(glob_wildcards(os.path.join(checkpoint.get().output.manifest, "{name}.tsv")).name)


def per_shard(stage, pattern):
    """Input function: `pattern` expanded over the shards of `stage` (videos | articles). The per-video stages run
    per shard on the videos the shard's filter kept, so the DAG is planned right after the manifest checkpoint,
    a few jobs per shard."""

    def files(wildcards):
        return expand(pattern, shard=manifest_shards(getattr(checkpoints, f"{stage}_manifest")))

    return files


# Config-derived inputs and params: plain functions called when the rule is defined (once, not per job).
# ---- videos ----------------------------------------------------------------------------------------------------
def is_youtube():
    return cfg("videos/source/kind") == "youtube"


def videos_source():
    """The video manifest's input: the demo index, the local folder / manifest, or the YouTube keyword file."""
    kind = cfg("videos/source/kind")
    if kind == "demo":
        return f"{demo_dir()}/videos.tsv"
    return cfg("videos/source/path") if kind == "local" else cfg("videos/youtube/keywords")


def videos_source_path(wildcards, input):
    """Params function (derived from the input: not a rerun trigger of its own): the demo / local source."""
    return input[0] if cfg("videos/source/kind") in ("demo", "local") else ""


def videos_classifier_data():
    return cfg("videos/classifier/data") or "results/videos/domain_data"


def videos_classifier_model():
    return cfg("videos/classifier/model") or f"results/models/domain/{cfg('videos/classifier/arch')}/model.pt"


def videos_classifier_preset(wildcards):
    """Table 5's hyper-parameters of the classifier being trained (videos.classifier.architectures)."""
    return cfg("videos/classifier/architectures").get(wildcards.arch, {})


def videos_classifier_overrides():
    return {key: cfg(f"videos/classifier/{key}") for key in ("epochs", "img_size", "device") if cfg(f"videos/classifier/{key}")}


# ---- speech, text ----------------------------------------------------------------------------------------------
def speech_params():
    # the script reads cache_dir from the config; score_tolerance_s is speech_score's
    return {key: value for key, value in cfg("speech").items() if key not in ("cache_dir", "score_tolerance_s")}


def text_params():
    return pick("text", "backend", "vocabulary", "narration", *(["llm"] if cfg("text/backend") == "llm" else []))


# ---- articles --------------------------------------------------------------------------------------------------
def articles_source():
    """The article manifest's input: the demo packages, or the local folder / PMC id list named in the config."""
    return demo_paths("articles", ".tar.gz") if is_demo("articles") else [cfg("articles/source/path")]


def articles_pmc(key):
    """A pmc-only source key ("" for the other sources: only pmc downloads)."""
    return cfg(f"articles/source/{key}") if cfg("articles/source/kind") == "pmc" else ""


def articles_classifier():
    return [cfg("articles/filter/classifier")] if cfg("articles/filter/classifier") else []


def subfigure_weights():
    return cfg("articles/subfigures/weights") or "results/models/subfigure_yolo/weights.pt"


# ---- models, benchmark -----------------------------------------------------------------------------------------
def genmedclip_settings(wildcards):
    return dict(cfg("models/genmedclip/settings"))


def genmedclip_files(name):
    """The trained variants' `name` (open_clip_config.json, weights.pt, random_init.pt)."""
    folder = "{variant}/model" if name == "open_clip_config.json" else "{variant}"
    return expand(f"results/models/genmedclip/{folder}/{name}", variant=cfg("models/genmedclip/variants"))


def benchmark_registries():
    return (["results/benchmark/demo_registry/registry.yaml"] if cfg("benchmark/demo_registry") else []) + (
        [cfg("benchmark/registry")] if cfg("benchmark/registry") else []
    )


# ---- ledger ----------------------------------------------------------------------------------------------------
def ledger_files(wildcards):
    """Every stage's ledger: one per run (manifests, assembly) or one per shard."""
    per_video_shard = ["videos_filter", "videos_full", "speech", "text", "frames", "align"]
    per_article_shard = ["articles_parse", "articles_filter", "articles_subfigures", "articles_pairs"]
    return (
        [f"results/ledger/{stage}/all.jsonl" for stage in ("videos_manifest", "articles_manifest", "dataset_assemble")]
        + expand(
            "results/ledger/{stage}/{shard}.jsonl",
            stage=per_video_shard,
            shard=manifest_shards(checkpoints.videos_manifest),
        )
        + expand(
            "results/ledger/{stage}/{shard}.jsonl",
            stage=per_article_shard,
            shard=manifest_shards(checkpoints.articles_manifest),
        )
    )


# ---- the final targets ---------------------------------------------------------------------------------------------
def final_targets():
    """The targets of `all` (Snakefile): each stage's final results; with a demo source, also the corpus and
    the scores against its ground truth (local, YouTube and PMC runs never plan the demo)."""
    targets = [
        "results/videos/kept.tsv",
        per_shard("videos", "results/narratives/{shard}.jsonl"),
        "results/articles/pairs.tsv",
        "results/dataset/table8.csv",
        "results/dataset/table9.csv",
        "results/dataset/gallery",
        "results/benchmark/table7.csv",
        "results/benchmark/table1.csv",
        "results/benchmark/table2.csv",
        "results/benchmark/figure3.png",
        "results/benchmark/paper/table7.csv",
        "results/benchmark/paper/table1.csv",
        "results/benchmark/paper/table2.csv",
        "results/benchmark/missing.csv",
        "results/ledger/funnel.tsv",
    ]
    if is_demo("videos"):
        targets += ["results/videos/score.json", "results/speech/score.tsv", "results/traces/score.tsv"]
    if is_demo("articles"):
        targets += ["results/articles/score.json", "results/articles/caption_devset_score.json"]
    if is_demo("videos") or is_demo("articles"):
        targets += [f"{demo_dir()}/videos.tsv", f"{demo_dir()}/articles.tsv", f"{demo_dir()}/corpus.json"]
    return targets
