"""The room tests' server harness fails loudly where it should and skips only where it may.

These run anywhere (no root, no server): a build failure must surface as an error with the
build's log (CI must not skip the room tests silently), a namespace that cannot be made
carries ``ip``'s exact error (the skip reason), and only the SDK's known abort at exit is
forgiven.
"""

from __future__ import annotations

import signal
import stat
from pathlib import Path

import pytest

import livekit_server as lks


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_a_failed_build_is_an_error_carrying_the_build_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = _script(tmp_path / "build.sh", "echo 'go: module lookup disabled' >&2\nexit 1")
    monkeypatch.setattr(lks, "BUILD_SCRIPT", failing)
    monkeypatch.setattr(lks, "_built", None)
    with pytest.raises(lks.BuildError, match=r"(?s)failed \(exit 1.*go: module lookup disabled"):
        lks.server_binary()
    with pytest.raises(lks.BuildError):  # remembered: not rebuilt for every room test
        lks.server_binary()


def test_a_build_that_prints_no_executable_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lks, "BUILD_SCRIPT", _script(tmp_path / "build.sh", "echo /nonexistent"))
    monkeypatch.setattr(lks, "_built", None)
    with pytest.raises(lks.BuildError, match="exit 0"):
        lks.server_binary()


def test_the_built_binary_is_what_the_script_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = _script(tmp_path / "server", "exit 0")
    build = _script(tmp_path / "build.sh", f"echo building... >&2\necho {binary}")
    monkeypatch.setattr(lks, "BUILD_SCRIPT", build)
    monkeypatch.setattr(lks, "_built", None)
    assert lks.server_binary() == binary


def test_a_namespace_that_cannot_be_made_raises_ip_s_exact_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    error = "mount --make-shared /run/netns failed: Operation not permitted"
    _script(bin_dir / "ip", f"echo '{error}' >&2\nexit 1")
    monkeypatch.setenv("PATH", str(bin_dir))
    message = f"`ip netns add lkf-test` failed: {error}"
    with pytest.raises(lks.NamespaceError) as raised, lks.network_namespace("lkf-test"):
        pass
    assert str(raised.value) == message


def test_no_ip_command_is_a_namespace_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(lks.NamespaceError, match="No such file"), lks.network_namespace("lkf-x"):
        pass


@pytest.mark.parametrize(
    ("returncode", "expected"), [(0, True), (1, False), (-signal.SIGABRT, False), (None, False)]
)
def test_the_sdk_abort_at_exit_is_no_longer_forgiven(
    returncode: int | None, expected: bool
) -> None:
    # lkframes closes the SDK at exit in an order that avoids the abort (livekit/_exit.py).
    assert lks.finished(returncode) is expected
