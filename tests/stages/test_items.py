"""`flat_map`, `take_while`, `skip_while` and `timeout`: semantics and the stage kit."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Literal

import anyio
import numpy as np
import pytest

import lkframes as lk
from lkframes.testing import audio_formats, check_stage, open_resources

pytestmark = pytest.mark.anyio

Backend = Literal["asyncio", "trio"]

RATE = 8_000
BACKENDS = ["asyncio", "trio"]


def _ramp(frames: int, size: int = 80) -> lk.Stream[lk.AudioFrame]:
    return lk.from_array(np.arange(frames * size, dtype=np.int16), RATE, block_ms=size / 8)


# -- flat_map -----------------------------------------------------------------------------


def _halves(frame: lk.AudioFrame) -> list[Any]:
    middle = frame.samples_per_channel // 2
    return [frame.data[:middle], frame.data[middle:]]


async def test_flat_map_keeps_every_sample_and_continuous_pts(anyio_backend: Backend) -> None:
    frames = await _ramp(3).flat_map(_halves).collect()
    assert [(f.pts, f.samples_per_channel) for f in frames] == [
        (0, 40), (40, 40), (80, 40), (120, 40), (160, 40), (200, 40)
    ]  # fmt: skip
    np.testing.assert_array_equal(np.concatenate([f.data for f in frames]).ravel(), np.arange(240))


async def test_flat_map_takes_async_functions_and_async_iterables(anyio_backend: Backend) -> None:
    async def twice(frame: lk.AudioFrame) -> AsyncIterator[lk.AudioFrame]:
        yield frame
        yield frame.replace(pts=frame.end_pts)

    frames = await _ramp(2).flat_map(twice).collect()
    assert [f.pts for f in frames] == [0, 80, 80, 160]


async def test_flat_map_can_drop_and_can_change_the_declared_format(anyio_backend: Backend) -> None:
    stereo = lk.AudioFormat(RATE, 2)
    frames = (
        await _ramp(2)
        .flat_map(lambda f: [np.repeat(f.data, 2, axis=1)] if f.pts else [], format=stereo)
        .collect()
    )
    assert [(f.pts, f.format) for f in frames] == [(80, stereo)]


@pytest.mark.parametrize(
    ("fn", "error", "match"),
    [
        (lambda f: [np.repeat(f.data, 2, axis=1)], lk.FormatError, "pass format="),
        (lambda f: [f.data.astype(np.float64)], lk.InvalidAudioError, "unsupported dtype"),
        (lambda f: 3, lk.ParameterError, r"must return an iterable \(got int\)"),
        (lambda f: f.data, lk.ParameterError, r"return \[array\] for a single frame"),
    ],
)
async def test_flat_map_refuses_what_is_not_audio_of_the_format(
    anyio_backend: str, fn: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        await _ramp(2).flat_map(fn).collect()


@pytest.mark.parametrize("backend", BACKENDS)
def test_flat_map_passes_the_stage_kit(backend: Backend) -> None:
    check_stage(
        lambda fmt: lk.flat_map(_halves),
        expected_length=lambda n, fmt: n,
        max_examples=20,
        backend=backend,
    )


# -- take_while, skip_while ------------------------------------------------------------------


async def test_take_while_stops_and_closes_the_source_at_the_first_false(
    anyio_backend: str,
) -> None:
    seen: list[int] = []
    endless = lk.silence(None, RATE, block_ms=10).tap(lambda f: seen.append(f.pts))
    frames = await endless.take_while(lambda f: f.pts < 400).collect()
    assert [f.pts for f in frames] == [0, 80, 160, 240, 320]
    assert seen[-1] == 400  # the first frame it refused was the last one read
    assert open_resources() == {}


async def test_skip_while_asks_until_the_first_false_only(anyio_backend: Backend) -> None:
    asked: list[int] = []

    async def early(frame: lk.AudioFrame) -> bool:
        asked.append(frame.pts)
        return frame.pts < 160 or frame.pts == 320

    frames = await _ramp(6).skip_while(early).collect()
    assert [f.pts for f in frames] == [160, 240, 320, 400]  # 320 passes: no longer asked
    assert asked == [0, 80, 160]


async def test_predicate_errors_name_the_stage(anyio_backend: Backend) -> None:
    def broken(frame: lk.AudioFrame) -> bool:
        raise ValueError("no")

    for stage in (lk.take_while(broken), lk.skip_while(broken)):
        with pytest.raises(ValueError, match="no") as caught:
            await (_ramp(1) | stage).collect()
        assert caught.value.__notes__ == [f"raised in lkframes stage {stage.name} at pts=0"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_take_while_and_skip_while_pass_the_stage_kit(backend: Backend) -> None:
    # Like filter, both decide frame by frame, so where they cut depends on the split: the
    # kit's split-independence holds for predicates that do not depend on frame edges.
    check_stage(
        lambda fmt: lk.take_while(lambda f: True),
        expected_length=lambda n, fmt: n,
        max_examples=15,
        backend=backend,
    )
    check_stage(
        lambda fmt: lk.skip_while(lambda f: f.samples_per_channel == 0),
        expected_length=lambda n, fmt: n,
        max_examples=15,
        backend=backend,
    )


# -- timeout ----------------------------------------------------------------------------------


def _stalls_after(frames: int, probe: dict[str, bool]) -> lk.Stream[lk.AudioFrame]:
    async def run() -> AsyncGenerator[lk.AudioFrame, None]:
        try:
            for k in range(frames):
                yield lk.AudioFrame(np.zeros(80, np.int16), RATE, pts=80 * k)
            await anyio.sleep_forever()
            yield lk.AudioFrame(np.zeros(80, np.int16), RATE)  # never
        finally:
            probe["closed"] = True

    return lk.Stream(run, format=lk.AudioFormat(RATE, 1))


async def test_timeout_fails_when_an_item_is_late_and_closes_the_source(
    anyio_backend: str,
) -> None:
    probe: dict[str, bool] = {}
    got: list[int] = []

    async def read() -> None:
        async with _stalls_after(3, probe).timeout(0.05).open() as frames:
            async for frame in frames:
                got.append(frame.pts)  # noqa: PERF401 - keeps what came before the timeout

    with pytest.raises(lk.StreamTimeoutError, match=r"no item within 0\.05 s \(after 3 item") as e:
        await read()
    assert isinstance(e.value, TimeoutError)
    assert got == [0, 80, 160]  # everything that came in time went through
    assert probe == {"closed": True}


async def test_timeout_restarts_for_every_item(anyio_backend: Backend) -> None:
    async def slow() -> AsyncGenerator[lk.AudioFrame, None]:
        for k in range(5):
            await anyio.sleep(0.03)  # 5 x 30 ms: longer than the limit in total, never per item
            yield lk.AudioFrame(np.zeros(8, np.int16), RATE, pts=8 * k)

    frames = await lk.Stream(slow).timeout(0.25).collect()
    assert len(frames) == 5


def test_timeout_refuses_a_bad_limit() -> None:
    for bad in (0, -1, float("nan"), "1"):
        with pytest.raises(lk.ParameterError, match="seconds must be"):
            lk.timeout(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_timeout_passes_the_stage_kit(backend: Backend) -> None:
    check_stage(
        lambda fmt: lk.timeout(30),
        formats=audio_formats(sample_rates=16_000),
        expected_length=lambda n, fmt: n,
        max_examples=15,
        backend=backend,
    )
