"""Root pytest configuration, shared by tests/ and the doctests in src/.

Hypothesis profile: ``dev`` (60 examples) by default, ``ci`` (200) when CI is set, or any
registered one named by LKFRAMES_HYPOTHESIS_PROFILE (``long``: 5 000, for fuzzing runs).

The run writes nothing into the working tree: each doctest runs in an empty temporary
folder (so an example may write ``out.wav`` as a user would), the docs' code blocks too
(tests/test_docs.py), tests write under ``tmp_path``, and a file or folder that appears in
the tree during the run fails it (`_working_tree_stays_clean`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from lkframes.testing import open_resources

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("LKFRAMES_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(autouse=True)
def _nothing_left_open() -> Iterator[None]:
    """aiostream-style resource check: every test must close what lkframes opened."""
    before = open_resources()
    yield
    after = open_resources()
    assert after == before, f"lkframes resources left open by this test: {after} (before: {before})"


@pytest.fixture(autouse=True)
def _doctests_in_tmp_path(request: pytest.FixtureRequest) -> None:
    """A doctest runs in an empty temporary folder: ``main(["demo"])`` writes out.wav there."""
    if isinstance(request.node, pytest.DoctestItem):
        request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))


ROOT = Path(__file__).resolve().parent
NOT_CHECKED = frozenset({"__pycache__", "venv", "node_modules"})
"""Folders not looked into (besides hidden ones: .git, .hypothesis, .pytest_cache, .venv...):
caches that a run may write, and environments that may be large."""


def working_tree(root: Path) -> set[Path]:
    """Every file and folder under ``root`` (relative to it), outside `NOT_CHECKED` and
    hidden folders."""
    found: set[Path] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in NOT_CHECKED and not d.startswith(".")]
        base = Path(folder).relative_to(root)
        found.update(base / name for name in (*dirs, *files))
    return found


@pytest.fixture(scope="session", autouse=True)
def _working_tree_stays_clean() -> Iterator[None]:
    """Fail the run if a test, doctest or docs block wrote into the working tree."""
    before = working_tree(ROOT)
    yield
    new = sorted(str(path) for path in working_tree(ROOT) - before)
    if new:
        pytest.fail(
            f"this test run wrote into the working tree {ROOT}: {', '.join(new)} "
            "(tests write under tmp_path; delete these)",
            pytrace=False,
        )
