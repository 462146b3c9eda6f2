"""Rule backend of the text stage: utterances, chatter, ROI text, entities, keywords, tags."""

from mednarratives.text import extract as ex


def _speech(sentences, gap=0.3):
    words, t = [], 0.0
    for s in sentences:
        for w in s.split():
            words.append({"word": w, "start": round(t, 3), "end": round(t + 0.3, 3), "p": 0.9})
            t += 0.35
        t += gap
    return {"video_id": "v1", "model": {"name": "x"}, "words": words,
            "segments": [{"text": " ".join(sentences), "start": 0.0, "end": t}]}


SENTS = ["Welcome back to our radiology teaching series on computed tomography.",
         "The vertebral body and pedicles form a ring around the spinal canal.",
         "Look here at the frontal bone, where the inner and outer tables are intact.",
         "Thanks for watching, next time we will review another case."]


def test_utterances_split_on_sentence_end_with_times():
    utts = ex.utterances_from_speech(_speech(SENTS))
    assert [u["text"] for u in utts] == SENTS
    assert utts[1]["start"] > utts[0]["end"]
    assert ex.utterances_from_speech({"words": [], "segments": []}) == []


def test_rule_backend_medical_roi_and_chatter():
    rec = ex.extract(_speech(SENTS))
    u = rec["utterances"]
    assert u[0]["medical_text"] == "" and u[0]["roi_text"] == ""            # chatter dropped
    assert u[1]["medical_text"].startswith("The vertebral body") and u[1]["roi_text"] == ""
    assert u[2]["medical_text"] == "" and u[2]["roi_text"].startswith("the frontal bone")
    assert "look" not in u[2]["roi_text"].lower()
    assert u[3]["medical_text"] == "" and u[3]["keywords"] == []
    ents = {e["text"] for e in u[1]["entities"]}
    assert {"vertebral body", "spinal canal"} <= ents
    assert all(e["id"] and e["vocab"] for e in u[1]["entities"])
    assert "vertebral body" in u[1]["keywords"]
    assert u[1]["subdomain"] == "spine" and u[2]["subdomain"] in ("neuro", "musculoskeletal")
    assert rec["model"]["backend"] == "rules" and rec["fallbacks"] == []


def test_modalities_and_subdomain_tags():
    assert ex.modalities("An axial CT and a T2 weighted MRI of the liver.") == ["ct", "mri"]
    assert ex.modalities("nothing to see") == []
    assert ex.subdomain("the liver and the kidney") == "abdomen"
    assert ex.subdomain("hello") == "general"


def test_new_words_and_entities_longest_match():
    assert ex.new_words("the spinal canal", "The spinal canal is wide.") == []
    assert ex.new_words("a fractured spine", "The spine.") == ["a", "fractured"]
    ents = ex.entities("a compression fracture of the vertebral body")
    assert [e["text"] for e in ents][:2] == ["compression fracture", "vertebral body"]


def test_deterministic():
    assert ex.extract(_speech(SENTS)) == ex.extract(_speech(SENTS))
