# Shared settings for all rule files.

# Ids reach file names and command lines: keep them to a safe alphabet.
wildcard_constraints:
    video_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    article_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",

DEMO_DIR = config["demo"]["dir"]
VIDEO_SOURCE = config["videos"]["source"]


# The media file of one video, whatever its source (the per-video stages' input): the demo file itself; for
# local and youtube sources results/videos/full/{video_id}.mp4 (rule videos_full: a symlink to the local file, or
# the full-resolution download of a kept video). Use it with ids from kept_video_ids() (rules/videos.smk).
# (A lambda, not a def: `snakemake --lint` objects to functions next to rules.)
video_media = lambda video_id: (
    f"{DEMO_DIR}/videos/{video_id}.mp4" if VIDEO_SOURCE["kind"] == "demo" else f"results/videos/full/{video_id}.mp4"
)
