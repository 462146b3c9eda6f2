"""What each rule's code imports, and what its conda env (envs/*.yaml + its .post-deploy.sh) provides."""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import sys
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
# Imported inside a try with a fallback, deliberately left out of the envs (each stage says so in its ledger/log).
OPTIONAL = {
    "inaSpeechSegmenter": "videos.speech.backend: ina (TensorFlow); silero is the default",
    "pyarrow": "dataset samples table: Parquet with pyarrow, else TSV; the pinned venv has no pyarrow either",
}
NOT_PYTHON = {"python", "pip", "ffmpeg", "tesseract", "espeak-ng", "sox"}  # conda-only packages
# Modules whose distribution is not installed in the project venv (the stable-ts backend needs another torch).
DIST_OF = {"stable_whisper": "stable-ts", "torchaudio": "torchaudio"}


def rules() -> dict[str, tuple[str, str]]:
    """rule -> (env name, script path) for every rule with a conda env and a script."""
    out = {}
    for smk in sorted((REPO / "rules").glob("*.smk")):
        for name, body in re.findall(r"^(?:rule|checkpoint) (\w+):\n(.*?)(?=^\S|\Z)", smk.read_text(), re.M | re.S):
            env = re.search(r'conda:\s+"\.\./envs/(\w+)\.yaml"', body)
            script = re.search(r'script:\s+"\.\./(scripts/\w+\.py)"', body)
            if env and script:
                out[name] = (env.group(1), script.group(1))
    return out


def _source(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    return next((p for p in (base / "__init__.py", base.with_suffix(".py")) if p.is_file()), None)


class _Module:
    """One mednarratives module (or a script): its top-level definitions and what its top level imports."""

    def __init__(self, name: str, path: Path):
        self.name, self.tree = name, ast.parse(path.read_text())
        self.package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        self.defs = {n.name: n for n in self.tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        self.aliases: dict[str, tuple[str, str | None]] = {}  # local name -> (internal module, attribute or None)
        for node in self.top_level():
            for module, attr, local in self.imported(node):
                if module.startswith("mednarratives"):
                    self.aliases[local] = (module, attr)

    def top_level(self):
        """Nodes run when the module is imported (function bodies are not)."""
        todo = list(self.tree.body)
        while todo:
            node = todo.pop()
            yield node
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                todo += ast.iter_child_nodes(node)

    def imported(self, node) -> list[tuple[str, str | None, str]]:
        """(module, attribute or None, local name) of an import statement."""
        if isinstance(node, ast.Import):
            return [(a.name, None, a.asname or a.name.split(".")[0]) for a in node.names]
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            return [(base, a.name, a.asname or a.name) for a in node.names]
        return []


@functools.cache
@functools.cache
def _runnable_module(text: str) -> bool:
    """A dotted module name in a string: an entry point run as `python -m NAME` (not an attribute path)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+", text):
        return False
    if text.startswith("mednarratives."):
        return _source(text) is not None
    top = text.split(".")[0]
    if top in sys.stdlib_module_names or importlib.util.find_spec(top) is None:
        return False
    try:
        return importlib.util.find_spec(text) is not None
    except ImportError:
        return False


@functools.cache
def imports(script: str) -> frozenset[str]:
    """Dotted names of the third-party modules a rule's script can import: the top level of every mednarratives
    module it reaches, and the lazy imports (optional backends included) of the functions it can call."""
    found: set[str] = set()
    modules: dict[str, _Module] = {}
    todo: list[tuple[str, str | None]] = [("__script__", None)]
    seen = set()

    def module(name: str) -> _Module | None:
        if name not in modules:
            path = REPO / script if name == "__script__" else _source(name)
            if path is None:
                return None
            modules[name] = _Module(name, path)
            for parent in [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]:
                todo.append((parent, None))
        return modules[name]

    def visit(mod: _Module, nodes) -> None:
        for node in nodes:
            for target, attr, _ in mod.imported(node):
                if target.startswith("mednarratives"):
                    todo.append((target, None))
                    todo.append((target, attr))
                elif target and target.split(".")[0] not in sys.stdlib_module_names | {"snakemake", "__future__"}:
                    found.add(target)
                    if attr is not None:
                        found.add(f"{target}.{attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _runnable_module(node.value):
                if node.value.startswith("mednarratives."):  # `python -m mednarratives....` in a subprocess
                    todo.append((node.value, None))
                else:
                    found.add(node.value)
            if isinstance(node, ast.Name) and node.id in mod.defs:
                todo.append((mod.name, node.id))
            elif isinstance(node, ast.Name) and node.id in mod.aliases:
                todo.append(mod.aliases[node.id])
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in mod.aliases:
                target, attr = mod.aliases[node.value.id]
                todo.append((f"{target}.{attr}" if attr else target, node.attr))

    while todo:
        name, attr = todo.pop()
        if (name, attr) in seen:
            continue
        seen.add((name, attr))
        mod = module(name)
        if mod is None:  # `from package import name` where name is a submodule or not ours
            continue
        if attr is None:
            visit(mod, mod.top_level())
        elif attr in mod.defs:
            visit(mod, ast.walk(mod.defs[attr]))
        elif _source(f"{name}.{attr}"):
            todo.append((f"{name}.{attr}", None))
    return frozenset(n for n in found if n.split(".")[0] not in OPTIONAL)


def normalize(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def distribution(module: str) -> str:
    top = module.split(".")[0]
    dists = _distributions().get(top) or [DIST_OF.get(top, top)]
    return normalize(dists[0])


def env_spec(env: str) -> dict[str, dict[str, str]]:
    """{"conda": {name: version}, "pip": {name: version}} of envs/ENV.yaml and its post-deploy script."""
    spec = yaml.safe_load((REPO / f"envs/{env}.yaml").read_text())
    conda, pip = {}, {}
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            for req in dep["pip"]:
                name, _, version = req.partition("==")
                pip[normalize(name)] = version
        else:
            name, _, version = dep.partition("=")
            conda[normalize(name)] = version
    post = REPO / f"envs/{env}.post-deploy.sh"
    if post.exists():
        for name, version in re.findall(r"([A-Za-z0-9_.-]+)==([^\s]+)", post.read_text()):
            pip[normalize(name)] = version
    return {"conda": conda, "pip": pip}
