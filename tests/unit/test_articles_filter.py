"""Medical figure filter: caption keywords per domain (no classifier configured), acronyms case-sensitive."""

from __future__ import annotations

from mednarratives.articles.figure_filter import classify, keyword_domain, load_keywords

KW = load_keywords("resources/articles/caption_keywords.yaml")


def test_domain_from_caption_keywords():
    assert keyword_domain("Axial CT of the head showing a haemorrhage.", KW)[0] == "ct"
    assert keyword_domain("Coronal MRI and a T2-weighted image of the shoulder.", KW)[0] == "mri"
    assert keyword_domain("Colour fundus photograph of the retina.", KW)[0] == "ophthalmology"
    assert keyword_domain("Haematoxylin and eosin staining of colonic glands.", KW)[0] == "histopathology"
    assert keyword_domain("Frontal chest radiograph.", KW)[0] == "xray"


def test_acronyms_are_case_sensitive_and_whole_words():
    assert keyword_domain("The act of the doctor; Mr Smith in Oct.", KW) == ("illustration", {})
    assert keyword_domain("CTA of the neck", KW)[0] == "ct"


def test_most_hits_wins_and_no_hit_is_illustration():
    dom, hits = keyword_domain("Ultrasound (A) and Doppler ultrasound (B); CT for comparison (C).", KW)
    assert dom == "ultrasound" and hits == {"ct": 1, "ultrasound": 3}
    res = classify({"caption": "Bar chart of lesion volume by group (mean ± SD)."}, KW)
    assert res == {"medical": False, "domain": "illustration", "method": "caption_keywords", "scores": {},
                   "keep": True}


class FakeClassifier:
    def __init__(self, probs):
        self.probs = probs

    def predict(self, images):
        return [self.probs for _ in images]


def test_classifier_decides_when_configured():
    fig = {"caption": "Axial CT."}
    res = classify(fig, KW, FakeClassifier({"non_medical": 0.8, "ct": 0.2}), image=object())
    assert res["keep"] is False and res["method"] == "classifier" and res["domain"] is None
    res = classify(fig, KW, FakeClassifier({"non_medical": 0.1, "mri": 0.9}), image=object())
    assert res["keep"] is True and res["domain"] == "mri"
