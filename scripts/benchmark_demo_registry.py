import os

from mednarratives.benchmark.tables import build_demo_registry
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    build_demo_registry(snakemake.input.sidecar, os.path.dirname(snakemake.output.registry))
