# Shared settings for all rule files.

import glob
import os


# Ids reach file names and command lines: keep them to a safe alphabet.
wildcard_constraints:
    video_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    article_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    shard=r"s\d{5}",


DEMO_DIR = config["demo"]["dir"]

# Rule params are a rerun trigger (Snakemake's default): each rule's params hold exactly the config keys its
# results depend on. Keys that only say where caches live or how to reach a server stay out (the scripts read
# them from snakemake.config), so changing them reruns nothing.
pick = lambda section, *keys: {k: section[k] for k in keys}
VIDEO_SOURCE = config["videos"]["source"]

# The shard names (s00000, ...) a manifest checkpoint wrote: every video and article stage runs once per shard.
manifest_shards = lambda checkpoint: sorted(
    glob_wildcards(os.path.join(checkpoint.get().output.manifest, "{name}.tsv")).name
)
