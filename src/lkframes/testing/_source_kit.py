"""The source conformance kit: `check_source` and `check_source_async` (no hypothesis)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import anyio
import anyio.lowlevel
import numpy as np
from numpy.typing import NDArray

from .._core.frame import AudioFrame
from .._core.resources import open_resources
from .._core.stream import Stream
from ._probe import Boom, as_2d, check_frames, concat_frames, same_samples

__all__ = ("check_source", "check_source_async")


def check_source(
    make_source: Callable[[], Stream[Any]],
    *,
    expected: NDArray[Any] | None = None,
    reiterable: bool | None = None,
    audio: bool = True,
    backend: Literal["asyncio", "trio"] = "asyncio",
) -> None:
    """Assert the invariants every lkframes source keeps.

    Call it from a plain (sync) test with a factory that builds the source afresh (a
    one-shot source, e.g. over a generator, can be read once per stream). The source must
    end. The kit checks that:

    - every item is an `AudioFrame` with read-only data, and every frame has the format
      the stream declares (or, without a declaration, the first frame's);
    - ``pts`` is continuous from the first frame on;
    - the samples are ``expected`` when given: none lost, duplicated or reordered;
    - reading the same stream again gives the same samples, or (a one-shot source)
      raises `anyio.ClosedResourceError`; see ``reiterable``;
    - leaving after the first frame (``break``), a cancellation (landing in the consumer,
      or in the source at its next checkpoint) and an exception raised by the consumer
      each leave `open_resources` as it was, and the consumer's exception reaches the
      caller unchanged;
    - ``aclose`` is idempotent and a closed iterator yields nothing more.

    Args:
        make_source: Builds the stream under test, e.g. ``lambda: lk.from_file(path)``.
        expected: The samples the source must yield, ``(samples, channels)`` or 1-D for
            mono, compared exactly.
        reiterable: True: a second iteration must give the same samples. False: it must
            raise `anyio.ClosedResourceError`. None (default): either.
        audio: The items are audio frames (the default). False for a stream of other
            items (tuples from `lkframes.zip`, video frames): then only the closing,
            cancellation and error checks apply, and the number of items is compared.
        backend: The anyio backend to run on.

    Raises:
        AssertionError: An invariant does not hold; the message names it.

    Examples:
        >>> import numpy as np, lkframes as lk
        >>> x = np.arange(4_000, dtype=np.int16)
        >>> check_source(lambda: lk.from_array(x, 16_000, block_ms=40), expected=x)
    """

    anyio.run(_source_body, make_source, expected, reiterable, audio, backend=backend)


async def check_source_async(
    make_source: Callable[[], Stream[Any]],
    *,
    expected: NDArray[Any] | None = None,
    reiterable: bool | None = None,
    audio: bool = True,
) -> None:
    """`check_source` inside the caller's event loop (asyncio or trio).

    Use it for sources bound to the running loop, such as a track of a connected LiveKit
    room. Arguments are those of `check_source`, without ``backend``.

    Raises:
        AssertionError: An invariant does not hold; the message names it.

    Examples:
        >>> import anyio, numpy as np, lkframes as lk
        >>> x = np.arange(800, dtype=np.int16)
        >>> anyio.run(lambda: check_source_async(lambda: lk.from_array(x, 8_000), expected=x))
    """
    await _source_body(make_source, expected, reiterable, audio)


async def _read(
    stream: Stream[AudioFrame], label: str, expected: NDArray[Any] | None, audio: bool
) -> tuple[list[Any], NDArray[Any]]:
    frames: list[Any] = []
    async with stream.open() as items:
        async for item in items:
            frames.append(item)  # noqa: PERF401 - keeps what came before an error
    if not audio:  # one row per item: the count is what a second reading is compared by
        return frames, np.zeros((len(frames), 1))
    fmt = check_frames(frames, stream.format, continuous=True, label=label)
    if fmt is None:
        channels = 1 if expected is None else as_2d(np.asarray(expected)).shape[1]
        return frames, np.empty((0, channels))
    return frames, concat_frames(frames, fmt)


async def _source_body(
    make_source: Callable[[], Stream[Any]],
    expected: NDArray[Any] | None,
    reiterable: bool | None,
    audio: bool,
) -> None:
    before = open_resources()

    def unchanged(what: str) -> None:
        after = open_resources()
        assert after == before, f"{label}: {what} left open {after} (before: {before})"

    stream = make_source()
    label = repr(stream)
    frames, samples = await _read(stream, label, expected, audio)
    unchanged("reading to the end")
    if expected is not None:
        same_samples(samples, as_2d(np.asarray(expected)), label)

    # A second iteration of the same stream.
    try:
        _, again = await _read(stream, f"{label} (second iteration)", expected, audio)
    except anyio.ClosedResourceError:
        assert reiterable is not True, f"{label}: not re-iterable (ClosedResourceError)"
    else:
        assert reiterable is not False, (
            f"{label}: a one-shot source must raise anyio.ClosedResourceError when read again"
        )
        same_samples(again, samples, f"{label} (second iteration)")
    unchanged("a second iteration")

    # Leaving after the first frame.
    async with make_source().open() as items:
        async for _ in items:
            break
    unchanged("break after the first frame")

    # A cancellation that lands in the consumer, then one that lands in the source (at
    # its next checkpoint, if it has one before its end).
    for in_consumer in (True, False):
        received = 0
        with anyio.CancelScope() as scope:
            async with make_source().open() as items:
                async for _ in items:
                    received += 1
                    scope.cancel()
                    if in_consumer:
                        await anyio.lowlevel.checkpoint()
        if frames and in_consumer:
            assert scope.cancelled_caught, f"{label}: the cancellation was swallowed"
        if not scope.cancelled_caught:
            # Not cancelled, so it must have run to its end: a source that ended early
            # instead would make a cancelled read look complete.
            assert received == len(frames), (
                f"{label}: ended after {received} of {len(frames)} frames when cancelled, "
                "without raising the cancellation"
            )
        unchanged("a cancellation")

    # An exception raised by the consumer.
    boom = Boom("consumer failed")
    caught: Boom | None = None
    try:
        async with make_source().open() as items:
            async for _ in items:
                raise boom
    except Boom as exc:
        caught = exc
    if frames:
        assert caught is boom, f"{label}: the consumer's exception was swallowed or replaced"
    unchanged("an exception in the consumer")

    # aclose is idempotent, and a closed iterator yields nothing more.
    async with make_source().open() as iterator:
        await anext(iterator, None)
        await iterator.aclose()
        await iterator.aclose()
        async for item in iterator:
            raise AssertionError(f"{label} yielded {item!r} after aclose")
    unchanged("aclose")
