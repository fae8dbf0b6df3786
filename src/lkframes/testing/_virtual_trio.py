"""A trio clock that jumps ahead when nothing is ready: `run_virtual`'s on trio.

Like ``trio.testing.MockClock(autojump_threshold=0)``, with two differences that make a
simulated room come out the same on trio as on asyncio (`VirtualClockLoop`): the clock
lands on the next deadline's exact time, and it stands still while a worker thread works
(``trio.to_thread.run_sync`` or anyio's ``to_thread.run_sync`` through the default
thread limiter, as lkframes' file work runs, and lkframes' own limiters, as ``map``'s
threads): to the program, work in a thread takes no time. A thread started with a
limiter of your own is not seen (the clock may move on while it works). MockClock jumps
whenever every task waits, threads' included. And as the clock jumps when trio asks how
long to sleep, ``trio.testing.wait_all_tasks_blocked`` returns after the jump (MockClock's
before it).

It is built on trio's public clock interface (``trio.abc.Clock``): trio asks it how long
to sleep until the next deadline only when no task is ready, and it answers "not at all"
after moving itself to that deadline.
"""

from __future__ import annotations

import math

import trio

from .._core.clock import VIRTUAL_CLOCK
from .._core.loops import threads_working

__all__ = ("VirtualTrioClock",)


class VirtualTrioClock(trio.abc.Clock):
    """A trio clock that starts at 0 and jumps to the next deadline when all tasks wait.

    `lkframes._core.clock.monotonic` reads it, so lkframes' live code keeps time by it.
    ``run_virtual(main, backend="trio")`` runs in one; pass one to ``trio.run(...,
    clock=VirtualTrioClock())`` yourself for more control.

    Examples:
        >>> import trio
        >>> from lkframes.testing import VirtualTrioClock
        >>> async def an_hour() -> float:
        ...     await trio.sleep(3600)
        ...     return trio.current_time()
        >>> trio.run(an_hour, clock=VirtualTrioClock())  # at once
        3600.0
    """

    lkframes_virtual_clock = True

    def __init__(self) -> None:
        self._now = 0.0
        self.jumps = 0
        """How many times the clock jumped ahead: how often everything waited for a
        deadline (what a scenario costs, whatever the machine)."""

    def start_clock(self) -> None:
        """Nothing to start: the clock is at 0."""

    def current_time(self) -> float:
        """Seconds of virtual time since the run began."""
        return self._now

    def deadline_to_sleep_time(self, deadline: float) -> float:
        """No task is ready: jump to ``deadline`` and sleep 0, or, while a worker thread
        works, sleep for real until it is done (its result wakes trio) or ``deadline``."""
        if deadline <= self._now:
            return 0.0
        if trio.to_thread.current_default_thread_limiter().borrowed_tokens or threads_working():
            return deadline - self._now  # a thread's result may come first: wait for real
        if math.isinf(deadline):
            return deadline  # nothing to jump to: trio waits for I/O or signals
        self._now = deadline
        self.jumps += 1
        return 0.0

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` ahead."""
        self._now += max(0.0, seconds)
        self.jumps += 1


assert getattr(VirtualTrioClock, VIRTUAL_CLOCK)
