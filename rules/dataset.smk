# Stage dataset (mednarratives.dataset; paper 3.4): video narratives + article pairs -> splits, WebDataset
# shards, Localized Narratives, the samples table, Tables 8-9 and the gallery. See docs/data_contract.md.


rule dataset_assemble:
    input:
        videos=per_shard("videos", "results/narratives/{shard}.jsonl"),
        articles=per_shard("articles", "results/articles/pairs/{shard}.jsonl"),
    output:
        splits="results/dataset/splits.json",
        wds=directory("results/dataset/wds"),  # {train,heldout}-NNNNNN.tar + sizes.json
        ln="results/dataset/localized_narratives.jsonl",
        sidecar="results/dataset/localized_narratives.sidecar.jsonl",
        table="results/dataset/samples.parquet",
        table8=report("results/dataset/table8.csv", category="Dataset", caption="../docs/report/table8.rst"),
        table9=report("results/dataset/table9.csv", category="Dataset", caption="../docs/report/table9.rst"),
        characterization="results/dataset/characterization.csv",
        ledger="results/ledger/dataset_assemble/all.jsonl",
    params:
        heldout_fraction=cfg("dataset/heldout_fraction"),
        seed=cfg("dataset/seed"),
        max_hamming=cfg("dataset/phash_max_hamming"),
        shard_size=cfg("dataset/shard_size"),
        min_heldout_groups=cfg("dataset/min_heldout_groups"),
        dataset_id=cfg("dataset/dataset_id"),
    log:
        "logs/dataset/assemble.log",
    benchmark:
        "logs/timings/dataset_assemble/all.tsv"
    threads: 1
    # one pass over all samples (pHash + JPEG shards); real runs: hours, memory ~ number of hashes
    resources:
        mem_mb=32000,
        runtime=24 * 60,
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
        n=cfg("dataset/gallery_size"),
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
