"""resample: streaming equals soxr's one-shot resample of the whole signal, for any split."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import anyio
import numpy as np
import pytest
import soxr
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

import lkframes as lk
from lkframes.testing import audio_formats, frame_streams

RATES = st.sampled_from([8_000, 11_025, 16_000, 22_050, 24_000, 44_100, 48_000])


def _stream_resample(frames: list[lk.AudioFrame], rate: int, quality: str = "HQ") -> Any:
    async def main() -> NDArray[Any]:
        stream = lk.from_frames(frames, format=frames[0].format)
        return await stream.resample(rate, quality).to_array()  # type: ignore[arg-type]

    return anyio.run(main)


def _check_against_oracle(frames: list[lk.AudioFrame], out_rate: int) -> None:
    fmt = frames[0].format
    whole = np.concatenate([f.data for f in frames])
    got = _stream_resample(frames, out_rate)
    assert got.shape[0] == lk.resampled_length(whole.shape[0], fmt.sample_rate, out_rate)
    if fmt.sample_rate == out_rate:
        assert np.array_equal(got, whole)
        return
    want = soxr.resample(whole, fmt.sample_rate, out_rate).reshape(-1, fmt.num_channels)
    assert got.shape == want.shape
    if fmt.dtype == "float32":
        assert np.array_equal(got, want), "float32 streaming must be bit-exact"
    else:
        assert np.abs(got.astype(np.int32) - want.astype(np.int32)).max(initial=0) <= 2


@given(frame_streams(audio_formats(sample_rates=RATES)), RATES)
def test_streaming_equals_one_shot_for_any_split(frames: list[lk.AudioFrame], rate: int) -> None:
    _check_against_oracle(frames, rate)


@pytest.mark.parametrize("dtype", ["int16", "float32"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 15_999, 16_000, 16_001, 44_099, 44_100, 44_101])
@pytest.mark.parametrize("block", [1, 160, 441, 4_410, 100_000])
def test_edge_lengths_and_block_sizes(dtype: str, n: int, block: int) -> None:
    rng = np.random.default_rng(n + block)
    x = rng.uniform(-0.9, 0.9, n)
    data = (x * 32767).astype(np.int16) if dtype == "int16" else x.astype(np.float32)
    frames = [lk.AudioFrame(data[i : i + block], 44_100, pts=i) for i in range(0, max(n, 1), block)]
    _check_against_oracle(frames, 16_000)


@pytest.mark.anyio
async def test_tail_is_flushed_at_end_of_stream() -> None:
    # Without resample_chunk(last=True) about 21 ms of the end would be lost.
    out = await lk.sine(440, 1.0, 48_000).resample(16_000).to_array()
    assert out.shape == (16_000,)
    assert np.abs(out[-300:]).max() > 1000  # the tone reaches the very end


@pytest.mark.anyio
async def test_pts_is_rescaled_and_continuous() -> None:
    x = np.zeros(48_000, np.int16)
    frames = await lk.from_array(x, 48_000, pts=96_000, block_ms=100).resample(16_000).collect()
    assert frames[0].pts == 32_000
    for a, b in pairwise(frames):
        assert b.pts == a.end_pts
    assert frames[-1].end_pts == 32_000 + 16_000


@pytest.mark.anyio
async def test_declared_format_is_the_output_format() -> None:
    stream = lk.sine(440, 0.2, 44_100, num_channels=2, dtype="float32").resample(16_000)
    assert stream.format == lk.AudioFormat(16_000, 2, "float32")
    frames = await stream.collect()
    assert {f.format for f in frames} == {stream.format}


@pytest.mark.anyio
async def test_same_rate_passes_frames_through_untouched() -> None:
    x = np.arange(1000, dtype=np.int16)
    frames = await lk.from_array(x, 16_000).resample(16_000).collect()
    assert all(np.shares_memory(f.data, x) for f in frames)


@pytest.mark.anyio
async def test_rate_change_mid_stream_raises() -> None:
    frames = [
        lk.AudioFrame(np.zeros(480, np.int16), 48_000),
        lk.AudioFrame(np.zeros(441, np.int16), 44_100, pts=480),
    ]
    with pytest.raises(lk.FormatError, match=r"expected 48000 Hz mono int16, got 44100 Hz"):
        await lk.from_frames(frames).resample(16_000).collect()


@pytest.mark.parametrize("quality", ["QQ", "LQ", "MQ", "HQ", "VHQ"])
def test_every_quality_matches_its_oracle(quality: str) -> None:
    x = np.random.default_rng(1).uniform(-0.5, 0.5, 10_000).astype(np.float32)
    frames = [lk.AudioFrame(x[i : i + 777], 22_050, pts=i) for i in range(0, 10_000, 777)]
    got = _stream_resample(frames, 48_000, quality).ravel()
    assert np.array_equal(got, soxr.resample(x, 22_050, 48_000, quality=quality))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0,), "sample_rate must be positive"),
        ((-16_000,), "sample_rate must be positive"),
        ((16_000.0,), "sample_rate must be an int"),
        ((16_000, "best"), "quality must be one of"),
    ],
)
def test_bad_parameters_raise(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        lk.resample(*args)


def test_resampled_length_matches_soxr() -> None:
    for in_rate, out_rate in [(44_100, 16_000), (32_000, 16_000), (8_000, 48_000)]:
        for n in range(0, 200):
            x = np.zeros(n, np.float32)
            assert lk.resampled_length(n, in_rate, out_rate) == len(
                soxr.resample(x, in_rate, out_rate)
            )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((100, 0, 16_000), "in_rate must be positive"),
        ((100, 16_000, -1), "out_rate must be"),
        ((-1, 16_000, 8_000), "samples must be an int >= 0"),
    ],
)
def test_resampled_length_rejects_bad_arguments(args: tuple[int, int, int], message: str) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        lk.resampled_length(*args)
