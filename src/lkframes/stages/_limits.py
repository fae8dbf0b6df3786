"""`take` and `skip`: the first items, or an exact length of audio."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TypeVar, cast

import numpy as np

from .._core.checks import finite_number
from .._core.errors import InvalidAudioError, ParameterError
from .._core.frame import AudioFrame
from .._core.registry import stage_entry
from .._core.samples import samples_for
from .._core.stage import Stage
from .._core.stream import close_upstream

__all__ = ("skip", "take")

T = TypeVar("T")


def _limit(n: int | None, ms: float | None, samples: int | None, what: str) -> tuple[str, float]:
    given = [(k, v) for k, v in (("n", n), ("ms", ms), ("samples", samples)) if v is not None]
    if len(given) != 1:
        raise ParameterError(f"{what}: give exactly one of n, ms= or samples= (got {dict(given)})")
    key, value = given[0]
    if key != "ms" and (isinstance(value, bool) or not isinstance(value, int | np.integer)):
        raise ParameterError(f"{what}: {key} must be an int (got {type(value).__name__})")
    number = finite_number(value, f"{what}: {key}")
    if number < 0:
        raise ParameterError(f"{what}: {key} must be >= 0 (got {value})")
    return key, int(value) if key != "ms" else number


def _sample_limit(key: str, value: float, frame: object, what: str) -> int:
    if not isinstance(frame, AudioFrame):
        raise InvalidAudioError(
            f"{what} with {key}= needs AudioFrame items (got {type(frame).__name__})"
        )
    if key == "samples":
        return int(value)
    return 0 if value == 0 else samples_for(frame.sample_rate, ms=value)


def _name(what: str, key: str, value: float) -> str:
    return f"{what}({key}={value})" if key != "n" else f"{what}({value})"


@stage_entry()
def take(
    n: int | None = None, *, ms: float | None = None, samples: int | None = None
) -> Stage[T, T]:
    """The first ``n`` items, or exactly the first ``ms`` / ``samples`` of audio.

    With ``ms`` or ``samples`` the last frame is cut to the exact length. The upstream is
    closed as soon as the limit is reached, so ``take`` ends live sources promptly.

    Args:
        n: Items to keep.
        ms: Milliseconds of audio to keep (a whole number of samples at the stream's rate).
        samples: Samples per channel to keep.

    Returns:
        The stage.

    Raises:
        ParameterError: Not exactly one limit, a negative limit, or ``ms`` that is not a
            whole number of samples at the stream's rate.

    Examples:
        >>> import lkframes as lk
        >>> lk.run_sync(lk.sine(440, None, 16_000).take(ms=250).to_array()).shape
        (4000,)
    """
    key, value = _limit(n, ms, samples, "take")
    name = _name("take", key, value)

    async def transform(items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        if value == 0:
            return
        remaining: int | None = int(value) if key == "n" else None
        last: T | None = None  # the item that reaches the limit, yielded after the loop
        async for item in items:
            if key == "n":
                assert remaining is not None
                remaining -= 1
                if remaining == 0:
                    last = item
                    break
                yield item
                continue
            if remaining is None:
                remaining = _sample_limit(key, value, item, name)
            frame = cast(AudioFrame, item)
            size = frame.samples_per_channel
            if size >= remaining:
                if remaining:
                    cut = AudioFrame.of(frame.data[:remaining], frame.format, frame.pts)
                    last = cast(T, cut)
                break
            remaining -= size
            yield item
        await close_upstream(items)  # release a live source now, before the last item goes out
        if last is not None:
            yield last

    return Stage(name, transform)


@stage_entry()
def skip(
    n: int | None = None, *, ms: float | None = None, samples: int | None = None
) -> Stage[T, T]:
    """Drop the first ``n`` items, or exactly the first ``ms`` / ``samples`` of audio.

    With ``ms`` or ``samples`` the frame that straddles the cut is trimmed and its ``pts``
    advanced accordingly (pts keep counting from the stream's start).

    Args:
        n: Items to drop.
        ms: Milliseconds of audio to drop (a whole number of samples at the stream's rate).
        samples: Samples per channel to drop.

    Returns:
        The stage.

    Raises:
        ParameterError: Not exactly one limit, a negative limit, or ``ms`` that is not a
            whole number of samples at the stream's rate.

    Examples:
        >>> import lkframes as lk
        >>> frames = lk.run_sync(lk.silence(0.1, 16_000).skip(ms=30).chunk(ms=50).collect())
        >>> [(f.pts, f.samples_per_channel) for f in frames]
        [(480, 800), (1280, 320)]
    """
    key, value = _limit(n, ms, samples, "skip")
    name = _name("skip", key, value)

    async def transform(items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        remaining: int | None = int(value) if key == "n" else None
        async for item in items:
            if remaining is None:
                remaining = _sample_limit(key, value, item, name)
            if not remaining:
                yield item
                continue
            if key == "n":
                remaining -= 1
                continue
            frame = cast(AudioFrame, item)
            size = frame.samples_per_channel
            if size <= remaining:
                remaining -= size
                continue
            cut, remaining = remaining, 0
            yield cast(T, AudioFrame.of(frame.data[cut:], frame.format, frame.pts + cut))

    return Stage(name, transform)
