# Stage models (mednarratives.models; paper 4, Table 4): GenMedCLIP variants trained with OpenCLIP on the
# dataset's training shards. (The domain classifiers and the sub-figure detector train in their stages' files.)


rule models_genmedclip:
    input:
        splits="results/dataset/splits.json",
        wds="results/dataset/wds",
    output:
        model_config="results/models/genmedclip/{variant}/model/open_clip_config.json",
        weights="results/models/genmedclip/{variant}/weights.pt",
        random_init="results/models/genmedclip/{variant}/random_init.pt",
        logs=directory("results/models/genmedclip/{variant}/logs"),  # OpenCLIP's run logs (checkpoints removed)
    params:
        variant="{variant}",
        seed=cfg("models/genmedclip/seed"),
        settings=genmedclip_settings,
    log:
        "logs/models/genmedclip/{variant}.log",
    benchmark:
        "logs/timings/models_genmedclip/{variant}.tsv"
    # Table 4: 4 GPUs x 256, bf16 (set models.genmedclip.gpus and settings.device: cuda); CPU: one thread
    threads: 8 if cfg("models/genmedclip/gpus") else 1
    resources:
        mem_mb=64000,
        runtime=72 * 60,
        gpu=cfg("models/genmedclip/gpus"),
    conda:
        "../envs/models.yaml"
    script:
        "../scripts/models_genmedclip.py"
