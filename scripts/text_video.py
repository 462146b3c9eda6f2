from mednarratives.smk import logged
from mednarratives.text.stage import run

with logged(snakemake.log[0]):
    run(snakemake.wildcards.video_id, snakemake.input.speech, snakemake.output.record, snakemake.output.ledger,
        snakemake.params.text)
