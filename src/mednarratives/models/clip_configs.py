"""GenMedCLIP model variants as open_clip ``local-dir`` model directories.

A model directory written by :func:`write_model_dir` holds::

    open_clip_config.json          {"model_cfg": {...}, "preprocess_cfg": {...}}  (open_clip's schema)
    mednarratives_variant.json     provenance: variant, tokenizer actually used, fallbacks taken
    tokenizer files (hf only)      tokenizer.json / vocab.txt / tokenizer_config.json ... copied from
                                   the local tokenizer dir (open_clip loads an HF tokenizer of a
                                   local-dir model from that same directory)
    open_clip_pytorch_model.bin    only when init_checkpoint is given: open_clip loads it as the
                                   model's initial weights (fine-tuning from a local checkpoint)

and is used as ``--model local-dir:<dir>`` by open_clip_train and by
``open_clip.create_model_and_transforms('local-dir:<dir>')``. Nothing here downloads anything.

Variants come from ``mednarratives/models/data/variants.yaml``: the three paper variants (ViT-B/32 + GPT2-style
text tower ctx 77; ViT-B/16 + PubMedBERT tokenizer ctx 256; ViT-B/16 + GPT2-style ctx 77) and the
``tiny`` CPU demo variant.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import os
import shutil
from pathlib import Path
from typing import Any, Mapping

import yaml

from mednarratives.io import atomic_path

DEFAULT_VARIANTS = importlib.resources.files("mednarratives.models") / "data" / "variants.yaml"

CONFIG_NAME = "open_clip_config.json"
PROVENANCE_NAME = "mednarratives_variant.json"
INIT_WEIGHTS_NAME = "open_clip_pytorch_model.bin"
# Files an HF tokenizer directory may consist of (copied verbatim into the model dir).
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "vocab.txt", "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model", "config.json",
)

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def load_variants(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The parsed variants file: ``{"paper_train": {...}, "variants": {name: {...}}}``."""
    with open(path or DEFAULT_VARIANTS, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def get_variant(name: str, variants_path: str | os.PathLike | None = None) -> dict[str, Any]:
    variants = load_variants(variants_path)["variants"]
    if name not in variants:
        raise KeyError(f"unknown CLIP variant {name!r}; known: {sorted(variants)}")
    spec = copy.deepcopy(variants[name])
    spec["name"] = name
    return spec


def _builtin_model_cfg(name: str) -> dict[str, Any]:
    import open_clip

    cfg = open_clip.get_model_config(name)
    if cfg is None:
        raise KeyError(f"open_clip has no built-in model config {name!r}")
    return copy.deepcopy(cfg)


def _preprocess_cfg(image_size: int) -> dict[str, Any]:
    return {
        "size": int(image_size), "mode": "RGB", "mean": list(OPENAI_MEAN), "std": list(OPENAI_STD),
        "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0,
    }


def _load_hf_tokenizer(directory: Path):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(directory), local_files_only=True)


def _hf_weights_present(directory: Path) -> bool:
    return any(directory.glob("*.safetensors")) or any(directory.glob("*.bin"))


def build_open_clip_config(
    variant: str | Mapping[str, Any],
    *,
    tokenizer_dir: str | os.PathLike | None = None,
    text_model_dir: str | os.PathLike | None = None,
    variants_path: str | os.PathLike | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(open_clip_config, provenance)`` for a variant (name or spec dict).

    ``tokenizer_dir`` / ``text_model_dir`` override the variant's ``tokenizer.dir`` /
    ``text_model_dir``. An ``hf`` tokenizer whose directory is unset or missing falls back to
    open_clip's bundled BPE tokenizer (recorded in the provenance).
    """
    spec = get_variant(variant, variants_path) if isinstance(variant, str) else copy.deepcopy(dict(variant))
    name = spec.get("name", "custom")
    model_cfg = copy.deepcopy(spec["model_cfg"]) if "model_cfg" in spec else _builtin_model_cfg(spec["base_model"])
    tok = dict(spec.get("tokenizer") or {"kind": "simple"})
    context_length = int(tok.get("context_length", model_cfg["text_cfg"].get("context_length", 77)))
    image_size = int(spec.get("image_size", model_cfg["vision_cfg"].get("image_size", 224)))
    model_cfg["vision_cfg"]["image_size"] = image_size

    prov: dict[str, Any] = {
        "variant": name, "paper_name": spec.get("paper_name"), "base_model": spec.get("base_model"),
        "requested_tokenizer": tok.get("kind", "simple"), "fallbacks": [],
    }
    text_cfg = model_cfg["text_cfg"]
    tok_dir = tokenizer_dir if tokenizer_dir is not None else tok.get("dir")
    hf_model = text_model_dir if text_model_dir is not None else spec.get("text_model_dir")

    kind = tok.get("kind", "simple")
    if kind == "hf":
        if not tok_dir or not Path(tok_dir).is_dir():
            prov["fallbacks"].append(
                f"hf tokenizer dir {tok_dir!r} not available: using open_clip's bundled BPE tokenizer "
                f"(vocab 49408) with context {context_length}")
            kind = "simple"
            hf_model = None
    if kind == "simple":
        text_cfg["context_length"] = context_length
        text_cfg["vocab_size"] = 49408
        for key in ("hf_tokenizer_name", "hf_model_name", "tokenizer_kwargs"):
            text_cfg.pop(key, None)
        prov["tokenizer"] = {"kind": "simple", "context_length": context_length, "vocab_size": 49408}
        prov["text_tower"] = "open_clip TextTransformer (causal, argmax/EOT pooling)"
    elif kind == "hf":
        tok_dir = Path(tok_dir).resolve()
        hf_tok = _load_hf_tokenizer(tok_dir)
        vocab_size = len(hf_tok)
        eos_id = hf_tok.sep_token_id if hf_tok.sep_token_id is not None else hf_tok.eos_token_id
        pad_id = hf_tok.pad_token_id if hf_tok.pad_token_id is not None else 0
        prov["tokenizer"] = {"kind": "hf", "source_dir": str(tok_dir), "context_length": context_length,
                             "vocab_size": vocab_size, "eos_id": eos_id, "pad_id": pad_id,
                             "class": type(hf_tok).__name__}
        if hf_model:
            hf_model = Path(hf_model).resolve()
            if not (hf_model / "config.json").is_file() or not _hf_weights_present(hf_model):
                raise FileNotFoundError(
                    f"text_model_dir {hf_model} must hold an HF model (config.json and weights)")
            model_cfg["text_cfg"] = {
                "hf_model_name": str(hf_model), "hf_tokenizer_name": str(tok_dir),
                "hf_proj_type": "mlp", "hf_pooler_type": "cls_last_hidden_state_pooler",
                "context_length": context_length,
            }
            prov["text_tower"] = f"HF model {hf_model} (CLS pooling, MLP projection)"
        else:
            if eos_id is None:
                raise ValueError(f"tokenizer in {tok_dir} has neither sep nor eos token")
            text_cfg.update({
                "context_length": context_length, "vocab_size": vocab_size,
                "hf_tokenizer_name": str(tok_dir), "pad_id": int(pad_id), "eos_id": int(eos_id),
                "pool_type": "eos",
            })
            prov["text_tower"] = "open_clip TextTransformer (causal, pooled at the tokenizer's SEP/EOS)"
    else:
        raise ValueError(f"unknown tokenizer kind {kind!r} (simple or hf)")

    prov["tokenizer_used"] = kind
    config = {"model_cfg": model_cfg, "preprocess_cfg": _preprocess_cfg(image_size)}
    return config, prov


def write_model_dir(
    variant: str | Mapping[str, Any],
    out_dir: str | os.PathLike,
    *,
    tokenizer_dir: str | os.PathLike | None = None,
    text_model_dir: str | os.PathLike | None = None,
    init_checkpoint: str | os.PathLike | None = None,
    variants_path: str | os.PathLike | None = None,
) -> Path:
    """Write the open_clip local-dir model directory for ``variant``; returns ``out_dir``.

    Use it as ``--model local-dir:<out_dir>`` (training) or ``open_clip.create_model_and_transforms(
    'local-dir:<out_dir>')``. ``init_checkpoint`` (a local open_clip state dict or training
    checkpoint) is copied in as initial weights; without it the towers start from random init.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config, prov = build_open_clip_config(
        variant, tokenizer_dir=tokenizer_dir, text_model_dir=text_model_dir, variants_path=variants_path)
    for stale in [*TOKENIZER_FILES, INIT_WEIGHTS_NAME]:
        (out / stale).unlink(missing_ok=True)
    if prov["tokenizer_used"] == "hf":
        src = Path(prov["tokenizer"]["source_dir"])
        copied = []
        for fname in TOKENIZER_FILES:
            if (src / fname).is_file():
                shutil.copyfile(src / fname, out / fname)
                copied.append(fname)
        prov["tokenizer"]["files"] = copied
    if init_checkpoint is not None:
        shutil.copyfile(init_checkpoint, out / INIT_WEIGHTS_NAME)
        prov["init_checkpoint"] = str(Path(init_checkpoint).resolve())
    with atomic_path(out / CONFIG_NAME) as tmp:
        tmp.write_text(json.dumps(config, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    with atomic_path(out / PROVENANCE_NAME) as tmp:
        tmp.write_text(json.dumps(prov, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return out


def model_name(model_dir: str | os.PathLike) -> str:
    """open_clip model identifier of a model directory (absolute ``local-dir:`` path)."""
    return f"local-dir:{Path(model_dir).resolve()}"


def read_model_config(model_dir: str | os.PathLike) -> dict[str, Any]:
    return json.loads((Path(model_dir) / CONFIG_NAME).read_text(encoding="utf-8"))


def count_parameters(model_dir: str | os.PathLike) -> int:
    """Number of parameters of the model a directory describes (built on CPU, random init)."""
    import open_clip

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = open_clip.create_model(model_name(model_dir), load_weights=False, pretrained_text=False)
    return sum(p.numel() for p in model.parameters())
