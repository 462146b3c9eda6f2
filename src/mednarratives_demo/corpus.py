"""Index of the demo corpus: source manifests (the format of a local source) and a summary of the truth."""

from __future__ import annotations

import collections
import csv
import os
from pathlib import Path
from typing import Sequence

from mednarratives.io import atomic_path, read_json, write_json

VIDEO_MANIFEST_FIELDS = ("video_id", "path", "title", "channel", "domain_hint")
ARTICLE_MANIFEST_FIELDS = ("article_id", "path")


def write_tsv(path: str | os.PathLike, fields: Sequence[str], rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _relative(path: str, start: Path) -> str:
    return os.path.relpath(path, start)


def write_index(video_paths: Sequence[str], video_truths: Sequence[str], article_paths: Sequence[str],
                article_truths: Sequence[str], out_videos: str, out_articles: str, out_summary: str) -> None:
    """Manifests list media only (no truth), with paths relative to the manifest, so the folder can move."""
    root = Path(out_videos).parent
    videos = [read_json(p) for p in video_truths]
    articles = [read_json(p) for p in article_truths]
    write_tsv(out_videos, VIDEO_MANIFEST_FIELDS, [
        {"video_id": t["video_id"], "path": _relative(p, root), "title": t["title"],
         "channel": t["channel"], "domain_hint": t["query_domain"]}
        for p, t in zip(video_paths, videos)
    ])
    write_tsv(out_articles, ARTICLE_MANIFEST_FIELDS, [
        {"article_id": t["article_id"], "path": _relative(p, root)} for p, t in zip(article_paths, articles)
    ])
    figures = [f for a in articles for f in a["figures"]]
    panels = [p for f in figures for p in f["panels"]]
    write_json(out_summary, {
        "videos": {
            "total": len(videos),
            "by_kind": dict(sorted(collections.Counter(v["kind"] for v in videos).items())),
            "positive_by_domain": dict(sorted(collections.Counter(
                v["domain"] for v in videos if v["kind"] == "positive").items())),
            "duration_s": round(sum(v["duration"] for v in videos), 3),
            "utterances": sum(len(v["speech"]) for v in videos),
            "words": sum(len(u["words"]) for v in videos for u in v["speech"]),
            "scene_cuts": sum(len(v["scene_cuts"]) for v in videos),
            "pointing_events": sum(len(v["pointing"]) for v in videos),
        },
        "articles": {
            "total": len(articles),
            "figures": len(figures),
            "medical_figures": sum(f["medical"] for f in figures),
            "panels": len(panels),
            "panels_by_count": dict(sorted(collections.Counter(str(len(f["panels"])) for f in figures).items())),
            "caption_label_styles": dict(sorted(collections.Counter(f["caption_label_style"] for f in figures).items())),
            "drawn_labels": sum(p["label_drawn"] for p in panels),
            "citations": sum(len(a["citations"]) for a in articles),
        },
    })
