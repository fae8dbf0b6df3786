"""The conformance kit every lkframes source, stage and sink (and yours) must pass.

`check_source`, `check_stage` and `check_sink` assert the same contract from three sides:
no sample lost, duplicated or reordered; one declared format; continuous ``pts``; errors
that reach the caller unchanged; and everything closed promptly however a pipeline ends.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable
from itertools import pairwise
from typing import Any, Literal

import anyio
import anyio.lowlevel
import numpy as np
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from .._errors import FormatError
from .._format import AudioFormat
from .._frame import AudioFrame
from .._resources import open_resources
from .._stream import Stage, Stream
from ._strategies import audio_formats, frame_streams

__all__ = ("StageFactory", "check_sink", "check_source", "check_stage")

StageLike = (
    Stage[AudioFrame, AudioFrame] | Callable[[AsyncIterable[AudioFrame]], AsyncIterator[AudioFrame]]
)
StageFactory = Callable[[AudioFormat], StageLike]
"""Builds the stage under test for a given input format.

Examples:
    >>> import lkframes as lk
    >>> from lkframes.testing import check_stage
    >>> def make_stage(fmt: lk.AudioFormat) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
    ...     return lk.gain(-6)  # the same stage for every format
    >>> check_stage(make_stage, max_examples=5)
"""


def _phases() -> list[Phase]:
    """The current profile's phases without ``explain``, which can take seconds per failure
    and only points into the kit's own code."""
    return [phase for phase in settings().phases if phase is not Phase.explain]


class _Boom(Exception):
    """Raised by the kit's failing source; must reach the caller unchanged."""


class _Probe:
    """A source over fixed frames that records how it was opened, read and closed.

    Optionally it fails (``fail_after``: raises `_Boom` instead of yielding that frame, or
    at its end), or cancels ``cancel`` just before it yields frame ``cancel_at`` (then,
    with ``checkpoint``, lets the cancellation land inside itself at once).
    """

    def __init__(
        self,
        frames: list[AudioFrame],
        fmt: AudioFormat,
        *,
        fail_after: int = -1,
        cancel: anyio.CancelScope | None = None,
        cancel_at: int = 0,
        checkpoint: bool = False,
    ) -> None:
        self.frames = frames
        self.fmt = fmt
        self.fail_after = fail_after
        self.cancel = cancel
        self.cancel_at = cancel_at
        self.checkpoint = checkpoint
        self.opened = 0
        self.closed = 0
        self.pulled = 0
        self.finished = 0
        self.raised: _Boom | None = None

    def _fail(self, message: str) -> _Boom:
        self.raised = _Boom(message)
        return self.raised

    def stream(self, *, declare: bool) -> Stream[AudioFrame]:
        async def run() -> AsyncGenerator[AudioFrame, None]:
            self.opened += 1
            try:
                for i, frame in enumerate(self.frames):
                    if i == self.fail_after:
                        raise self._fail(f"source failed at frame {i}")
                    if self.cancel is not None and i == self.cancel_at:
                        self.cancel.cancel()
                        if self.checkpoint:
                            await anyio.lowlevel.checkpoint()
                    self.pulled += 1
                    yield frame
                if self.fail_after >= len(self.frames):
                    raise self._fail("source failed at its end")
                self.finished += 1
            finally:
                self.closed += 1

        return Stream(run, format=self.fmt if declare else None, name="probe")


def _as_stage(made: StageLike) -> Stage[AudioFrame, AudioFrame]:
    if isinstance(made, Stage):
        return made
    return Stage.from_function(made)


def _concat(frames: list[AudioFrame], fmt: AudioFormat) -> NDArray[Any]:
    if not frames:
        return np.empty((0, fmt.num_channels), fmt.numpy_dtype)
    return np.concatenate([f.data for f in frames])


def _check_frames(
    out: list[Any], declared: AudioFormat | None, *, continuous: bool, label: str
) -> AudioFormat | None:
    fmt = declared
    prev_end: int | None = None
    for i, frame in enumerate(out):
        assert isinstance(frame, AudioFrame), f"{label}: item {i} is {type(frame).__name__}"
        assert not frame.data.flags.writeable, f"{label}: frame {i} data is writable"
        assert frame.data.shape == (frame.samples_per_channel, frame.num_channels)
        assert frame.data.dtype.name == frame.dtype
        if fmt is None:
            fmt = frame.format
        assert frame.format == fmt, (
            f"{label}: frame {i} has format {frame.format}, stream declared/started with {fmt}"
        )
        if prev_end is not None:
            if continuous:
                assert frame.pts == prev_end, (
                    f"{label}: pts not continuous at frame {i} (expected {prev_end}, "
                    f"got {frame.pts})"
                )
            else:
                assert frame.pts >= prev_end, f"{label}: frame {i} overlaps the previous one"
        prev_end = frame.end_pts
    return fmt


def check_stage(
    make_stage: StageFactory,
    *,
    formats: st.SearchStrategy[AudioFormat] | None = None,
    expected_length: Callable[[int, AudioFormat], int] | None = None,
    continuous: bool = True,
    atol: float = 0.0,
    max_samples: int = 3_000,
    max_examples: int = 50,
    stops_early: bool = False,
    backend: Literal["asyncio", "trio"] = "asyncio",
) -> None:
    """Assert the invariants every lkframes stage keeps, over generated inputs.

    Call it from a plain (sync) test. With hypothesis it feeds the stage irregularly split
    streams (frame sizes 0 and 1 included) of many formats, and checks that:

    - every output item is an `AudioFrame` with read-only data, and all share one format,
      the one the stage declares when the input format is known;
    - ``pts`` never overlaps (and is continuous unless ``continuous=False``);
    - the output does not depend on how the input was split (to ``atol``), nor on
      whether the input format was declared up front;
    - the stage is re-iterable: a second iteration gives the same output (to ``atol``:
      soxr's int16 rounding can differ by 1 LSB between runs on very short inputs);
    - the total length is ``expected_length(n, fmt)`` when given (no loss, no duplication);
    - an empty input gives no samples (when ``expected_length(0, fmt) == 0``);
    - an error raised by the source reaches the caller unchanged, and the source is closed;
      the stage reads its source up to the error (unless ``stops_early``);
    - leaving early (``break`` in ``Stream.open``) closes the source before the block exits;
    - ``aclose`` is idempotent and a closed pipeline yields nothing more.

    Args:
        make_stage: Builds the stage for an input format: a `Stage`, or a plain function
            ``AsyncIterable[AudioFrame] -> AsyncIterator[AudioFrame]``.
        formats: Input formats to try (default: `audio_formats`).
        expected_length: Output samples per channel for ``n`` input samples of ``fmt``.
        continuous: Require output pts to be continuous (false for e.g. ``filter``).
        atol: Allowed absolute difference between outputs of different splits (in sample
            units: 2 means 2 LSB for int16).
        max_samples: Longest generated input.
        max_examples: Hypothesis examples per property.
        stops_early: The stage may stop reading its source before the end (``take``), so
            an error the source would raise later never happens.
        backend: The anyio backend to run on.

    Raises:
        AssertionError: An invariant does not hold; hypothesis shrinks to a minimal input.

    Examples:
        >>> import lkframes as lk
        >>> check_stage(lambda fmt: lk.gain(-6.0), expected_length=lambda n, fmt: n,
        ...             max_examples=5)
    """
    fmt_strategy = formats if formats is not None else audio_formats()

    def run(fn: Callable[[], Any]) -> Any:
        return anyio.run(fn, backend=backend)

    @st.composite
    def two_splits(draw: st.DrawFn) -> tuple[AudioFormat, list[AudioFrame], list[AudioFrame]]:
        fmt = draw(fmt_strategy)
        first = draw(frame_streams(fmt, max_samples=max_samples))
        whole = _concat(first, fmt)
        sizes = draw(st.lists(st.integers(0, max(1, whole.shape[0])), max_size=12))
        edges = [0, *sorted(min(s, whole.shape[0]) for s in sizes), whole.shape[0]]
        second = [AudioFrame(whole[a:b], fmt.sample_rate, pts=a) for a, b in pairwise(edges)]
        return fmt, first, second

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=_phases(),
    )
    @given(two_splits())
    def outputs_agree(case: tuple[AudioFormat, list[AudioFrame], list[AudioFrame]]) -> None:
        fmt, first, second = case
        stage = _as_stage(make_stage(fmt))
        n_in = sum(f.samples_per_channel for f in first)

        async def body() -> None:
            results = []
            for frames, declare in ((first, True), (second, False), (first, True)):
                probe = _Probe(frames, fmt)
                stream = stage(probe.stream(declare=declare))
                declared = stream.format if declare else None
                out = await stream.collect()
                label = f"{stage.name} on {fmt} ({len(frames)} input frames)"
                out_fmt = _check_frames(out, declared, continuous=continuous, label=label)
                assert probe.closed == probe.opened == 1, f"{label}: source not closed once"
                results.append((out_fmt, _concat(out, out_fmt or fmt)))
            (fmt_a, a), (fmt_b, b), (_, c) = results
            assert a.shape == c.shape, f"{stage.name}: second iteration has another length"
            if a.size:
                again = np.abs(a.astype(np.float64) - c.astype(np.float64)).max()
                assert again <= atol, f"{stage.name}: second iteration differs by {again}"
            if a.size or b.size:
                assert fmt_a == fmt_b, f"{stage.name}: output format depends on the split"
            assert a.shape == b.shape, (
                f"{stage.name}: output length depends on the split ({a.shape} vs {b.shape})"
            )
            if a.size:
                diff = np.abs(a.astype(np.float64) - b.astype(np.float64)).max()
                assert diff <= atol, f"{stage.name}: splits differ by {diff} (atol {atol})"
            if expected_length is not None:
                want = expected_length(n_in, fmt)
                assert a.shape[0] == want, (
                    f"{stage.name}: {n_in} samples in, expected {want} out, got {a.shape[0]}"
                )

        run(body)

    @settings(
        max_examples=max(5, max_examples // 3),
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=_phases(),
    )
    @given(fmt_strategy, st.data())
    def closes_and_propagates(fmt: AudioFormat, data: st.DataObject) -> None:
        frames = data.draw(frame_streams(fmt, min_samples=1, max_samples=max_samples))
        stage = _as_stage(make_stage(fmt))
        fail_after = data.draw(st.integers(0, len(frames)))

        async def body() -> None:
            # 1. An error from the source reaches the caller unchanged; the source is closed.
            probe = _Probe(frames, fmt, fail_after=fail_after)
            caught: _Boom | None = None
            try:
                await stage(probe.stream(declare=True)).collect()
            except _Boom as exc:
                caught = exc
            if probe.raised is None:  # the stage did not read as far as the error
                assert stops_early, f"{stage.name} stopped reading its source before the end"
            else:
                assert caught is probe.raised, (
                    f"{stage.name} swallowed an error raised by its source"
                )
            assert probe.closed == 1, f"{stage.name}: source not closed after an error"

            # 2. Leaving after the first output frame closes the source before the block exits.
            probe = _Probe(frames, fmt)
            async with stage(probe.stream(declare=True)).open() as items:
                async for _ in items:
                    break
                assert probe.opened == 1
            assert probe.closed == 1, f"{stage.name}: source still open after break"

            # 3. aclose is idempotent and a closed pipeline yields nothing more.
            probe = _Probe(frames, fmt)
            iterator = aiter(stage(probe.stream(declare=True)))
            async for _ in iterator:
                break
            await iterator.aclose()
            await iterator.aclose()
            assert probe.closed == probe.opened
            async for item in iterator:
                raise AssertionError(f"{stage.name} yielded {item!r} after aclose")

            # 4. An empty source: nothing, or only what expected_length allows.
            probe = _Probe([], fmt)
            out = await stage(probe.stream(declare=True)).collect()
            total = sum(f.samples_per_channel for f in out)
            if expected_length is not None:
                assert total == expected_length(0, fmt)
            assert probe.closed == 1

        run(body)

    outputs_agree()
    closes_and_propagates()


# -- sources ---------------------------------------------------------------------------------


def _as_2d(array: NDArray[Any]) -> NDArray[Any]:
    return array.reshape(-1, 1) if array.ndim == 1 else array


def _same_samples(got: NDArray[Any], want: NDArray[Any], label: str) -> None:
    """Assert equal samples, naming lost/duplicated samples or the first difference."""
    assert got.shape[0] == want.shape[0], (
        f"{label}: {want.shape[0]} samples per channel expected, got {got.shape[0]} "
        f"({'lost' if got.shape[0] < want.shape[0] else 'duplicated'} samples)"
    )
    assert got.shape == want.shape, f"{label}: shape {got.shape}, expected {want.shape}"
    if not np.array_equal(got, want):
        first = int(np.argwhere(got != want)[0][0])
        raise AssertionError(
            f"{label}: samples differ from sample {first} on (got {got[first].tolist()}, "
            f"expected {want[first].tolist()})"
        )


def check_source(
    make_source: Callable[[], Stream[AudioFrame]],
    *,
    expected: NDArray[Any] | None = None,
    reiterable: bool | None = None,
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
        backend: The anyio backend to run on.

    Raises:
        AssertionError: An invariant does not hold; the message names it.

    Examples:
        >>> import numpy as np, lkframes as lk
        >>> x = np.arange(4_000, dtype=np.int16)
        >>> check_source(lambda: lk.from_array(x, 16_000, block_ms=40), expected=x)
    """

    async def read(stream: Stream[AudioFrame], label: str) -> tuple[list[Any], NDArray[Any]]:
        frames: list[Any] = []
        async with stream.open() as items:
            async for item in items:
                frames.append(item)  # noqa: PERF401 - keeps what came before an error
        fmt = _check_frames(frames, stream.format, continuous=True, label=label)
        if fmt is None:
            channels = 1 if expected is None else _as_2d(np.asarray(expected)).shape[1]
            return frames, np.empty((0, channels))
        return frames, _concat(frames, fmt)

    async def body() -> None:
        before = open_resources()

        def unchanged(what: str) -> None:
            after = open_resources()
            assert after == before, f"{label}: {what} left open {after} (before: {before})"

        stream = make_source()
        label = repr(stream)
        frames, samples = await read(stream, label)
        unchanged("reading to the end")
        if expected is not None:
            _same_samples(samples, _as_2d(np.asarray(expected)), label)

        # A second iteration of the same stream.
        try:
            _, again = await read(stream, f"{label} (second iteration)")
        except anyio.ClosedResourceError:
            assert reiterable is not True, f"{label}: not re-iterable (ClosedResourceError)"
        else:
            assert reiterable is not False, (
                f"{label}: a one-shot source must raise anyio.ClosedResourceError when read again"
            )
            _same_samples(again, samples, f"{label} (second iteration)")
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
        boom = _Boom("consumer failed")
        caught: _Boom | None = None
        try:
            async with make_source().open() as items:
                async for _ in items:
                    raise boom
        except _Boom as exc:
            caught = exc
        if frames:
            assert caught is boom, f"{label}: the consumer's exception was swallowed or replaced"
        unchanged("an exception in the consumer")

        # aclose is idempotent, and a closed iterator yields nothing more.
        iterator = aiter(make_source())
        await anext(iterator, None)
        await iterator.aclose()
        await iterator.aclose()
        async for item in iterator:
            raise AssertionError(f"{label} yielded {item!r} after aclose")
        unchanged("aclose")

    anyio.run(body, backend=backend)


# -- sinks -----------------------------------------------------------------------------------


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
    fmt_strategy = formats if formats is not None else audio_formats()

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=_phases(),
    )
    @given(fmt_strategy, st.data())
    def conforms(fmt: AudioFormat, data: st.DataObject) -> None:
        frames = data.draw(frame_streams(fmt, min_samples=1, max_samples=max_samples))
        declare = data.draw(st.booleans(), label="declare")
        at = data.draw(st.integers(0, len(frames) - 1), label="at")
        samples = _concat(frames, fmt)

        async def body() -> None:
            before = open_resources()

            def closed(probe: _Probe, what: str) -> None:
                assert probe.opened == 1, f"sink opened the probe {probe.opened} times ({what})"
                assert probe.closed == 1, f"sink left the probe open ({what})"
                after = open_resources()
                assert after == before, f"{what}: left open {after} (before: {before})"

            # 1. Everything, exactly once; the probe closed.
            probe = _Probe(frames, fmt)
            result = await run_sink(probe.stream(declare=declare))
            closed(probe, "a complete run")
            assert probe.finished == 1, "sink stopped before the end of the stream"
            assert probe.pulled == len(frames)
            if check_result is not None:
                check_result(result, samples)

            # 2. A sink-side error: a frame of another format mid-stream.
            odd = [*frames[:at], _other_format(fmt), *frames[at:]]
            probe = _Probe(odd, fmt)
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
                    probe = _Probe(frames, fmt, cancel=scope, cancel_at=at, checkpoint=checkpoint)
                    await run_sink(probe.stream(declare=declare))
                closed(probe, "a cancellation")
                if checkpoint:
                    assert scope.cancelled_caught, "sink swallowed a cancellation"

            # 4. An error raised by the probe reaches the caller unchanged.
            probe = _Probe(frames, fmt, fail_after=data.draw(st.integers(0, len(frames))))
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

        anyio.run(body, backend=backend)

    conforms()
