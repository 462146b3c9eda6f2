"""The narration cue (issue #17): medical-term density of a transcript, the speech stage's drop, and the later stages
leaving the dropped video alone."""

import numpy as np
import pytest

from mednarratives.io import read_jsonl, write_jsonl
from mednarratives.speech import asr
from mednarratives.speech.narration import judge, narration_score
from mednarratives.speech.stage import kept, transcribe_video
from mednarratives.text.stage import extract_video

MEDICAL = ("The axial computed tomography image shows a fracture of the right parietal bone with an epidural "
           "hematoma. Look here at the pleural effusion next to the left lower lobe of the lung. ") * 3
LECTURE = ("Welcome to this course on deep learning. Today we build a small neural network in Python, train it on "
           "a few thousand pictures and plot the loss curve. Next week we look at geographic maps and operating "
           "system schedulers. ") * 3


def words(text):
    return [{"word": w, "start": 0.4 * i, "end": 0.4 * i + 0.3, "p": 0.9} for i, w in enumerate(text.split())]


def test_density_counts_content_words_inside_medical_terms():
    s = narration_score("the fracture and the pleural effusion")
    assert s["content_words"] == 3 and s["medical_words"] == 3 and s["density"] == 1.0  # "and", "the": stop words
    assert narration_score(LECTURE)["medical_words"] == 0
    assert narration_score(MEDICAL)["density"] > 0.3
    assert narration_score("")["density"] == 0.0


def test_judge_medical_not_medical_and_too_short():
    assert judge(words(MEDICAL), "en")["medical"] is True
    lecture = judge(words(LECTURE), "en")
    assert lecture["medical"] is False and lecture["min_density"] > lecture["density"]
    short = judge(words("Welcome to this course on deep learning."), "en")
    assert short["medical"] is None  # too few content words: the images decide
    assert judge(words(LECTURE), "de")["medical"] is None  # the vocabulary is English: not judged
    assert judge(words(LECTURE), "en", {"narration": {"min_density": 0.0}})["medical"] is True


def fake_asr(monkeypatch, text):
    tr = {"language": "en", "language_probability": 0.99, "duration": 60.0, "model": {"name": "fake"},
          "segments": [{"text": text, "start": 0.0, "end": 60.0,
                        "words": [{"word": " " + w["word"], "start": w["start"], "end": w["end"], "probability": 0.9}
                                  for w in words(text)]}]}
    monkeypatch.setattr(asr, "load_audio", lambda media: np.zeros(16000, dtype=np.float32))
    monkeypatch.setattr(asr, "transcribe", lambda *a, **k: tr)


@pytest.mark.parametrize("text, reason", [(MEDICAL, ""), (LECTURE, "narration_not_medical")])
def test_speech_stage_drops_a_narration_that_is_not_medical_and_keeps_its_words(monkeypatch, text, reason):
    fake_asr(monkeypatch, text)
    rec, row = transcribe_video("v1", "v1.mp4", {"correction": False})
    assert row["reason"] == reason and row["decision"] == ("dropped" if reason else "kept")
    assert rec["words"] and rec["narration"]["medical"] is (not reason) and kept(rec) is (not reason)
    assert row["detail"]["density"] == rec["narration"]["density"]


def test_text_and_align_leave_a_dropped_video_alone(monkeypatch, tmp_path):
    from mednarratives.align.video import run_shard

    fake_asr(monkeypatch, LECTURE + "A fracture.")  # one medical word in 76: density 0.013
    rec, row = transcribe_video("v1", "v1.mp4", {"correction": False})
    assert row["reason"] == "narration_not_medical"
    text, rows = extract_video(rec)
    assert text["utterances"] == [] and rows == []  # no ledger row: the video never entered the text stage
    frames = {"video_id": "v1", "scenes": [], "chunks": [{"index": 0, "kind": "stable", "scene": None, "start": 0.0,
                                                         "end": 60.0, "image": "i.jpg", "width": 8, "height": 8}]}
    stale = {"video_id": "v1", "utterances": [{"text": "Welcome to this course on deep learning.", "start": 0.0,
                                               "end": 2.8, "medical_text": "deep learning", "roi_text": "",
                                               "keywords": ["deep learning"], "entities": []}]}
    paths = {n: str(tmp_path / f"{n}.jsonl") for n in ("frames", "traces", "text", "speech", "filter")}
    for name, recs in (("frames", [frames]), ("traces", []), ("text", [stale]), ("speech", [rec]),
                       ("filter", [{"video_id": "v1", "domain": "ct"}])):
        write_jsonl(paths[name], recs)
    samples = run_shard(*paths.values(), str(tmp_path / "out.jsonl"), str(tmp_path / "ledger.jsonl"))
    assert samples == []  # even a stale text record of the video is not used
    assert [(r["unit"], r["reason"]) for r in read_jsonl(tmp_path / "ledger.jsonl")] == [("v1/0000", "no_medical_text")]
