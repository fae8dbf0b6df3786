"""The examples in ``examples/`` do what they say, against a real livekit-server.

Each example runs as its own process inside the server's network namespace (see
``livekit_server.py``), as a user would run it; the tests check the files they write.
The agents worker of ``echo_agent.py`` needs livekit-agents, which is heavy and not a
dependency: its echo logic, a plain function, is run by ``room_scenarios/echo.py``. The
worker itself runs only when LKFRAMES_AGENTS_PYTHON names a Python that has livekit-agents
(a separate venv: ``python -m venv /tmp/agents-venv && /tmp/agents-venv/bin/pip install
livekit-agents -e '.[room]'``).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from audio_analysis import dominant_hz, nonsilent, rms_dbfs
from livekit_server import ROOT, LiveKitServer, finished, read_line

pytestmark = pytest.mark.livekit

EXAMPLES = ROOT / "examples"
SENT_DBFS = -9.03
"""RMS of a half-scale tone."""
PROCESS_S = 60.0
"""How long an example may take to start, print or end: a guard against a hang, not a
measurement (idle: 1-3 s; beside two CPU hogs, starting Python with the LiveKit SDK and
joining a room alone takes seconds more)."""
needs_agents = pytest.mark.skipif(
    not os.environ.get("LKFRAMES_AGENTS_PYTHON"),
    reason="LKFRAMES_AGENTS_PYTHON (a Python with livekit-agents) is not set",
)
"""The LiveKit Agents worker tests run under the Python that variable names."""


def _tone_file(path: Path, hz: float, seconds: float, sample_rate: int) -> None:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    soundfile.write(path, 0.5 * np.sin(2 * np.pi * hz * t), sample_rate)


def _start_recorder(
    server: LiveKitServer, room: str, output: Path, *options: str
) -> subprocess.Popen[str]:
    """``record_participant.py player OUTPUT`` with the credentials as arguments."""
    recorder = server.spawn(
        [
            EXAMPLES / "record_participant.py",
            "player",
            output,
            "--room",
            room,
            *("--url", server.url, "--api-key", server.api_key, "--api-secret", server.api_secret),
            *options,
        ]
    )
    line = read_line(recorder, timeout=PROCESS_S)
    assert line is not None, f"record_participant.py printed nothing within {PROCESS_S} s"
    assert line.startswith("recording player"), line
    return recorder


def _finish(process: subprocess.Popen[str], last_line: str, timeout: float) -> str:
    """Wait for ``process`` (killed after ``timeout``); assert it ended with ``last_line``.

    Returns:
        That last line of its output.
    """
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"{process.args!r} did not end within {timeout} s:\n{stdout!s}\n{stderr!s}")
    return _last_line(process.returncode, str(stdout), str(stderr), last_line)


def _last_line(returncode: int | None, stdout: str, stderr: str, expected: str) -> str:
    lines = stdout.strip().splitlines()
    assert lines, f"no output (exit {returncode}):\n{stderr}"
    assert expected in lines[-1], f"exit {returncode}:\n{stdout}\n{stderr}"
    assert finished(returncode), f"exit {returncode}:\n{stdout}\n{stderr}"
    return lines[-1]


def test_publish_file_example_is_recorded_by_record_participant_example(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    source = tmp_path / "tone.flac"
    _tone_file(source, 660, 2.0, 22_050)
    output = tmp_path / "player.wav"
    recorder = _start_recorder(livekit_server, "examples", output)

    # The recorder is in the room already, so --wait-for returns at once. Credentials
    # come from LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET this time.
    player = livekit_server.run(
        [
            EXAMPLES / "publish_file.py",
            source,
            "--room",
            "examples",
            "--identity",
            "player",
            "--wait-for",
            "recorder",
        ],
        timeout=PROCESS_S,
    )
    _last_line(player.returncode, player.stdout, player.stderr, "published 2.00 s to room")
    _finish(recorder, "saved", timeout=PROCESS_S)  # ends by itself when the player leaves

    x, rate = soundfile.read(output, dtype="int16")
    assert (rate, x.ndim) == (48_000, 1)
    assert 1.8 <= x.shape[0] / rate <= 2.6
    tone = nonsilent(x)[4_800:-4_800]
    assert tone.shape[0] / rate >= 1.5
    assert dominant_hz(tone, rate) == pytest.approx(660, abs=5)
    assert rms_dbfs(tone) == pytest.approx(SENT_DBFS, abs=3.0)


def test_record_participant_example_stops_after_seconds_of_audio(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    source = tmp_path / "long.wav"
    _tone_file(source, 440, 2.5, 48_000)
    output = tmp_path / "first-second.wav"
    recorder = _start_recorder(livekit_server, "limit", output, "--seconds", "1")
    player = livekit_server.spawn(
        [EXAMPLES / "publish_file.py", source, "--room", "limit", "--identity", "player"]
    )
    _finish(recorder, "saved 1.00 s of player (--seconds 1)", timeout=PROCESS_S)
    _finish(player, "published 2.50 s", timeout=PROCESS_S)  # the recorder leaving is fine

    x, rate = soundfile.read(output, dtype="int16")
    assert (rate, x.shape) == (48_000, (48_000,))
    assert dominant_hz(nonsilent(x), rate) == pytest.approx(440, abs=5)


def test_echo_agent_echoes_a_participant(livekit_server: LiveKitServer, tmp_path: Path) -> None:
    result = livekit_server.scenario("echo", "echo", tmp_path)
    assert result["echo_track"] == result["expected_track"] == "echo"
    assert result["error"] is None
    assert result["formats"] == ["48000 Hz mono int16"]
    assert result["pts_continuous"]
    assert result["echoed"] == pytest.approx(result["sent_seconds"], abs=0.3)
    assert result["echo_end"] is not None, "echo() must end when A leaves"
    assert result["echo_end"] < 2.0
    assert result["heard_end"] is not None
    assert result["heard_end"] < 3.0
    echo = nonsilent(np.load(result["file"]))
    assert 1.3 <= echo.shape[0] / 48_000 <= 2.0
    steady = echo[4_800:-4_800]
    assert dominant_hz(steady, 48_000) == pytest.approx(440, abs=5)
    assert rms_dbfs(steady) == pytest.approx(SENT_DBFS - 6.0, abs=3.0)  # ECHO_GAIN_DB


@contextmanager
def agents_worker(server: LiveKitServer, log: Path) -> Iterator[None]:
    """``examples/echo_agent.py``'s job in a registered LiveKit Agents worker (``dev``), stopped
    after; through ``tests/room_scenarios/agents_worker.py``, which reports no load (see
    there why).

    Its output goes to ``log`` (read for the registration, and shown on a failure), not
    to a pipe that nobody reads after it: a worker that logs into a full pipe would block.
    """
    worker = server.spawn(
        [Path(__file__).parent / "room_scenarios" / "agents_worker.py", "dev"],
        python=os.environ["LKFRAMES_AGENTS_PYTHON"],
        log=log,
    )
    try:
        deadline = time.monotonic() + 60
        while "registered worker" not in log.read_text(errors="replace"):
            assert worker.poll() is None, f"the worker exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the worker did not register within 60 s"
            time.sleep(0.1)
        yield
    except BaseException as failure:
        failure.add_note(f"--- agents worker log (tail) ---\n{log.read_text()[-3000:]}")
        raise
    finally:
        worker.terminate()
        try:
            worker.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()


@needs_agents
def test_echo_agent_runs_as_a_livekit_agents_worker(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    with agents_worker(livekit_server, tmp_path / "worker.log"):
        result = livekit_server.scenario("agent_echo", "agent", tmp_path, timeout=45)
    assert result["agent_identity"].startswith("agent-")
    assert result["error"] is None
    assert result["pts_continuous"]
    assert result["heard_end"] is not None
    echo = nonsilent(np.load(result["file"]))
    assert 1.3 <= echo.shape[0] / 48_000 <= 2.0
    steady = echo[4_800:-4_800]
    assert dominant_hz(steady, 48_000) == pytest.approx(440, abs=5)
    assert rms_dbfs(steady) == pytest.approx(SENT_DBFS - 6.0, abs=3.0)  # ECHO_GAIN_DB


@needs_agents
def test_one_agents_worker_serves_several_rooms_at_once(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    # The server dispatches one job per room to the same worker; each job runs the lkframes
    # pipeline of its own room, at the same time as the others.
    rooms = [f"fleet-{n}" for n in range(3)]

    def in_room(room: str) -> dict[str, Any]:
        out = tmp_path / room
        out.mkdir()
        return livekit_server.scenario("agent_echo", room, out, timeout=60)

    with (
        agents_worker(livekit_server, tmp_path / "worker.log"),
        ThreadPoolExecutor(len(rooms)) as pool,
    ):
        results = list(pool.map(in_room, rooms))
    assert len({r["agent_identity"] for r in results}) == len(rooms)  # one job per room
    for room, result in zip(rooms, results, strict=True):
        assert result["error"] is None, room
        echo = nonsilent(np.load(result["file"]))
        assert 1.3 <= echo.shape[0] / 48_000 <= 2.0, room
        assert dominant_hz(echo[4_800:-4_800], 48_000) == pytest.approx(440, abs=5), room
