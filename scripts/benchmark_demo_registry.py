from mednarratives.benchmark.tables import build_demo_registry
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    build_demo_registry(snakemake.input.sidecar, snakemake.params.out_dir)
