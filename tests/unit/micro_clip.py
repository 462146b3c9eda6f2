"""The tiny OpenCLIP model spec (models.clip_configs format) that unit tests build, train and evaluate on CPU."""

from __future__ import annotations


def micro_clip_spec(context_length: int = 32, tokenizer: dict | None = None) -> dict:
    """A one-layer ViT-B/8-shaped model on 32 px images; `tokenizer` defaults to the simple CLIP tokenizer."""
    return {"name": "micro", "model_cfg": {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 64, "layers": 1, "head_width": 32},
        "text_cfg": {"context_length": context_length, "vocab_size": 49408, "width": 32, "heads": 1, "layers": 1}},
        "tokenizer": tokenizer or {"kind": "simple", "context_length": context_length}, "image_size": 32}
