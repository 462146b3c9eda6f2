"""The narration cue (issue #17): medical-term density of a transcript, the text stage's drop, and align finding
nothing in a dropped video."""

from mednarratives.align.video import run_shard
from mednarratives.io import read_jsonl, write_jsonl
from mednarratives.text.narration import judge, narration_score
from mednarratives.text.stage import extract_video

MEDICAL = ("The axial computed tomography image shows a fracture of the right parietal bone with an epidural "
           "hematoma. Look here at the pleural effusion next to the left lower lobe of the lung. ") * 3
LECTURE = ("Welcome to this course on deep learning. Today we build a small neural network in Python, train it on "
           "a few thousand pictures and plot the loss curve. Next week we look at geographic maps and operating "
           "system schedulers. ") * 3


def words(text):
    return [{"word": w, "start": 0.4 * i, "end": 0.4 * i + 0.3, "p": 0.9} for i, w in enumerate(text.split())]


def speech(text, language="en"):
    return {"video_id": "v1", "model": {"name": "test"}, "language": language, "words": words(text),
            "segments": [{"text": text, "start": 0.0, "end": 0.4 * len(text.split())}]}


def test_density_counts_content_words_inside_medical_terms():
    s = narration_score("the fracture and the pleural effusion")
    assert s["content_words"] == 3 and s["medical_words"] == 3 and s["density"] == 1.0  # "and", "the": stop words
    assert narration_score(LECTURE)["medical_words"] == 0
    assert narration_score(MEDICAL)["density"] > 0.3
    assert narration_score("")["density"] == 0.0


def test_judge_medical_not_medical_and_not_judged():
    assert judge(words(MEDICAL), "en")["medical"] is True
    lecture = judge(words(LECTURE), "en")
    assert lecture["medical"] is False and lecture["min_density"] > lecture["density"]
    assert judge(words("Welcome to this course on deep learning."), "en")["medical"] is None  # too short
    assert judge(words(LECTURE), "de")["medical"] is None  # the vocabulary is English
    assert judge(words(LECTURE), "en", {"narration": {"min_density": 0.0}})["medical"] is True


def test_text_stage_drops_a_narration_that_is_not_medical():
    rec, rows = extract_video(speech(LECTURE + "A fracture."))  # one medical word in 76: density 0.013
    assert [(r["decision"], r["reason"]) for r in rows] == [("dropped", "narration_not_medical")]
    assert rec["utterances"] == [] and rec["narration"]["medical"] is False
    assert rows[0]["detail"]["density"] == rec["narration"]["density"] > 0
    rec, rows = extract_video(speech(MEDICAL))
    assert rows[0]["decision"] == "kept" and rec["utterances"] and rec["narration"]["medical"] is True
    rec, rows = extract_video({**speech(""), "words": []})
    assert rows == [] and rec["utterances"] == []  # dropped by the speech stage: never entered
    rec, rows = extract_video(speech(LECTURE, language="de"))  # not judged: the other checks decide
    assert rec["narration"]["medical"] is None and rows[0]["reason"] != "narration_not_medical"


def test_align_finds_nothing_in_a_dropped_narration(tmp_path):
    lecture = speech(LECTURE + " Look here at the fracture.")
    text, rows = extract_video(lecture)
    assert rows[0]["reason"] == "narration_not_medical"
    frames = {"video_id": "v1", "scenes": [], "chunks": [{"index": 0, "kind": "stable", "scene": None, "start": 0.0,
                                                         "end": 60.0, "image": "i.jpg", "width": 8, "height": 8}]}
    paths = {n: str(tmp_path / f"{n}.jsonl") for n in ("frames", "traces", "text", "speech", "filter")}
    for name, recs in (("frames", [frames]), ("traces", []), ("text", [text]), ("speech", [lecture]),
                       ("filter", [{"video_id": "v1", "domain": "ct"}])):
        write_jsonl(paths[name], recs)
    assert run_shard(*paths.values(), str(tmp_path / "out.jsonl"), str(tmp_path / "ledger.jsonl")) == []
    assert [(r["unit"], r["reason"]) for r in read_jsonl(tmp_path / "ledger.jsonl")] == [("v1/0000", "no_medical_text")]
