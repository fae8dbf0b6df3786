"""Streams of streams: `merge` (as items arrive), `zip` (in lockstep), `mix` (summed by pts)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from itertools import pairwise
from typing import Any, Literal

import anyio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lkframes as lk
from lkframes.testing import check_source, open_resources, splits

pytestmark = pytest.mark.anyio

Backend = Literal["asyncio", "trio"]

RATE = 8_000
BACKENDS = ["asyncio", "trio"]


def _paced(values: list[int], delay: float, probe: dict[str, int] | None = None) -> Any:
    """A live-like stream: one 10-sample frame of each value, ``delay`` seconds apart."""

    async def run() -> AsyncGenerator[lk.AudioFrame, None]:
        try:
            for k, value in enumerate(values):
                await anyio.sleep(delay)
                yield lk.AudioFrame(np.full(10, value, np.int16), RATE, pts=10 * k)
        finally:
            if probe is not None:
                probe["closed"] = probe.get("closed", 0) + 1

    return lk.Stream(run, format=lk.AudioFormat(RATE, 1))


# -- merge ------------------------------------------------------------------------------------


async def test_merge_yields_items_as_they_arrive(anyio_backend: Backend) -> None:
    slow = _paced([100, 101], 0.2)
    fast = _paced([1, 2, 3], 0.01)
    order = [int(f.data[0, 0]) for f in await lk.merge(slow, fast).collect()]
    assert order == [1, 2, 3, 100, 101]  # the slow stream never held up the fast one


async def test_merge_ends_when_every_stream_has_ended(anyio_backend: Backend) -> None:
    frames = await lk.merge(lk.silence(0.1, RATE), lk.sine(440, 0.2, RATE)).collect()
    assert sum(f.samples_per_channel for f in frames) == 0.3 * RATE


async def test_an_error_in_one_stream_ends_the_merge_and_closes_the_others(
    anyio_backend: str,
) -> None:
    probe: dict[str, int] = {}

    async def failing() -> AsyncGenerator[lk.AudioFrame, None]:
        for k in range(2):
            await anyio.sleep(0.02)
            if k:
                raise ZeroDivisionError("stream failed")
            yield lk.AudioFrame(np.zeros(1, np.int16), RATE)

    with pytest.raises(ZeroDivisionError, match="stream failed"):  # the error, not a group
        await lk.merge(_paced([1] * 100, 0.01, probe), lk.Stream(failing)).collect()
    assert probe == {"closed": 1}
    assert open_resources() == {}


async def test_leaving_a_merge_early_closes_every_stream(anyio_backend: Backend) -> None:
    probes: list[dict[str, int]] = [{}, {}]
    merged = lk.merge(_paced([1] * 50, 0.01, probes[0]), _paced([2] * 50, 0.01, probes[1]))
    async with merged.open() as frames:
        async for _ in frames:
            break
    assert probes == [{"closed": 1}, {"closed": 1}]  # closed before the block exits
    with anyio.move_on_after(0.05):
        await merged.collect()  # cancelled from outside: closed too
    assert probes == [{"closed": 2}, {"closed": 2}]


async def test_merge_declares_the_common_format_only(anyio_backend: Backend) -> None:
    assert lk.merge(lk.silence(0.1, RATE), lk.silence(0.1, RATE)).format == lk.AudioFormat(RATE, 1)
    assert lk.merge(lk.silence(0.1, RATE), lk.silence(0.1, 16_000)).format is None
    with pytest.raises(lk.ParameterError, match="at least one stream"):
        lk.merge()
    with pytest.raises(lk.ParameterError, match="argument 1 is not an lkframes Stream"):
        lk.merge(lk.silence(0.1), [])  # type: ignore[call-overload]


@pytest.mark.parametrize("backend", BACKENDS)
def test_merge_passes_the_source_kit(backend: Backend) -> None:
    # One stream merged with an empty one: the items, in order, and every closing path.
    x = np.arange(2_000, dtype=np.int16)
    check_source(
        lambda: lk.merge(lk.from_array(x, RATE, block_ms=20), lk.silence(0, RATE)),
        expected=x,
        reiterable=True,
        backend=backend,
    )


# -- zip ------------------------------------------------------------------------------------


async def test_zip_pairs_items_and_ends_with_the_shortest(anyio_backend: Backend) -> None:
    probe: dict[str, int] = {}
    long = _paced(list(range(10)), 0.0, probe)
    short = lk.from_array(np.zeros(30, np.int16), RATE).chunk(samples=10)
    pairs = await lk.zip(short, long).collect()
    assert [(a.pts, int(b.data[0, 0])) for a, b in pairs] == [(0, 0), (10, 1), (20, 2)]
    assert probe == {"closed": 1}  # the longer stream is closed, not left half-read


@pytest.mark.parametrize("backend", BACKENDS)
def test_zip_passes_the_source_kit(backend: Backend) -> None:
    check_source(
        lambda: lk.zip(lk.sine(440, 0.1, RATE, block_ms=10), lk.noise(0.05, RATE, block_ms=10)),
        audio=False,
        reiterable=True,
        backend=backend,
    )


# -- mix --------------------------------------------------------------------------------------


async def test_mix_sums_by_pts_with_silence_in_the_gaps(anyio_backend: Backend) -> None:
    a = lk.from_array(np.full(4, 1_000, np.int16), RATE)  # pts 0..4
    b = lk.from_array(np.full(2, 300, np.int16), RATE, pts=6)  # pts 6..8, a gap at 4..6
    y = await lk.mix(a, b, gains=[1.0, -1.0]).to_array()
    assert y.tolist() == [1000, 1000, 1000, 1000, 0, 0, -300, -300]


async def test_mix_starts_at_the_earliest_stream(anyio_backend: Backend) -> None:
    late = lk.from_array(np.ones(3, np.int16), RATE, pts=100)
    early = lk.from_array(np.ones(2, np.int16), RATE, pts=98)
    frames = await lk.mix(late, early).collect()
    assert frames[0].pts == 98
    assert np.concatenate([f.data for f in frames]).ravel().tolist() == [1, 1, 1, 1, 1]


async def test_mix_saturates_int16_instead_of_wrapping(anyio_backend: Backend) -> None:
    loud = lk.from_array(np.array([30_000, -30_000], np.int16), RATE)
    y = await lk.mix(loud, loud).to_array()
    assert y.tolist() == [32_767, -32_768]
    floats = lk.from_array(np.array([0.75], np.float32), RATE)
    assert (await lk.mix(floats, floats).to_array()).tolist() == [1.5]  # float: exact sum


async def test_mix_refuses_other_formats_and_bad_gains(anyio_backend: Backend) -> None:
    with pytest.raises(lk.FormatError, match="streams have different formats"):
        lk.mix(lk.silence(0.1, 8_000), lk.silence(0.1, 16_000))
    undeclared = lk.from_frames([lk.AudioFrame(np.zeros(4, np.float32), RATE)])
    with pytest.raises(lk.FormatError, match="frame format changed"):
        await lk.mix(lk.silence(0.1, RATE), undeclared).collect()
    with pytest.raises(lk.ParameterError, match="gains has 1 values"):
        lk.mix(lk.silence(0.1), lk.silence(0.1), gains=[1.0])
    with pytest.raises(lk.ParameterError, match="gains must be finite"):
        lk.mix(lk.silence(0.1), gains=[float("inf")])


async def test_mix_refuses_pts_that_go_backwards(anyio_backend: Backend) -> None:
    frames = [lk.AudioFrame(np.zeros(4, np.int16), RATE, pts=p) for p in (0, 2)]
    with pytest.raises(lk.FormatError, match="pts went backwards"):
        await lk.mix(lk.from_frames(frames)).collect()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 500)), min_size=1, max_size=3),
    st.data(),
)
def test_mix_equals_a_numpy_sum_however_the_streams_are_split(
    layout: list[tuple[int, int]], data: st.DataObject
) -> None:
    rng = np.random.default_rng(len(layout))
    arrays = [rng.integers(-8_000, 8_000, n).astype(np.int16) for _, n in layout]
    gains = data.draw(st.lists(st.floats(-2, 2), min_size=len(layout), max_size=len(layout)))
    end = max(start + n for start, n in layout)
    first = min((start for start, n in layout if n), default=end)  # the first audio
    want = np.zeros(end, np.float32)
    streams = []
    for (start, n), x, g in zip(layout, arrays, gains, strict=True):
        want[start : start + n] += x.astype(np.float32) * np.float32(g)
        edges = np.cumsum([0, *data.draw(splits(n))])
        frames = [lk.AudioFrame(x[a:b], RATE, pts=start + a) for a, b in pairwise(edges)]
        streams.append(lk.from_frames(frames, format=lk.AudioFormat(RATE, 1)))
    got = lk.run_sync(lk.mix(*streams, gains=gains).to_array()).ravel()
    expected = np.clip(np.rint(want[first:end]), -32_768, 32_767).astype(np.int16)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mix_passes_the_source_kit(backend: Backend) -> None:
    a = np.arange(0, 3_000, dtype=np.int16)
    b = np.full(1_000, 7, np.int16)
    expected = a.copy()
    expected[500:1_500] += 7
    check_source(
        lambda: lk.mix(lk.from_array(a, RATE, block_ms=30), lk.from_array(b, RATE, pts=500)),
        expected=expected,
        reiterable=True,
        backend=backend,
    )
