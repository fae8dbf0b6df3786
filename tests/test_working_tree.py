"""The test run writes nothing into the working tree (the root conftest.py's fixtures)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
"""The doctests are collected from here, so the run imports lkframes from here too (also
where the tests run against an installed wheel: pytest would refuse two lkframes)."""

WRITING_DOCTESTS = {
    "src/lkframes/cli/_main.py::lkframes.cli._main.main": ["out.wav", "out.png"],
}
"""Doctests that write into the folder they run in (``main(["demo", ...])``, as a user
would), and what they write there."""


def _state(names: list[str]) -> dict[str, int | None]:
    """When each of ``names`` in the repository root was last changed; None: not there."""
    return {n: (ROOT / n).stat().st_mtime_ns if (ROOT / n).exists() else None for n in names}


def test_doctests_that_write_files_write_them_outside_the_repository(tmp_path: Path) -> None:
    names = [name for written in WRITING_DOCTESTS.values() for name in written]
    before = _state(names)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "pytest", *WRITING_DOCTESTS, "-v", "-p", "no:cacheprovider"]
    command += ["--basetemp", str(tmp_path / "basetemp")]  # not among this run's own
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        after = _state(names)
    finally:  # what a failure here wrote into the repository is removed again
        for name in (n for n in names if before[n] is None):
            if (ROOT / name).is_dir():
                shutil.rmtree(ROOT / name)
            else:
                (ROOT / name).unlink(missing_ok=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert done.stdout.count(" PASSED") == len(WRITING_DOCTESTS)
    assert after == before
