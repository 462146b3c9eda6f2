import os

from mednarratives.io import atomic_path, read_jsonl
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    with atomic_path(snakemake.output.index) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write("shard\tpath\tsamples\n")
        for path in sorted(snakemake.input.pairs):
            shard = os.path.basename(path).rsplit(".", 1)[0]
            fh.write(f"{shard}\t{path}\t{len(read_jsonl(path))}\n")
