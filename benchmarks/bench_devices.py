"""Microphone capture: lkframes (PortAudio through sounddevice, 10 ms blocks) against the
SDK's ``rtc.MediaDevices`` and a hand-written sounddevice loop, on a real sound server.

Starts a PulseAudio of its own with a clocked null sink (``tests/pulse_server.py``; Debian:
pulseaudio, pulseaudio-utils, libportaudio2, libasound2-plugins). A click every 250 ms is
played into the sink with ``to_speaker``; every path records the sink's monitor at once,
and each click's arrival (``time.monotonic()`` when the block holding it reaches Python)
is compared with the hand loop's:

- hand loop: ``sd.RawInputStream(blocksize=480, latency="low")``, a callback handing
  blocks to the event loop (what a careful user writes);
- lkframes: ``lk.from_microphone()``;
- lkframes → room: ``from_microphone().to_source(source)``, read back from the local track
  (frames where a room would get them);
- rtc.MediaDevices: ``open_input()`` with its processing off (its default 100 ms
  blocks), read back from a local track of its ``AudioSource`` (the same point).

Then the process CPU each capture path costs over the same seconds, run alone.

    python benchmarks/bench_devices.py           # 12 clicks, 5 s of CPU per path
    python benchmarks/bench_devices.py --quick   # 6 clicks, 2 s (the CI smoke run)

A full run also draws each capture path's CPU over the hand loop's into
docs/figures/bench_devices.svg (``--no-chart``: not; the latencies are in the table only).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import _common
import lkframes as lk
from pulse_server import PulseUnavailable, portaudio_problem, pulse_server

RATE = 48_000
EVERY_S = 0.25
failures: list[str] = []


def clicks(count: int) -> lk.Stream[lk.AudioFrame]:
    """Silence with a 10-sample click every `EVERY_S`, in 10 ms frames, for ``count`` clicks."""
    per = round(EVERY_S * 100)
    silence = np.zeros(480, np.int16)
    click = silence.copy()
    click[100:110] = 30_000
    blocks = [click if n % per == per // 2 else silence for n in range((count + 2) * per)]
    return lk.from_array(np.concatenate(blocks), RATE).chunk(ms=10)


Reader = Callable[[list[float], int], Awaitable[None]]


def note(times: list[float], data: Any) -> None:
    if np.abs(np.frombuffer(data, np.int16)).max() > 8_000:
        times.append(time.monotonic())


async def hand_loop(times: list[float], count: int) -> None:
    import sounddevice as sd

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    def callback(data: Any, frames: int, when: Any, status: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, bytes(data))

    with sd.RawInputStream(RATE, 480, channels=1, dtype="int16", latency="low", callback=callback):
        while len(times) < count:
            note(times, await queue.get())


async def lkframes_mic(times: list[float], count: int) -> None:
    async with lk.from_microphone().open() as frames:
        async for frame in frames:
            note(times, frame.data.tobytes())
            if len(times) >= count:
                return


async def read_track(source: Any, times: list[float], count: int) -> None:
    from livekit import rtc

    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1)
    try:
        async for event in stream:
            note(times, event.frame.data)
            if len(times) >= count:
                return
    finally:
        await stream.aclose()


async def lkframes_to_source(times: list[float], count: int) -> None:
    from livekit import rtc

    source = rtc.AudioSource(RATE, 1, queue_size_ms=50)
    feeding = asyncio.ensure_future(lk.from_microphone().to_source(source, frame_ms=10))
    try:
        await read_track(source, times, count)
    finally:
        feeding.cancel()
        await asyncio.gather(feeding, return_exceptions=True)
        await source.aclose()


async def media_devices(times: list[float], count: int) -> None:
    from livekit import rtc

    capture = rtc.MediaDevices().open_input(
        enable_aec=False, noise_suppression=False, high_pass_filter=False, auto_gain_control=False
    )
    try:
        await read_track(capture.source, times, count)
    finally:
        await capture.aclose()


PATHS: dict[str, Reader] = {
    "hand sounddevice loop (480-sample blocks)": hand_loop,
    "lkframes from_microphone()": lkframes_mic,
    "lkframes from_microphone().to_source(), at the track": lkframes_to_source,
    "rtc.MediaDevices open_input(), at the track": media_devices,
}


async def latency(count: int) -> dict[str, list[float]]:
    arrivals: dict[str, list[float]] = {name: [] for name in PATHS}
    readers = [asyncio.ensure_future(read(arrivals[n], count)) for n, read in PATHS.items()]
    await asyncio.sleep(0.5)  # every path is reading before the first click
    await clicks(count).to_speaker()
    await asyncio.wait_for(asyncio.gather(*readers), 5.0)
    return arrivals


async def cpu(read: Reader, seconds: float) -> float:
    """Process CPU seconds per second of capture, the path alone (no clicks: none end it)."""
    task = asyncio.ensure_future(read([], 1))
    await asyncio.sleep(0.3)
    start_cpu, start = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    used = (time.process_time() - start_cpu) / (time.monotonic() - start)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return used


async def main(quick: bool, out_dir: Path | None) -> None:
    count, seconds = (6, 2.0) if quick else (12, 5.0)
    arrivals = await latency(count)
    base = arrivals[next(iter(PATHS))]
    print("## Capture latency: when each click reaches Python, after the hand loop\n")
    print("| path | clicks | added (median) | added (max) |")
    print("| --- | ---: | ---: | ---: |")
    for name, times in arrivals.items():
        if len(times) != count:
            failures.append(f"{name}: {len(times)} of {count} clicks")
        added = [(t - b) * 1000 for t, b in zip(times, base, strict=False)]
        middle = f"{statistics.median(added):.1f} ms" if added else "-"
        most = f"{max(added):.1f} ms" if added else "-"
        print(f"| {name} | {len(times)} | {middle} | {most} |")
    print("\n## CPU while capturing (process, share of one core; the sink's clock included)\n")
    print("| path | CPU |")
    print("| --- | ---: |")
    shares: dict[str, float] = {}
    for name, read in PATHS.items():
        shares[name] = await cpu(read, seconds)
        print(f"| {name} | {shares[name] * 100:.1f}% |")
    if out_dir is not None and not failures:
        print(f"\nchart: {chart(shares, seconds, out_dir)}")


def chart(shares: dict[str, float], seconds: float, out_dir: Path) -> Path:
    """Each capture path's CPU (share of a core) over the hand sounddevice loop's."""
    base = shares[next(iter(PATHS))]
    return _common.write_chart(
        "devices",
        {
            "CPU while capturing, each path alone (PulseAudio null sink)": [
                (f"{name} ({share:.1%} of a core)", share / base) for name, share in shares.items()
            ]
        },
        command=f"python benchmarks/bench_devices.py: {seconds:g} s of capture per path",
        xlabel="process CPU / the hand sounddevice loop's (lower is cheaper)",
        out_dir=out_dir,
    )


def run() -> None:
    args = _common.parser(__doc__, quick="fewer clicks, shorter").parse_args()
    print("# lkframes microphone capture (PulseAudio null sink, one process)\n")
    with tempfile.TemporaryDirectory() as workdir:
        try:
            with pulse_server(Path(workdir)) as server:
                os.environ["PULSE_SERVER"] = server
                problem = portaudio_problem()
                if problem is not None:
                    raise PulseUnavailable(problem)
                asyncio.run(main(args.quick, _common.chart_dir(args)))
        except PulseUnavailable as exc:
            print(f"cannot run: {exc}")
            sys.exit(1)
    if failures:
        print("\nFAILED:", *failures, sep="\n- ")
        sys.exit(1)


if __name__ == "__main__":
    run()
