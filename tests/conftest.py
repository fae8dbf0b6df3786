"""Shared fixtures: every async test runs on both anyio backends (asyncio and trio); the
room tests get a real livekit-server in a network namespace (``livekit_server``) and
LiveKit's Go SDK programs as other clients (``go_client``, ``silent_publisher``)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from go_programs import GoBuildError, go_available, go_program

import impaired_network as imp
import livekit_server as lks
import pulse_server as pulse

collect_ignore = ["room_scenarios"]
"""Scripts that the room tests run in subprocesses, not test modules."""


def pytest_configure(config: pytest.Config) -> None:
    """Give the processes the tests start Ctrl-C and hang-up as a terminal would.

    A shell starts `cmd &` with SIGINT ignored, `nohup` ignores SIGHUP, and children
    inherit what is ignored: the CLI's Ctrl-C tests then saw their SIGINT do nothing (a
    suite run as `.ci/run &` failed 9 of them). The tests that need an ignored signal
    ignore it in their own child (`test_cli_files_as_they_come.py`).
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each ``@pytest.mark.anyio`` test once per backend."""
    return str(request.param)


def _uses_server(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return "livekit_server" in names or "impaired_server" in names


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that starts a server ``livekit``, before ``-m`` selects: a room test
    whose module forgot ``pytestmark`` (the simulator-against-server tests did) ran in
    CI's "all but the room tests" step."""
    for item in items:
        if _uses_server(item):
            item.add_marker(pytest.mark.livekit)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """Build livekit-server before the first room test, outside any test's timeout.

    A first build takes minutes; inside the fixture it would count against the per-test
    timeout. A failure is kept and reported by the fixture (the room tests fail with the
    build log); the other tests run as usual.
    """
    if not session.config.option.collectonly and any(map(_uses_server, session.items)):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:  # said first: a machine's first build is silent for minutes
            reporter.write_line(
                f"room tests: getting livekit-server from "
                f"{lks.BUILD_SCRIPT.relative_to(lks.ROOT)} (the first run on a machine builds "
                "it with Go, 2-5 minutes; later runs reuse ~/.cache/lkframes)...",
                flush=True,
            )
        started = time.monotonic()
        outcome = "ok"
        try:
            lks.server_binary()
        except lks.BuildError:
            outcome = "FAILED (the room tests will show the log)"
        if reporter is not None:
            reporter.write_line(
                f"room tests: livekit-server {outcome} ({time.monotonic() - started:.1f} s)"
            )
    return (yield)


@pytest.fixture(scope="session")
def livekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[lks.LiveKitServer]:
    """A livekit-server inside a network namespace made for this test session.

    Skips (with ``ip``'s exact error) where a namespace cannot be made, e.g. not root.
    Fails, with the build log, if livekit-server cannot be built: CI must not skip silently.
    """
    binary = _server_binary()
    with ExitStack() as stack:
        try:
            namespace = stack.enter_context(lks.network_namespace(f"lkf-{os.getpid()}"))
        except lks.NamespaceError as exc:
            pytest.skip(reason=str(exc))
        workdir = tmp_path_factory.mktemp("livekit-server")
        yield stack.enter_context(lks.running_server(binary, workdir, namespace))


@pytest.fixture(scope="session")
def impaired_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[imp.ImpairedServer]:
    """A second livekit-server, with its clients behind an impaired network
    (`impaired_network`: server, middle and client namespaces; loss, caps, an outage and
    delay applied in the middle with `ImpairedNetwork.impair`).

    Skips and fails as `livekit_server` does.
    """
    binary = _server_binary()
    with ExitStack() as stack:
        workdir = tmp_path_factory.mktemp("impaired-server")
        try:
            site = stack.enter_context(
                imp.impaired_server(binary, workdir, f"lkf-{os.getpid()}-imp")
            )
        except lks.NamespaceError as exc:
            pytest.skip(reason=str(exc))
        yield site


def _server_binary() -> Path:
    try:
        binary: Path | lks.BuildError = lks.server_binary()
    except lks.BuildError as exc:
        binary = exc
    if isinstance(binary, lks.BuildError):  # failed outside the except: no chained noise
        pytest.fail(str(binary), pytrace=False)
    return binary


@pytest.fixture(scope="session")
def pulse_audio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PulseAudio server with a null sink (`pulse_server`), named in ``PULSE_SERVER``
    for the session: ``to_speaker()`` plays into the sink, ``from_microphone()`` records
    its monitor.

    Skips with the reason where PulseAudio or PortAudio's route to it is missing; under CI
    (which installs both) it fails instead, so the device tests never skip silently there.
    """
    previous = os.environ.get("PULSE_SERVER")
    with ExitStack() as stack:
        try:
            server = stack.enter_context(pulse.pulse_server(tmp_path_factory.mktemp("pulse")))
        except pulse.PulseUnavailable as exc:
            problem: str | None = str(exc)
        else:
            os.environ["PULSE_SERVER"] = server
            problem = pulse.portaudio_problem()  # PortAudio lists 'pulse' once it answers
        try:
            if problem is not None:
                if os.environ.get("CI"):
                    pytest.fail(f"device tests: {problem}", pytrace=False)
                pytest.skip(reason=f"device tests: {problem}")
            yield server
        finally:
            if previous is None:
                os.environ.pop("PULSE_SERVER", None)
            else:
                os.environ["PULSE_SERVER"] = previous


def _go_built(name: str, role: str) -> Path:
    """``tests/NAME`` built (``tests/go_programs.py``); skipped only if Go is missing."""
    if not go_available():
        pytest.skip(f"{role} is a Go program and `go` is not installed")
    try:
        return go_program(name)
    except GoBuildError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def go_client() -> Path:
    """LiveKit's Go SDK client (tests/goclient): the A/V sync control, a publisher from Go."""
    return _go_built("goclient", "the Go client")


@pytest.fixture(scope="session")
def silent_publisher() -> Path:
    """LiveKit's Go SDK as a participant who stays but sends nothing (tests/silent_publisher)."""
    return _go_built("silent_publisher", "the silent publisher")
