import os

from mednarratives.articles.score import devset_summary_lines, score_caption_devset
from mednarratives.io import write_json
from mednarratives.smk import logged

with logged(snakemake.log[0]) as log:
    result = score_caption_devset(os.path.dirname(snakemake.input.truth))
    write_json(snakemake.output.score, result)
    for line in devset_summary_lines(result):
        log.info(line)
