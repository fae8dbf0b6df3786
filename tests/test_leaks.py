"""No leaks: a thousand start → partial read → cancel cycles leave nothing behind.

Each source and sink kind runs ``CYCLES`` cycles that start a pipeline, read (or write) a
few frames, then end it early: alternately by ``break``, by a timeout that expires
(`anyio.move_on_after`) and by an exception. After a warm-up, the cycles must leave
unchanged: `open_resources`, the number of tasks (asyncio's ``all_tasks``; trio's task
tree from the root task), open file descriptors, worker threads, live native LiveKit
handles, and memory (tracemalloc's current size, within ``MEMORY_BOUND``).

The figures are printed (``python -m pytest tests/test_leaks.py -s``) and recorded as
test properties (``--junitxml``); docs/reliability.md quotes them.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import shutil
import subprocess
import threading
import tracemalloc
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio
import anyio.lowlevel
import numpy as np
import pytest
import sniffio
import soundfile as sf

import lkframes as lk
from lkframes.testing import open_resources

pytestmark = pytest.mark.anyio

CYCLES = 1_000
LIVEKIT_TRACK_CYCLES = 200
"""Fewer for LiveKit's tracks and sources: each cycle waits in real time, for a frame LiveKit
delivers (from_track, 10 ms) or for the source to take up to four (to_source, 40 ms: a
thousand cycles took 40 s, the longest test of the suite)."""
WARMUP = 30
MEMORY_BOUND = 2**20
"""Allowed growth of traced memory over all the cycles of one kind (1 MiB)."""
SECOND_HALF_BOUND = 64 * 2**10
"""Allowed growth over the second half of the cycles (64 KiB): one-time caches fill in the
first half, so a leak of 128 bytes per cycle (500 cycles) would show here."""

RATE = 16_000
Ending = Literal["break", "timeout", "error"]
ENDINGS: tuple[Ending, ...] = ("break", "timeout", "error")
"""How cycle ``i`` ends: ``ENDINGS[i % 3]``, after ``1 + i % 4`` frames."""


class CycleError(Exception):
    """Raised by the consumer to end a cycle with an exception."""


# -- measuring -------------------------------------------------------------------------------


def _task_count() -> int:
    if sniffio.current_async_library() == "asyncio":
        return len(asyncio.all_tasks())
    import trio

    root = trio.lowlevel.current_root_task()
    assert root is not None
    count = 0
    stack = [root]
    while stack:
        task = stack.pop()
        count += 1
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return count


def _livekit_handles() -> int:
    """Native LiveKit handles held by Python objects and not yet released."""
    from livekit.rtc import _ffi_client

    return sum(not handle.disposed for handle in list(_ffi_client._live_handles))


@dataclass(frozen=True)
class Usage:
    resources: dict[str, int]
    tasks: int
    fds: int
    threads: int
    handles: int
    memory: int


def _usage(*, livekit: bool = False) -> Usage:
    gc.collect()
    return Usage(
        resources=open_resources(),
        tasks=_task_count(),
        fds=len(os.listdir("/proc/self/fd")),
        threads=threading.active_count(),
        handles=_livekit_handles() if livekit else 0,
        memory=tracemalloc.get_traced_memory()[0],
    )


async def _run_cycles(
    kind: str,
    cycle: Callable[[int], Awaitable[None]],
    cycles: int,
    record_property: Callable[[str, object], None],
    *,
    livekit: bool = False,
) -> None:
    """Warm up, then run ``cycles`` cycles under tracemalloc and compare before/after."""
    for i in range(WARMUP):
        await cycle(i)
    tracemalloc.start()
    try:
        before = _usage(livekit=livekit)
        for i in range(cycles // 2):
            await cycle(i)
        halfway = _usage(livekit=livekit)
        for i in range(cycles // 2, cycles):
            await cycle(i)
        after = _usage(livekit=livekit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    growth = after.memory - before.memory
    second_half = after.memory - halfway.memory
    figures = {
        "cycles": cycles,
        "tasks": f"{before.tasks}->{after.tasks}",
        "fds": f"{before.fds}->{after.fds}",
        "threads": f"{before.threads}->{after.threads}",
        "livekit_handles": f"{before.handles}->{after.handles}",
        "memory_growth_kib": round(growth / 1024, 1),
        "second_half_growth_kib": round(second_half / 1024, 1),
        "traced_peak_kib": round(peak / 1024, 1),
    }
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nLEAKS {kind} [{sniffio.current_async_library()}]: {figures}")
    assert after.resources == before.resources
    assert after.tasks == before.tasks
    assert after.fds == before.fds
    assert after.threads <= before.threads
    assert after.handles == before.handles
    assert growth < MEMORY_BOUND, f"{kind}: traced memory grew {growth / 1024:.0f} KiB"
    assert second_half < SECOND_HALF_BOUND, (
        f"{kind}: traced memory grew {second_half / 1024:.0f} KiB over the last {cycles // 2} "
        "cycles"
    )


async def _read_partially(stream: lk.Stream[lk.AudioFrame], i: int) -> None:
    """Read ``1 + i % 4`` frames of ``stream``, then end as ``ENDINGS[i % 3]`` says."""
    ending = ENDINGS[i % 3]
    wanted = 1 + i % 4
    received = 0
    if ending == "break":
        async with stream.open() as frames:
            async for _ in frames:
                received += 1
                if received == wanted:
                    break
    elif ending == "timeout":
        with anyio.move_on_after(60) as scope:
            async with stream.open() as frames:
                async for _ in frames:
                    received += 1
                    if received == wanted:
                        scope.deadline = anyio.current_time()  # the timeout expires now
                    await anyio.lowlevel.checkpoint()
        assert scope.cancelled_caught
    else:

        async def fail() -> None:
            nonlocal received
            async with stream.open() as frames:
                async for _ in frames:
                    received += 1
                    if received == wanted:
                        raise CycleError

        with pytest.raises(CycleError):
            await fail()
    assert received == wanted


async def _write_partially(
    write: Callable[[lk.Stream[lk.AudioFrame]], Awaitable[object]],
    source: lk.Stream[lk.AudioFrame],
    i: int,
) -> None:
    """Write ``source`` until ``1 + i % 4`` frames passed, then cancel, time out or fail."""
    ending = ENDINGS[i % 3]
    wanted = 1 + i % 4
    passed = 0
    with anyio.move_on_after(60) as scope:

        def count(_frame: lk.AudioFrame) -> None:
            nonlocal passed
            passed += 1
            if passed == wanted:
                if ending == "error":
                    raise CycleError
                if ending == "timeout":
                    scope.deadline = anyio.current_time()
                else:
                    scope.cancel()

        if ending == "error":
            with pytest.raises(CycleError):
                await write(source.tap(count))
        else:
            await write(source.tap(count))
    assert scope.cancelled_caught == (ending != "error")
    # A cancellation lands at the sink's next checkpoint (to_file: its next 0.5 s write).
    assert passed >= wanted


# -- sources -----------------------------------------------------------------------------------

NOISE = np.random.default_rng(1).integers(-8_000, 8_000, (RATE * 2, 2)).astype(np.int16)
FRAMES = [lk.AudioFrame(NOISE[i : i + 320], RATE, pts=i) for i in range(0, NOISE.shape[0], 320)]


def _frames_generator() -> Generator[lk.AudioFrame, None, None]:
    yield from FRAMES


async def _frames_async_generator() -> AsyncGenerator[lk.AudioFrame, None]:
    for frame in FRAMES:
        await anyio.lowlevel.checkpoint()
        yield frame


SYNTHETIC: list[Callable[[], lk.Stream[lk.AudioFrame]]] = [
    lambda: lk.sine(440, None, RATE, block_ms=20),
    lambda: lk.noise(None, RATE, num_channels=2, dtype="float32", block_ms=20),
    lambda: lk.silence(10.0, 48_000, block_ms=10),
]
FROM_FRAMES: list[Callable[[], lk.Stream[lk.AudioFrame]]] = [
    lambda: lk.from_frames(FRAMES),
    lambda: lk.from_frames(_frames_generator()),
    lambda: lk.from_frames(_frames_async_generator()),
]


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two seconds of stereo noise as WAV, FLAC, OGG and MP3; M4A too if ffmpeg is here."""
    folder = tmp_path_factory.mktemp("leaks")
    files = []
    for name, subtype in [("a.wav", "PCM_16"), ("a.flac", "PCM_16"), ("a.ogg", "VORBIS")]:
        sf.write(str(folder / name), NOISE, RATE, subtype=subtype)
        files.append(folder / name)
    sf.write(str(folder / "a.mp3"), NOISE, RATE, format="MP3")
    files.append(folder / "a.mp3")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is not None:  # the PyAV (FFmpeg) reader
        m4a = folder / "a.m4a"
        command = [ffmpeg, "-loglevel", "error", "-i", str(folder / "a.wav"), str(m4a)]
        subprocess.run(command, check=True)
        files.append(m4a)
    return files


def _pipeline(stream: lk.Stream[lk.AudioFrame]) -> lk.Stream[lk.AudioFrame]:
    """The source under test with two stages, so closing must reach through them."""
    return stream.chunk(samples=200).map(lambda frame: frame)


async def test_from_array(
    anyio_backend: str, record_property: Callable[[str, object], None]
) -> None:
    async def cycle(i: int) -> None:
        await _read_partially(_pipeline(lk.from_array(NOISE, RATE, block_ms=20)), i)

    await _run_cycles("from_array", cycle, CYCLES, record_property)


async def test_synthetic(
    anyio_backend: str, record_property: Callable[[str, object], None]
) -> None:
    async def cycle(i: int) -> None:
        await _read_partially(_pipeline(SYNTHETIC[i % len(SYNTHETIC)]()), i)

    await _run_cycles("sine/noise/silence", cycle, CYCLES, record_property)


async def test_from_frames(
    anyio_backend: str, record_property: Callable[[str, object], None]
) -> None:
    async def cycle(i: int) -> None:
        await _read_partially(_pipeline(FROM_FRAMES[i % len(FROM_FRAMES)]()), i)

    kind = "from_frames (list/generator/async generator)"
    await _run_cycles(kind, cycle, CYCLES, record_property)


async def test_from_file(
    anyio_backend: str, audio_files: list[Path], record_property: Callable[[str, object], None]
) -> None:
    streams = [lk.from_file(path, block_ms=20) for path in audio_files]

    async def cycle(i: int) -> None:
        await _read_partially(_pipeline(streams[i % len(streams)]), i)

    kinds = "/".join(path.suffix.lstrip(".") for path in audio_files)
    await _run_cycles(f"from_file ({kinds})", cycle, CYCLES, record_property)


async def test_to_file(
    anyio_backend: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    paths = itertools.cycle([tmp_path / "out.wav", tmp_path / "out.flac", tmp_path / "out.ogg"])

    async def cycle(i: int) -> None:
        path = next(paths)
        source = lk.sine(440, None, RATE, block_ms=100)
        write = (
            (lambda s: s.to_file(path, overwrite=True, partial="keep"))
            if i % 2
            else (
                lambda s: s.to_file(path, overwrite=True)  # discarded: nothing new left behind
            )
        )
        await _write_partially(write, source, i)

    await _run_cycles("to_file (wav/flac/ogg)", cycle, CYCLES, record_property)
    assert (
        lk.file_info(tmp_path / "out.wav").samples_per_channel is not None
    )  # a valid file remains


# -- LiveKit (asyncio only: the SDK runs on asyncio) -----------------------------------------------


ASYNCIO_ONLY = pytest.mark.parametrize("anyio_backend", ["asyncio"])


@ASYNCIO_ONLY
async def test_livekit_from_track(
    anyio_backend: str, record_property: Callable[[str, object], None]
) -> None:
    from livekit import rtc

    source = rtc.AudioSource(48_000, 1, queue_size_ms=50)
    track = rtc.LocalAudioTrack.create_audio_track("leaks", source)
    silence = lk.AudioFrame(np.zeros(480, np.int16), 48_000).to_rtc()

    async def push() -> None:
        while True:
            await source.capture_frame(silence)  # paced by LiveKit: 10 ms per frame

    pusher = asyncio.create_task(push())
    try:

        async def cycle(i: int) -> None:
            await _read_partially(lk.from_track(track).chunk(ms=5), i)

        await _run_cycles(
            "from_track (LiveKit loopback)",
            cycle,
            LIVEKIT_TRACK_CYCLES,
            record_property,
            livekit=True,
        )
    finally:
        pusher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pusher
        await source.aclose()


@ASYNCIO_ONLY
async def test_livekit_to_source(
    anyio_backend: str, record_property: Callable[[str, object], None]
) -> None:
    from livekit import rtc

    async def cycle(i: int) -> None:
        # A fresh source each time: LiveKit refuses a capture on a source whose previous
        # capture was cancelled before it completed ("InvalidState - failed to capture").
        source = rtc.AudioSource(48_000, 1, queue_size_ms=50)
        try:
            stream = lk.sine(440, None, 48_000, block_ms=10)
            await _write_partially(lambda s: s.to_source(source, frame_ms=10), stream, i)
        finally:
            await source.aclose()

    await _run_cycles(
        "to_source (LiveKit)", cycle, LIVEKIT_TRACK_CYCLES, record_property, livekit=True
    )
