"""Video decisions (paper 3.2.1-3.2.2, appendix 7.2-7.3): which videos go on to the narrative stages.

Checks, cheapest first; the first failing one names the ledger reason:
1. subscriber cap (channel_follower_count > cap -> too_many_subscribers);
2. duration 1 min .. 2 h, frame size (probe: too_short / too_long / bad_resolution / probe_failed / no_video);
3. speech in the first minute (silero-vad: no_speech / no_audio / audio_decode_failed);
4. key-frames (ffmpeg scene detection for static domains, PySceneDetect adaptive otherwise; keyframes_failed),
   classified per domain: share of key-frames classified as the video's domain vs the Table 3 threshold ->
   positive / near_positive (dropped: near_positive) / negative (dropped: not_medical);
5. narrative: static domains by streaks (a medical key-frame whose 3 following frames all have cosine
   similarity >= 0.9 with it) in a domain-specific share of the medical key-frames that stand (a key-frame
   followed by the next one within streak_gap_s is a passing picture: a page of a scrolled stack, a
   transition; the burst is judged by its last frame); non-static domains by speech
   around medical key-frames (more than half of them narrated for >= speech_seconds) -> not_narrative.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mednarratives import ledger, settings
from mednarratives.domains import DOMAINS
from mednarratives.io import atomic_path, write_jsonl
from mednarratives.videos import keyframes as kfmod
from mednarratives.videos.probe import probe_filter

STAGE = "videos_filter"
MANIFEST_FIELDS = ("video_id", "path_or_url", "title", "channel", "query_domain", "subscribers")
KEPT_FIELDS = ("video_id", "path", "domain")
log = logging.getLogger("mednarratives.videos.decide")


@dataclass
class Thresholds:
    """The `videos.thresholds` config section (Table 3 shares, near-positive factor, narrative thresholds)."""
    share: dict[str, float]
    near_factor: float
    streak_share: dict[str, float]
    speech_seconds: dict[str, float]

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> "Thresholds":
        """The section's schema defaults with `config` (possibly partial, e.g. {share: {mri: 0.1}}) laid over."""
        data = settings.merged(config, "videos", "thresholds")
        unknown = sorted(set(data["share"]) - set(DOMAINS))
        if unknown:
            raise ValueError(f"thresholds: unknown domains {unknown}")
        share, streak_share, speech_seconds = ({k: float(v) for k, v in data[key].items()}
                                               for key in ("share", "streak_share", "speech_seconds"))
        return cls(share, float(data["near_factor"]), streak_share, speech_seconds)

    def share_for(self, domain: str) -> float:
        return self.share.get(domain, self.share["illustration"])  # a domain hint outside Table 3

    def streak_for(self, domain: str) -> float:
        return self.streak_share[domain]

    def speech_for(self, domain: str) -> float:
        return self.speech_seconds.get(domain, self.speech_seconds["default"])


# ---------------------------------------------------------------------------------------------- pure decisions


def categorize(share: float, threshold: float, near_factor: float) -> str:
    """positive (share >= threshold) / near_positive (>= near_factor x threshold) / negative."""
    if share >= threshold:
        return "positive"
    if share >= near_factor * threshold:
        return "near_positive"
    return "negative"


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of mean-centred pixel vectors (plain cosine of non-negative pixels is ~1 for any pair)."""
    x = a.astype(np.float64).ravel()
    y = b.astype(np.float64).ravel()
    x, y = x - x.mean(), y - y.mean()
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    if nx < 1e-9 or ny < 1e-9:
        return 1.0 if nx < 1e-9 and ny < 1e-9 else 0.0
    return float(x @ y / (nx * ny))


def streak(reference: np.ndarray | None, following: np.ndarray, min_cos: float = 0.9, n: int = 3) -> tuple[bool, list]:
    """A narrative streak: `n` following frames, each with cosine >= min_cos to the reference frame."""
    if reference is None or len(following) < n:
        return False, []
    sims = [round(cosine(reference, f), 4) for f in following[:n]]
    return all(s >= min_cos for s in sims), sims


def scene_intervals(times: Sequence[float], duration: float) -> list[tuple[float, float]]:
    """[start, end) of the scene that each key-frame opens."""
    ends = list(times[1:]) + [duration]
    return [(float(t), float(max(e, t + 1e-3))) for t, e in zip(times, ends)]


def narrated_seconds(segments: Sequence[Sequence[float]], start: float, end: float) -> float:
    return float(sum(max(0.0, min(e, end) - max(s, start)) for s, e in segments))


def keyframe_domain(probs: Sequence[Mapping[str, float]], domains: Sequence[str], thresholds: Thresholds,
                    classify_threshold: float, hint: str = "") -> tuple[str, dict[str, float]]:
    """(domain, share of key-frames per domain): the hint, else the domain whose share is largest relative to
    its threshold, that relative share capped at 1: among the domains that reach their threshold, the one with
    the most key-frames (a low threshold, e.g. CT's 10%, says how few frames suffice, not that a minority of
    CT frames outweighs a majority of ultrasound ones); ties: the larger uncapped relative share, then the
    earlier domain."""
    shares = {d: sum(p.get(d, 0.0) >= classify_threshold for p in probs) / len(probs) for d in domains}
    relative = {d: shares[d] / thresholds.share_for(d) for d in domains}
    domain = hint or max(domains, key=lambda d: (min(1.0, relative[d]), shares[d], relative[d],
                                                 -list(domains).index(d)))
    return domain, shares


# ---------------------------------------------------------------------------------------------- one video


@dataclass
@settings.schema_defaults(
    "videos", min_duration=("videos", "duration", "min_s"), max_duration=("videos", "duration", "max_s"),
    speech_backend=("videos", "speech", "backend"), speech_window_s=("videos", "speech", "window_s"),
    speech_min_ratio=("videos", "speech", "min_ratio"), streak_frames=("videos", "narrative", "streak_frames"),
    streak_cosine=("videos", "narrative", "streak_cosine"), streak_gap_s=("videos", "narrative", "streak_gap_s"),
    classify_threshold=("videos", "classifier", "threshold"))
class FilterConfig:
    """The `videos:` config keys of the filter decision."""
    keyframes: Mapping[str, Any]     # videos.keyframes (default/domains)
    thresholds: Thresholds = field(default_factory=Thresholds.from_config)
    min_duration: float
    max_duration: float
    max_subscribers: int
    speech_backend: str
    speech_window_s: float
    speech_min_ratio: float
    streak_frames: int
    streak_cosine: float
    streak_gap_s: float
    classify_threshold: float
    keep_near_positive: bool


def _speech_segments(path: str, duration: float, backend: str) -> list[tuple[float, float]]:
    """Speech segments over the whole file (one decode; used for the non-static narrative check)."""
    from mednarratives.videos.speech_presence import speech_in_interval

    res = speech_in_interval(path, 0.0, max(duration, 0.1), backend)
    return [(float(s), float(e)) for s, e in res.segments]


def filter_video(row: Mapping[str, str], media: str, classifier: Any, cfg: FilterConfig,
                 speech_segments: Callable[[str, float, str], list] = _speech_segments) -> tuple[dict, dict]:
    """Decide one video: (filter record, ledger row). Never raises for a problem of the video itself."""
    from mednarratives.videos.speech_presence import speech_filter

    vid = row["video_id"]
    hint = (row.get("query_domain") or "").strip()
    rec: dict[str, Any] = {"video_id": vid, "decision": "dropped", "reason": "", "duration": None, "speech": None,
                           "keyframes": [], "medical_share": None, "narrative": None, "domain": hint or None,
                           "category": None}

    def drop(reason: str, **detail):
        rec["reason"] = reason
        return rec, ledger.dropped(STAGE, vid, reason, **detail)

    subs = (row.get("subscribers") or "").strip()
    if subs and subs.isdigit() and int(subs) > cfg.max_subscribers:
        return drop("too_many_subscribers", subscribers=int(subs), cap=cfg.max_subscribers)
    info, prow = probe_filter(vid, media, STAGE, cfg.min_duration, cfg.max_duration)
    if info is not None:
        rec["duration"] = round(info.duration, 3)
    if prow["decision"] == ledger.DROPPED:
        return drop(prow["reason"], **prow["detail"])
    sres, srow = speech_filter(vid, media, STAGE, cfg.speech_window_s, cfg.speech_backend, cfg.speech_min_ratio)
    if sres is not None:
        rec["speech"] = {k: v for k, v in sres.to_dict().items() if k != "segments"}
    if srow["decision"] == ledger.DROPPED:
        return drop(srow["reason"], **srow["detail"])

    domains = classifier.domains
    kf_domain = hint or "illustration"
    try:
        kf = kfmod.extract(media, kf_domain, cfg.keyframes)
    except kfmod.KeyframeError as exc:
        return drop("keyframes_failed", error=str(exc)[:500])
    if not len(kf.times):
        return drop("keyframes_failed", error="no key-frames")
    if hint and hint not in domains:
        return drop("no_classifier_for_domain", domain=hint, available=domains)
    probs = classifier.predict(list(kf.images))
    domain, shares = keyframe_domain(probs, domains, cfg.thresholds, cfg.classify_threshold, hint)
    rec["domain"] = domain
    rec["keyframes"] = [{"t": t, "domain": max((d for d in domains), key=lambda d: (p[d], d))
                         if max(p[d] for d in domains) >= cfg.classify_threshold else "non_medical",
                         "p_medical": round(p.get(domain, 0.0), 4), "domain_scores": p}
                        for t, p in zip(kf.times, probs)]
    share = shares[domain]
    rec["medical_share"] = round(share, 4)
    rec["keyframe_method"] = kf.method
    threshold = cfg.thresholds.share_for(domain)
    category = categorize(share, threshold, cfg.thresholds.near_factor)
    rec["category"] = category
    detail = {"domain": domain, "medical_share": round(share, 4), "threshold": threshold,
              "keyframes": len(kf.times), "category": category}
    if category == "negative":
        return drop("not_medical", **detail)
    if category == "near_positive" and not cfg.keep_near_positive:
        return drop("near_positive", **detail)

    medical = [(i, t) for i, (t, p) in enumerate(zip(kf.times, probs)) if p.get(domain, 0.0) >= cfg.classify_threshold]
    if kfmod.is_static(domain):
        streaks = []
        standing = [(i, t) for i, t in medical if i + 1 == len(kf.times) or kf.times[i + 1] - t >= cfg.streak_gap_s]
        for i, t in standing:
            ok, sims = streak(kfmod.thumb_at(kf, t + 0.5 * cfg.streak_gap_s),
                              kfmod.following_thumbs(kf, t, cfg.streak_frames, cfg.streak_gap_s,
                                                     skip_s=1.5 * cfg.streak_gap_s),
                              cfg.streak_cosine, cfg.streak_frames)
            streaks.append({"t": t, "streak": ok, "cosine": sims})
        need = cfg.thresholds.streak_for(domain)
        got = sum(s["streak"] for s in streaks) / len(streaks) if streaks else 0.0
        rec["narrative"] = {"method": "streaks", "share": round(got, 4), "threshold": need, "streaks": streaks,
                            "passing": len(medical) - len(standing)}
        narrative = got >= need
    else:
        try:
            segs = speech_segments(media, info.duration, cfg.speech_backend)
        except Exception as exc:  # noqa: BLE001
            return drop("audio_decode_failed", error=str(exc)[:500])
        need_s = cfg.thresholds.speech_for(domain)
        scenes = scene_intervals(kf.times, info.duration)
        narrated = [{"t": t, "speech_seconds": round(narrated_seconds(segs, *scenes[i]), 3)} for i, t in medical]
        got = sum(n["speech_seconds"] >= need_s for n in narrated) / len(narrated) if narrated else 0.0
        rec["narrative"] = {"method": "speech_around_keyframes", "share": round(got, 4), "threshold": 0.5,
                            "speech_seconds": need_s, "keyframes": narrated}
        narrative = got > 0.5
    detail["narrative_share"] = rec["narrative"]["share"]
    if not narrative:
        return drop("not_narrative", **detail)
    rec["decision"] = category
    rec["reason"] = ""
    return rec, ledger.kept(STAGE, vid, **detail)


# ---------------------------------------------------------------------------------------------- shards


def read_tsv(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def write_tsv(path: str | os.PathLike, fields: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(fields), delimiter="\t", lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})


def filter_shard(manifest: str, out_jsonl: str, out_ledger: str, classifier: Any, cfg: FilterConfig,
                 media_for: Callable[[Mapping[str, str]], str], speech_segments=_speech_segments) -> list[dict]:
    """Filter every video of a manifest shard; one bad video becomes a ledger row, never a crash."""
    records, rows = [], []
    for row in sorted(read_tsv(manifest), key=lambda r: r["video_id"]):
        vid = row["video_id"]
        media = None
        try:
            media = media_for(row)
            if media is None:
                raise FileNotFoundError("no media")
            rec, lrow = filter_video(row, media, classifier, cfg, speech_segments)
        except Exception as exc:  # noqa: BLE001 - one bad unit never crashes the shard
            log.exception("%s failed", vid)
            rec = {"video_id": vid, "decision": "dropped", "reason": "filter_failed", "error": str(exc)[:500]}
            lrow = ledger.dropped(STAGE, vid, "filter_failed", error=f"{type(exc).__name__}: {exc}"[:500])
        rec.setdefault("media", media)
        log.info("%s: %s %s", vid, rec["decision"], rec.get("reason", ""))
        records.append(rec)
        rows.append(lrow)
    ledger.fail_if_systematic(rows, "filter_failed")
    write_jsonl(out_jsonl, records)
    ledger.write(out_ledger, rows)
    return records


def kept_records(filter_jsonl: str | os.PathLike) -> list[dict]:
    """The filter records of one shard's kept videos (positive or near_positive), sorted by video id."""
    from mednarratives.io import read_jsonl

    return sorted((r for r in read_jsonl(filter_jsonl) if r.get("decision") in ("positive", "near_positive")),
                  key=lambda r: r["video_id"])


def kept_table(filter_jsonls: Sequence[str], out_tsv: str) -> list[dict]:
    """results/videos/kept.tsv: video_id, path (the filtered media), domain of every kept video, sorted by id."""
    kept = [{"video_id": r["video_id"], "path": r.get("media") or "", "domain": r["domain"]}
            for p in filter_jsonls for r in kept_records(p)]
    kept.sort(key=lambda r: r["video_id"])
    write_tsv(out_tsv, KEPT_FIELDS, kept)
    return kept


# ---------------------------------------------------------------------------------------------- demo score


def score_demo(filter_jsonls: Sequence[str], ledger_paths: Sequence[str], truth_paths: Sequence[str],
               keyframe_tolerance: float = 0.5) -> dict:
    """Decisions and key-frames against the demo truth: every `keep` video kept, every `drop` video dropped with
    its expected reason (from the ledger); key-frame recall against the truth scene cuts, precision against the
    cuts and the page turns of scrolled stacks (a new picture each, which a key-frame marks rightly; not
    required, so recall is on the cuts alone)."""
    from mednarratives.io import read_json, read_jsonl
    from mednarratives.videos.keyframes import match_cuts

    recs = {r["video_id"]: r for p in filter_jsonls for r in read_jsonl(p)}
    rows = {r["unit"]: r for p in ledger_paths for r in read_jsonl(p) if r["stage"] == STAGE}
    videos, matched, n_truth, n_pred, n_right = [], 0, 0, 0, 0
    for tp in sorted(truth_paths):
        t = read_json(tp)
        vid = t["video_id"]
        row, rec = rows.get(vid), recs.get(vid) or {}
        got = None if row is None else ("keep" if row["decision"] == ledger.KEPT else "drop")
        ok = got == t["expected"] and (t["expected"] == "keep" or row["reason"] == t["expected_reason"])
        item = {"video_id": vid, "expected": t["expected"], "expected_reason": t["expected_reason"], "got": got,
                "reason": None if row is None else row["reason"], "correct": bool(ok)}
        if rec.get("keyframes"):
            pred = [k["t"] for k in rec["keyframes"]][1:]
            s = match_cuts(pred, t["scene_cuts"], keyframe_tolerance)
            turns = [f / t["fps"] for seg in t.get("segments", []) for f, _ in (seg.get("pages") or [])[1:]]
            right = match_cuts(pred, t["scene_cuts"] + turns, keyframe_tolerance)["matched"]
            matched, n_truth, n_pred = matched + s["matched"], n_truth + s["n_truth"], n_pred + s["n_pred"]
            n_right = n_right + right
            item["keyframe_recall"] = round(s["recall"], 4)
            item["missed_cuts"] = s["missed"]
        videos.append(item)
    return {"videos": videos, "n": len(videos), "correct": sum(v["correct"] for v in videos),
            "decision_accuracy": round(sum(v["correct"] for v in videos) / max(1, len(videos)), 4),
            "keyframe_recall": round(matched / n_truth, 4) if n_truth else None,
            "keyframe_precision": round(n_right / n_pred, 4) if n_pred else None,
            "keyframe_tolerance_s": keyframe_tolerance, "cuts_scored": n_truth}
