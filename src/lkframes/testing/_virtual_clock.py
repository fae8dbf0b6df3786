"""An asyncio event loop on a virtual clock that jumps ahead when nothing is ready.

Like ``trio.testing.MockClock(autojump_threshold=0)``: whenever every task waits for a
timer, the clock moves to that timer at once, so a simulated ten minutes take the CPU time
the work needs, and the same program sees the same times, run after run. Waiting for I/O
or a thread (a file read in a worker thread) is real: the loop blocks as usual while
nothing is scheduled, and otherwise polls and jumps. While a thread works (asyncio's
``run_in_executor`` or anyio's ``to_thread.run_sync``, which lkframes' file work uses) the
clock does not move: to the program, work in a thread takes no time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import selectors
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from .._core.checks import check_choice
from .._core.clock import VIRTUAL_CLOCK
from ._anyio import anyio_threads_busy

__all__ = ("VirtualClockLoop", "run_virtual")

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    """A selector whose timed waits advance the loop's virtual clock instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualClockLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout is None or timeout <= 0 or self.loop is None:
            return ready if ready or timeout == 0 else super().select(timeout)
        if self.loop.busy_threads():
            return super().select(timeout)  # a thread's result may come first: wait for real
        self.loop.jump(timeout)
        return []


class _Timer(asyncio.TimerHandle):
    """asyncio's timer, after the timers of the same time made before it: the order in
    which they fire does not depend on the heap's history."""

    __slots__ = ("_order",)

    def __init__(self, order: int, *args: Any) -> None:
        super().__init__(*args)
        self._order = order

    def __lt__(self, other: _Timer) -> bool:  # type: ignore[override]  # only _Timers here
        when, other_when = self._when, other._when  # type: ignore[attr-defined]
        return when < other_when or (when == other_when and self._order < other._order)


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` starts at 0 and jumps to the next timer.

    `lkframes._core.clock.monotonic` reads it, so lkframes' live code keeps time by it.
    `run_virtual` runs a coroutine in one.

    Examples:
        >>> import asyncio
        >>> from lkframes.testing import VirtualClockLoop
        >>> with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        ...     runner.run(asyncio.sleep(60))
        ...     runner.get_loop().time()
        60.0
    """

    lkframes_virtual_clock = True

    def __init__(self) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = 0.0
        self._threads = 0
        self.jumps = 0
        self._timers = itertools.count()
        """How many times the clock jumped ahead: how often everything waited for a timer
        (what a scenario costs, whatever the machine)."""

    def time(self) -> float:
        """Seconds of virtual time since the loop was made."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` ahead (the loop does this when all tasks wait)."""
        self._now += max(0.0, seconds)
        self.jumps += 1

    def call_at(  # type: ignore[override]  # the same call, its timers ordered
        self, when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        """As asyncio's, but timers of the same time fire in the order they were made."""
        self._check_closed()  # type: ignore[attr-defined]
        if self.get_debug():
            self._check_thread()  # type: ignore[attr-defined]
            self._check_callback(callback, "call_at")  # type: ignore[attr-defined]
        timer = _Timer(next(self._timers), when, callback, args, self, context)
        if timer._source_traceback:  # type: ignore[attr-defined]
            del timer._source_traceback[-1]  # type: ignore[attr-defined]
        heapq.heappush(self._scheduled, timer)  # type: ignore[attr-defined]
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    def jump(self, timeout: float) -> None:
        """Everything waits, the first timer in ``timeout``: move the clock to that timer's
        exact time (not ``time() + timeout``, which rounds differently from one ``time()``
        to another), so that a timer lands on the same time however the clock got there."""
        scheduled = getattr(self, "_scheduled", None)  # asyncio's heap of TimerHandles
        first = scheduled[0].when() if scheduled else None
        if first is not None and first > self._now and first - self._now <= timeout:
            self._now = first
            self.jumps += 1
        else:
            self.advance(timeout)

    def busy_threads(self) -> bool:
        """Whether a ``run_in_executor`` or an anyio ``to_thread.run_sync`` call is still
        working."""
        return self._threads > 0 or anyio_threads_busy(self)

    def run_in_executor(  # type: ignore[override]  # the same call, counted
        self, executor: Any, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        """As asyncio's, counted so that the clock does not jump while the thread works."""
        self._threads += 1
        future = super().run_in_executor(executor, func, *args)
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _: object) -> None:
        self._threads -= 1

    async def shutdown_default_executor(self, *args: Any) -> None:
        """As asyncio's, counted as thread work: it joins the executor's threads in a
        thread of its own, and from Python 3.12 waits at most ``timeout`` (300 s in
        ``asyncio.run``) by the loop's clock, which must not jump meanwhile."""
        self._threads += 1
        try:
            await super().shutdown_default_executor(*args)
        finally:
            self._threads -= 1


assert getattr(VirtualClockLoop, VIRTUAL_CLOCK)


def run_virtual(
    main: Callable[[], Awaitable[T]], *, backend: Literal["asyncio", "trio"] = "asyncio"
) -> T:
    """Run ``main()`` to completion on a virtual clock; its result.

    On asyncio (the default) in a new `VirtualClockLoop`; on trio (``backend="trio"``,
    needs ``trio``) in ``trio.run`` with a `VirtualTrioClock`. Either way the clock jumps
    to the next timer whenever every task waits, lands on that timer's exact time, and
    stands still while a worker thread works, so a `SimulatedRoom` scenario gives the same
    frames on both, run after run.

    Args:
        main: An async function of no arguments (use ``functools.partial`` for some).
        backend: ``"asyncio"`` or ``"trio"``.

    Returns:
        What ``main()`` returned.

    Raises:
        ParameterError: ``backend`` is neither.
        ModuleNotFoundError: ``backend="trio"`` without trio installed.
        Exception: Whatever ``main()`` raised.

    Examples:
        >>> import anyio
        >>> from lkframes.testing import run_virtual
        >>> async def an_hour() -> float:
        ...     await anyio.sleep(3600)
        ...     return anyio.current_time()
        >>> run_virtual(an_hour)  # at once
        3600.0
        >>> run_virtual(an_hour, backend="trio")
        3600.0
    """

    async def wrapped() -> T:
        return await main()

    check_choice(backend, ("asyncio", "trio"), "backend")
    if backend == "trio":
        try:
            import trio

            from ._virtual_trio import VirtualTrioClock
        except ModuleNotFoundError as exc:
            if exc.name != "trio":
                raise
            raise ModuleNotFoundError(
                "run_virtual(backend='trio') needs trio: pip install trio", name="trio"
            ) from None
        return trio.run(wrapped, clock=VirtualTrioClock())
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        return runner.run(wrapped())
