"""The one clock lkframes' live code reads: ``time.monotonic()``, or a simulated room's.

Live code (a room's timeline, pacing, arrival times) reads `monotonic` instead of
``time.monotonic()``: under an event loop that keeps virtual time (``lkframes.testing``'s
simulated rooms run in one, so ten simulated minutes pass in well under a second) it is
that loop's ``time()``; anywhere else it is ``time.monotonic()``, the clock asyncio's own
timers use.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ("VIRTUAL_CLOCK", "monotonic")

VIRTUAL_CLOCK = "lkframes_virtual_clock"
"""The attribute an event loop sets (to True) when its ``time()`` is virtual."""


def monotonic() -> float:
    """Seconds on the running loop's virtual clock, or ``time.monotonic()``."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return time.monotonic()
    if getattr(loop, VIRTUAL_CLOCK, False):
        return loop.time()
    return time.monotonic()
