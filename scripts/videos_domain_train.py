from mednarratives.smk import logged
from mednarratives.videos.classify import train

with logged(snakemake.log[0]) as log:
    p = snakemake.params
    metrics = train(snakemake.input.data, snakemake.output.model, snakemake.output.metrics, p.arch,
                    overrides=p.overrides, seed=p.seed, threads=snakemake.threads, log=log.info,
                    architectures={p.arch: p.preset})
    log.info("trained %s: %s", p.arch, {k: v for k, v in metrics.items() if k != "hparams"})
