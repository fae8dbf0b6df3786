"""The source tree shows the architecture (DESIGN.md): layers that import only downwards,
no import cycle, small modules and functions (a lazy ``import lkframes``: test_startup.py)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import lkframes

PACKAGE = Path(lkframes.__file__).resolve().parent

# What each part of the package may import from lkframes (besides itself).
LAYERS: dict[str, set[str]] = {
    "_core": set(),
    "stages": {"_core"},
    "sources": {"_core"},
    "io": {"_core"},
    "livekit": {"_core"},
    "dsp": {"_core"},
    "voice": {"_core"},
    "devices": {"_core", "sources"},
    "media": {"_core", "io", "livekit"},
    "pipeline": {"_core", "stages", "sources", "io", "livekit", "dsp", "voice"},
    "testing": {"_core"},
    "batch": {"_core", "io", "pipeline"},
    "cli": {
        "_core",
        "stages",
        "sources",
        "io",
        "livekit",
        "dsp",
        "voice",
        "devices",
        "media",
        "pipeline",
        "batch",
        "lkframes",
    },
}

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# The conformance kit's checkers: one long function each, a list of numbered checks.
LONG_CHECKERS = {"_stage_checks", "_sink_check", "_source_body", "conforms"}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("lkframes", *parts)).removesuffix(".__init__")
        yield name, path


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The ids of nodes inside ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return inside


@cache
def _imports(path: Path, name: str, *, runtime: bool = False) -> set[str]:
    """Every lkframes module ``path`` imports, at any depth of the file (only those that run
    when the module is used, with ``runtime``)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    tree = ast.parse(path.read_text())
    skip = _type_checking_nodes(tree) if runtime else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "lkframes"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "lkframes":
                # ``from lkframes import x`` names module x; the package itself is only
                # the parent that any import of a submodule runs first.
                if target != "lkframes" or not node.level:
                    found.add(target)
                found |= {f"{target}.{a.name}" for a in node.names}
    known = {module for module, _ in _modules()}
    return {m for m in found if m in known and m != name}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "lkframes"


@pytest.mark.parametrize(("name", "path"), list(_modules()), ids=lambda v: str(v))
def test_imports_point_down_the_layers(name: str, path: Path) -> None:
    part = _part(name)
    if part in ("lkframes", "__main__"):
        return  # the public face imports everything
    allowed = LAYERS[part] | {part}
    upward = sorted(m for m in _imports(path, name) if _part(m) not in allowed)
    assert upward == [], f"{name} ({part}) imports from a layer above it"


def test_no_import_cycle() -> None:
    graph = {name: _imports(path, name, runtime=True) for name, path in _modules()}
    # A package's __init__ re-exports its modules; importing a package from one of its own
    # modules would be the cycle, so edges into an __init__ from inside it count.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):
                continue  # a package importing its own modules
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name)


@pytest.mark.parametrize(("name", "path"), list(_modules()), ids=lambda v: str(v))
def test_modules_and_functions_are_small(name: str, path: Path) -> None:
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{name}: {len(lines)} lines"
    long = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.body[0]
        has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        start = (first.end_lineno or node.lineno) + 1 if has_doc else node.lineno
        length = (node.end_lineno or start) - start + 1
        if length > MAX_FUNCTION_LINES and node.name not in LONG_CHECKERS:
            long.append(f"{node.name}: {length} lines")
    assert long == []
