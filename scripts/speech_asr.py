from mednarratives.smk import logged
from mednarratives.speech.stage import run

with logged(snakemake.log[0]):
    run(snakemake.wildcards.video_id, snakemake.input.media, snakemake.output.record, snakemake.output.ledger,
        {**snakemake.params.speech, "cpu_threads": snakemake.threads})
