"""The planner (lkframes/_core/plan.py): a planned pipeline gives what the stages as written
give, frame for frame, on asyncio and trio; per-sample stages move before `chunk`, item
stages fuse and run on the lists `chunk` cuts; what may not move stays put."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import lkframes as lk
from lkframes._core.plan import planning
from lkframes.testing import check_stage

T = TypeVar("T")
Build = Callable[[lk.Stream[lk.AudioFrame]], lk.Stream[lk.AudioFrame]]


def halve(frame: lk.AudioFrame) -> NDArray[Any]:
    """Per sample: each output sample from its input sample alone."""
    data = frame.data
    return data // 2 if data.dtype == np.int16 else data * np.float32(0.5)


def by_size(frame: lk.AudioFrame) -> NDArray[Any]:
    """Not per sample: the result depends on the frame's size and pts."""
    data = frame.data
    shift = (frame.samples_per_channel + frame.pts) % 5
    out: NDArray[Any] = data - np.asarray(shift, data.dtype)
    return out


async def later(frame: lk.AudioFrame) -> lk.AudioFrame:
    await anyio.lowlevel.checkpoint()
    return frame


def returns_awaitable(frame: lk.AudioFrame) -> Any:
    """A sync function that returns an awaitable (map awaits it)."""
    return later(frame)


def step() -> st.SearchStrategy[Build]:
    """One stage of a random pipeline."""
    return st.one_of(
        st.floats(-20, 6).map(lambda db: lambda s: s.gain(db)),
        st.sampled_from(["int16", "float32"]).map(lambda d: lambda s: s.to_dtype(d)),
        st.sampled_from([1, 2]).map(lambda n: lambda s: s.remix(n)),
        st.tuples(st.integers(1, 700), st.sampled_from(["keep", "pad", "drop"])).map(
            lambda a: lambda s: s.chunk(samples=a[0], tail=a[1])
        ),
        st.just(lambda s: s.map(halve, per_sample=True)),
        st.just(lambda s: s.map(halve)),
        st.just(lambda s: s.map(by_size)),
        st.just(lambda s: s.map(returns_awaitable)),
    )


def source(data: NDArray[Any], block_ms: float) -> lk.Stream[lk.AudioFrame]:
    return lk.from_array(data, 8_000, block_ms=block_ms)


def build(data: NDArray[Any], block_ms: float, steps: list[Build]) -> lk.Stream[lk.AudioFrame]:
    stream = source(data, block_ms)
    for make in steps:
        stream = make(stream)
    return stream


def run(make: Callable[[], Awaitable[T]], backend: str) -> T:
    return anyio.run(make, backend=backend)


def frames_of(stream: lk.Stream[lk.AudioFrame], backend: str) -> list[tuple[Any, ...]]:
    frames = run(stream.collect, backend)
    return [(f.pts, f.format, f.data.tobytes()) for f in frames]


def iterated(stream: lk.Stream[lk.AudioFrame], backend: str) -> list[tuple[Any, ...]]:
    async def read() -> list[tuple[Any, ...]]:
        async with stream.open() as frames:
            return [(f.pts, f.format, f.data.tobytes()) async for f in frames]

    return run(read, backend)


arrays = st.tuples(st.integers(0, 3_000), st.sampled_from([1, 2]), st.booleans()).map(
    lambda a: (
        np.random.default_rng(a[0]).integers(-30_000, 30_000, (a[0], a[1])).astype(np.int16)
        if a[2]
        else np.random.default_rng(a[0]).uniform(-1, 1, (a[0], a[1])).astype(np.float32)
    )
)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@settings(max_examples=150, deadline=None)
@given(
    data=arrays,
    block_ms=st.sampled_from([1.0, 7.5, 20.0, 100.0, 500.0]),
    steps=st.lists(step(), min_size=1, max_size=6),
)
def test_a_planned_pipeline_gives_what_the_stages_as_written_give(
    backend: str, data: NDArray[Any], block_ms: float, steps: list[Build]
) -> None:
    with planning(False):
        written = build(data, block_ms, steps)
    planned = build(data, block_ms, steps)
    want = frames_of(written, backend)
    assert frames_of(planned, backend) == want
    assert iterated(planned, backend) == want  # frame by frame, not through a terminal
    assert run(planned.run, backend).frames == len(want)
    if want:
        got = run(lambda: planned.to_array(squeeze=False), backend)
        expected = run(lambda: written.to_array(squeeze=False), backend)
        assert got.tobytes() == expected.tobytes()


def test_per_sample_stages_move_before_chunk_and_item_stages_fuse() -> None:
    stream = lk.sine(440, 1.0, 48_000).resample(16_000).chunk(ms=20).gain(-6).map(halve)
    plan = stream.explain()
    order = [line.split(". ", 1)[1].split("  ")[0] for line in plan.splitlines()[1:]]
    assert order == [
        "source: sine(440 Hz)",
        "resample(16000, quality='HQ')",
        "gain(-6 dB)",
        "chunk(ms=20, tail='keep')",
        "map(halve)",
    ]
    assert "[per frame, on lists of frames]" in plan.splitlines()[-1]
    # What the user wrote is still the stream's name.
    assert stream.name.endswith("chunk(ms=20, tail='keep') | gain(-6 dB) | map(halve)")


def test_what_may_not_move_stays_after_chunk() -> None:
    not_per_sample = lk.sine(440, 0.1, 8_000).chunk(ms=20).map(by_size)
    assert "chunk" in not_per_sample.explain().splitlines()[-2]
    # A user's per-sample function might not keep silence silent: not before a pad.
    padded = lk.sine(440, 0.1, 8_000).chunk(ms=30, tail="pad").map(halve, per_sample=True)
    assert "chunk" in padded.explain().splitlines()[-2]
    # The built-ins keep silence, so they may.
    builtin = lk.sine(440, 0.1, 8_000).chunk(ms=30, tail="pad").gain(-3)
    assert "chunk" in builtin.explain().splitlines()[-1]


def test_consecutive_item_stages_run_as_one_step() -> None:
    stream = lk.sine(440, 0.1, 8_000).gain(-3).to_dtype("float32").map(halve)
    steps = stream.explain().splitlines()[1:]
    assert len(steps) == 2
    assert "gain(-3 dB) + to_dtype('float32') + map(halve)" in steps[1]


def test_an_error_in_a_fused_stage_names_its_stage() -> None:
    def boom(frame: lk.AudioFrame) -> NDArray[Any]:
        raise ValueError("boom")

    stream = lk.sine(440, 0.1, 8_000).chunk(ms=20).gain(-3).map(boom)
    with pytest.raises(ValueError, match="boom") as caught:
        lk.run_sync(stream.collect())
    assert any("map(" in note and "pts=0" in note for note in caught.value.__notes__)


def test_a_map_declared_per_sample_must_be_a_bool() -> None:
    with pytest.raises(lk.ParameterError, match="per_sample must be a bool"):
        lk.map(halve, per_sample=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_chunk_then_per_sample_stages_keep_the_stage_contract(backend: str) -> None:
    def make(fmt: lk.AudioFormat) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
        return lk.chunk(samples=160) | lk.gain(-6) | lk.map(halve, per_sample=True)

    check_stage(make, expected_length=lambda n, fmt: n, backend=backend)  # type: ignore[arg-type]
