"""What users install: the version, the typing marker, the metadata. CI runs these tests
against the built wheel too (``.ci/test-wheel``), where a file missing from the wheel or
metadata out of step with pyproject.toml fails them."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import lkframes

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
INSTALLED = Path(lkframes.__file__).resolve().parent


def test_version_comes_from_the_installed_metadata() -> None:
    assert lkframes.__version__ == importlib.metadata.version("lkframes")
    assert lkframes.__version__ == PYPROJECT["version"]  # installed from this tree
    done = subprocess.run(
        [sys.executable, "-m", "lkframes", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"lkframes {PYPROJECT['version']}"


def test_the_installed_package_has_every_file_of_the_source_tree() -> None:
    source = ROOT / "src" / "lkframes"
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    # not caches: __pycache__, or a .mypy_cache left by a tool run inside the tree
    wanted = {p for p in wanted if not any(part.startswith((".", "__py")) for part in p.parts)}
    assert Path("py.typed") in wanted
    missing = sorted(str(p) for p in wanted if not (INSTALLED / p).is_file())
    assert missing == []


def test_metadata_states_the_supported_pythons_and_ci_tests_each() -> None:
    metadata = importlib.metadata.metadata("lkframes")
    assert metadata["Requires-Python"] == PYPROJECT["requires-python"] == ">=3.11"
    classifiers = metadata.get_all("Classifier") or []
    versions = sorted(c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c))
    assert versions == ["3.11", "3.12", "3.13"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python --version" in ci  # 3.11: the machine's python, editable install
    for version in versions[1:]:
        assert re.search(rf"\.ci/test-wheel \"\$wheel\" {re.escape(version)} ", ci), version
    assert "Typing :: Typed" in classifiers


def test_the_oldest_livekit_allowed_is_the_one_livekit_agents_pins() -> None:
    # CI tests the floor (on 3.12) and the newest (3.11, 3.13); the floor is what an
    # lkframes[agents] install resolves to, so that install is a tested one.
    (requirement,) = [r for r in PYPROJECT["dependencies"] if r.startswith("livekit")]
    assert requirement.split("#")[0].replace(" ", "") == "livekit>=1.1.21,<2"


def test_the_changelog_has_a_section_for_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(
        rf"^## \[{re.escape(PYPROJECT['version'])}\] - \d{{4}}-\d\d-\d\d$", changelog, re.M
    )
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{PYPROJECT['version']}]")
