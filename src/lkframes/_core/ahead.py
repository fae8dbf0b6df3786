"""`Ahead`: one blocking call at a time in a worker thread, started before its result is
needed, so the event loop's side of a pipeline and the thread's side overlap.

A file is decoded, resampled and written in big blocks (0.1-1 s), by C code that releases
the GIL (libsndfile, soxr). Awaited one by one, each block's decode waits for the previous
block's frames to be cut, mapped and written, and on two cores half the machine idles.
`Ahead` starts the next block's call in a worker thread and lets the caller go on with the
current block; the result is taken when it is needed. At most one call is in flight, so:

- memory stays flat (one block ahead),
- calls run in the order they were started, never two at once (a decoder or a resampler
  keeps state between calls), and
- a call's error is raised where its result is taken, which is where the same call made
  inline would have raised it.

Only for offline sources: a live stream's frames come as they happen, and a thread would
only add a hop (the planner never puts one there). The workers are shared and kept for
reuse, like anyio's, so a thousand short runs leave no thread behind.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel

__all__ = ("Ahead",)

T = TypeVar("T")

_MAX_WORKERS = 32
"""At most this many calls run ahead at once in the process (more wait their turn)."""

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                _MAX_WORKERS, thread_name_prefix="lkframes-ahead"
            )
        return _pool


class Ahead(Generic[T]):
    """At most one call of a blocking function in flight in a worker thread.

    `start` a call, go on, then `result` (async: the event loop stays free while it
    waits) or `result_now` (blocking: where the caller would otherwise have made the same
    call inline, so it blocks no longer than that would have). `settle` before releasing
    what the call uses: it waits for a call in flight and drops its result.

    Examples:
        >>> import lkframes as lk
        >>> from lkframes._core.ahead import Ahead
        >>> async def squares():
        ...     ahead: Ahead[int] = Ahead()
        ...     out = []
        ...     ahead.start(pow, 0, 2)
        ...     for n in range(1, 4):
        ...         previous = await ahead.result()
        ...         ahead.start(pow, n, 2)  # runs while this block is handled
        ...         out.append(previous)
        ...     out.append(await ahead.result())
        ...     return out
        >>> lk.run_sync(squares())
        [0, 1, 4, 9]
    """

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: concurrent.futures.Future[T] | None = None

    @property
    def busy(self) -> bool:
        """Whether a call was started and its result not yet taken."""
        return self._future is not None

    def start(self, fn: Callable[..., T], *args: Any) -> None:
        """Start ``fn(*args)`` in a worker thread (after taking the previous result)."""
        assert self._future is None, "one call at a time: take the result first"
        self._future = _executor().submit(fn, *args)

    async def result(self) -> T:
        """The call's result, or its exception raised here; a checkpoint either way.

        Waiting is not cancellable (as an inline ``to_thread`` call would not be): a
        cancellation is raised once the call has finished.
        """
        future = self._future
        assert future is not None, "no call was started"
        if future.done():
            await anyio.lowlevel.checkpoint()
        else:
            await anyio.to_thread.run_sync(concurrent.futures.wait, (future,))
        self._future = None  # kept until here: a cancelled wait leaves the call to `settle`
        return future.result()

    def result_now(self) -> T:
        """The call's result, or its exception raised here, waiting in this thread."""
        return self._take().result()

    def settle(self) -> None:
        """Wait for a call in flight, if any, and drop its result or exception (blocking)."""
        future, self._future = self._future, None
        if future is not None and not future.cancel():
            concurrent.futures.wait((future,))

    async def asettle(self) -> None:
        """`settle` from the event loop, shielded: the call ends before this returns."""
        future, self._future = self._future, None
        if future is None or future.cancel():
            return
        with anyio.CancelScope(shield=True):
            if not future.done():
                await anyio.to_thread.run_sync(concurrent.futures.wait, (future,))

    def _take(self) -> concurrent.futures.Future[T]:
        future, self._future = self._future, None
        assert future is not None, "no call was started"
        return future
