from mednarratives.articles.score import score, summary_lines
from mednarratives.io import write_json
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    i = snakemake.input
    result = score(i.truth, i.parsed, i.filtered, i.subfigures, i.pairs)
    write_json(snakemake.output.score, result)
    for line in summary_lines(result):
        log.info(line)
