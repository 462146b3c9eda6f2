"""Score the video domain filter and the cursor tracker on the real video dev set (devsets/videos).

Domain filter: per clip, key-frames as the filter stage takes them (no query domain: "illustration"
parameters), the classifier's probabilities, the video's domain as the filter picks it (`keyframe_domain`: among
the domains at their Table 3 threshold the one with the most key-frames, else the largest share relative to its
threshold), and that share's category (positive keeps; near_positive and negative drop, as by default). The
duration and speech checks are not applied (the clips are short and most are silent): this scores the
key-frame decision alone; clips marked `domain_scored` no (they show the classifier's training images) are
left out. Bars: non-medical clips rejected >= 90%; medical clips kept with the right domain
>= 90%. Totals are printed for all clips and per origin (`public`: clips downloaded from public sources,
`recording`: screen recordings made here by devsets/videos/record.py); `narration` (labels.tsv: the
language of the speech, or none) is carried into each clip's record.

Cursor tracker: every recording with per-frame hotspot truth (devsets/videos/cursor/*.json) goes through
`trace_video` with the config's parameters and MTCNN; its per-frame track (`frames.follow`: found in stable
chunks, followed by appearance everywhere else) is mapped back to full-resolution pixels. within_10px is over
ALL labelled frames (a frame without a point is a miss), within_10px_in_chunks over the frames in stable
chunks; chunk_points counts the stable chunks' own trace points (the only points the traces stage uses, paper
3.2.4) and chunk_points_within_10px is their share within 10 px of the label; far_100px is
the share of track points more than 100 px off. Bars: within_10px >= 0.9, far_100px < 0.02. Totals are printed
for all recordings and per round (`round` in the truth file, 1 when absent; round 2 was never used for tuning).

    PYTHONPATH=src python benchmarks/score_video_devset.py --model results/models/domain/effnet_lite0/model.pt \
        [--out results/videos/devset_score.json] [--skip-domain | --skip-cursor] [--only cursor_r2_ ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def score_domain(devset: Path, model: str, config: dict) -> dict:
    from mednarratives.videos import keyframes as kfmod
    from mednarratives.videos.classify import load_classifier
    from mednarratives.videos.decide import Thresholds, categorize, keyframe_domain

    vid = config["videos"]
    clf = load_classifier(model)
    thresholds = Thresholds.from_config(vid.get("thresholds"))
    # domain_scored "no": a clip showing training images of the classifier (it scores the tracker only)
    rows = [r for r in csv.DictReader(open(devset / "labels.tsv", encoding="utf-8"), delimiter="\t")
            if r["domain_scored"] == "yes"]
    clips = []
    for r in rows:
        kf = kfmod.extract(devset / r["file"], "illustration", vid["keyframes"])
        probs = clf.predict(list(kf.images))
        domain, shares = keyframe_domain(probs, clf.domains, thresholds, vid["classifier"]["threshold"])
        category = categorize(shares[domain], thresholds.share_for(domain), thresholds.near_factor)
        kept = category == "positive" or (category == "near_positive" and vid["keep_near_positive"])
        ok = (not kept) if r["label"] == "non_medical" else (kept and domain == r["domain"])
        top = [max(p, key=p.get) for p in probs]
        clips.append({"name": r["name"], "label": r["label"], "truth_domain": r["domain"], "kept": kept,
                      "domain": domain, "share": round(shares[domain], 3), "category": category, "correct": ok,
                      "keyframes": len(probs), "top_classes": {c: top.count(c) for c in sorted(set(top))},
                      "origin": r["origin"].split(":")[0], "narration": r["narration"]})
    by_origin = {o: totals([c for c in clips if c["origin"] == o]) for o in sorted({c["origin"] for c in clips})}
    return {"clips": clips, **totals(clips), "by_origin": by_origin}


def totals(clips: list[dict]) -> dict:
    med = [c for c in clips if c["label"] == "medical"]
    non = [c for c in clips if c["label"] == "non_medical"]
    return {"n_medical": len(med), "n_non_medical": len(non),
            "medical_kept_right_domain": round(sum(c["correct"] for c in med) / max(1, len(med)), 4),
            "non_medical_rejected": round(sum(c["correct"] for c in non) / max(1, len(non)), 4)}


def score_cursor(devset: Path, config: dict, only: tuple[str, ...] = ()) -> dict:
    from mednarratives.frames.stage import params_from_config
    from mednarratives.traces.evaluate import to_video_pixels
    from mednarratives.frames.video import trace_video

    _, params, detector = params_from_config(config["frames"], config["traces"])
    out, arrays = [], []
    for path in sorted((devset / "cursor").glob("*.json")):
        if only and not any(path.stem.startswith(o) for o in only):
            continue
        truth = json.loads(path.read_text())
        res = trace_video(str(devset / truth["video"]), params, detector)
        hot = np.asarray(truth["hotspot"], float)
        found = np.flatnonzero(~np.isnan(res["track"][:len(hot), 0]))
        pts = np.asarray(to_video_pixels([[x, y, 0.0] for x, y in res["track"][found]], res["work_size"],
                                         (res["width"], res["height"])), float).reshape(-1, 3)
        frames = found
        err = np.hypot(pts[:, 0] - hot[frames, 0], pts[:, 1] - hot[frames, 1])
        best = np.full(len(hot), np.inf)
        best[frames] = err
        in_chunk = res["track_chunk"][:len(hot)] >= 0
        chunk_err = chunk_errors(res, hot)
        arrays.append((err, best, in_chunk, chunk_err))
        out.append({"name": path.stem, "round": truth.get("round", 1), "cursor": truth["cursor"],
                    "highlight": truth["highlight"],
                    "labelled_frames": len(hot), "frames_in_stable_chunks": int(in_chunk.sum()), "points": len(pts),
                    "chunk_points": len(chunk_err),
                    "chunk_points_within_10px": round(float((chunk_err <= 10).mean()), 4) if len(chunk_err) else None,
                    "within_10px": round(float((best <= 10).mean()), 4),
                    "within_10px_in_chunks": round(float((best[in_chunk] <= 10).mean()), 4) if in_chunk.any() else None,
                    "median_error_px": round(float(np.median(err)), 2) if len(err) else None,
                    "far_100px": round(float((err > 100).mean()), 4) if len(err) else None})
    by_round = {k: cursor_totals([a for a, r in zip(arrays, out) if r["round"] == k])
                for k in sorted({r["round"] for r in out})}
    return {"recordings": out, **cursor_totals(arrays), "by_round": by_round}


def cursor_totals(arrays: list[tuple]) -> dict:
    err, best, in_chunk, chunk_err = (np.concatenate(a) for a in zip(*arrays))
    return {"labelled_frames": int(len(best)), "points": int(len(err)),
            "within_10px": round(float((best <= 10).mean()), 4),
            "frames_in_stable_chunks": int(in_chunk.sum()),
            "within_10px_in_chunks": round(float((best[in_chunk] <= 10).mean()), 4) if in_chunk.any() else None,
            "far_100px": round(float((err > 100).mean()), 4) if len(err) else None,
            "chunk_points": int(len(chunk_err)),
            "chunk_points_within_10px": round(float((chunk_err <= 10).mean()), 4) if len(chunk_err) else None}


def chunk_errors(res: dict, hot: np.ndarray) -> np.ndarray:
    """Full-resolution error of every stable chunk's trace point (what the traces stage uses) on a labelled frame."""
    from mednarratives.traces.evaluate import to_video_pixels

    pts = [p for c in res["chunks"] for p in to_video_pixels(c.trace, res["work_size"], (res["width"], res["height"]))]
    pts = np.asarray(pts, float).reshape(-1, 3)
    frames = np.round(pts[:, 2] * res["fps"]).astype(int)
    on = frames < len(hot)
    return np.hypot(pts[on, 0] - hot[frames[on], 0], pts[on, 1] - hot[frames[on], 1])


def pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.2%}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="results/models/domain/effnet_lite0/model.pt")
    ap.add_argument("--devset", default=str(ROOT / "devsets" / "videos"))
    ap.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    ap.add_argument("--out", default="")
    ap.add_argument("--skip-domain", action="store_true")
    ap.add_argument("--skip-cursor", action="store_true")
    ap.add_argument("--only", nargs="*", default=[], help="cursor: score only the recordings whose name starts so "
                    "(e.g. cursor_r2_: round 2 alone)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    config = yaml.safe_load(open(args.config, encoding="utf-8"))
    devset = Path(args.devset)
    result = {}
    if not args.skip_domain:
        result["domain"] = d = score_domain(devset, args.model, config)
        for c in d["clips"]:
            print(f"{c['name']:36s} {c['label']:11s} {c['truth_domain'] or '-':14s} -> "
                  f"{'KEEP' if c['kept'] else 'drop'} {c['domain']:14s} share {c['share']:.2f} "
                  f"{'ok' if c['correct'] else 'WRONG'}  {c['top_classes']}")
        for origin, t in [("all", d), *d["by_origin"].items()]:
            print(f"domain filter ({origin}): non-medical rejected {t['non_medical_rejected']:.2%} of "
                  f"{t['n_non_medical']} (bar 90%); medical kept with the right domain "
                  f"{t['medical_kept_right_domain']:.2%} of {t['n_medical']} (bar 90%)")
    if not args.skip_cursor:
        result["cursor"] = c = score_cursor(devset, config, tuple(args.only))
        for r in c["recordings"]:
            print(f"{r['name']:38s} r{r['round']} {r['cursor']:9s} {str(r['highlight']):6s} frames {r['labelled_frames']:4d} "
                  f"in chunks {r['frames_in_stable_chunks']:4d} points {r['points']:4d} within 10 px "
                  f"{r['within_10px']:.3f} (in chunks {r['within_10px_in_chunks']}) median {r['median_error_px']} px, "
                  f">100 px {r['far_100px']}")
        for which, t in [("all", c), *((f"round {k}", t) for k, t in c["by_round"].items())]:
            print(f"cursor ({which}): within 10 px on {t['within_10px']:.2%} of {t['labelled_frames']} labelled frames "
                  f"(bar 90%; {pct(t['within_10px_in_chunks'])} of the {t['frames_in_stable_chunks']} in stable "
                  f"chunks); {pct(t['far_100px'])} of {t['points']} points > 100 px off (bar < 2%)")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
