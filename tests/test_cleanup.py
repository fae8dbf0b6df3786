"""Every stage and the source are closed promptly however a pipeline ends.

The garbage collector is disabled in these tests, and closing is checked right after the
block that ends the pipeline, so nothing here relies on finalisers.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import time
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Generator, Iterator
from typing import Any

import anyio
import numpy as np
import pytest

import lkframes as lk

pytestmark = pytest.mark.anyio

RATE = 16_000
FMT = lk.AudioFormat(RATE, 1)
FRAME = 320


@pytest.fixture(autouse=True)
def no_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Probe:
    """Records what a pipeline opened, produced and closed, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.produced = 0

    @property
    def source_closed(self) -> bool:
        return "source closed" in self.events

    def frames(
        self, limit: int | None = None, *, delay: float = 0.0
    ) -> AsyncGenerator[lk.AudioFrame, None]:
        """An endless (or ``limit``-long) async generator of 20 ms frames."""

        async def run() -> AsyncGenerator[lk.AudioFrame, None]:
            self.events.append("source opened")
            try:
                while limit is None or self.produced < limit:
                    await anyio.sleep(delay)
                    pts = self.produced * FRAME
                    self.produced += 1
                    yield lk.AudioFrame(np.full(FRAME, self.produced, np.int16), RATE, pts=pts)
            finally:
                self.events.append("source closed")

        return run()

    def stage(
        self, name: str, fmt: lk.AudioFormat | None = FMT
    ) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
        """A pass-through stage written as a plain async generator function."""

        async def run(
            frames: AsyncIterable[lk.AudioFrame],
        ) -> AsyncGenerator[lk.AudioFrame, None]:
            try:
                async for frame in frames:
                    yield frame
            finally:
                self.events.append(f"{name} closed")

        return lk.Stage(name, run, output_format=fmt)

    def tap(self, name: str) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
        return lk.tap(lambda frame: self.events.append(f"{name} saw {frame.pts}"))


SourceFactory = Callable[[Probe, int | None, float], lk.Stream[lk.AudioFrame]]


def _via_from_frames(probe: Probe, limit: int | None, delay: float) -> lk.Stream[lk.AudioFrame]:
    return lk.from_frames(probe.frames(limit, delay=delay), format=FMT)


def _via_stream(probe: Probe, limit: int | None, delay: float) -> lk.Stream[lk.AudioFrame]:
    return lk.Stream(lambda: probe.frames(limit, delay=delay), format=FMT, name="probe")


@pytest.fixture(params=[_via_from_frames, _via_stream], ids=["from_frames", "Stream"])
def make_source(request: pytest.FixtureRequest) -> SourceFactory:
    factory: SourceFactory = request.param
    return factory


def _pipeline(
    probe: Probe, make_source: SourceFactory, limit: int | None = None, delay: float = 0.0
) -> lk.Stream[lk.AudioFrame]:
    """source -> a -> resample -> tap -> b -> chunk -> map -> gain -> c."""
    return (
        make_source(probe, limit, delay)
        | probe.stage("a")
        | lk.resample(8_000)
        | probe.tap("tap")
        | probe.stage("b", FMT.with_(sample_rate=8_000))
        | lk.chunk(ms=10)
        | lk.map(lambda frame: frame)
        | lk.gain(-1)
        | probe.stage("c", None)
    )


ALL_CLOSED = ["a closed", "b closed", "c closed", "source closed"]


def _closes(probe: Probe) -> list[str]:
    """Everything that was closed, each once, sorted (the order is not part of the contract)."""
    return sorted(e for e in probe.events if e.endswith("closed"))


async def test_break_closes_every_stage_before_the_block_exits(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()
    received = 0
    async with _pipeline(probe, make_source).open() as frames:
        async for _ in frames:
            received += 1
            if received == 5:
                break
        assert not probe.source_closed  # still open inside the block
    assert _closes(probe) == ALL_CLOSED
    assert probe.events[0] == "source opened"
    assert probe.events.count("source opened") == 1


async def test_exception_in_the_consumer_closes_everything(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()

    async def consumer() -> None:
        async with _pipeline(probe, make_source).open() as frames:
            async for _ in frames:
                raise LookupError("consumer")

    with pytest.raises(LookupError, match="consumer"):
        await consumer()
    assert _closes(probe) == ALL_CLOSED


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_exception_in_map_closes_the_source(
    anyio_backend: str, make_source: SourceFactory, concurrency: int
) -> None:
    probe = Probe()

    async def boom(frame: lk.AudioFrame) -> lk.AudioFrame:
        if frame.pts >= 5 * FRAME:
            raise OSError("map failed")
        return frame

    stream = (
        make_source(probe, None, 0.0) | probe.stage("a") | lk.map(boom, concurrency=concurrency)
    )
    with pytest.raises(OSError, match="map failed"):
        await stream.collect()
    assert _closes(probe) == ["a closed", "source closed"]


async def test_exception_in_the_source_closes_the_stages(anyio_backend: str) -> None:
    probe = Probe()

    async def failing() -> AsyncGenerator[lk.AudioFrame, None]:
        yield lk.AudioFrame(np.zeros(FRAME, np.int16), RATE)
        raise ConnectionError("track ended badly")

    stream = lk.from_frames(failing()) | probe.stage("a") | lk.chunk(ms=5) | probe.stage("b")
    with pytest.raises(ConnectionError, match="track ended badly"):
        await stream.run()
    assert _closes(probe) == ["a closed", "b closed"]


async def test_move_on_after_closes_everything(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()
    received = 0
    with anyio.move_on_after(0.05) as scope:
        async with _pipeline(probe, make_source, delay=0.002).open() as frames:
            async for _ in frames:
                received += 1
    assert scope.cancelled_caught
    assert received > 0
    assert _closes(probe) == ALL_CLOSED


async def test_cancel_while_the_source_is_waiting_closes_everything(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()
    received = 0
    with anyio.CancelScope() as scope:
        # The cancel hits the source at its next checkpoint, while it makes frame 3.
        async with (make_source(probe, None, 0.0) | probe.stage("a")).open() as frames:
            async for _ in frames:
                received += 1
                if received == 2:
                    scope.cancel()
    assert received == 2
    assert scope.cancelled_caught
    assert _closes(probe) == ["a closed", "source closed"]


async def test_cancel_scope_around_a_terminal_closes_everything(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()
    with anyio.move_on_after(0.03):
        await _pipeline(probe, make_source, delay=0.001).run()
    assert _closes(probe) == ALL_CLOSED


async def test_take_closes_an_endless_source_once_the_frames_are_out(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()
    async with (make_source(probe, None, 0.0) | probe.stage("a") | lk.take(3)).open() as frames:
        received = [probe.source_closed async for _ in frames]
    # The source is closed before the third frame reaches the consumer.
    assert received == [False, False, True]
    assert probe.produced == 3
    assert _closes(probe) == ["a closed", "source closed"]


async def test_take_audio_closes_an_endless_source_at_the_cut(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()
    async with (make_source(probe, None, 0.0) | lk.take(ms=50)).open() as frames:
        received = [(f.samples_per_channel, probe.source_closed) async for f in frames]
    assert received == [(320, False), (320, False), (160, True)]
    assert probe.produced == 3


async def test_take_collect_on_an_endless_source(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()
    frames = await _pipeline(probe, make_source).take(4).collect()
    assert [f.pts for f in frames] == [0, 80, 160, 240]
    assert _closes(probe) == ALL_CLOSED


Terminal = Callable[[lk.Stream[lk.AudioFrame]], Awaitable[Any]]


@pytest.mark.parametrize(
    "terminal",
    [
        lambda s: s.collect(),
        lambda s: s.to_array(),
        lambda s: s.run(),
    ],
    ids=["collect", "to_array", "run"],
)
async def test_terminals_close_the_pipeline_on_error(
    anyio_backend: str, make_source: SourceFactory, terminal: Terminal
) -> None:
    probe = Probe()

    def fail_late(frame: lk.AudioFrame) -> None:
        if frame.pts >= 10 * FRAME // 2:
            raise ArithmeticError("stage failed")

    stream = _pipeline(probe, make_source).tap(fail_late)
    with pytest.raises(ArithmeticError, match="stage failed"):
        await terminal(stream)
    assert _closes(probe) == ALL_CLOSED


@pytest.mark.parametrize(
    "terminal",
    [lambda s: s.collect(), lambda s: s.to_array(), lambda s: s.run()],
    ids=["collect", "to_array", "run"],
)
async def test_terminals_close_the_pipeline_when_it_ends(
    anyio_backend: str, make_source: SourceFactory, terminal: Terminal
) -> None:
    probe = Probe()
    await terminal(_pipeline(probe, make_source, limit=6))
    assert probe.produced == 6
    assert _closes(probe) == ALL_CLOSED


async def test_sync_generator_source_is_closed_on_break(anyio_backend: str) -> None:
    events: list[str] = []

    def frames() -> Generator[lk.AudioFrame, None, None]:
        try:
            for i in range(100):
                yield lk.AudioFrame(np.zeros(FRAME, np.int16), RATE, pts=i * FRAME)
        finally:
            events.append("closed")

    generator = frames()  # held here, so only an explicit close can run its finally
    stream = lk.from_frames(generator).chunk(ms=5)
    async with stream.open() as out:
        async for _ in out:
            break
    assert events == ["closed"]
    assert inspect.getgeneratorstate(generator) == inspect.GEN_CLOSED


async def test_open_closes_the_pipeline_when_the_block_is_left_early(
    anyio_backend: str, make_source: SourceFactory
) -> None:
    probe = Probe()
    async with _pipeline(probe, make_source).open() as frames:
        first = await frames.__anext__()
        assert first.pts == 0
    assert _closes(probe) == ALL_CLOSED


async def test_re_opening_a_stream_source_starts_fresh(anyio_backend: str) -> None:
    probe = Probe()
    stream = _via_stream(probe, 2, 0.0) | probe.stage("a")
    assert len(await stream.collect()) == 2
    probe.produced = 0
    assert len(await stream.collect()) == 2
    assert probe.events.count("source opened") == 2
    assert _closes(probe) == ["a closed", "a closed", "source closed", "source closed"]


async def test_abandoned_iteration_with_aclosing_is_closed(anyio_backend: str) -> None:
    probe = Probe()
    stream = _via_stream(probe, None, 0.0) | lk.chunk(ms=10)
    async with contextlib.aclosing(aiter(stream)) as frames:
        await frames.__anext__()
    assert probe.source_closed


# -- sources that never wait still let timeouts land -----------------------------------------


def _endless_frames() -> Iterator[lk.AudioFrame]:
    frame = lk.AudioFrame(np.zeros(160, np.int16), 16_000)
    while True:
        yield frame


@pytest.mark.parametrize(
    "make",
    [
        lambda: lk.sine(440, None, 16_000),
        lambda: lk.noise(None, 16_000, block_ms=1),
        lambda: lk.from_frames(_endless_frames()),
    ],
    ids=["sine", "noise", "from_frames-sync-generator"],
)
async def test_timeout_cancels_an_endless_pipeline_that_never_waits(
    make: Callable[[], lk.Stream[lk.AudioFrame]],
) -> None:
    # Without checkpoints in the sources nothing would ever yield to the event loop and
    # this would hang until the test timeout.
    started = time.monotonic()
    with anyio.move_on_after(0.2) as scope:
        await make().resample(8_000).chunk(ms=20).map(lambda f: f).run()
    assert scope.cancelled_caught
    assert time.monotonic() - started < 2.0
