"""Alignment on generated frames/traces/text/speech records (docs/data_contract.md)."""
from mednarratives.align.video import AlignParams, align_video, content_words, rake_keywords, run_shard
from mednarratives.io import read_jsonl, write_jsonl


def frames():
    return {"video_id": "v", "scenes": [{"index": 0, "start": 0, "end": 30, "keyframes": [1.0], "domain": "ct"}],
            "chunks": [{"index": 0, "kind": "stable", "scene": 0, "start": 2.0, "end": 10.0, "image": "i0.jpg", "width": 64, "height": 36},
                       {"index": 1, "kind": "stable", "scene": 0, "start": 20.0, "end": 28.0, "image": "i1.jpg", "width": 64, "height": 36}]}


def traces():
    return {"chunks": [{"index": 0, "segments": [[[5, 5, 2.5], [6, 6, 2.6]], [[30, 20, 6.0], [32, 22, 6.5]], [[1, 1, 11.5]]],
                        "box": [5, 5, 32, 22], "utterance_boxes": [{"utterance": 1, "box": [30, 20, 32, 22]}]},
                       {"index": 1, "segments": [], "box": None, "utterance_boxes": []}]}


def text():
    return {"utterances": [
        {"text": "This axial CT shows the skull.", "start": 2.5, "end": 5.0, "medical_text": "Axial CT of the skull.",
         "roi_text": "", "keywords": ["axial CT", "skull"], "entities": [{"text": "skull", "id": "C1", "vocab": "demo"}],
         "subdomain": "neuro", "modalities": ["ct"]},
        {"text": "Look here at the fracture.", "start": 5.5, "end": 7.5, "medical_text": "", "roi_text": "a fracture",
         "keywords": ["fracture"], "entities": [], "modalities": ["ct"]},
        {"text": "Thanks for watching.", "start": 20.5, "end": 22.0, "medical_text": "", "roi_text": "", "keywords": []}]}


def speech():
    words = []
    for u in text()["utterances"]:
        toks = u["text"].split()
        step = (u["end"] - u["start"]) / len(toks)
        words += [{"word": w.strip("."), "start": u["start"] + i * step, "end": u["start"] + (i + 1) * step} for i, w in enumerate(toks)]
    return {"words": words, "model": {"name": "test"}}


def test_rake_keywords():
    kws = rake_keywords("Look at the axial CT of the skull. There is a small linear fracture here.")
    assert "axial ct" in kws and "small linear fracture" in kws and kws[0] == "small linear fracture"
    assert content_words(["the Skull", "CT"]) == {"skull"}


def test_align_maps_medical_and_roi_text_to_the_chunk():
    samples, rows = align_video("v", frames(), traces(), text(), speech(), "mri", AlignParams())
    assert [s["sample_id"] for s in samples] == ["v:v:0000"]
    s = samples[0]
    assert s["caption"] == "Axial CT of the skull." and s["roi_text"] == "a fracture"
    assert s["domain"] == "ct"  # the scene's keyframe domain wins over the video's
    assert [t["start_time"] for t in s["timed_caption"]] == [2.5, 5.5]
    assert s["boxes"] == [[30, 20, 32, 22]]  # the ROI utterance's trace box
    assert s["traces"] == traces()["chunks"][0]["segments"][:2] + [[[1, 1, 11.5]]]  # within [start-1, end+2]
    assert s["entities"] == [{"text": "skull", "id": "C1", "vocab": "demo"}] and s["provenance"]["utterances"] == [0, 1]
    assert {r["unit"]: r["reason"] for r in rows} == {"v/0000": "", "v/0001": "no_medical_text"}


def test_keywords_must_overlap_raw_asr_keywords():
    t = text()
    t["utterances"][1]["keywords"] = ["pneumothorax"]  # never said in the ASR words of that window
    samples, _ = align_video("v", frames(), traces(), t, speech(), None, AlignParams())
    assert samples[0]["roi_text"] == "" and samples[0]["boxes"] == [[5, 5, 32, 22]]  # falls back to the chunk box
    # without ASR words, time overlap alone decides
    samples, _ = align_video("v", frames(), traces(), t, None, None, AlignParams())
    assert samples[0]["roi_text"] == "a fracture"


def test_utterance_outside_window_is_not_mapped():
    t = text()
    t["utterances"][0].update(start=14.0, end=18.0)
    samples, _ = align_video("v", frames(), traces(), t, None, "ct", AlignParams(lead_s=0.0, lag_s=0.0))
    assert [s["provenance"]["utterances"] for s in samples] == [[1]]


def test_run_shard_aligns_every_video_with_its_own_records(tmp_path):
    """Two videos in one shard: each is aligned with the text, speech and traces of the same id."""
    other = {**frames(), "video_id": "w", "scenes": [{**frames()["scenes"][0], "domain": None}]}
    paths = {name: str(tmp_path / f"{name}.jsonl") for name in ("frames", "traces", "text", "speech", "filter")}
    write_jsonl(paths["frames"], [{**frames(), "video_id": "v"}, other])
    write_jsonl(paths["traces"], [{**traces(), "video_id": "w"}, {**traces(), "video_id": "v"}])
    write_jsonl(paths["text"], [{**text(), "video_id": "v"}, {"video_id": "w", "utterances": []}])
    write_jsonl(paths["speech"], [{**speech(), "video_id": v} for v in ("v", "w")])
    write_jsonl(paths["filter"], [{"video_id": "v", "domain": "mri"}, {"video_id": "w", "domain": "mri"}])
    samples = run_shard(paths["frames"], paths["traces"], paths["text"], paths["speech"], paths["filter"],
                        str(tmp_path / "out.jsonl"), str(tmp_path / "ledger.jsonl"))
    assert samples == align_video("v", frames(), traces(), text(), speech(), "mri")[0]
    assert read_jsonl(tmp_path / "out.jsonl") == samples
    rows = {r["unit"]: r["reason"] for r in read_jsonl(tmp_path / "ledger.jsonl")}
    assert rows == {"v/0000": "", "v/0001": "no_medical_text", "w/0000": "no_medical_text", "w/0001": "no_medical_text"}
