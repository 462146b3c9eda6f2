import json
from pathlib import Path

from mednarratives.models.genmedclip import train_variant
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    splits = json.loads(Path(snakemake.input.splits).read_text())
    train_variant(p.variant, splits["shards"]["train"], snakemake.output.model_config, snakemake.output.weights,
                  snakemake.output.random_init, snakemake.output.logs, settings=p.settings, seed=p.seed,
                  threads=snakemake.threads)
