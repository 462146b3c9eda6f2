# Dataset assembly (paper 3.4), GenMedCLIP training (paper 4, Table 4) and the benchmark tables (Tables 1, 2, 7;
# Figure 3). See docs/data_contract.md and docs/benchmark.md.
DS = config["dataset"]
MD = config["models"]["genmedclip"]
BM = config["benchmark"]


rule dataset_assemble:
    input:
        videos=PER_VIDEO_SHARD("results/narratives/{shard}.jsonl"),
        articles=PER_ARTICLE_SHARD("results/articles/pairs/{shard}.jsonl"),
    output:
        splits="results/dataset/splits.json",
        sizes="results/dataset/wds/sizes.json",
        ln="results/dataset/localized_narratives.jsonl",
        sidecar="results/dataset/localized_narratives.sidecar.jsonl",
        table="results/dataset/samples.parquet",
        table8=report("results/dataset/table8.csv", category="Dataset", caption="../docs/report/table8.rst"),
        table9=report("results/dataset/table9.csv", category="Dataset", caption="../docs/report/table9.rst"),
        characterization="results/dataset/characterization.csv",
        ledger="results/ledger/dataset_assemble/all.jsonl",
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.splits),
        heldout_fraction=DS["heldout_fraction"],
        seed=DS["seed"],
        max_hamming=DS["phash_max_hamming"],
        shard_size=DS["shard_size"],
        min_heldout_groups=DS["min_heldout_groups"],
        dataset_id=DS["dataset_id"],
    log:
        "logs/dataset/assemble.log",
    benchmark:
        "logs/benchmark/dataset_assemble.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    conda:
        "../envs/models.yaml"
    script:
        "../scripts/dataset_assemble.py"


rule dataset_gallery:
    input:
        sidecar=rules.dataset_assemble.output.sidecar,
    output:
        gallery=report(
            directory("results/dataset/gallery"),
            patterns=["{name}.png"],
            category="Dataset",
            subcategory="Gallery",
            caption="../docs/report/gallery.rst",
        ),
    params:
        n=DS["gallery_size"],
    log:
        "logs/dataset/gallery.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/models.yaml"
    script:
        "../scripts/dataset_gallery.py"


rule models_genmedclip:
    input:
        splits=rules.dataset_assemble.output.splits,
        sizes=rules.dataset_assemble.output.sizes,
    output:
        model_config="results/models/genmedclip/{variant}/model/open_clip_config.json",
        weights="results/models/genmedclip/{variant}/weights.pt",
        random_init="results/models/genmedclip/{variant}/random_init.pt",
    params:
        variant="{variant}",
        logs_dir=lambda wildcards, output: os.path.join(os.path.dirname(output.weights), "logs"),
        seed=MD["seed"],
        settings=lambda wc: dict(MD["settings"]),
    log:
        "logs/models/genmedclip/{variant}.log",
    benchmark:
        "logs/benchmark/models_genmedclip_{variant}.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=MD["gpus"],
    conda:
        "../envs/models.yaml"
    script:
        "../scripts/models_genmedclip.py"


rule benchmark_demo_registry:
    input:
        sidecar=rules.dataset_assemble.output.sidecar,
    output:
        registry="results/benchmark/demo_registry/registry.yaml",
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.registry),
    log:
        "logs/benchmark/demo_registry.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/models.yaml"
    script:
        "../scripts/benchmark_demo_registry.py"


rule benchmark_tables:
    input:
        splits=rules.dataset_assemble.output.splits,
        model_configs=expand(rules.models_genmedclip.output.model_config, variant=MD["variants"]),
        weights=expand(rules.models_genmedclip.output.weights, variant=MD["variants"]),
        random_inits=expand(rules.models_genmedclip.output.random_init, variant=MD["variants"]),
        registries=([rules.benchmark_demo_registry.output.registry] if BM["demo_registry"] else [])
        + ([BM["registry"]] if BM["registry"] else []),
    output:
        table7=report("results/benchmark/table7.csv", category="Benchmark", caption="../docs/report/table7.rst"),
        table1=report("results/benchmark/table1.csv", category="Benchmark", caption="../docs/report/table1.rst"),
        table2=report("results/benchmark/table2.csv", category="Benchmark", caption="../docs/report/table2.rst"),
        figure3=report("results/benchmark/figure3.png", category="Benchmark", caption="../docs/report/figure3.rst"),
        table7_paper=report(
            "results/benchmark/paper/table7.csv", category="Benchmark", caption="../docs/report/table7_paper.rst"
        ),
        table1_paper=report(
            "results/benchmark/paper/table1.csv", category="Benchmark", caption="../docs/report/table1_paper.rst"
        ),
        table2_paper=report(
            "results/benchmark/paper/table2.csv", category="Benchmark", caption="../docs/report/table2_paper.rst"
        ),
        missing=report("results/benchmark/missing.csv", category="Benchmark", caption="../docs/report/missing.rst"),
    params:
        variants=MD["variants"],
        baselines=BM["baselines"],
        data_root=BM["data_root"],
        require_all=BM["require_all"],
        merged_registry="results/benchmark/registry.merged.yaml",
        ks=BM["retrieval_ks"],
        seed=BM["seed"],
        retrieval_limit=BM["retrieval_limit"],
        device=BM["device"],
    log:
        "logs/benchmark/tables.log",
    benchmark:
        "logs/benchmark/benchmark_tables.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=MD["gpus"],
    conda:
        "../envs/models.yaml"
    script:
        "../scripts/benchmark_tables.py"


ALL_TARGETS += [
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
]
