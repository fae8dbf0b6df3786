"""`run_sync`: await from synchronous code, outside or inside a running event loop."""

from __future__ import annotations

import asyncio
import inspect
import threading

import anyio
import anyio.lowlevel
import numpy as np
import pytest
import sniffio

import lkframes as lk


class Custom(Exception):
    pass


async def _where() -> tuple[str, int]:
    await anyio.lowlevel.checkpoint()
    return sniffio.current_async_library(), threading.get_ident()


async def _fail() -> None:
    await anyio.lowlevel.checkpoint()
    raise Custom("from the coroutine")


def test_run_sync_outside_a_loop_runs_here_on_asyncio() -> None:
    library, thread = lk.run_sync(_where())
    assert library == "asyncio"
    assert thread == threading.get_ident()


def test_run_sync_returns_a_pipeline_result() -> None:
    y = lk.run_sync(lk.from_array(np.arange(10, dtype=np.int16), 8_000).gain(6.0206).to_array())
    assert y.tolist() == [2 * i for i in range(10)]


def test_run_sync_accepts_a_function_returning_an_awaitable() -> None:
    library, _ = lk.run_sync(_where)
    assert library == "asyncio"


def test_run_sync_propagates_exceptions_with_their_type() -> None:
    with pytest.raises(Custom, match="from the coroutine"):
        lk.run_sync(_fail())
    with pytest.raises(lk.ParameterError, match=r"220\.5 samples"):
        lk.run_sync(lk.silence(0.1, 11_025).chunk(ms=20).collect())


def test_run_sync_inside_a_running_asyncio_loop() -> None:
    async def main() -> tuple[tuple[str, int], int]:
        # a notebook cell: synchronous code called while a loop is running
        return lk.run_sync(_where()), threading.get_ident()

    (library, worker), caller = asyncio.run(main())
    assert library == "asyncio"
    assert worker != caller  # ran on a fresh loop in a worker thread


def test_run_sync_inside_a_running_trio_loop() -> None:
    async def main() -> int:
        frames = lk.run_sync(lk.silence(0.1, 16_000).chunk(ms=20).collect())
        return len(frames)

    assert anyio.run(main, backend="trio") == 5


def test_run_sync_inside_a_loop_propagates_exceptions_with_their_type() -> None:
    async def main() -> None:
        lk.run_sync(_fail())

    with pytest.raises(Custom, match="from the coroutine"):
        asyncio.run(main())


def test_run_sync_inside_a_loop_propagates_base_exceptions() -> None:
    async def interrupted() -> None:
        raise KeyboardInterrupt

    async def main() -> None:
        lk.run_sync(interrupted())

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())


def test_a_coroutine_never_started_is_closed_when_ctrl_c_comes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ctrl-C before the loop starts the coroutine (seen as `lkframes convert`, interrupted
    # early, printing "coroutine 'Stream.to_file' was never awaited" at exit).
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(anyio, "run", interrupted)
    coroutine = _where()
    with pytest.raises(KeyboardInterrupt):
        lk.run_sync(coroutine)
    assert inspect.getcoroutinestate(coroutine) == "CORO_CLOSED"  # nothing to warn of at exit


def test_a_coroutine_that_ran_is_left_as_it_ended() -> None:
    coroutine = _fail()
    with pytest.raises(Custom):
        lk.run_sync(coroutine)
    assert inspect.getcoroutinestate(coroutine) == "CORO_CLOSED"
