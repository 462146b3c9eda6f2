from mednarratives.articles.pipeline import list_source, write_manifest
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    p = snakemake.params
    if p.kind == "demo":  # the demo packages are the inputs, in the demo corpus's id order
        entries = list(zip(p.demo_ids, snakemake.input, strict=True))
    else:
        entries = list_source(p.kind, p.path)
    shards = write_manifest(entries, snakemake.output.manifest, p.shard_size, snakemake.output.ledger, kind=p.kind)
    log.info("%d articles in %d shards", len(entries), len(shards))
