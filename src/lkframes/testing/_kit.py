"""`check_stage`: the conformance kit every lkframes stage (and yours) must pass."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from itertools import pairwise
from typing import Any, Literal

import anyio
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from .._format import AudioFormat
from .._frame import AudioFrame
from .._stream import Stage, Stream
from ._strategies import audio_formats, frame_streams

__all__ = ("StageFactory", "check_stage")

StageLike = (
    Stage[AudioFrame, AudioFrame] | Callable[[AsyncIterable[AudioFrame]], AsyncIterator[AudioFrame]]
)
StageFactory = Callable[[AudioFormat], StageLike]
"""Builds the stage under test for a given input format."""


class _Boom(Exception):
    """Raised by the kit's failing source; must reach the caller unchanged."""


class _Probe:
    """A source over fixed frames that records how it was opened and closed."""

    def __init__(self, frames: list[AudioFrame], fmt: AudioFormat, *, fail_after: int = -1) -> None:
        self.frames = frames
        self.fmt = fmt
        self.fail_after = fail_after
        self.opened = 0
        self.closed = 0
        self.pulled = 0

    def stream(self, *, declare: bool) -> Stream[AudioFrame]:
        async def run() -> AsyncGenerator[AudioFrame, None]:
            self.opened += 1
            try:
                for i, frame in enumerate(self.frames):
                    if i == self.fail_after:
                        raise _Boom(f"source failed at frame {i}")
                    self.pulled += 1
                    yield frame
                if self.fail_after >= len(self.frames):
                    raise _Boom("source failed at its end")
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

    @settings(max_examples=max_examples, deadline=None, database=None, report_multiple_bugs=False)
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
    )
    @given(fmt_strategy, st.data())
    def closes_and_propagates(fmt: AudioFormat, data: st.DataObject) -> None:
        frames = data.draw(frame_streams(fmt, min_samples=1, max_samples=max_samples))
        stage = _as_stage(make_stage(fmt))
        fail_after = data.draw(st.integers(0, len(frames)))

        async def body() -> None:
            # 1. An error from the source reaches the caller unchanged; the source is closed.
            probe = _Probe(frames, fmt, fail_after=fail_after)
            try:
                await stage(probe.stream(declare=True)).collect()
            except _Boom:
                pass
            else:
                raise AssertionError(f"{stage.name} swallowed an error raised by its source")
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
