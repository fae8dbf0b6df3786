"""The sink conformance kit: `check_sink` and `check_sink_async`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal

import anyio
import anyio.from_thread
import anyio.to_thread
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from .._core.errors import FormatError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.resources import open_resources
from .._core.stream import Stream
from ._probe import Probe, concat_frames
from ._stage_kit import phases
from ._strategies import audio_formats, frame_streams

__all__ = ("check_sink", "check_sink_async")


def _other_format(fmt: AudioFormat) -> AudioFrame:
    """A frame a sink of ``fmt`` audio must refuse: same channels and dtype, another rate."""
    rate = 8_000 if fmt.sample_rate != 8_000 else 16_000
    return AudioFrame(np.zeros((10, fmt.num_channels), fmt.numpy_dtype), rate)


def check_sink(
    run_sink: Callable[[Stream[AudioFrame]], Awaitable[object]],
    *,
    formats: st.SearchStrategy[AudioFormat] | None = None,
    on_format_change: type[BaseException] | None = FormatError,
    check_result: Callable[[Any, NDArray[Any]], object] | None = None,
    max_samples: int = 3_000,
    max_examples: int = 10,
    backend: Literal["asyncio", "trio"] = "asyncio",
) -> None:
    """Assert the invariants every lkframes sink keeps, over generated probe streams.

    A sink is a coroutine function that runs a stream to its end, e.g.
    ``lambda stream: stream.to_file(path, overwrite=True)``. Call the kit from a plain
    (sync) test. With hypothesis it hands the sink probe streams (irregular frame sizes,
    formats from ``formats``, declared or not) and checks that the sink:

    - consumes the probe exactly once, to its end, and closes it;
    - returns what ``check_result`` accepts, given the probe's samples;
    - raises ``on_format_change`` when a frame of another sample rate arrives mid-stream
      (a sink-side error), and closes the probe;
    - on a cancellation that lands in the sink, closes the probe; on one that lands in the
      probe, lets it through (the cancel scope catches it);
    - lets an error raised by the probe through unchanged (the same exception object, not
      wrapped), and closes the probe;
    - leaves `open_resources` as it was after every one of these.

    Args:
        run_sink: Runs a stream into the sink under test.
        formats: Probe formats (default: `audio_formats`).
        on_format_change: What the sink raises for a frame of another format. None for
            sinks that take any frames (`Stream.collect`, `Stream.run`): then the kit
            only checks that they consume such a stream and close it.
        check_result: Called with what the sink returned and the probe's samples
            ``(samples, channels)``; raise `AssertionError` if they do not match.
        max_samples: Longest probe stream.
        max_examples: Hypothesis examples.
        backend: The anyio backend to run on.

    Raises:
        AssertionError: An invariant does not hold; hypothesis shrinks to a minimal input.

    Examples:
        >>> import numpy as np
        >>> def same(result, samples):
        ...     assert np.array_equal(result.reshape(samples.shape), samples)
        >>> check_sink(lambda stream: stream.to_array(), check_result=same, max_examples=5)
    """
    _sink_check(
        run_sink,
        lambda body: anyio.run(body, backend=backend),
        formats=formats,
        on_format_change=on_format_change,
        check_result=check_result,
        max_samples=max_samples,
        max_examples=max_examples,
    )()


async def check_sink_async(
    run_sink: Callable[[Stream[AudioFrame]], Awaitable[object]],
    *,
    formats: st.SearchStrategy[AudioFormat] | None = None,
    on_format_change: type[BaseException] | None = FormatError,
    check_result: Callable[[Any, NDArray[Any]], object] | None = None,
    max_samples: int = 3_000,
    max_examples: int = 10,
) -> None:
    """`check_sink` inside the caller's event loop (asyncio or trio).

    Hypothesis drives the examples from a worker thread; every example runs on the
    caller's loop. Arguments are those of `check_sink`, without ``backend``.

    Raises:
        AssertionError: An invariant does not hold.

    Examples:
        >>> import anyio
        >>> async def main():
        ...     await check_sink_async(lambda stream: stream.run(), on_format_change=None,
        ...                            max_examples=3)
        >>> anyio.run(main)
    """
    check = _sink_check(
        run_sink,
        anyio.from_thread.run,
        formats=formats,
        on_format_change=on_format_change,
        check_result=check_result,
        max_samples=max_samples,
        max_examples=max_examples,
    )
    await anyio.to_thread.run_sync(check)


def _sink_check(
    run_sink: Callable[[Stream[AudioFrame]], Awaitable[object]],
    run: Callable[[Callable[[], Coroutine[Any, Any, None]]], object],
    *,
    formats: st.SearchStrategy[AudioFormat] | None,
    on_format_change: type[BaseException] | None,
    check_result: Callable[[Any, NDArray[Any]], object] | None,
    max_samples: int,
    max_examples: int,
) -> Callable[[], None]:
    """The sink kit's hypothesis property; it runs its async body with ``run``."""
    fmt_strategy = formats if formats is not None else audio_formats()

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=phases(),
    )
    @given(fmt_strategy, st.data())
    def conforms(fmt: AudioFormat, data: st.DataObject) -> None:
        frames = data.draw(frame_streams(fmt, min_samples=1, max_samples=max_samples))
        declare = data.draw(st.booleans(), label="declare")
        at = data.draw(st.integers(0, len(frames) - 1), label="at")
        fail_after = data.draw(st.integers(0, len(frames)), label="fail_after")
        samples = concat_frames(frames, fmt)

        async def body() -> None:
            before = open_resources()

            def closed(probe: Probe, what: str) -> None:
                assert probe.opened == 1, f"sink opened the probe {probe.opened} times ({what})"
                assert probe.closed == 1, f"sink left the probe open ({what})"
                after = open_resources()
                assert after == before, f"{what}: left open {after} (before: {before})"

            # 1. Everything, exactly once; the probe closed.
            probe = Probe(frames, fmt)
            result = await run_sink(probe.stream(declare=declare))
            closed(probe, "a complete run")
            assert probe.finished == 1, "sink stopped before the end of the stream"
            assert probe.pulled == len(frames)
            if check_result is not None:
                check_result(result, samples)

            # 2. A sink-side error: a frame of another format mid-stream.
            odd = [*frames[:at], _other_format(fmt), *frames[at:]]
            probe = Probe(odd, fmt)
            if on_format_change is not None:
                refused: BaseException | None = None
                try:
                    await run_sink(probe.stream(declare=declare))
                except Exception as exc:
                    refused = exc
                assert isinstance(refused, on_format_change), (
                    f"sink {'accepted' if refused is None else 'raised ' + repr(refused) + ' for'}"
                    f" a frame of another format (expected {on_format_change.__name__})"
                )
                closed(probe, "a sink-side error")
            else:
                await run_sink(probe.stream(declare=declare))
                closed(probe, "frames of two formats")

            # 3. A cancellation landing in the sink, then one landing in the probe.
            for checkpoint in (False, True):
                with anyio.CancelScope() as scope:
                    probe = Probe(frames, fmt, cancel=scope, cancel_at=at, checkpoint=checkpoint)
                    await run_sink(probe.stream(declare=declare))
                closed(probe, "a cancellation")
                if checkpoint:
                    assert scope.cancelled_caught, "sink swallowed a cancellation"

            # 4. An error raised by the probe reaches the caller unchanged.
            probe = Probe(frames, fmt, fail_after=fail_after)
            caught: BaseException | None = None
            try:
                await run_sink(probe.stream(declare=declare))
            except Exception as exc:
                caught = exc
            assert caught is not None, "sink swallowed an error raised by the probe"
            assert caught is probe.raised, (
                f"sink replaced the probe's error with {type(caught).__name__}: {caught}"
            )
            closed(probe, "an error in the probe")

        run(body)

    return conforms
