"""Streams made of other streams: `concat`, `merge`, `zip` and `mix`."""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import AsyncGenerator, Sequence
from typing import Any, TypeVar, overload

import anyio

from .._core.checks import FormatGuard, finite_number
from .._core.errors import FormatError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.registry import method_entry
from .._core.stream import Stream, consume, current_task_group
from ._mixer import Mixer

__all__ = ("concat", "merge", "mix", "zip")

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")


def _common_format(streams: Sequence[Stream[Any]], what: str) -> AudioFormat | None:
    """The format all ``streams`` declare, None if none does; `FormatError` if two differ."""
    known = [s.format for s in streams if s.format is not None]
    for fmt in known[1:]:
        if fmt != known[0]:
            raise FormatError(f"{what}: streams have different formats", known[0], fmt)
    return known[0] if known else None


def _check_streams(streams: Sequence[object], what: str) -> None:
    if not streams:
        raise ParameterError(f"{what} needs at least one stream")
    for i, stream in enumerate(streams):
        if not isinstance(stream, Stream):
            raise ParameterError(
                f"{what}: argument {i} is not an lkframes Stream (got {type(stream).__name__})"
            )


@method_entry
def concat(*streams: Stream[AudioFrame]) -> Stream[AudioFrame]:
    """The streams one after the other, as one stream with continuous ``pts``.

    Args:
        *streams: Streams of one format.

    Returns:
        The stream; 1-D from `Stream.to_array` when every input was.

    Raises:
        ParameterError: No streams given.
        FormatError: The streams' formats differ (at build time when known, else when the
            first frame of the differing stream arrives).

    Examples:
        >>> import lkframes as lk
        >>> both = lk.concat(lk.sine(440, 0.01, 16_000), lk.silence(0.02, 16_000))
        >>> [(f.pts, f.samples_per_channel) for f in lk.run_sync(both.collect())]
        [(0, 160), (160, 320)]
    """
    _check_streams(streams, "concat")
    declared = _common_format(streams, "concat")

    async def run() -> AsyncGenerator[AudioFrame, None]:
        guard = FormatGuard("concat", declared)
        next_pts: int | None = None
        for stream in streams:
            shift: int | None = None
            async with consume(stream) as frames:
                async for frame in frames:
                    guard(frame)
                    if shift is None:
                        shift = 0 if next_pts is None else next_pts - frame.pts
                    out = frame if not shift else frame.replace(pts=frame.pts + shift)
                    next_pts = out.end_pts
                    yield out

    return Stream(
        run,
        format=declared,
        name=f"concat({len(streams)} streams)",
        tasks=any(s.runs_tasks for s in streams),
        live=any(s.live for s in streams),
    )


@overload
def merge(first: Stream[A], second: Stream[B], /) -> Stream[A | B]: ...
@overload
def merge(first: Stream[A], second: Stream[B], third: Stream[C], /) -> Stream[A | B | C]: ...
@overload
def merge(*streams: Stream[T]) -> Stream[T]: ...
def merge(*streams: Stream[Any]) -> Stream[Any]:
    """The items of all ``streams``, each as soon as it arrives (like aiostream's merge).

    Every stream is read by a task of its own, so a slow or waiting stream (a live track)
    does not hold up the others; an item is handed on only when the consumer asks for it,
    so nothing queues without bound. The result ends when every stream has ended. An error
    in any stream ends the merge with that error, after closing the other streams.

    Items keep their own timestamps: merging audio streams interleaves their frames, whose
    pts overlap in time, so a sink that writes one timeline (`to_file`, `to_array`,
    `to_media_file`) refuses them with `TimestampError`. To add audio together, use `mix`;
    to write the frames one after another in arrival order, `chunk` them first (it
    re-stamps pts continuously); `collect` takes them as they are.

    Args:
        *streams: Streams of any items.

    Returns:
        A stream that runs tasks: iterate it with `Stream.open` or a terminal. Its format
        is the streams' common declared format, if all declare the same one. Its item type
        is the union of the streams' (``merge(audio, video)`` is a
        ``Stream[AudioFrame | VideoFrame]``).

    Raises:
        ParameterError: No streams, or an argument that is not a `Stream`.

    Examples:
        >>> import lkframes as lk
        >>> a = lk.silence(0.02, 8_000, block_ms=10)
        >>> b = lk.sine(440, 0.01, 8_000)
        >>> frames = lk.run_sync(lk.merge(a, b).collect())
        >>> sorted(f.samples_per_channel for f in frames)
        [80, 80, 80]
    """
    _check_streams(streams, "merge")
    formats = {s.format for s in streams}
    declared = formats.pop() if len(formats) == 1 else None

    async def run() -> AsyncGenerator[Any, None]:
        group = current_task_group()
        send, receive = anyio.create_memory_object_stream[tuple[str, Any]]()
        scopes = [anyio.CancelScope() for _ in streams]
        finished = anyio.Event()
        running = len(streams)

        async def pump(stream: Stream[Any], scope: anyio.CancelScope) -> None:
            nonlocal running
            try:
                with scope:
                    try:
                        async with consume(stream) as items:
                            async for item in items:
                                await send.send(("item", item))
                    except Exception as exc:
                        await send.send(("error", exc))
                    else:
                        await send.send(("end", None))
            finally:
                running -= 1
                if not running:
                    finished.set()

        for stream, scope in builtins.zip(streams, scopes, strict=True):
            group.start_soon(pump, stream, scope)
        try:
            ended = 0
            while ended < len(streams):
                kind, value = await receive.receive()
                if kind == "item":
                    yield value
                elif kind == "end":
                    ended += 1
                else:
                    raise value
        finally:
            for scope in scopes:
                scope.cancel()
            with anyio.CancelScope(shield=True):
                await finished.wait()
            send.close()
            receive.close()

    return Stream(
        run,
        format=declared,
        name=f"merge({len(streams)} streams)",
        tasks=True,
        live=any(s.live for s in streams),
    )


@overload
def zip(first: Stream[A], second: Stream[B], /) -> Stream[tuple[A, B]]: ...
@overload
def zip(first: Stream[A], second: Stream[B], third: Stream[C], /) -> Stream[tuple[A, B, C]]: ...
@overload
def zip(*streams: Stream[Any]) -> Stream[tuple[Any, ...]]: ...
def zip(*streams: Stream[Any]) -> Stream[tuple[Any, ...]]:
    """Tuples of the streams' next items, in lockstep; ends with the shortest stream.

    The streams are read in turn by the consumer's task (no tasks of its own), so a
    stream waiting for data holds up the tuple, as it must. When one stream ends, the
    others are closed.

    Args:
        *streams: Streams of any items.

    Returns:
        A stream of tuples (no audio format of its own).

    Raises:
        ParameterError: No streams, or an argument that is not a `Stream`.

    Examples:
        >>> import lkframes as lk
        >>> left = lk.sine(440, 0.03, 8_000).chunk(ms=10)
        >>> right = lk.silence(0.02, 8_000).chunk(ms=10)
        >>> pairs = lk.run_sync(lk.zip(left, right).collect())
        >>> [(a.pts, b.pts) for a, b in pairs]
        [(0, 0), (80, 80)]
    """
    _check_streams(streams, "zip")

    async def run() -> AsyncGenerator[tuple[Any, ...], None]:
        async with contextlib.AsyncExitStack() as stack:
            iterators = [await stack.enter_async_context(consume(s)) for s in streams]
            while True:
                items = []
                for iterator in iterators:
                    try:
                        items.append(await anext(iterator))
                    except StopAsyncIteration:
                        return
                yield tuple(items)

    return Stream(
        run,
        name=f"zip({len(streams)} streams)",
        tasks=any(s.runs_tasks for s in streams),
        live=any(s.live for s in streams),
    )


def mix(*streams: Stream[AudioFrame], gains: Sequence[float] | None = None) -> Stream[AudioFrame]:
    """Add audio streams together, aligned by ``pts``, with a gain per stream.

    The output starts at the earliest first pts and ends with the last stream. Where a
    stream has no audio (it starts later, ends earlier or skips ahead in pts) it adds
    silence. The sum is made in float32; int16 output saturates at full scale instead of
    wrapping around, float32 output is the exact sum (follow with ``to_dtype("int16")`` to
    clip it). The output does not depend on how the inputs are split into frames. Streams
    are read in turn by the consumer's task: mixing live sources, each waits for the others.

    Args:
        *streams: Streams of one format (rate, channels and dtype).
        gains: A linear factor per stream (1.0 keeps the level; ``10 ** (db / 20)`` for a
            gain in dB). Default: 1.0 each.

    Returns:
        A stream of the common format.

    Raises:
        ParameterError: No streams, a non-stream argument, or ``gains`` of the wrong length
            or with a value that is not a finite number.
        FormatError: The formats differ (when the streams are built, if declared; else
            when the frames arrive), or a stream's pts go backwards.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> a = lk.from_array(np.full(4, 1000, np.int16), 8_000)
        >>> b = lk.from_array(np.full(4, 500, np.int16), 8_000, pts=2)
        >>> lk.run_sync(lk.mix(a, b, gains=[1.0, 2.0]).to_array()).tolist()
        [1000, 1000, 2000, 2000, 1000, 1000]
    """
    _check_streams(streams, "mix")
    factors = _gains(gains, len(streams))
    declared = _common_format(streams, "mix")

    async def run() -> AsyncGenerator[AudioFrame, None]:
        guard = FormatGuard("mix", declared)
        async with contextlib.AsyncExitStack() as stack:
            iterators = [await stack.enter_async_context(consume(s)) for s in streams]
            mixer = Mixer(iterators, factors, guard)
            while True:
                frame = await mixer.next_block()
                if frame is None:
                    return
                yield frame

    return Stream(
        run,
        format=declared,
        name=f"mix({len(streams)} streams)",
        tasks=any(s.runs_tasks for s in streams),
        live=any(s.live for s in streams),
    )


def _gains(gains: Sequence[float] | None, count: int) -> list[float]:
    if gains is None:
        return [1.0] * count
    values = list(gains)
    if len(values) != count:
        raise ParameterError(f"gains has {len(values)} values (expected {count}, one per stream)")
    return [finite_number(value, "gains") for value in values]
