from mednarratives.io import write_json
from mednarratives.smk import logged
from mednarratives.videos.decide import score_demo

with logged(snakemake.log[0]) as log:
    score = score_demo(list(snakemake.input.records), list(snakemake.input.ledgers), list(snakemake.input.truth))
    write_json(snakemake.output.score, score)
    log.info("decisions %d/%d correct; keyframe recall %s", score["correct"], score["n"], score["keyframe_recall"])
