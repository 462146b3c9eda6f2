"""Shipped English + medical vocabulary."""

from collections import Counter

from mednarratives.speech import vocabulary as V


def test_shipped_lists_load_and_are_small():
    v = V.load_vocabulary()
    s = v.summary()
    assert s["english_words"] > 50_000 and s["medical_words"] > 10_000 and s["ngrams"] > 50_000
    total = sum(p.stat().st_size for p in V.default_vocabulary_dir().iterdir() if p.is_file())
    assert total < 5 * 1024 * 1024
    for w in ("hepatocellular", "pneumothorax", "costophrenic", "anechoic", "effusion"):
        assert v.is_medical(w)
    assert "house" in v.english and not v.is_known("hepatosular")
    assert v.ngram_count(("pleural", "effusion")) > 0 and v.is_term(("hepatocellular", "carcinoma"))


def test_tokenize_and_chunks():
    assert V.tokenize("Left-sided pleural effusion, Alzheimer's") == ["left", "sided", "pleural", "effusion",
                                                                       "alzheimer"]
    assert V.chunks("Spontaneous tension pneumothorax (J93.0); other") == [["spontaneous", "tension", "pneumothorax"],
                                                                           ["other"]]


def test_counting_makes_ngrams_and_terms():
    words, ngrams, terms = Counter(), Counter(), Counter()
    V._count(["Malignant neoplasm of liver, hepatocellular carcinoma"], words, ngrams, terms)
    assert ngrams["neoplasm of liver"] == 1 and ngrams["hepatocellular carcinoma"] == 1
    assert "liver hepatocellular" not in ngrams  # n-grams stop at punctuation
    assert terms["malignant neoplasm"] == 1 and terms["hepatocellular carcinoma"] == 1 and "of liver" not in terms


def test_summary_is_relocatable(tmp_path):
    """Records carry the folder's name and the lists' digest, not a machine path: a copy elsewhere gives the same
    summary, an edited list another digest."""
    import shutil

    s = V.load_vocabulary().summary()
    assert "path" not in s and s["name"] == V.default_vocabulary_dir().name and len(s["sha256"]) == 64
    copy = tmp_path / V.default_vocabulary_dir().name
    shutil.copytree(V.default_vocabulary_dir(), copy)
    assert V.load_vocabulary(copy).summary() == s
    with open(copy / "imaging_terms.txt", "a") as f:
        f.write("newterm\n")
    V._load.cache_clear()
    assert V.load_vocabulary(copy).summary()["sha256"] != s["sha256"]
