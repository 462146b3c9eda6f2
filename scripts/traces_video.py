from mednarratives.smk import logged
from mednarratives.traces.stage import TracesParams, run_shard

with logged(snakemake.log[0]) as log:
    p = snakemake.params.traces
    params = TracesParams(max_gap_s=p["max_gap_s"], max_jump_px=p["max_jump_px"], cluster_eps_px=p["cluster_eps_px"],
                          min_utterance_points=p["min_utterance_points"])
    records = run_shard(snakemake.input.frames, snakemake.input.points, snakemake.input.text, snakemake.output.traces,
                        params)
    log.info("%d videos, %d chunks", len(records), sum(len(r["chunks"]) for r in records))
