"""`run_sync`: await a coroutine from synchronous code, inside or outside a running loop."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import anyio
import sniffio

__all__ = ("run_sync",)

T = TypeVar("T")


def _loop_running() -> bool:
    try:
        sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        pass
    else:
        return True
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(awaitable: Awaitable[T] | Callable[[], Awaitable[T]]) -> T:
    """Run ``awaitable`` to completion from synchronous code and return its result.

    Outside an event loop it runs on a new anyio (asyncio) loop. Inside a running loop
    (a Jupyter notebook cell, say) it runs on a fresh loop in a worker thread and blocks
    until done, so it works the same in a script and in a notebook. The awaitable must not
    use objects bound to the caller's loop (such as a connected LiveKit room): await those
    directly instead.

    Args:
        awaitable: A coroutine (e.g. ``stream.to_array()``) or a function returning one.

    Returns:
        The awaitable's result.

    Raises:
        Exception: Whatever the awaitable raises.

    Examples:
        >>> import lkframes as lk
        >>> lk.run_sync(lk.silence(0.5, 16_000).to_array()).shape
        (8000,)
    """
    factory = awaitable if callable(awaitable) else None
    outcome: list[T] = []

    async def main() -> None:
        # The result is kept here, not returned: on Python 3.11 asyncio's runner builds the
        # repr of its main task (result included) when it restores the SIGINT handler, which
        # for a long FrameList would cost time proportional to its length.
        if factory is not None:
            outcome.append(await factory())
        else:
            outcome.append(await cast(Awaitable[T], awaitable))

    if not _loop_running():
        try:
            anyio.run(main)
        finally:
            _close_unstarted(awaitable)
        return outcome[0]
    return _in_thread(main, outcome)


def _close_unstarted(awaitable: object) -> None:
    """Close a coroutine that never ran (Ctrl-C before the loop started it), so that Python
    does not warn at exit that it was never awaited. Only where the loop ran in this thread:
    a worker thread may still be about to start it."""
    if inspect.iscoroutine(awaitable) and inspect.getcoroutinestate(awaitable) == "CORO_CREATED":
        awaitable.close()


def _in_thread(main: Callable[[], Awaitable[None]], outcome: list[T]) -> T:
    """``main`` on a new loop in a worker thread (a loop runs in this one)."""
    error: list[BaseException] = []

    def worker() -> None:
        try:
            anyio.run(main)
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=worker, name="lkframes.run_sync", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return outcome[0]
