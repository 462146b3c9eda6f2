import json

from mednarratives.narratives.localized import LN_FIELDS, localized_narrative


class LocalizedNarrative:
    """The constructor signature of Google's loader (localized_narratives.py): exactly seven fields."""

    def __init__(self, dataset_id, image_id, annotator_id, caption, timed_caption, traces, voice_recording):
        self.traces = traces


def test_record_loads_in_googles_constructor_and_normalises():
    rec = localized_narrative(
        "mednarratives_video", "vid_chunk3", "vid", "Look here at the lesion.",
        [{"text": "Look here at the lesion.", "start": 12.0, "end": 14.5}],
        [[[640.0, 360.0, 12.1], [1280.0, 0.0, 12.2], [-5.0, 800.0, 12.3]]], 1280, 720,
        "videos/vid.mp4#t=12.0,14.5",
    )
    assert tuple(rec) == LN_FIELDS
    ln = LocalizedNarrative(**json.loads(json.dumps(rec)))
    assert ln.traces == [[{"x": 0.5, "y": 0.5, "t": 12.1}, {"x": 1.0, "y": 0.0, "t": 12.2}, {"x": 0.0, "y": 1.0, "t": 12.3}]]
    assert rec["timed_caption"] == [{"utterance": "Look here at the lesion.", "start_time": 12.0, "end_time": 14.5}]


def test_from_sample_splits_the_seven_fields_and_the_sidecar():
    from mednarratives.narratives.localized import from_sample

    sample = {"sample_id": "v:vid:0003", "source": "video", "image": "x.jpg", "width": 640, "height": 360,
              "caption": "Axial CT.", "roi_text": "a fracture", "domain": "ct",
              "timed_caption": [{"utterance": "Axial CT.", "start_time": 1.0, "end_time": 2.0}],
              "traces": [[[320, 180, 1.5]]], "boxes": [[1, 2, 3, 4]], "keywords": ["ct"], "entities": [], "inline_refs": [],
              "provenance": {"video_id": "vid", "start": 0.5, "end": 3.0}}
    rec, side = from_sample(sample, "mn_video", "videos/vid.mp4")
    assert tuple(rec) == LN_FIELDS and rec["annotator_id"] == "vid" and rec["image_id"] == "v:vid:0003"
    assert rec["traces"] == [[{"x": 0.5, "y": 0.5, "t": 1.5}]]
    assert rec["timed_caption"] == [{"utterance": "Axial CT.", "start_time": 1.0, "end_time": 2.0}]
    assert side["boxes"] == [[1, 2, 3, 4]] and side["roi_text"] == "a fracture" and side["image_id"] == rec["image_id"]
    LocalizedNarrative(**rec)
