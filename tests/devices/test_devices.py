"""Microphone and speaker against a real sound server: a PulseAudio of the test's own
whose default sink is a null sink, so what `to_speaker` plays comes back from the sink's
monitor, which `from_microphone` records (the ``pulse_audio`` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import anyio
import numpy as np
import pytest

import lkframes as lk
from audio_analysis import band_level_db, dominant_hz, rms_dbfs
from lkframes.testing import open_resources
from pulse_server import PulseUnavailable, pulse_server

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("pulse_audio")]

RATE = 48_000


def loud_span(x: np.ndarray, threshold: int = 2_000) -> tuple[float, float]:
    loud = np.flatnonzero(np.abs(x) > threshold)
    assert loud.size, "nothing loud recorded"
    return loud[0] / RATE, (loud[-1] + 1) / RATE


async def record_while(play: object, seconds: float, **mic: object) -> np.ndarray:
    """Record the monitor for ``seconds`` while ``play()`` runs (started 0.3 s in)."""
    frames: list[lk.AudioFrame] = []

    async def record() -> None:
        stream = lk.from_microphone(**mic)  # type: ignore[arg-type]
        frames.extend(await stream.take(ms=round(seconds * 1000)).collect())

    async with anyio.create_task_group() as group:
        group.start_soon(record)
        await anyio.sleep(0.3)
        await play()  # type: ignore[operator]
    return np.concatenate([f.data[:, 0] for f in frames])


async def test_what_the_speaker_plays_the_microphone_hears() -> None:
    timing: list[float] = []

    async def play() -> None:
        started = time.monotonic()
        summary = await lk.sine(440, 1.0, RATE, amplitude=0.3).chunk(ms=20).to_speaker()
        timing.append(time.monotonic() - started)
        assert summary.duration == 1.0

    heard = await record_while(play, 2.5)
    start, end = loud_span(heard)
    print(f"tone heard {start:.3f}-{end:.3f} s; to_speaker took {timing[0]:.3f} s")
    assert abs((end - start) - 1.0) < 0.03
    tone = heard[round(start * RATE) + 4_800 : round(end * RATE) - 4_800]
    assert abs(dominant_hz(tone, RATE) - 440) < 1
    assert abs(rms_dbfs(tone) - rms_dbfs(0.3 * np.sin(np.arange(RATE) / 10))) < 0.5
    # The device paces the pipeline: it returns once the second has played.
    assert 0.95 <= timing[0] <= 1.6


async def test_microphone_frames_are_blocks_with_continuous_pts() -> None:
    frames = await lk.from_microphone(sample_rate=16_000, block_ms=20).take(ms=200).collect()
    assert [f.samples_per_channel for f in frames] == [320] * 10
    assert [f.pts for f in frames] == list(range(0, 3_200, 320))
    assert frames[0].format == lk.AudioFormat(16_000, 1, "int16")


async def test_a_stereo_file_plays_at_its_own_rate(tmp_path: Path) -> None:
    # 44.1 kHz stereo into the 48 kHz mono sink: the sound server converts.
    path = tmp_path / "tone.wav"
    await lk.sine(1_000, 0.5, 44_100, num_channels=2, amplitude=0.3).to_file(path)

    async def play() -> None:
        await lk.from_file(path).to_speaker()

    heard = await record_while(play, 1.5)
    start, end = loud_span(heard)
    assert abs((end - start) - 0.5) < 0.03
    tone = heard[round(start * RATE) + 2_400 : round(end * RATE) - 2_400]
    assert band_level_db(tone, RATE, 1_000) > -1


async def test_stopping_early_closes_the_devices_at_once() -> None:
    started = time.monotonic()
    frames = await lk.from_microphone().take(ms=100).collect()
    assert sum(f.samples_per_channel for f in frames) == 4_800
    assert time.monotonic() - started < 1.0
    with anyio.move_on_after(0.3):
        await lk.sine(440, 10.0, RATE).chunk(ms=20).to_speaker()
    assert time.monotonic() - started < 1.5  # cancelled, not 10 s of tone
    assert open_resources() == {}


async def test_a_device_that_does_not_exist_is_named_with_the_choices() -> None:
    with pytest.raises(lk.DeviceError, match=r"device='no such mic'.*input devices: .*pulse"):
        await lk.from_microphone("no such mic").collect()
    with pytest.raises(lk.DeviceError, match=r"device=99.*output devices"):
        await lk.sine(440, 0.1).to_speaker(99)
    assert open_resources() == {}


async def test_a_sound_server_that_goes_away_is_a_device_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server of this test's own, killed while the microphone is read: no callback
    # ever comes again, so the stall timeout names the problem.
    try:
        with pulse_server(tmp_path) as server:
            monkeypatch.setenv("PULSE_SERVER", server)
            stream = lk.from_microphone(stall_timeout=1.0)
            async with stream.open() as frames:
                await anext(frames)
                await anyio.run_process(["pkill", "-f", f"socket={tmp_path}/native"], check=False)
                started = time.monotonic()
                with pytest.raises(lk.DeviceError, match=r"no audio from|stopped"):
                    async for _ in frames:
                        pass
            took = time.monotonic() - started
    except PulseUnavailable as exc:
        pytest.skip(reason=str(exc))
    assert took < 3.0
    assert open_resources() == {}


def test_play_refuses_what_is_not_audio() -> None:
    with pytest.raises(lk.ParameterError, match="sample_rate"):
        lk.play(np.zeros(480, np.int16))
    with pytest.raises(lk.ParameterError, match="takes a stream"):
        lk.play("tone.wav")  # type: ignore[arg-type]


def test_play_blocks_until_played() -> None:
    started = time.monotonic()
    summary = lk.play(np.zeros(RATE // 2, np.int16), RATE)
    assert summary.samples_per_channel == RATE // 2
    assert time.monotonic() - started >= 0.45


def test_busy_and_refused_devices_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # PulseAudio shares every device, so a busy one cannot be made here: this checks
    # how PortAudio's own errors (the codes it reports for an ALSA device in use and
    # an unsupported rate) are put.
    import sounddevice as sd

    from lkframes.devices._portaudio import device_error

    busy = device_error(sd.PortAudioError("Device unavailable", -9985), "input device 3")
    assert isinstance(busy, lk.DeviceError)
    assert "input device 3 is busy" in str(busy)
    rate = device_error(sd.PortAudioError("Invalid sample rate", -9997), "output device 1")
    assert "refuses the format" in str(rate)
    assert "resample" in str(rate)


def test_without_sounddevice_the_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails as if missing
    with pytest.raises(lk.MissingExtraError, match=r"lkframes\[devices\]"):
        lk.run_sync(lk.from_microphone().collect())


RESCAN = """
import os, sys
import sounddevice as sd
from lkframes.devices._portaudio import _rescan
def pulse():
    return any("pulse" in d["name"] for d in sd.query_devices())
before = pulse()  # PULSE_SERVER names no server yet
os.environ["PULSE_SERVER"] = sys.argv[1]
stale = pulse()
print(before, stale, _rescan(sd), pulse())
"""


def test_a_rescan_finds_a_sound_server_started_since(pulse_audio: str, tmp_path: Path) -> None:
    # _rescan relies on sounddevice's _terminate/_initialize: PortAudio lists devices when
    # initialised, so a server that appears later is found only after both.
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path / 'none'}"}
    done = subprocess.run(
        [sys.executable, "-c", RESCAN, pulse_audio],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False", "False", "True", "True"]
