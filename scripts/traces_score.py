"""Score the demo videos' traces against their truth: one row per video, and the bar."""
import json

from mednarratives.io import atomic_path, read_json, read_jsonl, write_json
from mednarratives.smk import logged
from mednarratives.traces.evaluate import BAR, score_video

with logged(snakemake.log[0]) as log:
    truths = {t["video_id"]: t for t in map(read_json, snakemake.input.truth)}
    scores = {rec["video_id"]: score_video(rec, truths[rec["video_id"]], snakemake.params.edge_s)
              for path in snakemake.input.traces for rec in read_jsonl(path)}
    cols = ["median_error_px", "within_10px", "recall", "mean_box_iou", "min_box_iou", "points_on_webcam"]
    lines = ["video_id\t" + "\t".join(cols) + "\tpasses"]
    for vid, s in sorted(scores.items()):
        vals = ["" if s[c] is None else (f"{s[c]:.3f}" if isinstance(s[c], float) else str(s[c])) for c in cols]
        lines.append(vid + "\t" + "\t".join(vals) + "\t" + ("yes" if all(v is not False for v in s["passes"].values()) else "NO"))
    table = "\n".join(lines)
    print(table)
    log.info("bar: %s", json.dumps(BAR))
    write_json(snakemake.output.json, {"bar": BAR, "edge_s": snakemake.params.edge_s, "videos": scores})
    with atomic_path(snakemake.output.tsv) as tmp:
        tmp.write_text(table + "\n", encoding="utf-8")
