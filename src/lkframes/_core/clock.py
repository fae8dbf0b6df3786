"""The one clock lkframes' live code reads: ``time.monotonic()``, or a virtual one.

Live code (a room's timeline, pacing, arrival times) reads `monotonic` instead of
``time.monotonic()``: under an event loop that keeps virtual time (``lkframes.testing``'s
simulated rooms run in one, so ten simulated minutes pass in well under a second) it is
that loop's time: an asyncio loop's ``time()``, or on trio the run's clock
(``trio.current_time()``) when that clock is virtual (``lkframes.testing``'s, or
``trio.testing.MockClock``); anywhere else it is ``time.monotonic()``, the clock asyncio's
own timers use.
"""

from __future__ import annotations

import asyncio
import sys
import time

__all__ = ("VIRTUAL_CLOCK", "monotonic")

VIRTUAL_CLOCK = "lkframes_virtual_clock"
"""The attribute an event loop or a trio clock sets (to True) when its time is virtual."""


def monotonic() -> float:
    """Seconds on the running loop's virtual clock, or ``time.monotonic()``."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return _trio_time()
    if getattr(loop, VIRTUAL_CLOCK, False):
        return loop.time()
    return time.monotonic()


def _trio_time() -> float:
    """The running trio's virtual clock, if trio runs on one; else ``time.monotonic()``."""
    trio = sys.modules.get("trio")
    if trio is None:
        return time.monotonic()
    try:
        clock = trio.lowlevel.current_clock()
    except RuntimeError:
        return time.monotonic()
    testing = sys.modules.get("trio.testing")
    if getattr(clock, VIRTUAL_CLOCK, False) or (
        testing is not None and isinstance(clock, testing.MockClock)
    ):
        now: float = clock.current_time()
        return now
    return time.monotonic()
