# Shared settings for all rule files.

# Ids reach file names and command lines: keep them to a safe alphabet.
wildcard_constraints:
    video_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    article_id=r"[A-Za-z0-9][A-Za-z0-9_.-]*",

DEMO_DIR = config["demo"]["dir"]
VIDEO_SOURCE = config["videos"]["source"]


def video_media(video_id):
    """The media file of one video, whatever its source (the per-video stages' input)."""
    if VIDEO_SOURCE["kind"] == "demo":
        return f"{DEMO_DIR}/videos/{video_id}.mp4"
    raise ValueError(f"videos.source.kind {VIDEO_SOURCE['kind']!r}: not wired yet")
