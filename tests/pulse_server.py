"""A PulseAudio server of the test's own, with a null sink, for the microphone and speaker
tests: what is played into the sink (`to_speaker`) comes back from its monitor, the
default source (`from_microphone`).

PortAudio reaches it through ALSA's pulse plugin (Debian: ``libasound2-plugins``), which
connects to the server named by ``PULSE_SERVER``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SINK = "lkf_null"
RATE = 48_000
PACKAGES = "apt install pulseaudio pulseaudio-utils libportaudio2 libasound2-plugins"


class PulseUnavailable(Exception):
    """PulseAudio (or PortAudio's route to it) cannot run here; the message says why."""


@contextmanager
def pulse_server(workdir: Path) -> Iterator[str]:
    """Run ``pulseaudio`` with a null sink ``lkf_null`` (mono, 48 kHz) as the default
    sink and its monitor as the default source; yields the ``PULSE_SERVER`` value."""
    binary, pactl = shutil.which("pulseaudio"), shutil.which("pactl")
    if binary is None or pactl is None:
        raise PulseUnavailable(f"pulseaudio/pactl are not installed ({PACKAGES})")
    socket = workdir / "native"
    server = f"unix:{socket}"
    log = workdir / "pulseaudio.log"
    env = {**os.environ, "HOME": str(workdir), "PULSE_RUNTIME_PATH": str(workdir)}
    command = [
        binary,
        "-n",  # no default.pa: only the modules below
        "--daemonize=no",
        "--exit-idle-time=-1",
        "--use-pid-file=no",
        "--disable-shm=yes",
        "--log-target=stderr",
        "-L",
        f"module-null-sink sink_name={SINK} rate={RATE} channels=1",
        "-L",
        f"module-native-protocol-unix socket={socket} auth-anonymous=1",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    clock: subprocess.Popen[bytes] | None = None
    try:
        _wait_ready(pactl, server, process, log)
        clock = _keep_clocked(server)
        _wait_clocked(pactl, server, log)
        yield server
    finally:
        for each in (clock, process):
            if each is not None:
                each.terminate()
                try:
                    each.wait(5)
                except subprocess.TimeoutExpired:
                    each.kill()
                    each.wait()


def _keep_clocked(server: str) -> subprocess.Popen[bytes]:
    """Play silence into the sink at 20 ms latency for as long as the server runs.

    A null sink renders in 2 s blocks unless a client asks for less (measured, PulseAudio
    16.1: without this, 2 s of audio take 3.7 s to play and the monitor delivers nothing
    while the sink is idle); PortAudio's ALSA route does not ask. A real device is clocked
    at its own small period; this makes the null sink behave like one (5 ms configured).
    """
    pacat = shutil.which("pacat")
    if pacat is None:
        raise PulseUnavailable(f"pacat is not installed ({PACKAGES})")
    return subprocess.Popen(
        [
            pacat,
            "--playback",
            "--raw",
            "--rate=48000",
            "--channels=1",
            "--format=s16le",
            "--latency-msec=20",
            "/dev/zero",
        ],
        env={**os.environ, "PULSE_SERVER": server},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_ready(pactl: str, server: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PulseUnavailable(f"pulseaudio exited ({process.returncode}):\n{log.read_text()}")
        done = subprocess.run(
            [pactl, "-s", server, "info"], capture_output=True, text=True, check=False
        )
        if done.returncode == 0 and f"Default Sink: {SINK}" in done.stdout:
            return
        time.sleep(0.05)
    process.kill()
    raise PulseUnavailable(f"pulseaudio did not answer within 10 s:\n{log.read_text()}")


def _wait_clocked(pactl: str, server: str, log: Path) -> None:
    """Until the sink's latency is down to a clocked device's (the first 2 s block it
    rendered before the clock started has to play out: about 2 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done = subprocess.run(
            [pactl, "-s", server, "list", "sinks"], capture_output=True, text=True, check=False
        )
        found = re.search(r"Latency: (\d+) usec", done.stdout)
        if found and int(found.group(1)) < 50_000:
            return
        time.sleep(0.1)
    raise PulseUnavailable(f"the null sink's latency stayed above 50 ms:\n{log.read_text()}")


def portaudio_problem() -> str | None:
    """Why PortAudio cannot reach PulseAudio here, or None."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        return f"sounddevice/PortAudio cannot be loaded: {exc} ({PACKAGES})"
    sd._terminate()  # PortAudio lists devices when initialised: look again, now
    sd._initialize()
    names = [d["name"] for d in sd.query_devices()]
    if "pulse" not in names:
        return f"PortAudio has no 'pulse' device (got {names}; {PACKAGES})"
    return None
