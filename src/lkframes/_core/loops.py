"""What lkframes' live code starts from a callback, on asyncio and on trio.

LiveKit's SDK calls lkframes back from its event emitter (a track was unsubscribed, the
room disconnected): plain functions, in the event loop's thread, which must start
something (close a stream now, look again in 30 ms). asyncio has ``call_later`` and
``create_task`` for that; trio has no callbacks, so there a system task does it
(``trio.lowlevel.spawn_system_task``: it belongs to no nursery of the caller's, as an
asyncio task does not). LiveKit's own rooms run on asyncio only; a simulated room
(``lkframes.testing.SimulatedRoom``) runs on both, through these.

On asyncio each is the loop's own call, as before (a virtual-clock loop orders timers of
the same time by when they were made); trio's are a little heavier and only used there.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import anyio
import sniffio

__all__ = (
    "Later",
    "Started",
    "Waiter",
    "call_later",
    "library",
    "loop_clock",
    "start",
    "thread_limiter",
    "threads_working",
)


def library() -> str:
    """The running async library (``"asyncio"``, ``"trio"``), or ``"none"``."""
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return "none"


_LIMITERS: weakref.WeakSet[Any] = weakref.WeakSet()


def thread_limiter(tokens: int) -> anyio.CapacityLimiter:
    """A limiter for lkframes' own worker threads, other than anyio's default one.

    A virtual clock must stand still while a worker thread works; on trio it sees the
    default limiter's threads (``trio.to_thread``'s) and those of the limiters made here
    (`threads_working`).
    """
    limiter = anyio.CapacityLimiter(tokens)
    _LIMITERS.add(limiter)
    return limiter


def threads_working() -> bool:
    """Whether a worker thread of one of `thread_limiter`'s limiters is working."""
    return any(limiter.borrowed_tokens for limiter in list(_LIMITERS))


class Later(Protocol):
    """A call to come, which `cancel` stops (``asyncio.TimerHandle`` has this shape)."""

    def cancel(self) -> None:
        """Do not make the call (nothing if it was made)."""


def call_later(delay: float, callback: Callable[[], object]) -> Later:
    """Call ``callback()`` in ``delay`` seconds of the running loop's clock.

    On trio, ``callback`` must not raise (as an asyncio callback's error, it would have
    nowhere to go but the run's end).
    """
    if library() != "trio":
        return asyncio.get_running_loop().call_later(delay, callback)
    import trio

    scope = trio.CancelScope()

    async def later() -> None:
        with scope:
            await trio.sleep(delay)
            callback()

    trio.lowlevel.spawn_system_task(later, name="lkframes.call_later")
    return scope


class Started(Protocol):
    """A coroutine running on its own, started by `start`."""

    def cancel(self) -> None:
        """Cancel it (nothing if it is done)."""

    async def wait(self) -> None:
        """Until it is done; its exception (not a cancellation of its own) raised here."""


def start(coroutine: Coroutine[Any, Any, object], name: str) -> Started:
    """Run ``coroutine`` on its own, as a task nobody awaits (asyncio's ``create_task``)."""
    if library() != "trio":
        return _AsyncioStarted(asyncio.get_running_loop().create_task(coroutine, name=name))
    return _TrioStarted(coroutine, name)


class _AsyncioStarted:
    def __init__(self, task: asyncio.Task[object]) -> None:
        self.task = task

    def cancel(self) -> None:
        self.task.cancel()

    async def wait(self) -> None:
        await asyncio.wait([self.task])  # the caller's own cancellation still reaches it
        if not self.task.cancelled() and self.task.exception() is not None:
            raise self.task.exception()  # type: ignore[misc]  # not None, checked


class _TrioStarted:
    def __init__(self, coroutine: Coroutine[Any, Any, object], name: str) -> None:
        import trio

        self._scope = trio.CancelScope()
        self._done = trio.Event()
        self._error: Exception | None = None
        self.name = name
        trio.lowlevel.spawn_system_task(self._run, coroutine, name=name)

    async def _run(self, coroutine: Coroutine[Any, Any, object]) -> None:
        try:
            with self._scope:
                await coroutine
        except Exception as error:
            self._error = error
        finally:
            coroutine.close()  # a coroutine cancelled before it began
            self._done.set()

    def cancel(self) -> None:
        self._scope.cancel()

    async def wait(self) -> None:
        await self._done.wait()
        if self._error is not None:
            raise self._error


def loop_clock() -> Callable[[], float]:
    """The running loop's clock, as a function (asyncio's still reads once the loop is
    closed)."""
    if library() == "trio":
        import trio

        return trio.current_time
    return asyncio.get_running_loop().time


class Waiter:
    """What one task waits for: a time on the loop's clock (`loop_clock`), or a `wake`.

    The time is the loop's own, so that on a virtual clock the wait ends on that exact
    time however the clock got there. A waiter serves one event loop: the one it first
    waited in (looked up once; a simulated stream waits for every frame).
    """

    __slots__ = ("_future", "_loop", "_trio", "_trio_event")

    def __init__(self) -> None:
        self._future: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._trio: Any = None
        self._trio_event: Any = None

    def _bind(self) -> None:
        if library() == "trio":
            import trio

            self._trio = trio
        else:
            self._loop = asyncio.get_running_loop()

    async def wait(self, delay: float) -> None:
        """Until ``delay`` seconds from now (infinite: only a `wake`), or a `wake`."""
        if self._loop is None and self._trio is None:
            self._bind()
        now = self._loop.time() if self._loop is not None else self._trio.current_time()
        await self.wait_until(now + max(0.0, delay))

    async def wait_until(self, deadline: float) -> None:
        """Until the loop's clock reads ``deadline`` (infinite: only a `wake`), or a `wake`."""
        loop = self._loop
        if loop is None:
            if self._trio is None:
                self._bind()
                await self.wait_until(deadline)
            else:
                await self._trio_wait(deadline)
            return
        self._future = future = loop.create_future()
        timer = None if deadline == math.inf else loop.call_at(deadline, _resolve, future)
        try:
            await future
        finally:
            if timer is not None:
                timer.cancel()
            self._future = None

    async def _trio_wait(self, deadline: float) -> None:
        self._trio_event = event = self._trio.Event()
        try:
            with self._trio.move_on_at(deadline):
                await event.wait()
        finally:
            self._trio_event = None

    def wake(self) -> None:
        """End the wait now (nothing if nobody waits)."""
        _resolve(self._future)
        if self._trio_event is not None:
            self._trio_event.set()


def _resolve(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)
