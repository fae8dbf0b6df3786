"""Go programs the room tests run as other LiveKit clients (LiveKit's Go SDK), built once.

Each program is a folder of ``tests/`` with a ``go.mod``; it is built with ``go build`` into
a machine-wide cache keyed by a hash of its sources (``~/.cache/lkframes/go-programs``), so
a fresh clone reuses it and a changed source builds anew. Go's module and build caches are
``~/.cache/lkframes/{gomodcache,gocache,gopath}`` where they exist. Build before entering a
network namespace: the first build downloads modules through the Go module proxy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CACHE = Path.home() / ".cache" / "lkframes"
BUILD_TIMEOUT_S = 15 * 60


class GoBuildError(Exception):
    """``go build`` failed; the message carries its output."""


def go_available() -> bool:
    """Whether a ``go`` command is on the PATH."""
    return shutil.which("go") is not None


def go_program(name: str) -> Path:
    """The binary of ``tests/NAME`` (a Go main package), built if not cached.

    Raises:
        GoBuildError: ``go build`` failed or timed out.
    """
    source = TESTS / name
    files = sorted(p for p in source.iterdir() if p.suffix in {".go", ".mod", ".sum"})
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    binary = CACHE / "go-programs" / f"{name}-{digest.hexdigest()[:16]}"
    if os.access(binary, os.X_OK):
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for variable, folder in (("GOMODCACHE", "gomodcache"), ("GOCACHE", "gocache")):
        if (CACHE / folder).is_dir():
            env.setdefault(variable, str(CACHE / folder))
    partial = binary.with_name(binary.name + ".partial")
    try:
        done = subprocess.run(
            ["go", "build", "-o", str(partial), "."],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GoBuildError(f"go build of {source} could not run: {exc}") from None
    if done.returncode != 0:
        raise GoBuildError(f"go build of {source} failed:\n{done.stdout}\n{done.stderr}")
    partial.replace(binary)
    return binary
