from mednarratives.smk import logged
from mednarratives.videos.manifest import collect, write_manifest

with logged(snakemake.log[0]) as log:
    p = snakemake.params
    cands, rows = collect(p.kind, p.path, p.domain_hint, p.youtube)
    paths = write_manifest(cands, rows, snakemake.output.manifest, snakemake.output.ledger, p.shard_size)
    log.info("%d candidates in %d shards", len(cands), len(paths))
