from mednarratives import ledger
from mednarratives.align.video import AlignParams, align_video
from mednarratives.io import read_json, write_jsonl
from mednarratives.smk import logged
from mednarratives.videos.decide import read_tsv

with logged(snakemake.log[0]) as log:
    vid = snakemake.wildcards.video_id
    p = snakemake.params.align
    speech = read_json(snakemake.input.speech)
    domain = next((r["domain"] for r in read_tsv(snakemake.input.kept) if r["video_id"] == vid), None)
    samples, rows = align_video(vid, read_json(snakemake.input.frames), read_json(snakemake.input.traces),
                                read_json(snakemake.input.text), speech, domain,
                                AlignParams(lead_s=p["lead_s"], lag_s=p["lag_s"], min_overlap=p["min_overlap"]))
    write_jsonl(snakemake.output.samples, samples)
    ledger.write(snakemake.output.ledger, rows)
    log.info("%s: %d samples", vid, len(samples))
