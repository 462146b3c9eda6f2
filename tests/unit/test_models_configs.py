"""open_clip local-dir model configs for the GenMedCLIP variants; nothing is downloaded."""

from __future__ import annotations

import json

import pytest
import torch

from mednarratives.models import clip_configs as C
from micro_clip import micro_clip_spec

WORDS = ["ct", "mri", "scan", "shows", "a", "lesion", "in", "the", "liver", "lung", "nodule", "image", "of"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def bert_tokenizer_dir(tmp_path):
    """A PubMedBERT-style tokenizer dir made locally (WordPiece vocab.txt, uncased): special ids 0..4."""
    out = tmp_path / "bert_tok"
    out.mkdir()
    (out / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    (out / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True}))
    return out


def test_paper_variants_match_the_paper(tmp_path):
    expect = {"genmedclip-32": (32, 77), "genmedclip": (16, 77), "genmedclip-pmb": (16, 256)}
    for name, (patch, ctx) in expect.items():
        cfg = C.read_model_config(C.write_model_dir(name, tmp_path / name))
        m = cfg["model_cfg"]
        assert m["vision_cfg"]["patch_size"] == patch and m["vision_cfg"]["width"] == 768
        assert m["vision_cfg"]["layers"] == 12 and m["vision_cfg"]["image_size"] == 224
        assert m["text_cfg"]["context_length"] == ctx
        assert cfg["preprocess_cfg"]["size"] == 224


def test_pmb_without_tokenizer_falls_back_to_bundled_bpe(tmp_path):
    import open_clip

    d = C.write_model_dir("genmedclip-pmb", tmp_path / "pmb")
    prov = json.loads((d / C.PROVENANCE_NAME).read_text())
    assert prov["tokenizer_used"] == "simple" and prov["fallbacks"]
    tok = open_clip.get_tokenizer(C.model_name(d))
    assert type(tok).__name__ == "SimpleTokenizer" and tok("a ct scan").shape == (1, 256)


def test_tiny_variant_is_small(tmp_path):
    d = C.write_model_dir("tiny", tmp_path / "tiny")
    n = C.count_parameters(d)
    assert 5_000_000 <= n <= 10_000_000
    assert C.read_model_config(d)["preprocess_cfg"]["size"] == 64


def test_local_hf_tokenizer_is_copied_and_used(tmp_path, bert_tokenizer_dir):
    import open_clip

    spec = micro_clip_spec(16, {"kind": "hf", "context_length": 24})
    d = C.write_model_dir(spec, tmp_path / "m", tokenizer_dir=bert_tokenizer_dir)
    prov = json.loads((d / C.PROVENANCE_NAME).read_text())
    assert prov["tokenizer_used"] == "hf" and prov["tokenizer"]["files"] == ["tokenizer_config.json", "vocab.txt"]
    text_cfg = C.read_model_config(d)["model_cfg"]["text_cfg"]
    assert text_cfg["vocab_size"] == 5 + len(WORDS) and text_cfg["pool_type"] == "eos"
    assert text_cfg["eos_id"] == 3 and text_cfg["pad_id"] == 0 and text_cfg["context_length"] == 24

    tok = open_clip.get_tokenizer(C.model_name(d))
    ids = tok(["CT scan shows a lesion"])
    assert type(tok).__name__ == "HFTokenizer" and ids.shape == (1, 24)
    assert ids[0, :7].tolist() == [2, 5, 7, 8, 9, 10, 3]          # [CLS] ct scan shows a lesion [SEP]
    model = open_clip.create_model(C.model_name(d), load_weights=False)
    with torch.no_grad():
        assert model.encode_text(ids).shape == (1, 32)


def test_local_hf_text_tower(tmp_path, bert_tokenizer_dir):
    import open_clip
    from transformers import BertConfig, BertModel

    hf_dir = tmp_path / "bert"
    cfg = BertConfig(vocab_size=5 + len(WORDS), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64)
    BertModel(cfg).save_pretrained(str(hf_dir))
    spec = micro_clip_spec(16, {"kind": "hf", "context_length": 24})
    d = C.write_model_dir(spec, tmp_path / "m", tokenizer_dir=bert_tokenizer_dir, text_model_dir=hf_dir)
    text_cfg = C.read_model_config(d)["model_cfg"]["text_cfg"]
    assert text_cfg["hf_model_name"] == str(hf_dir.resolve())
    model = open_clip.create_model(C.model_name(d))        # loads the local HF weights, offline
    tok = open_clip.get_tokenizer(C.model_name(d))
    with torch.no_grad():
        assert model.encode_text(tok(["liver nodule"])).shape == (1, 32)


def test_config_is_deterministic(tmp_path):
    a = C.write_model_dir("tiny", tmp_path / "a")
    b = C.write_model_dir("tiny", tmp_path / "b")
    assert (a / C.CONFIG_NAME).read_bytes() == (b / C.CONFIG_NAME).read_bytes()


def test_unknown_variant():
    with pytest.raises(KeyError):
        C.get_variant("nope")
