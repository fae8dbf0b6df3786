"""Sources: from_array, from_frames, sine, noise, silence, and concat."""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import numpy as np
import pytest
import soundfile as sf
from livekit import rtc
from numpy.typing import NDArray

import lkframes as lk

pytestmark = pytest.mark.anyio


def _layout(frames: list[lk.AudioFrame]) -> list[tuple[int, int]]:
    return [(f.pts, f.samples_per_channel) for f in frames]


# -- from_array --------------------------------------------------------------------------


async def test_from_array_1d_blocks_and_pts(anyio_backend: str) -> None:
    x = np.arange(1000, dtype=np.int16)
    stream = lk.from_array(x, 8_000, block_ms=50)
    assert stream.format == lk.AudioFormat(8_000, 1, "int16")
    frames = await stream.collect()
    assert _layout(frames) == [(0, 400), (400, 400), (800, 200)]
    assert all(f.data.shape[1] == 1 for f in frames)
    np.testing.assert_array_equal(np.concatenate([f.data[:, 0] for f in frames]), x)


async def test_from_array_2d_keeps_channels(anyio_backend: str) -> None:
    x = np.arange(2 * 300, dtype=np.float32).reshape(300, 2) / 1000
    stream = lk.from_array(x, 1_000, block_ms=100)
    assert stream.format == lk.AudioFormat(1_000, 2, "float32")
    frames = await stream.collect()
    assert _layout(frames) == [(0, 100), (100, 100), (200, 100)]
    np.testing.assert_array_equal(frames[1].data, x[100:200])


async def test_from_array_pts_offset(anyio_backend: str) -> None:
    frames = await lk.from_array(np.zeros(1000, np.int16), 8_000, block_ms=50, pts=100).collect()
    assert _layout(frames) == [(100, 400), (500, 400), (900, 200)]


async def test_from_array_tiny_block_is_one_sample(anyio_backend: str) -> None:
    frames = await lk.from_array(np.zeros(3, np.int16), 8_000, block_ms=0.01).collect()
    assert _layout(frames) == [(0, 1), (1, 1), (2, 1)]


async def test_from_array_frames_are_views_of_the_input(anyio_backend: str) -> None:
    x = np.arange(4000, dtype=np.int16).reshape(2000, 2)
    frames = await lk.from_array(x, 16_000, block_ms=20).collect()
    assert len(frames) == 7
    assert all(np.shares_memory(f.data, x) for f in frames)
    assert not any(f.data.flags.writeable for f in frames)


async def test_from_array_is_re_iterable(anyio_backend: str) -> None:
    x = np.random.default_rng(3).standard_normal((5000, 2)).astype(np.float32) / 10
    stream = lk.from_array(x, 16_000, block_ms=30)
    first = await stream.to_array()
    second = await stream.to_array()
    np.testing.assert_array_equal(first, x)
    np.testing.assert_array_equal(second, x)


async def test_to_array_has_one_shape_rule_for_every_source(
    anyio_backend: str, tmp_path: Path
) -> None:
    """Mono is 1-D whatever the source (as soundfile.read gives), so a file's samples and
    the array written to it compare element by element instead of broadcasting to (n, n)."""
    flat = np.arange(10, dtype=np.int16)
    column = flat.reshape(-1, 1)
    sf.write(tmp_path / "mono.wav", flat, 8_000, subtype="PCM_16")
    stereo = np.stack([flat, -flat], axis=1)
    mono_sources = [
        lk.from_array(flat, 8_000),
        lk.from_array(column, 8_000),
        lk.from_file(tmp_path / "mono.wav"),
        lk.from_array(stereo, 8_000).remix(1),
        lk.silence(10 / 8_000, 8_000),
    ]
    for stream in mono_sources:
        got = await stream.to_array()
        assert got.shape == (10,), stream
        assert (await stream.to_array(squeeze=False)).shape == (10, 1), stream
    np.testing.assert_array_equal(await lk.from_file(tmp_path / "mono.wav").to_array(), flat)
    assert (await lk.from_array(stereo, 8_000).to_array()).shape == (10, 2)
    assert (await lk.from_array(stereo, 8_000).to_array(squeeze=False)).shape == (10, 2)


async def test_to_array_returns_a_writable_copy(anyio_backend: str) -> None:
    x = np.arange(10, dtype=np.int16)
    y = await lk.from_array(x, 8_000).to_array()
    assert y.flags.writeable
    assert not np.shares_memory(x, y)


@pytest.mark.parametrize(
    ("x", "shape"),
    [
        (np.zeros(0, np.int16), (0,)),
        (np.zeros((0, 2), np.float32), (0, 2)),
        (np.zeros((0, 1), np.int16), (0,)),  # mono: 1-D, whatever the input's shape
    ],
)
async def test_empty_array_gives_empty_output(
    anyio_backend: str, x: NDArray[Any], shape: tuple[int, ...]
) -> None:
    stream = lk.from_array(x, 8_000)
    assert await stream.collect() == []
    y = await stream.to_array()
    assert y.shape == shape
    assert y.dtype == x.dtype


@pytest.mark.parametrize(
    ("x", "kwargs", "error", "message"),
    [
        (np.zeros(8), {}, lk.InvalidAudioError, r"expected int16 or float32, got float64"),
        (
            np.array([0.0, np.nan], np.float32),
            {},
            lk.InvalidAudioError,
            r"expected finite floats, got nan at sample 1",
        ),
        (np.zeros((8, 2), np.int16)[:, 1], {}, lk.InvalidAudioError, r"not C-contiguous"),
        (np.zeros(8, np.int16)[::2], {}, lk.InvalidAudioError, r"not C-contiguous"),
        (np.zeros(8, np.int16), {"sample_rate": 0}, lk.ParameterError, r"positive \(got 0\)"),
        (np.zeros(8, np.int16), {"sample_rate": 8e3}, lk.ParameterError, r"int \(got float\)"),
        (np.zeros(8, np.int16), {"block_ms": 0}, lk.ParameterError, r"block_ms .*\(got 0\)"),
        (np.zeros(8, np.int16), {"block_ms": -5}, lk.ParameterError, r"block_ms .*\(got -5\)"),
        (np.zeros(8, np.int16), {"block_ms": math.nan}, lk.ParameterError, r"\(got nan\)"),
    ],
)
def test_from_array_errors_at_call_time(
    x: NDArray[Any], kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    args: dict[str, Any] = {"sample_rate": 8_000, **kwargs}
    with pytest.raises(error, match=message):
        lk.from_array(x, **args)


async def test_from_array_check_finite_false_lets_nan_through(anyio_backend: str) -> None:
    x = np.array([0.0, np.nan], np.float32)
    y = await lk.from_array(x, 8_000, check_finite=False).to_array()
    assert np.isnan(y[1])


# -- from_frames -------------------------------------------------------------------------


def _lk_frames(pts0: int = 0) -> list[lk.AudioFrame]:
    sizes = [160, 160, 80]
    starts = np.cumsum([0, *sizes[:-1]])
    return [
        lk.AudioFrame(np.full(n, i, np.int16), 16_000, pts=pts0 + int(s))
        for i, (n, s) in enumerate(zip(sizes, starts, strict=True))
    ]


def _rtc_frames() -> list[rtc.AudioFrame]:
    return [
        rtc.AudioFrame(bytearray(np.full(2 * n, i, np.int16).tobytes()), 48_000, 2, n)
        for i, n in enumerate([480, 480, 240])
    ]


async def test_from_frames_list_keeps_pts_and_is_re_iterable(anyio_backend: str) -> None:
    frames = _lk_frames(pts0=1000)
    stream = lk.from_frames(frames)
    assert stream.format is None
    out = await stream.collect()
    assert out == frames  # the same objects, untouched
    assert _layout(await stream.collect()) == [(1000, 160), (1160, 160), (1320, 80)]


async def test_from_frames_sync_generator(anyio_backend: str) -> None:
    def gen() -> Iterator[lk.AudioFrame]:
        yield from _lk_frames()

    y = await lk.from_frames(gen()).to_array()
    assert y.tolist() == [0] * 160 + [1] * 160 + [2] * 80


async def test_from_frames_async_generator(anyio_backend: str) -> None:
    async def gen() -> AsyncIterator[lk.AudioFrame]:
        for frame in _lk_frames():
            await anyio.lowlevel.checkpoint()
            yield frame

    out = await lk.from_frames(gen()).collect()
    assert _layout(out) == [(0, 160), (160, 160), (320, 80)]


async def test_from_frames_rtc_frames_get_continuous_pts_and_are_views(anyio_backend: str) -> None:
    rtc_frames = _rtc_frames()
    out = await lk.from_frames(rtc_frames).collect()
    assert _layout(out) == [(0, 480), (480, 480), (960, 240)]
    assert all(f.format == lk.AudioFormat(48_000, 2, "int16") for f in out)
    for frame, source in zip(out, rtc_frames, strict=True):
        assert np.shares_memory(frame.data, np.frombuffer(source.data, np.int16))


async def test_from_frames_async_generator_of_rtc_frames(anyio_backend: str) -> None:
    async def gen() -> AsyncIterator[rtc.AudioFrame]:
        for frame in _rtc_frames():
            yield frame

    out = await lk.from_frames(gen()).collect()
    assert _layout(out) == [(0, 480), (480, 480), (960, 240)]
    assert [int(f.data[0, 0]) for f in out] == [0, 1, 2]


async def test_from_frames_format_change_raises(anyio_backend: str) -> None:
    frames = [
        lk.AudioFrame(np.zeros(160, np.int16), 16_000),
        lk.AudioFrame(np.zeros(80, np.int16), 8_000, pts=160),
    ]
    with pytest.raises(
        lk.FormatError,
        match=r"changed mid-stream \(expected 16000 Hz mono int16, got 8000 Hz mono int16\)",
    ):
        await lk.from_frames(frames).collect()


async def test_from_frames_declared_format_is_enforced(anyio_backend: str) -> None:
    declared = lk.AudioFormat(16_000, 2)
    stream = lk.from_frames(_lk_frames(), format=declared)
    assert stream.format == declared
    with pytest.raises(
        lk.FormatError, match=r"expected 16000 Hz stereo int16, got 16000 Hz mono int16"
    ):
        await stream.collect()


async def test_from_frames_non_frame_item_raises(anyio_backend: str) -> None:
    items: list[Any] = [*_lk_frames(), np.zeros(4, np.int16)]
    with pytest.raises(lk.InvalidAudioError, match=r"AudioFrame items \(got ndarray\)"):
        await lk.from_frames(items).collect()


async def test_from_frames_rejects_non_finite_float_frames(anyio_backend: str) -> None:
    bad = lk.AudioFrame(np.array([np.inf], np.float32), 8_000, check_finite=False)
    with pytest.raises(lk.InvalidAudioError, match="expected finite floats, got inf"):
        await lk.from_frames([bad]).collect()


def test_from_frames_rejects_non_iterables() -> None:
    with pytest.raises(lk.ParameterError, match=r"iterable .*\(got int\)"):
        lk.from_frames(42)  # type: ignore[arg-type]


async def test_one_shot_sync_iterator_cannot_be_iterated_twice(anyio_backend: str) -> None:
    stream = lk.from_frames(iter(_lk_frames()))
    assert len(await stream.collect()) == 3
    with pytest.raises(anyio.ClosedResourceError, match="already consumed"):
        await stream.collect()


async def test_one_shot_async_iterator_cannot_be_iterated_twice(anyio_backend: str) -> None:
    async def gen() -> AsyncIterator[lk.AudioFrame]:
        for frame in _lk_frames():
            yield frame

    stream = lk.from_frames(gen())
    assert len(await stream.collect()) == 3
    with pytest.raises(anyio.ClosedResourceError, match="one-shot iterator"):
        await stream.to_array()


async def test_video_frames_replay_a_list_but_not_a_generator(anyio_backend: str) -> None:
    pixels = np.zeros((2, 2, 3), np.uint8)
    frames = [lk.VideoFrame(pixels, "rgb24", timestamp_us=t) for t in (0, 40_000)]
    listed = lk.from_video_frames(frames)
    assert len(await listed.collect()) == len(await listed.collect()) == 2
    once = lk.from_video_frames(f for f in frames)
    assert len(await once.collect()) == 2
    with pytest.raises(anyio.ClosedResourceError, match=r"from_video_frames\(\) wraps a one-shot"):
        await once.collect()


# -- sine --------------------------------------------------------------------------------


def _sine_formula(
    frequency: float, n: int, rate: int, amplitude: float, phase: float = 0.0
) -> NDArray[np.float64]:
    step = 2.0 * math.pi * frequency / rate
    result: NDArray[np.float64] = amplitude * np.sin(phase + step * np.arange(n, dtype=np.float64))
    return result


async def test_sine_float32_matches_formula(anyio_backend: str) -> None:
    y = await lk.sine(440, 0.25, 16_000, amplitude=0.8, dtype="float32").to_array()
    assert y.dtype == np.float32
    assert y.shape == (4000,)
    np.testing.assert_array_equal(y, _sine_formula(440, 4000, 16_000, 0.8).astype(np.float32))


async def test_sine_int16_matches_formula(anyio_backend: str) -> None:
    phase = math.pi / 2  # starts at the peak: +1.0 is 32768 on the int16 scale
    y = await lk.sine(1000, 0.1, 48_000, amplitude=1.0, phase=phase).to_array()
    scaled = np.rint(_sine_formula(1000, 4800, 48_000, 1.0, phase) * 32768)
    assert y.dtype == np.int16
    np.testing.assert_array_equal(y, np.clip(scaled, -32768, 32767).astype(np.int16))
    assert y[0] == 32767  # full scale clips instead of wrapping to -32768


async def test_sine_is_phase_continuous_across_blocks(anyio_backend: str) -> None:
    small = await lk.sine(441, 1.0, 44_100, block_ms=7, dtype="float32").to_array()
    large = await lk.sine(441, 1.0, 44_100, block_ms=500, dtype="float32").to_array()
    np.testing.assert_array_equal(small, large)
    frames = await lk.sine(441, 0.05, 44_100, block_ms=7).collect()
    assert [f.samples_per_channel for f in frames][:3] == [309, 309, 309]
    assert all(b.pts == a.end_pts for a, b in itertools.pairwise(frames))


@pytest.mark.parametrize(
    ("duration", "rate", "samples"),
    [(1 / 3, 16_000, 5333), (0.02001, 48_000, 960), (0.0, 16_000, 0), (2 / 3, 16_000, 10667)],
)
async def test_sine_duration_rounds_to_whole_samples(
    anyio_backend: str, duration: float, rate: int, samples: int
) -> None:
    y = await lk.sine(440, duration, rate).to_array()
    assert y.shape == (samples,)


async def test_endless_sine_with_take(anyio_backend: str) -> None:
    stream = lk.sine(440, None, 16_000, block_ms=100)
    y = await stream.take(ms=250).to_array()
    np.testing.assert_array_equal(
        y, np.rint(_sine_formula(440, 4000, 16_000, 0.5) * 32768).astype(np.int16)
    )
    frames = await stream.take(3).collect()
    assert _layout(frames) == [(0, 1600), (1600, 1600), (3200, 1600)]


async def test_multichannel_sine_repeats_the_tone(anyio_backend: str) -> None:
    y = await lk.sine(300, 0.01, 8_000, num_channels=3, dtype="float32").to_array()
    assert y.shape == (80, 3)
    np.testing.assert_array_equal(y[:, 0], y[:, 2])
    assert y[:, 1].any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amplitude": 1.5}, r"amplitude .*\(got 1\.5\)"),
        ({"amplitude": -0.1}, r"amplitude .*\(got -0\.1\)"),
        ({"frequency": -1.0}, r"frequency .*\(got -1\.0\)"),
        ({"frequency": math.nan}, r"frequency .*\(got nan\)"),
        ({"sample_rate": 0}, r"sample_rate must be positive \(got 0\)"),
        ({"sample_rate": 16_000.0}, r"sample_rate must be an int \(got float\)"),
        ({"duration": -1.0}, r"duration .*\(got -1\.0\)"),
        ({"duration": math.inf}, r"duration .*\(got inf\)"),
        ({"dtype": "float64"}, r"dtype must be one of .*\(got 'float64'\)"),
        ({"block_ms": 0}, r"block_ms must be positive \(got 0\)"),
        ({"num_channels": 0}, r"num_channels: .*\(got 0\)"),
    ],
)
def test_sine_bad_parameters(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"frequency": 440.0, "duration": 1.0, "sample_rate": 16_000, **kwargs}
    with pytest.raises(lk.ParameterError, match=message):
        lk.sine(**args)


# -- noise, silence ----------------------------------------------------------------------


async def test_noise_is_reproducible_with_a_seed(anyio_backend: str) -> None:
    stream = lk.noise(0.5, 16_000, seed=7, block_ms=30)
    first = await stream.to_array()
    second = await stream.to_array()
    np.testing.assert_array_equal(first, second)
    other_blocks = await lk.noise(0.5, 16_000, seed=7, block_ms=500).to_array()
    np.testing.assert_array_equal(first, other_blocks)
    other_seed = await lk.noise(0.5, 16_000, seed=8).to_array()
    assert not np.array_equal(first, other_seed)


async def test_noise_without_seed_differs_each_time(anyio_backend: str) -> None:
    stream = lk.noise(0.1, 16_000, seed=None)
    assert not np.array_equal(await stream.to_array(), await stream.to_array())


async def test_noise_stays_within_amplitude(anyio_backend: str) -> None:
    y = await lk.noise(1.0, 16_000, amplitude=0.1).to_array()
    assert y.shape == (16_000,)
    assert np.abs(y).max() <= round(0.1 * 32768)
    assert np.abs(y).max() > 0.09 * 32768  # it does reach the edge, not just near zero
    f = await lk.noise(1.0, 16_000, amplitude=0.25, dtype="float32", num_channels=2).to_array()
    assert f.shape == (16_000, 2)
    assert np.abs(f).max() <= 0.25
    assert abs(float(f.mean())) < 0.01


def test_noise_bad_amplitude() -> None:
    with pytest.raises(lk.ParameterError, match=r"amplitude .*\(got 2\.0\)"):
        lk.noise(1.0, amplitude=2.0)


@pytest.mark.parametrize("dtype", ["int16", "float32"])
async def test_silence_is_zeros(anyio_backend: str, dtype: lk.DType) -> None:
    stream = lk.silence(0.03, 16_000, num_channels=2, dtype=dtype)
    assert stream.format == lk.AudioFormat(16_000, 2, dtype)
    y = await stream.to_array()
    assert y.shape == (480, 2)
    assert y.dtype == np.dtype(dtype)
    assert not y.any()


def test_silence_bad_parameters() -> None:
    with pytest.raises(lk.ParameterError, match=r"duration .*\(got -0\.5\)"):
        lk.silence(-0.5)
    with pytest.raises(lk.ParameterError, match=r"sample_rate must be positive \(got -8000\)"):
        lk.silence(1.0, -8_000)


# -- concat ------------------------------------------------------------------------------


async def test_concat_has_continuous_pts_and_all_samples(anyio_backend: str) -> None:
    a = lk.from_array(np.arange(300, dtype=np.int16), 1_000, block_ms=200)
    b = lk.from_array(np.arange(300, 350, dtype=np.int16), 1_000, pts=5_000)
    c = lk.silence(0.1, 1_000)
    both = lk.concat(a, b, c)
    assert both.format == lk.AudioFormat(1_000, 1)
    frames = await both.collect()
    assert _layout(frames) == [(0, 200), (200, 100), (300, 50), (350, 100)]
    y = await both.to_array()
    assert y.shape == (450,)
    np.testing.assert_array_equal(y, np.r_[np.arange(350), np.zeros(100)].astype(np.int16))


async def test_fluent_concat_equals_function(anyio_backend: str) -> None:
    a = lk.sine(440, 0.01, 16_000)
    b = lk.silence(0.02, 16_000)
    assert _layout(await a.concat(b).collect()) == _layout(await lk.concat(a, b).collect())


def test_concat_format_mismatch_at_build_time() -> None:
    with pytest.raises(
        lk.FormatError,
        match=r"different formats \(expected 16000 Hz mono int16, got 8000 Hz mono int16\)",
    ):
        lk.concat(lk.silence(0.1, 16_000), lk.silence(0.1, 8_000))


async def test_concat_format_mismatch_at_run_time_when_unknown(anyio_backend: str) -> None:
    unknown = lk.from_frames([lk.AudioFrame(np.zeros(10, np.float32), 16_000)])
    stream = lk.concat(lk.silence(0.1, 16_000), unknown)
    with pytest.raises(
        lk.FormatError, match=r"expected 16000 Hz mono int16, got 16000 Hz mono float32"
    ):
        await stream.collect()


def test_concat_needs_a_stream() -> None:
    with pytest.raises(lk.ParameterError, match="at least one stream"):
        lk.concat()
