"""Frame stages: map, filter, tap, take, skip; the pipe form and `Stage.from_function`."""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

import anyio
import anyio.lowlevel
import numpy as np
import pytest

import lkframes as lk

pytestmark = pytest.mark.anyio

RATE = 16_000


def _ramp(frames: int = 5, size: int = 320) -> lk.Stream[lk.AudioFrame]:
    """``frames`` frames of ``size`` samples whose values are the sample index."""
    return lk.from_array(
        np.arange(frames * size, dtype=np.int16), RATE, block_ms=size * 1000 / RATE
    )


def _layout(frames: list[lk.AudioFrame]) -> list[tuple[int, int]]:
    return [(f.pts, f.samples_per_channel) for f in frames]


# -- map ---------------------------------------------------------------------------------


async def test_map_sync_function(anyio_backend: str) -> None:
    def halve(frame: lk.AudioFrame) -> lk.AudioFrame:
        return frame.replace(frame.data // 2)

    out = await _ramp().map(halve).collect()
    assert _layout(out) == [(i * 320, 320) for i in range(5)]
    np.testing.assert_array_equal(np.concatenate([f.data for f in out])[:, 0], np.arange(1600) // 2)


async def test_map_async_function(anyio_backend: str) -> None:
    async def negate(frame: lk.AudioFrame) -> lk.AudioFrame:
        await anyio.lowlevel.checkpoint()
        return frame.replace(-frame.data)

    y = await _ramp().map(negate).to_array()
    np.testing.assert_array_equal(y, -np.arange(1600))


async def test_map_returning_an_array_keeps_rate_and_pts(anyio_backend: str) -> None:
    out = await _ramp(3).map(lambda f: f.data + 1).collect()
    assert _layout(out) == [(0, 320), (320, 320), (640, 320)]
    assert all(f.format == lk.AudioFormat(RATE, 1) for f in out)
    assert int(out[2].data[0, 0]) == 641


async def test_map_changing_the_format_raises_with_a_hint(anyio_backend: str) -> None:
    stream = _ramp().map(lambda f: np.repeat(f.data, 2, axis=1))
    with pytest.raises(
        lk.FormatError,
        match=r"changed the frame format \(expected 16000 Hz mono int16, got 16000 Hz stereo "
        r"int16\); pass format= to map\(\)",
    ):
        await stream.collect()


async def test_map_with_format_may_change_it(anyio_backend: str) -> None:
    stereo = lk.AudioFormat(RATE, 2)
    stream = _ramp(2).map(lambda f: np.repeat(f.data, 2, axis=1), format=stereo)
    assert stream.format == stereo
    y = await stream.to_array()
    assert y.shape == (640, 2)
    np.testing.assert_array_equal(y[:, 0], y[:, 1])


async def test_map_with_format_rejects_a_different_one(anyio_backend: str) -> None:
    stream = _ramp(2).map(lambda f: f, format=lk.AudioFormat(RATE, 2))
    with pytest.raises(lk.FormatError, match=r"expected 16000 Hz stereo int16, got 16000 Hz mono"):
        await stream.collect()


async def test_map_returning_invalid_array_raises(anyio_backend: str) -> None:
    stream = _ramp().map(lambda f: f.data.astype(np.float64))
    with pytest.raises(lk.InvalidAudioError, match=r"expected int16 or float32, got float64"):
        await stream.collect()


async def test_map_concurrency_keeps_order_and_runs_concurrently(anyio_backend: str) -> None:
    frames = 10
    in_flight = 0
    peak = 0
    started: list[int] = []

    async def slow(frame: lk.AudioFrame) -> lk.AudioFrame:
        nonlocal in_flight, peak
        index = frame.pts // 320
        started.append(index)
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.002 * (frames - index))  # later frames finish first
        in_flight -= 1
        return frame.replace(frame.data + 1)

    out = await _ramp(frames).map(slow, concurrency=4).collect()
    assert _layout(out) == [(i * 320, 320) for i in range(frames)]
    np.testing.assert_array_equal(
        np.concatenate([f.data for f in out])[:, 0], np.arange(frames * 320) + 1
    )
    assert peak == 4
    assert sorted(started) == list(range(frames))


async def test_map_concurrency_runs_sync_functions_in_threads(anyio_backend: str) -> None:
    barrier = threading.Barrier(4, timeout=5)  # breaks unless 4 calls run at once
    threads: list[int] = []
    lock = threading.Lock()

    def work(frame: lk.AudioFrame) -> lk.AudioFrame:
        with lock:
            threads.append(threading.get_ident())
        barrier.wait()
        return frame

    out = await _ramp(8).map(work, concurrency=4).collect()
    assert _layout(out) == [(i * 320, 320) for i in range(8)]
    assert len(threads) == 8
    assert threading.get_ident() not in threads
    assert len(set(threads)) >= 4


async def test_map_sync_function_without_concurrency_runs_in_the_loop_thread(
    anyio_backend: str,
) -> None:
    threads: set[int] = set()

    def record(frame: lk.AudioFrame) -> lk.AudioFrame:
        threads.add(threading.get_ident())
        return frame

    await _ramp(3).map(record).run()
    assert threads == {threading.get_ident()}


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_map_exception_keeps_its_type_and_gets_a_note(
    anyio_backend: str, concurrency: int
) -> None:
    async def boom(frame: lk.AudioFrame) -> lk.AudioFrame:
        if frame.pts == 640:
            raise Boom("bad frame")
        return frame

    with pytest.raises(Boom, match="bad frame") as info:
        await _ramp().map(boom, concurrency=concurrency).collect()
    notes = getattr(info.value, "__notes__", [])
    assert len(notes) == 1
    assert "raised in lkframes stage map(" in notes[0]
    assert "boom) at pts=640" in notes[0]


async def test_map_concurrent_failures_raise_the_earliest_frames_error(
    anyio_backend: str,
) -> None:
    barrier = threading.Barrier(2, timeout=5)  # both calls are running when they fail

    def boom(frame: lk.AudioFrame) -> lk.AudioFrame:
        barrier.wait()
        raise KeyError(frame.pts)

    with pytest.raises(KeyError) as info:
        await _ramp().map(boom, concurrency=2).collect()
    assert info.value.args == (0,)
    assert info.value.__notes__ == [f"raised in lkframes stage map({boom.__qualname__}) at pts=0"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fn": 3}, r"fn must be callable \(got int\)"),
        ({"fn": lambda f: f, "concurrency": 0}, r"concurrency must be an int >= 1 \(got 0\)"),
        ({"fn": lambda f: f, "concurrency": 2.0}, r"concurrency must be an int >= 1 \(got 2\.0\)"),
    ],
)
def test_map_bad_parameters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        lk.map(**kwargs)


# -- filter, tap -------------------------------------------------------------------------


async def test_filter_sync(anyio_backend: str) -> None:
    out = await _ramp().filter(lambda f: f.pts % 640 == 0).collect()
    assert [f.pts for f in out] == [0, 640, 1280]


async def test_filter_async(anyio_backend: str) -> None:
    async def late(frame: lk.AudioFrame) -> bool:
        await anyio.lowlevel.checkpoint()
        return frame.pts >= 960

    out = await _ramp().filter(late).collect()
    assert [f.pts for f in out] == [960, 1280]


async def test_filter_exception_gets_a_note(anyio_backend: str) -> None:
    def bad(frame: lk.AudioFrame) -> bool:
        raise ZeroDivisionError("nope")

    with pytest.raises(ZeroDivisionError, match="nope") as info:
        await _ramp().filter(bad).collect()
    assert info.value.__notes__ == [f"raised in lkframes stage filter({bad.__qualname__}) at pts=0"]


async def test_tap_sync_sees_every_frame_and_passes_it_on(anyio_backend: str) -> None:
    seen: list[lk.AudioFrame] = []
    out = await _ramp().tap(seen.append).collect()
    assert [f.pts for f in seen] == [0, 320, 640, 960, 1280]
    assert all(a is b for a, b in zip(seen, out, strict=True))


async def test_tap_async(anyio_backend: str) -> None:
    seen: list[int] = []

    async def record(frame: lk.AudioFrame) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(frame.pts)

    summary = await _ramp(3).tap(record).run()
    assert seen == [0, 320, 640]
    assert (summary.frames, summary.samples_per_channel) == (3, 960)


async def test_tap_exception_gets_a_note(anyio_backend: str) -> None:
    def bad(frame: lk.AudioFrame) -> None:
        if frame.pts:
            raise ValueError("tap failed")

    with pytest.raises(ValueError, match="tap failed") as info:
        await _ramp().tap(bad).collect()
    assert info.value.__notes__[0].endswith("at pts=320")


def test_filter_and_tap_need_callables() -> None:
    with pytest.raises(lk.ParameterError, match=r"predicate must be callable \(got str\)"):
        lk.filter("x")  # type: ignore[arg-type]
    with pytest.raises(lk.ParameterError, match=r"fn must be callable \(got NoneType\)"):
        lk.tap(None)  # type: ignore[arg-type]


# -- take, skip --------------------------------------------------------------------------


async def test_take_n_frames(anyio_backend: str) -> None:
    out = await _ramp().take(2).collect()
    assert _layout(out) == [(0, 320), (320, 320)]
    assert _layout(await _ramp(2).take(5).collect()) == [(0, 320), (320, 320)]


@pytest.mark.parametrize(
    ("kwargs", "layout"),
    [
        ({"ms": 50}, [(0, 320), (320, 320), (640, 160)]),
        ({"samples": 321}, [(0, 320), (320, 1)]),
        ({"samples": 640}, [(0, 320), (320, 320)]),
        ({"samples": 10_000}, [(i * 320, 320) for i in range(5)]),
    ],
)
async def test_take_cuts_audio_exactly(
    anyio_backend: str, kwargs: dict[str, Any], layout: list[tuple[int, int]]
) -> None:
    out = await _ramp().take(**kwargs).collect()
    assert _layout(out) == layout
    total = sum(n for _, n in layout)
    np.testing.assert_array_equal(np.concatenate([f.data for f in out])[:, 0], np.arange(total))


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"ms": 0}, {"samples": 0}])
async def test_take_zero_is_empty(anyio_backend: str, kwargs: dict[str, Any]) -> None:
    stream = _ramp().take(**kwargs)
    assert await stream.collect() == []
    assert (await stream.to_array()).shape == (0,)


async def test_take_ms_not_a_whole_number_of_samples_fails_at_first_frame(
    anyio_backend: str,
) -> None:
    stream = lk.silence(1.0, 11_025).take(ms=20)
    with pytest.raises(lk.ParameterError, match=r"220\.5 samples, not a whole number"):
        await stream.collect()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, r"give exactly one of n, ms= or samples= \(got \{\}\)"),
        ((1,), {"ms": 20}, r"give exactly one of n, ms= or samples="),
        ((-1,), {}, r"n must be >= 0 \(got -1\)"),
        ((), {"ms": -5.0}, r"ms must be >= 0 \(got -5\.0\)"),
        ((), {"samples": 1.5}, r"samples must be an int \(got float\)"),
        ((2.0,), {}, r"n must be an int \(got float\)"),
    ],
)
@pytest.mark.parametrize("stage", [lk.take, lk.skip])
def test_take_and_skip_bad_parameters(
    stage: Any, args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        stage(*args, **kwargs)


async def test_skip_n_frames(anyio_backend: str) -> None:
    assert _layout(await _ramp().skip(3).collect()) == [(960, 320), (1280, 320)]
    assert await _ramp().skip(9).collect() == []
    assert len(await _ramp().skip(0).collect()) == 5


@pytest.mark.parametrize(
    ("kwargs", "layout"),
    [
        ({"ms": 30}, [(480, 160), (640, 320), (960, 320), (1280, 320)]),
        ({"samples": 320}, [(320, 320), (640, 320), (960, 320), (1280, 320)]),
        ({"samples": 1599}, [(1599, 1)]),
        ({"samples": 1600}, []),
        ({"samples": 0}, [(i * 320, 320) for i in range(5)]),
    ],
)
async def test_skip_audio_advances_pts(
    anyio_backend: str, kwargs: dict[str, Any], layout: list[tuple[int, int]]
) -> None:
    out = await _ramp().skip(**kwargs).collect()
    assert _layout(out) == layout
    if out:
        first = out[0].pts
        y = np.concatenate([f.data for f in out])[:, 0]
        np.testing.assert_array_equal(y, np.arange(first, 1600))


async def test_skip_then_take_is_a_window(anyio_backend: str) -> None:
    y = await _ramp().skip(samples=100).take(samples=50).to_array()
    np.testing.assert_array_equal(y, np.arange(100, 150))


# -- pipe form, Stage.from_function --------------------------------------------------------


async def test_pipe_form_equals_fluent_form(anyio_backend: str) -> None:
    source = lk.sine(440, 0.3, 48_000, block_ms=70)
    piped = source | lk.resample(16_000) | lk.gain(-3) | lk.chunk(ms=20) | lk.take(ms=250)
    fluent = source.resample(16_000).gain(-3).chunk(ms=20).take(ms=250)
    assert piped.format == fluent.format == lk.AudioFormat(16_000, 1)
    a = await piped.collect()
    b = await fluent.collect()
    assert _layout(a) == _layout(b)
    assert _layout(a)[-1] == (3840, 160)
    np.testing.assert_array_equal(
        np.concatenate([f.data for f in a]), np.concatenate([f.data for f in b])
    )


async def test_stage_called_on_a_stream_equals_pipe(anyio_backend: str) -> None:
    stage = lk.remix(2)
    assert repr(stage) == "Stage(remix(2))"
    a = await stage(_ramp()).to_array()
    b = await (_ramp() | stage).to_array()
    np.testing.assert_array_equal(a, b)
    assert a.shape == (1600, 2)


async def test_stage_from_async_generator_function(anyio_backend: str) -> None:
    async def doubled(frames: AsyncIterable[lk.AudioFrame]) -> AsyncGenerator[lk.AudioFrame, None]:
        async for frame in frames:
            yield frame.replace(frame.data * 2)

    stage = lk.Stage("doubled", doubled, output_format=None)
    assert stage.name == "doubled"
    stream = _ramp(3) | stage
    assert stream.format is None
    out = await stream.collect()
    assert _layout(out) == [(0, 320), (320, 320), (640, 320)]
    np.testing.assert_array_equal(np.concatenate([f.data for f in out])[:, 0], np.arange(960) * 2)
    # composes further, and re-iterates from the source
    y = await (stream | lk.take(samples=5)).to_array()
    assert y.ravel().tolist() == [0, 2, 4, 6, 8]


async def test_stage_from_function_with_declared_format(anyio_backend: str) -> None:
    async def identity(frames: AsyncIterable[lk.AudioFrame]) -> AsyncGenerator[lk.AudioFrame, None]:
        async for frame in frames:
            yield frame

    fmt = lk.AudioFormat(RATE, 1)
    stage = lk.Stage("same", identity, output_format=fmt)
    stream = _ramp(1) | stage
    assert stream.format == fmt
    assert repr(stage) == "Stage(same)"
    assert len(await stream.collect()) == 1


@pytest.mark.parametrize(
    "stage",
    [lk.gain(3), lk.remix(1), lk.resample(8_000), lk.chunk(samples=3), lk.to_dtype("float32")],
    ids=lambda s: s.name,
)
async def test_audio_stages_reject_items_that_are_not_frames(
    anyio_backend: str, stage: lk.Stage[lk.AudioFrame, lk.AudioFrame]
) -> None:
    async def numbers() -> AsyncGenerator[Any, None]:
        yield 1

    stream: lk.Stream[Any] = lk.Stream(numbers)
    with pytest.raises(lk.InvalidAudioError, match=r"AudioFrame items \(got int\)"):
        await (stream | stage).collect()
