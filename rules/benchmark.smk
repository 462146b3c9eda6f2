# Stage benchmark (mednarratives.benchmark; paper 4, 10, Tables 1, 2, 7, Figure 3): the trained variants and
# baselines on the evaluation registries and the held-out shards. See docs/benchmark.md.


rule benchmark_demo_registry:
    input:
        sidecar="results/dataset/localized_narratives.sidecar.jsonl",
    output:
        registry="results/benchmark/demo_registry/registry.yaml",
        images=directory("results/benchmark/demo_registry/demo_domains"),  # the registry's ImageFolder
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
        splits="results/dataset/splits.json",
        model_configs=genmedclip_files("open_clip_config.json"),
        weights=genmedclip_files("weights.pt"),
        random_inits=genmedclip_files("random_init.pt"),
        registries=benchmark_registries(),
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
        merged_registry="results/benchmark/registry.merged.yaml",
    params:
        variants=cfg("models/genmedclip/variants"),
        baselines=cfg("benchmark/baselines"),
        data_root=cfg("benchmark/data_root"),
        require_all=cfg("benchmark/require_all"),
        ks=cfg("benchmark/retrieval_ks"),
        seed=cfg("benchmark/seed"),
        retrieval_limit=cfg("benchmark/retrieval_limit"),
        device=cfg("benchmark/device"),
    log:
        "logs/benchmark/tables.log",
    benchmark:
        "logs/timings/benchmark_tables/all.tsv"
    threads: 1
    resources:
        mem_mb=32000,
        runtime=12 * 60,
        gpu=cfg("models/genmedclip/gpus"),
    conda:
        "../envs/models.yaml"
    script:
        "../scripts/benchmark_tables.py"
