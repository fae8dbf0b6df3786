"""Go programs the room tests run as other LiveKit clients (LiveKit's Go SDK), built once.

Each program is a folder of ``tests/`` with a ``go.mod`` (``goclient``: the A/V sync
control; ``silent_publisher``: a participant who stays but sends nothing). It is built with
``go build`` into a machine-wide cache keyed by a hash of its sources
(``~/.cache/lkframes/go-programs``), so a fresh clone reuses it and a changed source builds
anew. Go's module, build and path caches are ``~/.cache/lkframes/{gomodcache,gocache,gopath}``
(``LKFRAMES_CACHE`` moves them all). A build is tried 3 times, 10 and 20 s apart: the first
one downloads modules through the Go module proxy, which is now and then slow. Build before
entering a network namespace.

    python tests/go_programs.py             # build every program, print their paths
    python tests/go_programs.py goclient    # build one (scripts/go-programs.sh does this)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("LKFRAMES_CACHE", Path.home() / ".cache" / "lkframes"))
BUILD_TIMEOUT_S = 15 * 60
ATTEMPTS = 3


class GoBuildError(Exception):
    """``go build`` failed; the message carries its output."""


def go_available() -> bool:
    """Whether a ``go`` command is on the PATH."""
    return shutil.which("go") is not None


def programs() -> list[str]:
    """The names of the Go programs under ``tests/`` (folders with a ``go.mod``)."""
    return sorted(p.parent.name for p in TESTS.glob("*/go.mod"))


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    for variable, folder in (
        ("GOPATH", "gopath"),
        ("GOMODCACHE", "gomodcache"),
        ("GOCACHE", "gocache"),
    ):
        (CACHE / folder).mkdir(parents=True, exist_ok=True)
        env[variable] = str(CACHE / folder)
    env["GOFLAGS"] = "-mod=readonly"  # go.sum pins every module; never rewrite it
    return env


def _build(source: Path, partial: Path) -> str | None:
    """One ``go build``; None on success, else what went wrong."""
    try:
        done = subprocess.run(
            ["go", "build", "-o", str(partial), "."],
            cwd=source,
            env=_go_env(),
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"go build could not run: {exc}"
    if done.returncode != 0:
        return f"go build failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    return None


def go_program(name: str) -> Path:
    """The binary of ``tests/NAME`` (a Go main package), built if not cached.

    Raises:
        GoBuildError: ``go`` is missing, or ``go build`` failed 3 times (the last output).
    """
    source = TESTS / name
    if not (source / "go.mod").is_file():
        raise GoBuildError(f"no Go program {name!r}: {source}/go.mod does not exist")
    files = sorted(p for p in source.iterdir() if p.suffix in {".go", ".mod", ".sum"})
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    binary = CACHE / "go-programs" / f"{name}-{digest.hexdigest()[:16]}"
    if os.access(binary, os.X_OK):
        return binary
    if not go_available():
        raise GoBuildError(f"`go` is not installed: cannot build tests/{name}")
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name(binary.name + ".partial")
    failure = ""
    for attempt in range(1, ATTEMPTS + 1):
        print(f"building tests/{name} (attempt {attempt} of {ATTEMPTS})...", file=sys.stderr)
        failure = _build(source, partial) or ""
        if not failure:
            partial.replace(binary)
            return binary
        if attempt < ATTEMPTS:
            time.sleep(attempt * 10)
    raise GoBuildError(f"tests/{name}: {failure}")


def main(argv: list[str]) -> int:
    """Build the programs named (all if none) and print one path per line."""
    try:
        for name in argv or programs():
            print(go_program(name))
    except GoBuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
