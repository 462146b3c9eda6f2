# Shared settings for all rule files.

# Ids reach file names and command lines: keep them to a safe alphabet.
wildcard_constraints:
    video_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    article_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",

DEMO_DIR = config["demo"]["dir"]
VIDEO_SOURCE = config["videos"]["source"]

