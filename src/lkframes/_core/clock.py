"""The one clock lkframes' live code reads: ``time.monotonic()``, or a virtual one.

Live code (a room's timeline, pacing, arrival times) reads `monotonic` instead of
``time.monotonic()``: under an asyncio loop that keeps virtual time (``lkframes.testing``'s
simulated rooms run in one, so ten simulated minutes pass in well under a second) it is
that loop's ``time()``; under trio it is trio's clock (``trio.current_time()``: virtual
under ``lkframes.testing.VirtualTrioClock`` or ``MockClock``); anywhere else it is
``time.monotonic()``, the clock asyncio's own timers use.
"""

from __future__ import annotations

import asyncio
import sys
import time

__all__ = ("VIRTUAL_CLOCK", "monotonic")

VIRTUAL_CLOCK = "lkframes_virtual_clock"
"""The attribute an event loop (or a trio clock) sets (to True) when its time is virtual."""


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
    """The running trio's clock (``trio.current_time()``), or ``time.monotonic()``.

    Under trio, lkframes keeps time by trio's clock whichever it is (its own, a
    ``MockClock``, `lkframes.testing.VirtualTrioClock`), as trio's sleeps and deadlines
    do; asyncio's is ``time.monotonic()``, which LiveKit's SDK stamps its frames by.
    """
    trio = sys.modules.get("trio")
    if trio is None:
        return time.monotonic()
    try:
        now: float = trio.current_time()
    except RuntimeError:
        return time.monotonic()
    return now
