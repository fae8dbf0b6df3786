"""`map(fn, concurrency=n)`: a sliding window of calls, in order or as they finish."""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

import anyio
import numpy as np
import pytest

import lkframes as lk
from lkframes.testing import audio_formats, check_stage, open_resources

pytestmark = pytest.mark.anyio

Backend = Literal["asyncio", "trio"]

RATE = 8_000
SIZE = 10  # samples per input frame: frame k has pts 10 * k


def _frames(count: int) -> lk.Stream[lk.AudioFrame]:
    data = np.repeat(np.arange(count, dtype=np.int16), SIZE)
    return lk.from_array(data, RATE, block_ms=SIZE * 1000 / RATE)


def _index(frame: lk.AudioFrame) -> int:
    return frame.pts // SIZE


class Gates:
    """An async fn whose call k waits until ``release(k)``; records starts and ends."""

    def __init__(self, count: int) -> None:
        self.events = [anyio.Event() for _ in range(count)]
        self.started: list[int] = []
        self.finished: list[int] = []
        self.cancelled: list[int] = []
        self.running = 0
        self.most = 0

    async def __call__(self, frame: lk.AudioFrame) -> lk.AudioFrame:
        k = _index(frame)
        self.started.append(k)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.events[k].wait()
        except BaseException:
            self.cancelled.append(k)
            raise
        finally:
            self.running -= 1
        self.finished.append(k)
        return frame

    def release(self, *ks: int) -> None:
        for k in ks:
            self.events[k].set()


async def _until(condition: Any) -> None:
    """Poll ``condition`` (state changed by other tasks) for up to 5 s."""
    with anyio.fail_after(5):
        while not condition():  # noqa: ASYNC110 - polls state, there is no event to wait on
            await anyio.sleep(0.001)


async def test_a_new_call_starts_as_soon_as_one_is_yielded(anyio_backend: Backend) -> None:
    gates = Gates(6)
    out: list[int] = []
    async with anyio.create_task_group() as tg:

        async def consume() -> None:
            out.extend(_index(f) for f in await _frames(6).map(gates, concurrency=3).collect())

        tg.start_soon(consume)
        await _until(lambda: sorted(gates.started) == [0, 1, 2])  # trio starts in any order
        await anyio.sleep(0.01)
        assert sorted(gates.started) == [0, 1, 2]  # the window is full: three calls in flight
        gates.release(0)
        await _until(lambda: 3 in gates.started)  # 0 was yielded: 3 starts at once,
        assert gates.finished == [0]  # while 1 and 2 still run (no batches)
        gates.release(*range(1, 6))
    assert out == list(range(6))
    assert gates.most == 3


async def test_ordered_results_wait_for_everything_before_them(anyio_backend: Backend) -> None:
    gates = Gates(4)
    seen: list[int] = []
    async with anyio.create_task_group() as tg:

        async def consume() -> None:
            stream = _frames(4).map(gates, concurrency=4).tap(lambda f: seen.append(_index(f)))
            await stream.run()

        tg.start_soon(consume)
        await _until(lambda: len(gates.started) == 4)
        gates.release(3, 2, 1)  # the later ones finish first...
        await _until(lambda: len(gates.finished) == 3)
        await anyio.sleep(0.01)
        assert seen == []  # ...but nothing goes out before frame 0
        gates.release(0)
    assert seen == [0, 1, 2, 3]


async def test_unordered_results_go_out_as_they_finish(anyio_backend: Backend) -> None:
    gates = Gates(4)
    seen: list[int] = []
    async with anyio.create_task_group() as tg:

        async def consume() -> None:
            stream = _frames(4).map(gates, concurrency=4, ordered=False)
            await stream.tap(lambda f: seen.append(_index(f))).run()

        tg.start_soon(consume)
        await _until(lambda: len(gates.started) == 4)
        for k in (2, 0, 3, 1):
            gates.release(k)
            await _until(lambda k=k: k in seen)
    assert seen == [2, 0, 3, 1]


async def test_sync_functions_run_in_at_most_n_threads(anyio_backend: Backend) -> None:
    lock = threading.Lock()
    running = 0
    most = 0

    def slow(frame: lk.AudioFrame) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.005)
        with lock:
            running -= 1
        return frame.data

    out = await _frames(12).map(slow, concurrency=4).to_array()
    assert out.tolist() == np.repeat(np.arange(12), SIZE).tolist()
    assert most == 4


async def test_leaving_early_cancels_the_calls_in_flight_and_waits_for_them(
    anyio_backend: str,
) -> None:
    gates = Gates(8)
    gates.release(0)
    before = open_resources()
    async with _frames(8).map(gates, concurrency=4).open() as frames:
        async for frame in frames:
            assert _index(frame) == 0
            break
    # Closed before the block exits: the calls still waiting were cancelled, not abandoned.
    # The window refills when the consumer asks for the next item, so it held 1 to 3.
    assert sorted(gates.cancelled) == [1, 2, 3]
    assert gates.running == 0
    assert open_resources() == before


async def test_the_earliest_failure_is_raised_and_the_rest_cancelled(
    anyio_backend: Backend,
) -> None:
    gates = Gates(6)

    async def fail_on_two(frame: lk.AudioFrame) -> lk.AudioFrame:
        if _index(frame) == 2:
            raise KeyError("two")
        return await gates(frame)

    gates.release(0, 1)
    with pytest.raises(KeyError, match="two") as caught:
        await _frames(6).map(fail_on_two, concurrency=3).collect()
    assert caught.value.__notes__ == [
        f"raised in lkframes stage map({fail_on_two.__qualname__}) at pts=20"
    ]
    assert gates.running == 0


async def test_a_bare_async_for_is_refused_with_the_way_out(anyio_backend: Backend) -> None:
    stream = _frames(2).map(lambda f: f, concurrency=2)
    assert stream.runs_tasks
    with pytest.raises(lk.NeedsOpenError, match=r"async with stream.open\(\)"):
        async for _ in stream:
            pass
    frames = await stream.collect()  # terminals and open() hold the task group
    assert len(frames) == 2


@pytest.mark.parametrize("ordered", [True, False])
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_windowed_map_passes_the_stage_kit(ordered: bool, backend: Backend) -> None:
    async def louder(frame: lk.AudioFrame) -> Any:
        await anyio.lowlevel.checkpoint()
        return lk.AudioFrame.of(frame.data, frame.format, frame.pts)

    check_stage(
        lambda fmt: lk.map(louder, concurrency=3, ordered=ordered),
        formats=audio_formats(sample_rates=16_000),
        expected_length=lambda n, fmt: n,
        ordered=ordered,
        max_examples=15,
        backend=backend,
    )


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_windowed_map_in_threads_passes_the_stage_kit(backend: Backend) -> None:
    check_stage(
        lambda fmt: lk.map(lambda f: f.data.copy(), concurrency=2),
        formats=audio_formats(sample_rates=16_000),
        expected_length=lambda n, fmt: n,
        max_examples=10,
        backend=backend,
    )
