from mednarratives.io import read_json, write_json
from mednarratives.smk import logged
from mednarratives.traces.stage import TracesParams, build_traces, utterances_of

with logged(snakemake.log[0]) as log:
    utterances = utterances_of(read_json(snakemake.input.text), None)
    p = snakemake.params.traces
    params = TracesParams(max_gap_s=p["max_gap_s"], max_jump_px=p["max_jump_px"], cluster_eps_px=p["cluster_eps_px"],
                          min_utterance_points=p["min_utterance_points"])
    record = build_traces(read_json(snakemake.input.frames), read_json(snakemake.input.points), utterances, params)
    write_json(snakemake.output.traces, record)
    log.info("%s: %d chunks, %d utterances", record["video_id"], len(record["chunks"]), len(utterances))
