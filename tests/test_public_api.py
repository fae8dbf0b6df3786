"""The public face: ``__all__`` lists every public name, each documented (anyio-style)."""

from __future__ import annotations
import __future__

import ast
import importlib
import inspect
import itertools
import pkgutil
import re
import types
from functools import cache
from pathlib import Path

import pytest

import lkframes


@cache
def _attribute_docstrings() -> dict[str, str]:
    """Docstrings written under module-level assignments (``X = ...`` then a string).

    Type aliases such as ``DType = Literal[...]`` cannot carry ``__doc__`` at run time;
    documentation tools read the string that follows the assignment instead.
    """
    docs: dict[str, str] = {}
    for info in pkgutil.walk_packages(lkframes.__path__, "lkframes."):
        if info.name.endswith("__main__"):
            continue
        source = inspect.getsource(importlib.import_module(info.name))
        body = ast.parse(source).body
        for node, following in itertools.pairwise(body):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                for target in targets:
                    if isinstance(target, ast.Name):
                        docs[target.id] = following.value.value
    return docs


def _doc(obj: object, name: str) -> str:
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return (obj.__doc__ or "").strip()  # not inspect.getdoc: no inherited docstrings
    return _attribute_docstrings().get(name, "").strip()


def _public_module(name: str) -> types.ModuleType:
    if name == "lkframes":
        return lkframes
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.skip(f"{name} cannot be imported here ({exc})")


MODULES = ["lkframes", "lkframes.testing", "lkframes.batch"]


@pytest.mark.parametrize("module_name", MODULES)
def test_all_is_a_sorted_tuple_of_existing_documented_names(module_name: str) -> None:
    module = _public_module(module_name)
    exported = module.__all__
    assert isinstance(exported, tuple)
    assert list(exported) == sorted(exported)
    assert len(set(exported)) == len(exported)
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []
    undocumented = [name for name in exported if not _doc(getattr(module, name), name)]
    assert undocumented == []


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_in_all(module_name: str) -> None:
    module = _public_module(module_name)
    public = {
        name
        for name in dir(module)
        if not name.startswith("_")
        and not isinstance(getattr(module, name), types.ModuleType | __future__._Feature)
    }
    assert sorted(public - set(module.__all__)) == []


def test_public_classes_and_functions_come_from_lkframes() -> None:
    foreign = [
        name
        for name in lkframes.__all__
        if (inspect.isclass(obj := getattr(lkframes, name)) or inspect.isroutine(obj))
        and not obj.__module__.startswith("lkframes.")
    ]
    assert foreign == []


def test_private_modules_are_not_exported() -> None:
    assert not any(name.startswith("_") for name in lkframes.__all__)


def test_version_is_a_string() -> None:
    assert isinstance(lkframes.__version__, str)
    assert lkframes.__version__[0].isdigit()


def _is_alias(obj: object, name: str) -> bool:
    """A type alias or other non-class, non-callable name, documented in the source."""
    return not (inspect.isclass(obj) or inspect.isroutine(obj)) or name in _attribute_docstrings()


def _docs_missing(module_name: str) -> list[str]:
    module = _public_module(module_name)
    problems: list[str] = []
    for name in module.__all__:
        obj = getattr(module, name)
        doc = inspect.cleandoc(_doc(obj, name))
        lines = doc.splitlines()
        if not lines or not lines[0].strip() or (len(lines) > 1 and lines[1].strip()):
            problems.append(f"{name}: no one-line summary")
        if "\nExamples:\n" not in doc:
            problems.append(f"{name}: no Examples section")
        elif ">>> " not in doc.split("\nExamples:\n", 1)[1]:
            problems.append(f"{name}: Examples section without a doctest")
        callable_ = not inspect.isclass(obj) and not _is_alias(obj, name)
        if callable_ and "\nRaises:\n" not in doc:
            problems.append(f"{name}: no Raises section")
        if "Raises:\n    None" in doc:
            problems.append(f"{name}: 'Raises: None'")
    return problems


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_has_summary_examples_and_raises(module_name: str) -> None:
    assert _docs_missing(module_name) == []


def test_the_api_reference_lists_every_public_name() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    listed = set(re.findall(r"^::: lkframes\.(\w+)$", page, re.MULTILINE))
    assert sorted(set(lkframes.__all__) - listed) == []
    assert sorted(listed - set(lkframes.__all__) - {"testing", "batch"}) == []
