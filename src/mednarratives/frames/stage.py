"""The frames stage, per video of a shard (paper 3.2.4 and 3.3): scene chunks, stable chunks, representative images.

* scene chunks: each medical keyframe (from the filter stage) opens a scene that lasts until the next
  keyframe (medical or not) or the end of the video, padded by `pad_time` on both sides. Without a filter
  record (`keyframes=None`) the whole video is one scene, so the stage can run from the chunker alone.
* stable chunks: `frames.chunks.StableChunker` on one decode pass; a stable chunk belongs to the scene it
  overlaps most, and is dropped (ledger) when it overlaps no medical scene.
* representative image: the per-pixel median of a stable chunk's frames (cursor pixels ignored); a scene
  without a stable chunk gets its keyframes, deduplicated (thumbnail difference), as images.

The decode pass also tracks the cursor in each stable chunk (`frames.video.trace_video`); the raw points are
written next to the frames record for the traces stage, so the video is decoded once, with the per-frame cursor
track (`track`: [frame, x, y, chunk] on every frame where the cursor was found or followed, `frames.follow`;
chunk: the index of the stable chunk holding the frame, -1 outside one). The traces stage uses the chunks'
points only (paper 3.2.4: a trace belongs to one stable image).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image

from mednarratives import ledger, settings
from mednarratives.frames.chunks import thumbnail, to_gray
from mednarratives.io import atomic_path, read_jsonl_by, write_jsonl
from mednarratives.frames.video import VideoTraceParams, trace_video

log = logging.getLogger(__name__)
STAGE = "frames"


@dataclass(frozen=True)
@settings.schema_defaults("frames")
class FramesParams:
    pad_time: float  # s added left and right of every scene chunk (paper: pad_time)
    min_p_medical: float  # a keyframe is medical when the filter's p_medical reaches this
    min_scene_share: float  # a stable chunk joins the scene holding at least this share of it
    dedup_delta: float  # keyframes whose thumbnails differ by less (mean grey levels) are duplicates
    jpeg_quality: int


def chunk_unit(video_id: str, index: int) -> str:
    """Ledger unit of a chunk (frames, align; dataset maps sample 'v:VID:0003' back to it)."""
    return f"{video_id}/{index:04d}"


def scene_chunks(keyframes: Sequence[dict] | None, duration: float, pad_time: float, min_p_medical: float) -> list[dict]:
    """[{index, start, end, keyframes[t...]}] from the filter's keyframes [{t, p_medical, ...}]."""
    if keyframes is None:
        return [{"index": 0, "start": 0.0, "end": round(duration, 3), "keyframes": [], "domain": None}]
    kfs = sorted(keyframes, key=lambda k: float(k["t"]))
    scenes = []
    for i, kf in enumerate(kfs):
        if float(kf.get("p_medical", 0.0)) < min_p_medical:
            continue
        t = float(kf["t"])
        nxt = float(kfs[i + 1]["t"]) if i + 1 < len(kfs) else duration
        if scenes and scenes[-1]["_open_until"] >= t - 1e-6:  # consecutive medical keyframes: one scene
            scenes[-1]["end"] = round(min(duration, nxt + pad_time), 3)
            scenes[-1]["keyframes"].append(round(t, 3))
            scenes[-1]["domains"].append(kf.get("domain"))
            scenes[-1]["_open_until"] = nxt
            continue
        scenes.append({"index": len(scenes), "start": round(max(0.0, t - pad_time), 3),
                       "end": round(min(duration, nxt + pad_time), 3), "keyframes": [round(t, 3)], "domains": [kf.get("domain")], "_open_until": nxt})
    for s in scenes:
        del s["_open_until"]
        named = sorted(d for d in s.pop("domains") if d)
        s["domain"] = max(named, key=named.count) if named else None  # majority keyframe domain (ties: first name)
    return scenes


def assign_scene(t0: float, t1: float, scenes: Sequence[dict], min_share: float = 0.5) -> int | None:
    """Index of the scene a [t0, t1) span overlaps most, or None when that is under `min_share` of the span
    (the padding of a scene must not pull in the neighbouring slide's stable chunk)."""
    best, best_overlap = None, min_share * (t1 - t0) - 1e-9
    for s in scenes:
        overlap = min(t1, s["end"]) - max(t0, s["start"])
        if overlap > best_overlap:
            best, best_overlap = s["index"], overlap
    return best


def dedup_images(images: Sequence[np.ndarray], delta: float) -> list[int]:
    """Indices of the images to keep: each differs from every kept one by >= delta mean grey levels."""
    kept, thumbs = [], []
    for i, img in enumerate(images):
        th = thumbnail(to_gray(img)[None], 8)[0]
        if all(np.abs(th - t).mean() >= delta for t in thumbs):
            kept.append(i)
            thumbs.append(th)
    return kept


def save_jpeg(path: str, image: np.ndarray, quality: int) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="JPEG", quality=quality, optimize=False)


def run_frames(video_path: str, video_id: str, keyframes: Sequence[dict] | None, image_dir: str,
               params: FramesParams = FramesParams(), video_params: VideoTraceParams = VideoTraceParams(),
               face_detector=None) -> tuple[dict, dict, list[dict]]:
    """(frames record, raw cursor points, ledger rows) of one video; its chunk images go to `image_dir`."""
    rows = []
    try:
        from mednarratives.videos.decode import stream_info
        info = stream_info(video_path)
        duration = info.duration
        scenes = scene_chunks(keyframes, duration, params.pad_time, params.min_p_medical)
        grab = sorted({t for s in scenes for t in s["keyframes"]})
        result = (trace_video(video_path, video_params, face_detector=face_detector, grab_times=grab, info=info)
                  if scenes else None)
    except Exception as exc:  # one bad video never stops the run
        log.exception("frames failed for %s", video_id)
        record = {"video_id": video_id, "error": f"{type(exc).__name__}: {exc}"[:500], "chunks": [], "scenes": []}
        return record, {"video_id": video_id, "chunks": []}, [
            ledger.dropped(STAGE, video_id, "decode_error", error=record["error"])]
    os.makedirs(image_dir, exist_ok=True)
    chunks, points, kept_index = [], [], {}
    work_w, work_h = result["work_size"] if result else (0, 0)
    for k, c in enumerate(result["chunks"] if result else []):
        unit = f"{video_id}/t{c.t0:09.3f}"  # a stable stretch that never becomes a chunk
        scene = assign_scene(c.t0, c.t1, scenes, params.min_scene_share)
        if scene is None:
            rows.append(ledger.dropped(STAGE, unit, "outside_medical_scenes", start=round(c.t0, 3), end=round(c.t1, 3)))
            continue
        index = kept_index[k] = len(chunks)
        image = os.path.join(image_dir, f"{index:04d}.jpg")
        save_jpeg(image, c.image, params.jpeg_quality)
        chunks.append({"index": index, "kind": "stable", "scene": scene, "start": round(c.t0, 3), "end": round(c.t1, 3),
                       "start_frame": c.start, "end_frame": c.end, "ssim": round(c.ssim, 4), "image": image,
                       "width": int(c.image.shape[1]), "height": int(c.image.shape[0]),
                       "faces": [[round(v, 1) for v in b] for b in c.face_boxes]})
        points.append({"index": index, "points": [[round(x, 2), round(y, 2), round(t, 3)] for x, y, t in c.trace]})
        rows.append(ledger.kept(STAGE, chunk_unit(video_id, index), start=round(c.t0, 3), kind="stable"))
    with_stable = {c["scene"] for c in chunks}
    for s in scenes:
        if s["index"] in with_stable or not s["keyframes"]:
            continue
        imgs = [result["grabs"][t] for t in s["keyframes"] if t in result["grabs"]]
        for k in dedup_images(imgs, params.dedup_delta):
            t = s["keyframes"][k]
            index = len(chunks)
            image = os.path.join(image_dir, f"{index:04d}.jpg")
            save_jpeg(image, imgs[k], params.jpeg_quality)
            chunks.append({"index": index, "kind": "scene", "scene": s["index"], "start": s["start"], "end": s["end"],
                           "keyframe": t, "image": image, "width": int(imgs[k].shape[1]), "height": int(imgs[k].shape[0]),
                           "faces": []})
            points.append({"index": index, "points": []})
            rows.append(ledger.kept(STAGE, chunk_unit(video_id, index), keyframe=t, kind="scene"))
    record = {"video_id": video_id, "video": {"path": video_path, "width": result["width"], "height": result["height"],
                                              "fps": result["fps"], "n_frames": result["n_frames"], "duration": round(duration, 3)},
              "work_size": [work_w, work_h], "keyframes_source": "none" if keyframes is None else "filter",
              "scenes": scenes, "chunks": chunks,
              "params": {"pad_time": params.pad_time, "min_p_medical": params.min_p_medical, "scale": video_params.scale,
                         "loop_filter": video_params.loop_filter}}
    if chunks:
        rows.append(ledger.kept(STAGE, video_id, chunks=len(chunks)))
    else:
        rows.append(ledger.dropped(STAGE, video_id, "no_chunks", scenes=len(scenes)))
    track = [] if result is None else [
        [int(i), round(float(x), 2), round(float(y), 2), kept_index.get(int(result["track_chunk"][i]), -1)]
        for i, (x, y) in enumerate(result["track"]) if not np.isnan(x)]
    return record, {"video_id": video_id, "work_size": [work_w, work_h], "chunks": points, "track": track}, rows


def run_shard(media_dir: str, filter_jsonl: str, out_jsonl: str, image_dir: str, points_jsonl: str, out_ledger: str,
              keyframes_from: str, params: FramesParams = FramesParams(),
              video_params: VideoTraceParams = VideoTraceParams(), face_detector=None) -> list[dict]:
    """Frames records, raw cursor points, chunk images (`image_dir`/{video_id}/) and ledger rows of every video of
    a shard's media folder. keyframes_from "filter": scene chunks from the shard's filter records; "none": whole
    videos."""
    from mednarratives.videos.manifest import media_files

    filtered = read_jsonl_by(filter_jsonl) if keyframes_from == "filter" else {}
    records, points, rows = [], [], []
    os.makedirs(image_dir, exist_ok=True)
    for vid, path in media_files(media_dir):
        keyframes = list(filtered[vid].get("keyframes") or []) if vid in filtered else None
        record, pts, video_rows = run_frames(path, vid, keyframes, os.path.join(image_dir, vid), params,
                                             video_params, face_detector)
        records.append(record)
        points.append(pts)
        rows += video_rows
        log.info("%s: %d chunks", vid, len(record["chunks"]))
    ledger.fail_if_systematic(rows, "decode_error")
    write_jsonl(out_jsonl, records)
    write_jsonl(points_jsonl, points)
    ledger.write(out_ledger, rows)
    return records


def params_from_config(frames_cfg: dict, traces_cfg: dict):
    """(FramesParams, VideoTraceParams, face detector or None) from the `frames:` and `traces:` config sections."""
    from mednarratives.frames.chunks import ChunkParams
    from mednarratives.frames.cursor import TraceParams, mtcnn_face_detector

    frames_params = settings.from_config(FramesParams, frames_cfg)
    chunk = settings.from_config(ChunkParams, frames_cfg["stable"], seed=frames_cfg["seed"])
    trace = settings.from_config(TraceParams, traces_cfg["cursor"])
    video_params = settings.from_config(VideoTraceParams, frames_cfg, chunk=chunk, trace=trace)
    detector = None
    if traces_cfg["face_detector"] == "mtcnn":
        detector = mtcnn_face_detector(traces_cfg["face_min_prob"])
    return frames_params, video_params, detector
