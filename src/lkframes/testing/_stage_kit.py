"""The stage conformance kit: `check_stage` and `check_stage_async`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from itertools import pairwise
from typing import Any, Literal, TypeAlias

import anyio
import anyio.from_thread
import anyio.to_thread
import numpy as np
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.resources import open_resources
from .._core.stage import Stage
from ._probe import Boom, Probe, check_frames, concat_frames
from ._strategies import audio_formats, frame_streams

__all__ = ("StageFactory", "check_stage", "check_stage_async", "phases")

StageLike: TypeAlias = (
    Stage[AudioFrame, AudioFrame] | Callable[[AsyncIterator[AudioFrame]], AsyncIterator[AudioFrame]]
)
StageFactory: TypeAlias = Callable[[AudioFormat], StageLike]
"""Builds the stage under test for a given input format.

Examples:
    >>> import lkframes as lk
    >>> from lkframes.testing import check_stage
    >>> def make_stage(fmt: lk.AudioFormat) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
    ...     return lk.gain(-6)  # the same stage for every format
    >>> check_stage(make_stage, max_examples=5)
"""


def phases() -> list[Phase]:
    """The current profile's phases without ``explain``, which can take seconds per failure
    and only points into the kit's own code."""
    return [phase for phase in settings().phases if phase is not Phase.explain]


def _as_stage(made: StageLike) -> Stage[AudioFrame, AudioFrame]:
    if isinstance(made, Stage):
        return made
    name = str(getattr(made, "__name__", "stage"))
    return Stage(name, made)


def check_stage(
    make_stage: StageFactory,
    *,
    formats: st.SearchStrategy[AudioFormat] | None = None,
    expected_length: Callable[[int, AudioFormat], int] | None = None,
    continuous: bool = True,
    ordered: bool = True,
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
        ordered: The stage yields frames in pts order; false for a stage that yields them
            as its work completes (``map(..., ordered=False)``), whose output is then
            compared sorted by pts.
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
    for check in _stage_checks(
        make_stage,
        lambda body: anyio.run(body, backend=backend),
        formats=formats,
        expected_length=expected_length,
        continuous=continuous,
        ordered=ordered,
        atol=atol,
        max_samples=max_samples,
        max_examples=max_examples,
        stops_early=stops_early,
    ):
        check()


async def check_stage_async(
    make_stage: StageFactory,
    *,
    formats: st.SearchStrategy[AudioFormat] | None = None,
    expected_length: Callable[[int, AudioFormat], int] | None = None,
    continuous: bool = True,
    ordered: bool = True,
    atol: float = 0.0,
    max_samples: int = 3_000,
    max_examples: int = 50,
    stops_early: bool = False,
) -> None:
    """`check_stage` inside the caller's event loop (asyncio or trio), like ``trio.testing``.

    Hypothesis drives the examples from a worker thread; every example runs on the
    caller's loop, so stages bound to that loop (a LiveKit room, your own tasks) can be
    checked. Arguments are those of `check_stage`, without ``backend``.

    Raises:
        AssertionError: An invariant does not hold.

    Examples:
        >>> import anyio, lkframes as lk
        >>> async def main():
        ...     await check_stage_async(lambda fmt: lk.gain(-6.0), max_examples=5)
        >>> anyio.run(main)
    """
    checks = _stage_checks(
        make_stage,
        anyio.from_thread.run,
        formats=formats,
        expected_length=expected_length,
        continuous=continuous,
        ordered=ordered,
        atol=atol,
        max_samples=max_samples,
        max_examples=max_examples,
        stops_early=stops_early,
    )
    for check in checks:
        await anyio.to_thread.run_sync(check)


def _stage_checks(
    make_stage: StageFactory,
    run: Callable[[Callable[[], Coroutine[Any, Any, None]]], object],
    *,
    formats: st.SearchStrategy[AudioFormat] | None,
    expected_length: Callable[[int, AudioFormat], int] | None,
    continuous: bool,
    ordered: bool,
    atol: float,
    max_samples: int,
    max_examples: int,
    stops_early: bool,
) -> list[Callable[[], None]]:
    """The stage kit's hypothesis properties; each runs its async body with ``run``."""
    fmt_strategy = formats if formats is not None else audio_formats()

    @st.composite
    def two_splits(draw: st.DrawFn) -> tuple[AudioFormat, list[AudioFrame], list[AudioFrame]]:
        fmt = draw(fmt_strategy)
        first = draw(frame_streams(fmt, max_samples=max_samples))
        whole = concat_frames(first, fmt)
        sizes = draw(st.lists(st.integers(0, max(1, whole.shape[0])), max_size=12))
        edges = [0, *sorted(min(s, whole.shape[0]) for s in sizes), whole.shape[0]]
        second = [AudioFrame(whole[a:b], fmt.sample_rate, pts=a) for a, b in pairwise(edges)]
        return fmt, first, second

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=phases(),
    )
    @given(two_splits())
    def outputs_agree(case: tuple[AudioFormat, list[AudioFrame], list[AudioFrame]]) -> None:
        fmt, first, second = case
        stage = _as_stage(make_stage(fmt))
        n_in = sum(f.samples_per_channel for f in first)

        async def body() -> None:
            results = []
            for frames, declare in ((first, True), (second, False), (first, True)):
                probe = Probe(frames, fmt)
                stream = stage(probe.stream(declare=declare))
                declared = stream.format if declare else None
                out = await stream.collect()
                if not ordered:  # a stage that yields as work completes: compare by pts
                    out.sort(key=lambda frame: (frame.pts, frame.end_pts))
                label = f"{stage.name} on {fmt} ({len(frames)} input frames)"
                out_fmt = check_frames(out, declared, continuous=continuous, label=label)
                assert probe.closed == probe.opened == 1, f"{label}: source not closed once"
                results.append((out_fmt, concat_frames(out, out_fmt or fmt)))
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
        phases=phases(),
    )
    @given(fmt_strategy, st.data())
    def closes_and_propagates(fmt: AudioFormat, data: st.DataObject) -> None:
        frames = data.draw(frame_streams(fmt, min_samples=1, max_samples=max_samples))
        stage = _as_stage(make_stage(fmt))
        fail_after = data.draw(st.integers(0, len(frames)))

        async def body() -> None:
            # 1. An error from the source reaches the caller unchanged; the source is closed.
            probe = Probe(frames, fmt, fail_after=fail_after)
            caught: Boom | None = None
            try:
                await stage(probe.stream(declare=True)).collect()
            except Boom as exc:
                caught = exc
            if probe.raised is None:  # the stage did not read as far as the error
                assert stops_early, f"{stage.name} stopped reading its source before the end"
            else:
                assert caught is probe.raised, (
                    f"{stage.name} swallowed an error raised by its source"
                )
            assert probe.closed == 1, f"{stage.name}: source not closed after an error"

            # 2. Leaving after the first output frame closes the source, and everything the
            # stage opened, before the block exits.
            probe = Probe(frames, fmt)
            before = open_resources()
            async with stage(probe.stream(declare=True)).open() as items:
                async for _ in items:
                    break
                assert probe.opened == 1
            assert probe.closed == 1, f"{stage.name}: source still open after break"
            after = open_resources()
            assert after == before, f"{stage.name}: left open {after} after break ({before})"

            # 3. aclose is idempotent and a closed pipeline yields nothing more; the block's
            # exit closes the rest.
            probe = Probe(frames, fmt)
            async with stage(probe.stream(declare=True)).open() as iterator:
                async for _ in iterator:
                    break
                await iterator.aclose()
                await iterator.aclose()
                async for item in iterator:
                    raise AssertionError(f"{stage.name} yielded {item!r} after aclose")
            assert probe.closed == probe.opened, f"{stage.name}: source open after the block"

            # 4. An empty source: nothing, or only what expected_length allows.
            probe = Probe([], fmt)
            out = await stage(probe.stream(declare=True)).collect()
            total = sum(f.samples_per_channel for f in out)
            if expected_length is not None:
                assert total == expected_length(0, fmt)
            assert probe.closed == 1

        run(body)

    return [outputs_agree, closes_and_propagates]
