"""The conformance kit: every lkframes stage passes it, and broken stages fail it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable
from itertools import pairwise
from typing import Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lkframes as lk
from lkframes.testing import (
    StageFactory,
    audio_formats,
    audio_frames,
    check_stage,
    frame_streams,
    splits,
)

Backend = Literal["asyncio", "trio"]
BACKENDS: list[Backend] = ["asyncio", "trio"]


def _same(n: int, fmt: lk.AudioFormat) -> int:
    return n


def _twice(frame: lk.AudioFrame) -> lk.AudioFrame:
    return frame.replace(frame.data.copy())


async def _async_identity(frame: lk.AudioFrame) -> lk.AudioFrame:
    return frame


STAGES: dict[str, tuple[StageFactory, Callable[[int, lk.AudioFormat], int] | None, float]] = {
    "resample-16k": (
        lambda fmt: lk.resample(16_000),
        lambda n, fmt: lk.resampled_length(n, fmt.sample_rate, 16_000),
        2.0,
    ),
    "resample-48k-vhq": (
        lambda fmt: lk.resample(48_000, "VHQ"),
        lambda n, fmt: lk.resampled_length(n, fmt.sample_rate, 48_000),
        2.0,
    ),
    "chunk-samples": (lambda fmt: lk.chunk(samples=37), _same, 0.0),
    "chunk-ms": (lambda fmt: lk.chunk(ms=10, tail="keep"), _same, 0.0),
    "remix-2": (lambda fmt: lk.remix(2), _same, 0.0),
    "remix-1": (lambda fmt: lk.remix(1), _same, 0.0),
    "to-float32": (lambda fmt: lk.to_dtype("float32"), _same, 0.0),
    "to-int16": (lambda fmt: lk.to_dtype("int16"), _same, 0.0),
    "gain": (lambda fmt: lk.gain(-3.0), _same, 0.0),
    "map": (lambda fmt: lk.map(_twice), _same, 0.0),
    "map-async-concurrent": (lambda fmt: lk.map(_async_identity, concurrency=3), _same, 0.0),
    "tap": (lambda fmt: lk.tap(lambda frame: None), _same, 0.0),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(STAGES))
def test_project_stages_pass_the_kit(name: str, backend: Backend) -> None:
    make, length, atol = STAGES[name]
    formats = audio_formats(sample_rates=st.sampled_from([8_000, 16_000, 44_100, 48_000]))
    check_stage(
        make, formats=formats, expected_length=length, atol=atol, max_examples=25, backend=backend
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_filter_passes_the_kit_without_continuity(backend: Backend) -> None:
    # filter drops whole frames, so its output is split-dependent: check a keep-all filter
    # for the invariants, and gaps are allowed.
    check_stage(
        lambda fmt: lk.filter(lambda frame: True),
        expected_length=_same,
        continuous=False,
        max_examples=15,
        backend=backend,
    )


def test_plain_async_generator_functions_are_stages() -> None:
    async def passthrough(frames: AsyncIterable[lk.AudioFrame]) -> AsyncIterator[lk.AudioFrame]:
        async for frame in frames:
            yield frame

    check_stage(lambda fmt: passthrough, expected_length=_same, max_examples=15)


# -- the kit catches broken stages ------------------------------------------------------


async def _drops_last_sample(frames: AsyncIterable[lk.AudioFrame]) -> AsyncIterator[lk.AudioFrame]:
    async for frame in frames:
        if frame.samples_per_channel:
            yield lk.AudioFrame(frame.data[:-1], frame.sample_rate, pts=frame.pts)


async def _swallows_errors(frames: AsyncIterable[lk.AudioFrame]) -> AsyncIterator[lk.AudioFrame]:
    try:
        async for frame in frames:
            yield frame
    except Exception:
        return


def _leaks_a_side_stream(fmt: lk.AudioFormat) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
    """Reads a second stream beside its input and never closes it (the upstream itself is
    closed by lkframes however a stage is written)."""

    async def transform(frames: AsyncIterator[lk.AudioFrame]) -> AsyncIterator[lk.AudioFrame]:
        side = aiter(lk.silence(None, 8_000).chunk(ms=10))  # abandoned on break
        async for frame in frames:
            await anext(side)
            yield frame

    return lk.Stage("leaky", transform)


async def _passthrough(frames: AsyncIterator[lk.AudioFrame]) -> AsyncIterator[lk.AudioFrame]:
    async for frame in frames:
        yield frame


def _wrong_declared_format(fmt: lk.AudioFormat) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
    return lk.Stage("liar", _passthrough, output_format=lambda f: f.with_(sample_rate=12_345))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda fmt: _drops_last_sample, "expected"),
        (lambda fmt: _swallows_errors, "swallowed an error"),
        (_leaks_a_side_stream, "left open"),
        (_wrong_declared_format, "declared/started with"),
    ],
)
def test_kit_fails_broken_stages(make: StageFactory, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_stage(make, expected_length=_same, max_examples=30)


# -- the strategies ----------------------------------------------------------------------


@given(st.integers(0, 500).flatmap(lambda n: st.tuples(st.just(n), splits(n))))
def test_splits_add_up(case: tuple[int, list[int]]) -> None:
    total, sizes = case
    assert sum(sizes) == total
    assert all(size >= 0 for size in sizes)


@given(frame_streams())
def test_frame_streams_are_continuous_and_one_format(frames: list[lk.AudioFrame]) -> None:
    assert frames[0].pts == 0
    for a, b in pairwise(frames):
        assert b.pts == a.end_pts
        assert b.format == a.format


def test_frame_streams_include_zero_and_one_sample_frames() -> None:
    sizes: set[int] = set()

    @given(frame_streams(max_samples=200))
    def collect(frames: list[lk.AudioFrame]) -> None:
        sizes.update(f.samples_per_channel for f in frames)

    collect()
    assert {0, 1} <= sizes


@given(audio_frames(lk.AudioFormat(16_000, 2, "float32")))
def test_audio_frames_have_the_asked_format(frame: lk.AudioFrame) -> None:
    assert frame.format == lk.AudioFormat(16_000, 2, "float32")
    assert np.isfinite(frame.data).all()
    assert np.abs(frame.data).max(initial=0) <= 1.0


def test_the_kit_without_hypothesis_has_check_source_and_names_the_extra() -> None:
    code = """
import sys
class NoHypothesis:
    def find_spec(self, name, path=None, target=None):
        if name == "hypothesis" or name.startswith("hypothesis."):
            raise ModuleNotFoundError("No module named 'hypothesis'", name="hypothesis")
sys.meta_path.insert(0, NoHypothesis())
import numpy as np
import lkframes as lk
import lkframes.testing as kit
x = np.arange(800, dtype=np.int16)
kit.check_source(lambda: lk.from_array(x, 8_000), expected=x)
assert kit.open_resources() == {}
try:
    kit.check_stage
except lk.MissingExtraError as exc:
    print(exc)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert (
        out.strip()
        == "lkframes.testing.check_stage needs hypothesis: pip install 'lkframes[testing]'"
    )
