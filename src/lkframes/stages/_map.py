"""`map` (in order, or with a window of concurrent calls) and `flat_map`."""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
from anyio.abc import TaskGroup

from .._core.errors import InvalidAudioError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.loops import thread_limiter
from .._core.registry import stage_entry
from .._core.stage import OutputFormat, Stage, each_stage
from .._core.stream import current_task_group
from ._calling import calling
from ._results import (
    annotate,
    call,
    finite,
    is_async,
    label,
    map_result,
    to_frame,
)

__all__ = ("flat_map", "map")


def _check_callable(fn: object, what: str) -> None:
    if not callable(fn):
        raise ParameterError(f"{what} must be callable (got {type(fn).__name__})")


def _check_format(format: object) -> None:
    if format is not None and not isinstance(format, AudioFormat):
        raise ParameterError(f"format must be an AudioFormat or None (got {type(format).__name__})")


@stage_entry(spec=False)
def map(
    fn: Callable[[Any], Any],
    *,
    concurrency: int = 1,
    ordered: bool = True,
    format: AudioFormat | None = None,
    per_sample: bool = False,
) -> Stage[Any, Any]:
    """Apply ``fn`` to every item; ``fn`` may be sync or async.

    One contract for every kind of item, which is also what the type checker sees:

    - ``fn`` returns a frame of the item's kind (an `AudioFrame` for an audio frame, a
      `VideoFrame` for a video frame): the frame is passed on.
    - ``fn`` returns a numpy array: it becomes a frame of the item's kind, at the item's
      time. For audio, with the item's pts and the input format (or ``format``); for
      video, with the item's layout, size and timestamp, so the array must be uint8 pixels
      of the item's shape (return a `VideoFrame` to change the size or layout). Other
      items (tuples from `zip`, ...) pass arrays on as they are.
    - ``fn`` returns anything else (a float, a dict, None, ...): it is passed on as a
      plain item, so ``audio.map(rms)`` is a stream of floats (`collect` takes them; the
      audio sinks refuse them).

    Audio frames must keep the input format unless ``format`` declares another, so a
    function that changes the channel count by mistake is caught at the first frame
    instead of producing wrong-speed or garbled audio downstream. The checks are O(1) per
    frame (type, dtype, shape, contiguity), plus one vectorised pass over float audio
    results for NaN and infinity (which a file would hold as 0 or full scale). A wrong
    array fails at the frame that returned it, naming the stage.

    Args:
        fn: ``item -> result`` or an async function of the same shape.
        concurrency: Process up to this many items at once: async functions in tasks,
            sync functions in worker threads. A sliding window like ``buffered(n)`` in
            Rust's futures: at most ``concurrency`` items are taken from upstream and not
            yet yielded, and a new call starts as soon as one of them is yielded.
        ordered: With ``concurrency > 1``, yield results in input order, each as soon as
            it and everything before it are done (default); or, if false, as each call
            finishes: out of pts order, so for `collect` or side effects, not for
            `to_file` or `to_array`, which refuse frames that go back in time.
        format: The output format when ``fn`` changes it (rate, channels or dtype).
        per_sample: Declare that ``fn`` works sample by sample: each output sample depends
            only on the input sample at the same place (and the format), as with
            ``f.data // 2`` or ``np.clip(f.data, -1, 1)``, not a filter, a level or
            anything that looks at neighbours or at ``f.pts``. Then lkframes may call it
            on blocks of any size: before a `chunk`, on the source's big blocks, which is
            faster (see `Stream.explain`). The output is the same as long as the
            declaration is true. A sync ``fn`` with ``concurrency=1`` only.

    Returns:
        The stage. With ``concurrency > 1`` it runs tasks: iterate the stream with
        `Stream.open` or a terminal.

    Raises:
        ParameterError: ``concurrency`` < 1, ``fn`` not callable, or ``format`` not an
            `AudioFormat`.
        FormatError: (while running) ``fn`` returned an audio frame or array of another
            format than the input's (or ``format``).
        InvalidAudioError: (while running) ``fn`` returned an array that is not audio
            (float64, 3-D, ...) for an audio frame, or float samples with NaN or infinity
            (a note names the stage and pts).
        InvalidVideoError: (while running) ``fn`` returned an array for a video frame that
            is not uint8, not the frame's shape, or not C-contiguous (the message names the
            stage, a note the timestamp).
        Exception: whatever ``fn`` raises, unchanged, with a note naming the stage and pts.

    Examples:
        >>> import lkframes as lk
        >>> quieter = lk.sine(1000, 0.1, 8_000).map(lambda f: f.data // 2)
        >>> int(lk.run_sync(quieter.to_array()).max())
        8192
        >>> peaks = lk.sine(1000, 0.04, 8_000, block_ms=20).map(lambda f: int(f.data.max()))
        >>> lk.run_sync(peaks.collect())  # not a frame or an array: passed on as it is
        [16384, 16384]
    """
    _check_callable(fn, "fn")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ParameterError(f"concurrency must be an int >= 1 (got {concurrency!r})")
    if not isinstance(ordered, bool):
        raise ParameterError(f"ordered must be a bool (got {type(ordered).__name__})")
    _check_format(format)
    name = f"map({label(fn)})"

    if not isinstance(per_sample, bool):
        raise ParameterError(f"per_sample must be a bool (got {type(per_sample).__name__})")
    async_fn = is_async(fn)
    make = AudioFrame.of

    def result(out: object, item: Any) -> Any:
        if type(out) is np.ndarray and type(item) is AudioFrame:
            try:
                frame = make(out, format or item.format, item.pts)
            except InvalidAudioError:
                frame = map_result(out, item, format, name)  # raises the explaining error
            if out.dtype.kind == "f":
                finite(frame, item, name)
            return frame
        return map_result(out, item, format, name)

    def each() -> Callable[[Any], Any]:
        return calling(fn, name, format, result)[0]

    def each_list() -> Callable[[list[Any]], list[Any]]:
        return calling(fn, name, format, result)[1]

    async def in_order(frames: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        async for item in frames:
            try:
                out = await fn(item)
            except Exception as exc:
                annotate(exc, name, item)
                raise
            yield result(out, item)

    async def windowed(frames: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        window = _Window(fn, name, concurrency, current_task_group())
        try:
            async with contextlib.aclosing(window.run(frames, ordered)) as outcomes:
                async for _, item, outcome in outcomes:
                    if isinstance(outcome, _Failure):
                        raise outcome.error
                    yield map_result(outcome, item, format, name)
        finally:
            with anyio.CancelScope(shield=True):
                await window.stop()

    output_format: OutputFormat = "same" if format is None else format
    if concurrency == 1 and not async_fn:
        return each_stage(
            name, each, output_format=output_format, per_sample=per_sample, each_list=each_list
        )
    if concurrency == 1:
        return Stage(name, in_order, output_format=output_format)
    return Stage(name, windowed, output_format=output_format, tasks=True)


@dataclass(frozen=True, slots=True)
class _Failure:
    error: Exception


class _Window:
    """Up to ``size`` calls of ``fn`` in the pipeline's task group, results in a channel."""

    def __init__(self, fn: Callable[[Any], Any], name: str, size: int, group: TaskGroup) -> None:
        self._fn = fn
        self._name = name
        self._size = size
        self._group = group
        self._threads = not is_async(fn)
        self._limiter = thread_limiter(size)  # a virtual clock waits for its threads
        self._send, self._receive = anyio.create_memory_object_stream[tuple[int, Any, Any]](
            math.inf
        )
        self._scopes: set[anyio.CancelScope] = set()
        self._running = 0
        self._idle = anyio.Event()
        self._idle.set()

    async def _work(self, index: int, item: Any, scope: anyio.CancelScope) -> None:
        try:
            with scope:
                try:
                    out = await self._call(item)
                except Exception as exc:
                    annotate(exc, self._name, item)
                    out = _Failure(exc)
                self._send.send_nowait((index, item, out))  # not reached when cancelled
        finally:
            self._scopes.discard(scope)
            self._running -= 1
            if not self._running:
                self._idle.set()

    async def _call(self, item: Any) -> Any:
        if not self._threads:
            return await call(self._fn, item)
        out = await anyio.to_thread.run_sync(self._fn, item, limiter=self._limiter)
        return await out if inspect.isawaitable(out) else out

    def _start(self, index: int, item: Any) -> None:
        # The scope exists from now on, so `stop` can cancel a call whose task has not run yet.
        scope = anyio.CancelScope()
        self._scopes.add(scope)
        self._running += 1
        self._idle = anyio.Event() if self._running == 1 else self._idle
        self._group.start_soon(self._work, index, item, scope)

    async def run(
        self, frames: AsyncIterator[Any], ordered: bool
    ) -> AsyncGenerator[tuple[int, Any, Any], None]:
        """Yield ``(index, item, outcome)`` as the calls finish (in order if ``ordered``)."""
        taken = 0
        yielded = 0
        ended = False
        done: dict[int, tuple[int, Any, Any]] = {}
        while True:
            while not ended and taken - yielded < self._size:
                try:
                    item = await anext(frames)
                except StopAsyncIteration:
                    ended = True
                    break
                self._start(taken, item)
                taken += 1
            if yielded == taken:
                return
            if ordered:
                while yielded not in done:
                    finished = await self._receive.receive()
                    done[finished[0]] = finished
                outcome = done.pop(yielded)
            else:
                outcome = await self._receive.receive()
            yielded += 1
            yield outcome

    async def stop(self) -> None:
        """Cancel the calls still running and wait until every one has ended."""
        for scope in list(self._scopes):
            scope.cancel()
        await self._idle.wait()
        self._send.close()
        self._receive.close()


@stage_entry(spec=False)
def flat_map(fn: Callable[[Any], Any], *, format: AudioFormat | None = None) -> Stage[Any, Any]:
    """Replace every item by the items ``fn`` returns.

    ``fn`` returns a list, a generator, an async iterable, or an awaitable of one of those.
    For audio, each returned element is an `AudioFrame` or a numpy array; arrays become
    frames whose pts continue from the input frame's pts, so splitting a frame in two
    keeps pts continuous. Returned frames keep their own pts: keep them consistent (one
    after another) for a sink, which refuses frames that overlap (returning ``[f, f]``
    repeats a frame's time), or follow with `chunk`, which re-stamps pts continuously from
    the first frame. Every frame must have the input format unless ``format`` declares
    another.

    Args:
        fn: ``item -> iterable of items`` (sync or async).
        format: The output format when ``fn`` changes it.

    Returns:
        The stage.

    Raises:
        ParameterError: ``fn`` not callable, or ``format`` not an `AudioFormat`.
        FormatError: (while running) an element of another format.
        InvalidAudioError: (while running) an element that is not audio, or float samples
            with NaN or infinity.
        Exception: whatever ``fn`` raises, with a note naming the stage and pts.

    Examples:
        >>> import lkframes as lk
        >>> def halves(frame):
        ...     middle = frame.samples_per_channel // 2
        ...     return [frame.data[:middle], frame.data[middle:]]
        >>> frames = lk.run_sync(lk.silence(0.04, 8_000, block_ms=20).flat_map(halves).collect())
        >>> [(f.pts, f.samples_per_channel) for f in frames]
        [(0, 80), (80, 80), (160, 80), (240, 80)]
    """
    _check_callable(fn, "fn")
    _check_format(format)
    name = f"flat_map({label(fn)})"

    async def transform(frames: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        async for item in frames:
            try:
                outputs = await call(fn, item)
            except Exception as exc:
                annotate(exc, name, item)
                raise
            audio = isinstance(item, AudioFrame)
            expected = (format or item.format) if audio else None
            pts = item.pts if audio else 0
            async with contextlib.aclosing(_elements(outputs, name)) as elements:
                async for out in elements:
                    if expected is None:
                        yield out
                        continue
                    frame = to_frame(out, item, expected, name, "flat_map", pts)
                    pts = frame.end_pts
                    yield frame

    same: OutputFormat = "same" if format is None else format
    return Stage(name, transform, output_format=same)


async def _elements(outputs: object, stage: str) -> AsyncGenerator[Any, None]:
    if isinstance(outputs, np.ndarray):
        raise ParameterError(
            f"{stage}: the function must return an iterable of frames or arrays (got one "
            "numpy array; return [array] for a single frame)"
        )
    if isinstance(outputs, AsyncIterable):
        async for element in outputs:
            yield element
    elif isinstance(outputs, Iterable) and not isinstance(outputs, str | bytes):
        for element in outputs:
            yield element
    else:
        raise ParameterError(
            f"{stage}: the function must return an iterable (got {type(outputs).__name__})"
        )
