"""The package layout (DESIGN.md "Shape"): data flows one way through the stage packages, the product never imports
the demo generator, and nothing in the packages reaches into the repository or a fixed system path, so a
non-editable `pip install .` runs the workflow (tests/integration/test_install.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PRODUCT, DEMO = "mednarratives", "mednarratives_demo"
# Stage packages in data order: each may import the ones before it, never one after it
# (videos -> speech -> text; frames -> traces -> align; articles; narratives -> dataset -> models -> benchmark).
STAGES = ("videos", "speech", "text", "frames", "traces", "align", "articles", "narratives", "dataset", "models",
          "benchmark")
# The common modules every stage may use; they import no stage package.
COMMON = ("assets", "domains", "geometry", "io", "ledger", "settings", "smk")


def modules(package: str) -> list[tuple[str, Path]]:
    return [(".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"), p)
            for p in sorted((SRC / package).rglob("*.py"))]


def imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported module or module.attribute, line) of every import in the file, those inside functions included;
    relative imports resolved; `importlib.import_module("...")` with a literal name counted too."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out += [(f"{base}.{a.name}", node.lineno) for a in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            out.append((node.args[0].value, node.lineno))
    return out


def part(module: str) -> str | None:
    """The sub-package (or top-level module) of mednarratives a dotted name lies in."""
    parts = module.split(".")
    return parts[1] if parts[0] == PRODUCT and len(parts) > 1 else None


def edges() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) sub-package pairs -> where."""
    out: dict[tuple[str, str], list[str]] = {}
    for module, path in modules(PRODUCT):
        src = part(module)
        for name, line in imports(module, path):
            dst = part(name)
            if src and dst and dst != src:
                out.setdefault((src, dst), []).append(f"{path.relative_to(SRC)}:{line}")
    return out


def test_every_sub_package_is_a_stage_or_common():
    found = {part(m) for m, _ in modules(PRODUCT)} - {None}
    assert found == set(STAGES) | set(COMMON), found ^ (set(STAGES) | set(COMMON))


def test_no_import_cycle_between_sub_packages():
    graph: dict[str, set[str]] = {}
    for src, dst in edges():
        graph.setdefault(src, set()).add(dst)
    state: dict[str, int] = {}  # 1: on the DFS stack, 2: done

    def cycle_from(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := cycle_from(nxt, stack + [nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        cycle = None if start in state else cycle_from(start, [start])
        assert cycle is None, " -> ".join(cycle)


def test_stages_import_only_earlier_stages_and_common_modules_no_stage():
    late = {pair: where for pair, where in edges().items()
            if pair[1] in STAGES and (pair[0] in COMMON or STAGES.index(pair[1]) > STAGES.index(pair[0]))}
    assert not late, "\n".join(f"{a} imports the later stage {b}: {w}" for (a, b), w in late.items())


def test_the_product_never_imports_the_demo_generator():
    found = [f"{path.relative_to(SRC)}:{line} {name}" for module, path in modules(PRODUCT)
             for name, line in imports(module, path) if name.split(".")[0] == DEMO]
    assert not found


@pytest.mark.parametrize("package", [PRODUCT, DEMO])
def test_no_repository_or_fixed_system_paths(package):
    """`parents[...]` climbs from a module into the repository, which `pip install .` does not ship; fixed
    /usr/share paths belong in config or the documentation (Python files only: a data README may name them)."""
    climbs, system = {}, []
    for _, path in modules(package):
        rel = str(path.relative_to(SRC))
        text = path.read_text(encoding="utf-8")
        if n := len(re.findall(r"\bparents\[", text)):
            climbs[rel] = n
        system += [f"{rel}:{i}" for i, line in enumerate(text.splitlines(), 1) if "/usr/share" in line]
    assert climbs == {}
    assert not system


def test_package_data_is_declared_for_every_data_folder():
    """Every file under a package's data/ folder matches a pyproject package-data pattern, so it is installed."""
    import tomllib

    declared = tomllib.loads((SRC.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    files = sorted(p for p in (SRC / PRODUCT).rglob("data/**/*") if p.is_file() and "__pycache__" not in p.parts)
    assert files
    for f in files:
        owner = f.relative_to(SRC).parts[: f.relative_to(SRC).parts.index("data")]
        patterns = declared.get(".".join(owner), [])
        rel = f.relative_to(SRC.joinpath(*owner))
        assert any(rel.match(p) for p in patterns), f"{f.relative_to(SRC)} not in pyproject package-data"
