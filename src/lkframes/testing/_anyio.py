"""The one place lkframes reads anyio's internals (for the virtual clock of `run_virtual`).

Each private name used is listed in the function that uses it, with the anyio versions it
was checked against; ``tests/testing/test_virtual_clock.py`` is the contract test: it fails
if anyio's worker threads stop being seen as busy while they work.
"""

from __future__ import annotations

import asyncio

__all__ = ("anyio_threads_busy",)


def anyio_threads_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether one of anyio's worker threads for ``loop`` is working.

    anyio runs ``to_thread.run_sync`` in threads of its own, not through the loop's
    executor. Relies on: ``anyio.lowlevel._run_vars`` (each loop's run variables) and the
    asyncio backend's ``_threadpool_workers`` (a loop's worker threads) and
    ``_threadpool_idle_workers`` (those waiting for work; a worker leaves it while it
    works and is put back by a callback on the loop when it is done), anyio 4.4 to 4.16.
    Without them, False (the clock may then jump while a thread works).
    """
    try:
        from anyio import lowlevel
        from anyio._backends import _asyncio as backend

        values = lowlevel._run_vars.get(loop, {})
        workers = values.get(backend._threadpool_workers, ())
        idle = values.get(backend._threadpool_idle_workers, ())
        return len(workers) > len(idle)
    except (ImportError, AttributeError, TypeError):
        return False
