from mednarratives.articles.pipeline import parse_shard
from mednarratives.smk import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    parse_shard(snakemake.input.manifest, snakemake.output.parsed, snakemake.output.figures, snakemake.output.ledger,
                kind=p.kind, base_url=p.base_url, media=p.media, max_xml_bytes=p.max_xml_bytes,
                fetch_options=snakemake.config["articles"]["source"]["fetch"])  # no rerun trigger: not in params
