import json
from pathlib import Path

from mednarratives.benchmark.tables import run_benchmark
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    splits = json.loads(Path(snakemake.input.splits).read_text())
    run_benchmark(trained=dict(zip(p.variants, zip(snakemake.input.model_configs, snakemake.input.weights,
                                                      snakemake.input.random_inits))),
                  baselines=p.baselines, registries=list(snakemake.input.registries), merged_registry=snakemake.output.merged_registry,
                  heldout_shards=splits["shards"]["heldout"], ks=p.ks, seed=p.seed, retrieval_limit=p.retrieval_limit,
                  device=p.device, table7=snakemake.output.table7, table1=snakemake.output.table1,
                  table2=snakemake.output.table2, figure3=snakemake.output.figure3,
                  paper={"table7": snakemake.output.table7_paper, "table1": snakemake.output.table1_paper,
                         "table2": snakemake.output.table2_paper, "missing": snakemake.output.missing},
                  data_root=p.data_root or None, require_all=p.require_all)
