"""WER and word-timestamp agreement."""

import random

import pytest

from mednarratives.speech import metrics as S


def test_normalisation_and_wer_counts():
    assert S.normalize_words("The left-sided Pneumothorax, isn't it?") == ["the", "left", "sided", "pneumothorax",
                                                                           "isn't", "it"]
    r = S.wer("a small pleural effusion", "a small clearly fusion here")
    assert (r["substitutions"], r["deletions"], r["insertions"], r["hits"]) == (2, 0, 1, 2)
    assert r["wer"] == pytest.approx(3 / 4)
    assert S.wer("x y", "x y")["wer"] == 0.0
    assert S.wer("", "")["wer"] == 0.0


def test_wer_and_the_timestamp_alignment_count_the_same_edits():
    """jiwer's WER and ``align`` (the timestamp pairing) may pick different alignments, never more edits."""
    rng = random.Random(0)
    for _ in range(300):
        ref = [rng.choice("abcde") for _ in range(rng.randint(0, 12))]
        hyp = [rng.choice("abcdef") for _ in range(rng.randint(0, 12))]
        edits = sum(op != "ok" for op, _, _ in S.align(ref, hyp))
        assert S.wer(ref, hyp)["wer"] == edits / max(len(ref), 1)
    assert S.wer("", "two words")["wer"] == 2.0


def test_timestamp_agreement_aligns_words():
    ref = [{"word": w, "start": float(i), "end": i + 0.5} for i, w in enumerate("a small pleural effusion".split())]
    hyp = [{"word": "a", "start": 0.1, "end": 0.4}, {"word": "small", "start": 1.2, "end": 1.6},
           {"word": "clearly-fusion", "start": 2.0, "end": 3.6}]
    r = S.timestamp_agreement(ref, hyp, tolerance=0.5)
    # "clearly-fusion" splits into two tokens sharing its span: starts 2.0 and 2.0 + 1.6 * 7/13 = 2.86
    assert r["n_ref"] == 4 and r["n_aligned"] == 4
    assert r["agreement"] == pytest.approx(1.0)
    late = [dict(w, start=w["start"] + 0.7) for w in hyp]
    # starts move by 0.7 s (ends stay): only "fusion" (2.7 + 0.9 * 7/13 = 3.18 vs 3.0) stays within 0.5 s
    assert S.timestamp_agreement(ref, late)["agreement"] == pytest.approx(0.25)


def test_british_spellings_are_not_errors():
    from mednarratives.speech.metrics import wer

    assert wer("the grey colour of the tumour", "The gray color of the tumor.")["wer"] == 0.0
    assert wer("the grey lesion", "the green lesion")["wer"] == 1 / 3
