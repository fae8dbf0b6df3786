"""Blocking calls in worker threads beside the event loop, so the loop's side of a file
pipeline and the thread's side overlap: `Prefetch` decodes a file's next blocks while the
pipeline works on the current one, `Ahead` writes a block while the next one gathers.

A file is decoded, resampled and written in big blocks (0.1-1 s), by C code that releases
the GIL (libsndfile, FFmpeg, soxr). Awaited one by one, each block's decode waits for the
previous block's frames to be cut, mapped and written, and on two cores half the machine
idles. Both keep what is in flight bounded (memory stays flat), run their calls in order
and never two at once (a decoder keeps state between calls), and raise a call's error
where its result is taken: where the same call made inline would have raised it.

Only for files: a live stream's frames come as they happen, and a thread would only add
a hop. `Ahead`'s workers are shared and kept for reuse, like anyio's, so a thousand short
runs leave no thread behind; a `Prefetch` has a thread of its own, joined by `stop`.
"""

from __future__ import annotations

import collections
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel

__all__ = ("Ahead", "Prefetch")

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

    `start` a call, go on, then await its `result` (the event loop stays free while it
    waits). `asettle` before releasing what the call uses: it waits for a call in flight
    and drops its result.

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
        self._future = None  # kept until here: a cancelled wait leaves the call to `asettle`
        return future.result()

    async def asettle(self) -> None:
        """Wait for a call in flight, if any, and drop its result or exception (shielded:
        the call has ended when this returns)."""
        future, self._future = self._future, None
        if future is None or future.cancel():
            return
        with anyio.CancelScope(shield=True):
            if not future.done():
                await anyio.to_thread.run_sync(concurrent.futures.wait, (future,))


class Prefetch(Generic[T]):
    """Items made one after another by a blocking function in a worker thread, kept up
    to ``depth`` ahead of the consumer: the thread goes on making the next while the
    event loop takes the last, so neither waits for the other's hand-over.

    ``make`` is called until ``last`` says its result ends the run, or it raises; each
    result (or the exception) is given by `next` in order, the exception raised there.
    `stop` ends the thread's work: it waits for a call in flight, so what ``make`` uses
    may be released after it.

    Examples:
        >>> import itertools, lkframes as lk
        >>> from lkframes._core.ahead import Prefetch
        >>> async def three():
        ...     count = itertools.count()
        ...     items: Prefetch[int] = Prefetch(lambda: next(count), lambda n: n == 2)
        ...     items.start()
        ...     try:
        ...         return [await items.next() for _ in range(3)]
        ...     finally:
        ...         items.stop()
        >>> lk.run_sync(three())
        [0, 1, 2]
    """

    __slots__ = ("_depth", "_items", "_last", "_make", "_ready", "_stopped", "_thread")

    def __init__(self, make: Callable[[], T], last: Callable[[T], bool], depth: int = 2) -> None:
        self._make = make
        self._last = last
        self._depth = depth
        self._items: collections.deque[tuple[T | None, BaseException | None]] = collections.deque()
        self._ready = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start making items in a thread of its own.

        Not a pooled thread: a thread that waits for its consumer holds its worker, and
        a pipeline reading more files at once than a pool has workers (a `mix` of many)
        would wait forever for the ones that never started.
        """
        self._thread = threading.Thread(target=self._run, name="lkframes-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ready = self._ready
        while True:
            with ready:
                while len(self._items) >= self._depth and not self._stopped:
                    ready.wait()
                if self._stopped:
                    return
            error: BaseException | None = None
            item: T | None = None
            try:
                item = self._make()
            except BaseException as exc:  # raised to the consumer, in order
                error = exc
            with ready:
                self._items.append((item, error))
                ready.notify_all()
            if error is not None or self._last(item):  # type: ignore[arg-type]
                return

    def _take(self, wait: bool) -> tuple[T | None, BaseException | None] | None:
        with self._ready:
            while wait and not self._items and not self._stopped:
                self._ready.wait()
            if not self._items:
                return None
            taken = self._items.popleft()
            self._ready.notify_all()
            return taken

    async def next(self) -> T:
        """The next item, or the exception making it raised; a checkpoint either way.

        Waiting is not cancellable (an inline ``to_thread`` call would not be either):
        a cancellation is raised once the item in the making is there.
        """
        taken = self._take(False)
        if taken is None:
            taken = await anyio.to_thread.run_sync(self._take, True)
            assert taken is not None
        else:
            await anyio.lowlevel.checkpoint()
        item, error = taken
        if error is not None:
            raise error
        return item  # type: ignore[return-value]

    def stop(self) -> None:
        """Stop making items and wait for a call in flight (blocking)."""
        with self._ready:
            self._stopped = True
            self._items.clear()
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join()
