"""Stages over items of any kind: `filter`, `tap`, `take_while`, `skip_while`, `timeout`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import anyio

from .._core.checks import finite_number
from .._core.errors import ParameterError, StreamTimeoutError
from .._core.registry import stage_entry
from .._core.stage import Stage
from .._core.stream import close_upstream
from ._results import annotate, call, label

__all__ = ("filter", "skip_while", "take_while", "tap", "timeout")

T = TypeVar("T")

Predicate = Callable[[T], bool | Awaitable[bool]]


def _checked(fn: object, what: str) -> None:
    if not callable(fn):
        raise ParameterError(f"{what} must be callable (got {type(fn).__name__})")


async def _test(predicate: Callable[[Any], Any], item: object, stage: str) -> bool:
    try:
        return bool(await call(predicate, item))
    except Exception as exc:
        annotate(exc, stage, item)
        raise


@stage_entry(spec=False)
def filter(predicate: Predicate[T]) -> Stage[T, T]:
    """Keep only the items for which ``predicate`` (sync or async) returns true.

    Dropped frames leave a gap in ``pts``; follow with `chunk` to get continuous frames.

    Args:
        predicate: ``item -> bool`` or an async function of the same shape.

    Returns:
        The stage.

    Raises:
        ParameterError: ``predicate`` is not callable.
        Exception: whatever ``predicate`` raises, with a note naming the stage.

    Examples:
        >>> import lkframes as lk
        >>> late = lk.sine(440, 0.1, 16_000).chunk(ms=20).filter(lambda f: f.pts >= 640)
        >>> [f.pts for f in lk.run_sync(late.collect())]
        [640, 960, 1280]
    """
    _checked(predicate, "predicate")
    name = f"filter({label(predicate)})"

    async def transform(items: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        async for item in items:
            if await _test(predicate, item, name):
                yield item

    return Stage(name, transform)


@stage_entry(spec=False)
def tap(fn: Callable[[T], object]) -> Stage[T, T]:
    """Call ``fn`` (sync or async) on every item for its side effect; pass items on.

    Args:
        fn: ``item -> anything``; the result is ignored (awaited if async).

    Returns:
        The stage.

    Raises:
        ParameterError: ``fn`` is not callable.
        Exception: whatever ``fn`` raises, with a note naming the stage.

    Examples:
        >>> import lkframes as lk
        >>> seen = []
        >>> _ = lk.run_sync(lk.silence(0.04, 16_000).chunk(ms=20).tap(seen.append).run())
        >>> len(seen)
        2
    """
    _checked(fn, "fn")
    name = f"tap({label(fn)})"

    async def transform(items: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        async for item in items:
            try:
                await call(fn, item)
            except Exception as exc:
                annotate(exc, name, item)
                raise
            yield item

    return Stage(name, transform)


@stage_entry(spec=False)
def take_while(predicate: Predicate[T]) -> Stage[T, T]:
    """Items while ``predicate`` holds, then the end of the stream.

    The stream ends, and its upstream is closed, at the first item for which it does not.

    Args:
        predicate: ``item -> bool`` (sync or async).

    Returns:
        The stage.

    Raises:
        ParameterError: ``predicate`` is not callable.
        Exception: whatever ``predicate`` raises, with a note naming the stage.

    Examples:
        >>> import lkframes as lk
        >>> first = lk.silence(None, 8_000, block_ms=10).take_while(lambda f: f.pts < 240)
        >>> [f.pts for f in lk.run_sync(first.collect())]
        [0, 80, 160]
    """
    _checked(predicate, "predicate")
    name = f"take_while({label(predicate)})"

    async def transform(items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        async for item in items:
            if not await _test(predicate, item, name):
                await close_upstream(items)  # release a live source now
                return
            yield item

    return Stage(name, transform)


@stage_entry(spec=False)
def skip_while(predicate: Predicate[T]) -> Stage[T, T]:
    """Drop items while ``predicate`` holds, then pass every item.

    From the first item for which it does not hold on, ``predicate`` is not called again.

    Args:
        predicate: ``item -> bool`` (sync or async).

    Returns:
        The stage.

    Raises:
        ParameterError: ``predicate`` is not callable.
        Exception: whatever ``predicate`` raises, with a note naming the stage.

    Examples:
        >>> import lkframes as lk
        >>> rest = lk.silence(0.04, 8_000, block_ms=10).skip_while(lambda f: f.pts < 160)
        >>> [f.pts for f in lk.run_sync(rest.collect())]
        [160, 240]
    """
    _checked(predicate, "predicate")
    name = f"skip_while({label(predicate)})"

    async def transform(items: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        async for item in items:
            if not await _test(predicate, item, name):
                yield item
                break
        async for item in items:
            yield item

    return Stage(name, transform)


@stage_entry()
def timeout(seconds: float) -> Stage[T, T]:
    """Fail with `StreamTimeoutError` when the next item takes longer than ``seconds``.

    The clock restarts for every item (the first included, so it also bounds how long the
    source takes to start). On a timeout the upstream is cancelled and closed. Use it to
    stop waiting for a live track that went silent without ending.

    Args:
        seconds: The longest wait for one item, > 0.

    Returns:
        The stage.

    Raises:
        ParameterError: ``seconds`` is not a positive finite number.
        StreamTimeoutError: (while running) an item did not arrive in time.

    Examples:
        >>> import lkframes as lk
        >>> frames = lk.run_sync(lk.silence(0.1, 8_000).timeout(5).collect())
        >>> len(frames)
        1
    """
    limit = finite_number(seconds, "seconds")
    if limit <= 0:
        raise ParameterError(f"seconds must be positive (got {seconds!r})")
    name = f"timeout({limit:g} s)"

    async def transform(items: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        count = 0
        while True:
            with anyio.move_on_after(limit) as scope:
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    return
            if scope.cancelled_caught:
                raise StreamTimeoutError(
                    f"{name}: no item within {limit:g} s (after {count} item(s))"
                )
            count += 1
            yield item

    return Stage(name, transform)
