"""`run_virtual`'s clock jumps to the next timer only when nothing else can happen: not
while a thread works (lkframes' file work runs in anyio's worker threads)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest

from lkframes.testing import run_virtual


async def run_in_executor() -> None:
    await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.05)


async def anyio_thread() -> None:
    await anyio.to_thread.run_sync(time.sleep, 0.05)


@pytest.mark.parametrize("work", [run_in_executor, anyio_thread])
def test_the_clock_stands_still_while_a_thread_works(
    work: Callable[[], Awaitable[None]],
) -> None:
    async def main() -> tuple[float, bool]:
        loop = asyncio.get_running_loop()
        timer = asyncio.create_task(asyncio.sleep(10))  # where the clock would jump to
        await work()
        at, fired = loop.time(), timer.done()
        timer.cancel()
        return at, fired

    assert run_virtual(main) == (0.0, False)


def test_with_no_thread_working_the_clock_jumps_to_the_next_timer() -> None:
    async def main() -> float:
        await anyio_thread()  # a worker thread exists, idle, from here on
        await asyncio.sleep(3600)
        return asyncio.get_running_loop().time()

    started = time.perf_counter()
    assert run_virtual(main) == 3600.0
    assert time.perf_counter() - started < 5


def test_closing_waits_for_the_executor_in_real_time_and_warns_of_nothing() -> None:
    # asyncio.run joins the default executor's threads at the end, from Python 3.12 with a
    # 300 s timeout by the loop's clock: a clock that jumped meanwhile timed it out at once
    # ("The executor did not finishing joining its threads within 300 seconds").
    async def main() -> None:
        await run_in_executor()

    for _ in range(20):
        run_virtual(main)  # warnings are errors in this suite


def test_timers_of_the_same_time_fire_in_the_order_they_were_made() -> None:
    """asyncio's heap alone pops these 40 in a scrambled order (39, 17, 15, ...)."""

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        fired: list[int] = []
        for i in range(40):
            loop.call_at(1.0 + 0.001 * (i % 5), lambda: None)
            loop.call_at(2.0, fired.append, i)
        await asyncio.sleep(3)
        return fired

    assert run_virtual(main) == list(range(40))


def test_the_clock_lands_on_each_timers_own_time_and_counts_its_jumps() -> None:
    """From 0.004003297262922589 s, the time before plus the wait (1.3601936880654127 s)
    is not 1.3641969853283353 but one unit in the last place off it."""

    async def main() -> tuple[list[float], list[float], int]:
        loop = asyncio.get_running_loop()
        whens, landed = [], []
        for when in (0.004003297262922589, 1.3641969853283353, 2.5, 7.1):
            woken = loop.create_future()
            timer = loop.call_at(when, woken.set_result, None)
            whens.append(timer.when())
            await woken
            landed.append(loop.time())
        return whens, landed, loop.jumps  # type: ignore[attr-defined]

    whens, landed, jumps = run_virtual(main)
    assert landed == whens  # exactly
    assert jumps == len(whens)
