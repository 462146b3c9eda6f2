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
