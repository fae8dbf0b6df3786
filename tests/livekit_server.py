"""A real livekit-server for the room tests, inside a network namespace of its own.

WebRTC ignores loopback adapters, so a server and clients meeting on 127.0.0.1 sign in but
never connect media. Instead the tests make a network namespace with a veth pair
(10.77.0.1 and 10.77.0.2, both inside it, no route out), run the server there, and run every
LiveKit *client* in a subprocess started with ``ip netns exec`` (the SDK's native threads
cannot be moved into a namespace once started). Nothing leaves the namespace.

The server binary comes from ``scripts/livekit-server.sh`` (built once per machine and
cached). Used by the ``livekit_server`` fixture in ``conftest.py``. Making a namespace needs
root (CAP_SYS_ADMIN); without it the room tests skip with ``ip``'s error.

A test session killed with SIGKILL cannot clean up: its namespace ``lkf-<pid>`` and the
server in it stay. ``ip netns pids lkf-<pid>`` lists them; kill those, then
``ip netns del lkf-<pid>``.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lkframes

ROOT = Path(__file__).resolve().parents[1]
TESTED_PACKAGE_ROOT = Path(lkframes.__file__).resolve().parents[1]
"""Where the lkframes under test is: ``src`` here, or an installed wheel's site-packages."""
BUILD_SCRIPT = ROOT / "scripts" / "livekit-server.sh"
SCENARIOS = ROOT / "tests" / "room_scenarios"
BUILD_TIMEOUT_S = 30 * 60
"""A first build takes ~2 min on 2 cores; the script retries the download 3 times."""

SERVER_IP = "10.77.0.1"
CLIENT_IP = "10.77.0.2"
PORT = 7880
API_KEY = "devkey"
API_SECRET = "secretsecretsecretsecretsecretsecret"
START_TIMEOUT_S = 20.0
SCENARIO_TIMEOUT_S = 90.0
"""How long a room scenario may run before it is killed: a guard against a hang, not a
measurement. Scenarios take 3-15 s on an idle machine; beside two CPU hogs each connect,
subscription and first key frame takes seconds more, so this is generous."""
SCENARIO_MARGIN_S = 10.0
"""A scenario's own ``--timeout`` ends it this much before the kill, so a hang is reported
with the traceback of the wait that hung."""

CONFIG = f"""\
port: {PORT}
bind_addresses: ["{SERVER_IP}"]
rtc:
  tcp_port: 7881
  port_range_start: 50000
  port_range_end: 50100
  use_external_ip: false
  node_ip: {SERVER_IP}
keys:
  {API_KEY}: {API_SECRET}
logging:
  level: info
"""
"""Binds inside the namespace only; no STUN, no external-IP discovery, no ICE servers."""

Command = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def finished(returncode: int | None) -> bool:
    """Whether a client exited normally (0).

    A finished script used to die at exit now and then with SIGABRT and the SDK's "panic
    in a function that cannot unwind": a native thread delivered an event (a log line)
    through the ctypes callback while the interpreter finalised, CPython ended that thread
    with a forced unwind, and Rust aborted. ``import lkframes`` now closes the SDK's native
    layer at exit in an order that avoids it (``src/lkframes/livekit/_exit.py``), so that
    abort is a failure like any other.
    """
    return returncode == 0


class BuildError(Exception):
    """``scripts/livekit-server.sh`` failed; the message carries its log."""


class NamespaceError(Exception):
    """The network namespace cannot be made here (not root, no permission, no ``ip``)."""


class ProcessTimeout(Exception):
    """A process inside the namespace outlived its timeout (it was killed)."""


class ScenarioError(Exception):
    """A room scenario failed or printed no JSON; the message has its output and the log."""


_built: Path | BuildError | None = None


def server_binary() -> Path:
    """The livekit-server binary, built by ``scripts/livekit-server.sh`` on first use.

    The script caches the binary machine-wide; its result (or failure) is also kept for the
    rest of this process, so a failed build is reported once per test, not rebuilt.

    Raises:
        BuildError: The script failed or timed out; the message holds its output.
    """
    global _built
    if _built is None:
        started = time.monotonic()
        try:
            done = subprocess.run(
                [str(BUILD_SCRIPT)],
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            _built = BuildError(f"{BUILD_SCRIPT} could not run: {exc}")
        else:
            path = Path(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
            if done.returncode != 0 or path is None or not os.access(path, os.X_OK):
                _built = BuildError(
                    f"{BUILD_SCRIPT} failed (exit {done.returncode}, "
                    f"{time.monotonic() - started:.0f} s):\n"
                    f"--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}"
                )
            else:
                _built = path
    if isinstance(_built, BuildError):
        raise _built
    return _built


def ip(*args: str) -> None:
    """Run ``ip ARGS`` (also ``ip netns exec NS COMMAND``); raise `NamespaceError` with its
    exact error text on failure."""
    command = ["ip", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NamespaceError(f"`{' '.join(command)}` failed: {exc}") from None
    if done.returncode != 0:
        raise NamespaceError(f"`{' '.join(command)}` failed: {done.stderr.strip()}")


@contextmanager
def network_namespace(name: str) -> Iterator[str]:
    """A new network namespace ``name`` with lo and a veth pair (10.77.0.1, 10.77.0.2) up.

    Deleted on exit, whatever happened; processes still inside it are killed first (they
    can only be ours: the namespace is new and named after this process).

    Raises:
        NamespaceError: It cannot be made (the exact error text of ``ip``).
    """
    with bare_namespace(name):
        inside = ("netns", "exec", name, "ip")
        ip(*inside, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        ip(*inside, "addr", "add", f"{SERVER_IP}/24", "dev", "v0")
        ip(*inside, "addr", "add", f"{CLIENT_IP}/24", "dev", "v1")
        ip(*inside, "link", "set", "v0", "up")
        ip(*inside, "link", "set", "v1", "up")
        yield name


@contextmanager
def bare_namespace(name: str) -> Iterator[str]:
    """A new network namespace ``name`` with only lo up; deleted on exit as
    `network_namespace` is (other topologies add their own links).

    Raises:
        NamespaceError: It cannot be made (the exact error text of ``ip``).
    """
    if Path("/run/netns", name).exists():  # left behind by an earlier process with our pid
        _kill_inside(name)
        ip("netns", "del", name)
    ip("netns", "add", name)
    try:
        ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name
    finally:
        _kill_inside(name)
        with suppress(NamespaceError):
            ip("netns", "del", name)


def _kill_inside(namespace: str) -> None:
    with suppress(OSError, subprocess.TimeoutExpired):
        done = subprocess.run(
            ["ip", "netns", "pids", namespace],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        for pid in done.stdout.split():
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)


@dataclass
class LiveKitServer:
    """A running livekit-server and how to run LiveKit clients next to it."""

    url: str
    """``ws://10.77.0.1:7880`` (by default): reachable only from inside `namespace`."""
    api_key: str
    api_secret: str
    namespace: str
    """Where the clients run (`command`, `run`, `spawn`)."""
    log_path: Path
    """The server's stdout and stderr."""
    _spawned: list[subprocess.Popen[str]] = field(default_factory=list, repr=False)

    def command(self, args: Command, *, python: str | None = None) -> list[str]:
        """``ip netns exec NS python ARGS``: a script path, or a list of Python arguments.

        ``python`` is this interpreter unless given (e.g. one of a separate venv).
        """
        if isinstance(args, str | os.PathLike):
            args = [args]
        python = python or sys.executable
        return ["ip", "netns", "exec", self.namespace, python, *[os.fspath(a) for a in args]]

    def env(self) -> dict[str, str]:
        """The environment for clients: the lkframes these tests import (``src``, or the
        installed wheel CI tests), LIVEKIT_* set to this server."""
        env = dict(os.environ)
        if TESTED_PACKAGE_ROOT == ROOT / "src":  # a source tree: the clients import it too
            src = str(ROOT / "src")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        env["LIVEKIT_URL"] = self.url
        env["LIVEKIT_API_KEY"] = self.api_key
        env["LIVEKIT_API_SECRET"] = self.api_secret
        return env

    def credentials(self, room: str) -> list[str]:
        """``--url U --key K --secret S --room R``, the arguments of every room scenario."""
        return [
            *("--url", self.url),
            *("--key", self.api_key),
            *("--secret", self.api_secret),
            *("--room", room),
        ]

    def run(self, args: Command, *, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run a Python script (path, or list of arguments) inside the namespace, to its end.

        Raises:
            ProcessTimeout: It did not end within ``timeout`` seconds; it was killed, and the
                message carries what it printed.
        """
        command = self.command(args)
        try:
            return subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self.env(),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ProcessTimeout(
                f"{' '.join(command)} did not end within {timeout} s (killed)\n"
                f"--- stdout ---\n{_text(exc.stdout)}\n--- stderr ---\n{_text(exc.stderr)}"
            ) from None

    def scenario(
        self, name: str, room: str, out: Path, *args: str, timeout: float = SCENARIO_TIMEOUT_S
    ) -> dict[str, Any]:
        """Run ``tests/room_scenarios/NAME.py`` for ``room`` and return its JSON result.

        The scenario is given ``--timeout`` `SCENARIO_MARGIN_S` less than ``timeout``.

        Raises:
            ScenarioError: It exited with an error or its last line is not a JSON object.
            ProcessTimeout: It did not end within ``timeout`` seconds.
        """
        bound = max(timeout - SCENARIO_MARGIN_S, timeout / 2)
        done = self.run(
            self.scenario_command(name, room, out, "--timeout", str(bound), *args),
            timeout=timeout,
        )
        return self.scenario_result(name, done.returncode, done.stdout, done.stderr)

    def scenario_command(self, name: str, room: str, out: Path, *args: str) -> list[str]:
        """The arguments of `run` or `spawn` for ``tests/room_scenarios/NAME.py``."""
        script = SCENARIOS / f"{name}.py"
        return [str(script), *self.credentials(room), "--out", str(out), *args]

    def scenario_result(
        self, name: str, returncode: int | None, stdout: str, stderr: str
    ) -> dict[str, Any]:
        """The JSON object a finished scenario printed last.

        Raises:
            ScenarioError: It exited with an error or its last line is not a JSON object.
        """
        lines = stdout.strip().splitlines()
        try:
            result = json.loads(lines[-1]) if finished(returncode) else None
        except (IndexError, json.JSONDecodeError):
            result = None
        if not isinstance(result, dict):
            raise ScenarioError(
                f"{name}.py exited with {returncode}\n"
                f"--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n"
                f"--- livekit-server log (tail) ---\n{self.log_tail()}"
            )
        return result

    def spawn(
        self, args: Command, *, python: str | None = None, log: Path | None = None
    ) -> subprocess.Popen[str]:
        """Start a Python script inside the namespace without waiting; killed at teardown.

        Its output comes through pipes, or goes to ``log`` (stdout and stderr): give a log
        to a process that runs on after you stop reading it, or it blocks once a pipe is
        full (64 KiB).
        """
        with open(log, "w") if log is not None else nullcontext() as file:
            process = subprocess.Popen(
                self.command(args, python=python),
                stdout=subprocess.PIPE if file is None else file,
                stderr=subprocess.PIPE if file is None else subprocess.STDOUT,
                text=True,
                env=self.env(),
            )
        self._spawned.append(process)
        return process

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def _stop_spawned(self) -> None:
        for process in self._spawned:
            if process.poll() is None:
                process.kill()
            with suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=5)
        self._spawned.clear()


def _text(output: str | bytes | None) -> str:
    if output is None:
        return ""
    return output.decode(errors="replace") if isinstance(output, bytes) else output


def read_line(process: subprocess.Popen[str], timeout: float) -> str | None:
    """The next line ``process`` prints on stdout, or None if none comes within ``timeout``.

    Reads the pipe byte by byte, below Python's buffers, so a later ``communicate()`` (which
    reads the file descriptor directly) still gets everything after this line.
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            byte = os.read(fd, 1)
            if not byte:  # end of output
                break
            line += byte
    return line.decode(errors="replace") or None


def wait_for_line(process: subprocess.Popen[str], text: str, timeout: float) -> str | None:
    """Read ``process``'s stdout until a line containing ``text``; None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        line = read_line(process, left)
        if line is None:
            return None
        if text in line:
            return line
    return None


def _wait_until_accepting(
    namespace: str, server: subprocess.Popen[bytes], log: Path, server_ip: str
) -> None:
    """Poll a TCP connect to the server's port from inside the (clients') namespace."""
    probe = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(({server_ip!r}, {PORT}), timeout=1).close()\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"livekit-server exited with {server.returncode} while starting:\n"
                + log.read_text(errors="replace")
            )
        with suppress(subprocess.TimeoutExpired):
            check = subprocess.run(
                ["ip", "netns", "exec", namespace, sys.executable, "-S", "-c", probe],
                capture_output=True,
                timeout=5,
                check=False,
            )
            if check.returncode == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(
        f"livekit-server did not accept connections within {START_TIMEOUT_S} s:\n"
        + log.read_text(errors="replace")
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 5 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def running_server(
    binary: Path,
    workdir: Path,
    namespace: str,
    *,
    config: str = CONFIG,
    server_ip: str = SERVER_IP,
    client_namespace: str | None = None,
) -> Iterator[LiveKitServer]:
    """Start livekit-server inside ``namespace`` (which must exist) and stop it on exit.

    Args:
        config: The server's YAML (`CONFIG`: bound to `SERVER_IP`).
        server_ip: The address it listens on, in ``config``.
        client_namespace: Where its clients run (``namespace`` unless given); the server
            must be reachable from there.

    Raises:
        RuntimeError: The server exited or did not accept connections in time (with its log).
    """
    config_path = workdir / "livekit.yaml"
    config_path.write_text(config)
    log_path = workdir / "livekit-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, str(binary), "--config", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveKitServer(
        url=f"ws://{server_ip}:{PORT}",
        api_key=API_KEY,
        api_secret=API_SECRET,
        namespace=client_namespace or namespace,
        log_path=log_path,
    )
    try:
        _wait_until_accepting(server.namespace, process, log_path, server_ip)
        yield server
    finally:
        server._stop_spawned()
        _stop(process)
