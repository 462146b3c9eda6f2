from mednarratives.smk import logged
from mednarratives.speech.score import score

with logged(snakemake.log[0]):
    rec = score(list(snakemake.input.speech), list(snakemake.input.truth), snakemake.output.json,
                snakemake.output.tsv, snakemake.params.tolerance)
    print(open(snakemake.output.tsv).read())
    print(rec["total"])
