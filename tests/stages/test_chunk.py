"""chunk: exact sizes, nothing lost, continuous pts, explicit tail policy."""

from __future__ import annotations

from typing import Any

import anyio
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

import lkframes as lk
from lkframes.testing import audio_formats, frame_streams


def _whole(frames: list[lk.AudioFrame]) -> NDArray[Any]:
    return np.concatenate([f.data for f in frames])


def _chunked(frames: list[lk.AudioFrame], **kwargs: Any) -> list[lk.AudioFrame]:
    async def main() -> list[lk.AudioFrame]:
        return await lk.from_frames(frames).chunk(**kwargs).collect()

    return anyio.run(main)


@given(frame_streams(), st.integers(1, 700))
def test_concatenated_output_equals_input_for_any_split(
    frames: list[lk.AudioFrame], size: int
) -> None:
    out = _chunked(frames, samples=size)
    whole = _whole(frames)
    if whole.shape[0] == 0:
        assert out == []
        return
    assert np.array_equal(_whole(out), whole)
    assert all(f.samples_per_channel == size for f in out[:-1])
    assert 0 < out[-1].samples_per_channel <= size
    assert [f.pts for f in out] == [i * size for i in range(len(out))]
    assert all(f.format == frames[0].format for f in out)


@given(frame_streams(min_samples=1), st.integers(1, 700))
def test_tail_pad_fills_with_silence_and_drop_discards(
    frames: list[lk.AudioFrame], size: int
) -> None:
    whole = _whole(frames)
    n = whole.shape[0]
    padded = _chunked(frames, samples=size, tail="pad")
    dropped = _chunked(frames, samples=size, tail="drop")
    assert all(f.samples_per_channel == size for f in padded)
    assert len(padded) == -(-n // size)
    assert np.array_equal(_whole(padded)[:n], whole)
    assert not _whole(padded)[n:].any()
    assert len(dropped) == n // size
    if dropped:
        assert np.array_equal(_whole(dropped), whole[: len(dropped) * size])


@given(audio_formats(sample_rates=st.sampled_from([8_000, 16_000, 24_000, 48_000])))
def test_ms_sizes_follow_the_rate(fmt: lk.AudioFormat) -> None:
    x = np.zeros((fmt.sample_rate // 10, fmt.num_channels), fmt.numpy_dtype)  # 100 ms
    out = anyio.run(lk.from_array(x, fmt.sample_rate).chunk(ms=20).collect)
    assert [f.samples_per_channel for f in out] == [fmt.sample_rate // 50] * 5


def test_non_integral_size_raises_at_build_time() -> None:
    stream = lk.silence(1.0, 11_025)
    with pytest.raises(lk.ParameterError, match=r"20 ms at 11025 Hz is 220\.5 samples"):
        stream.chunk(ms=20)


@pytest.mark.anyio
async def test_non_integral_size_raises_at_first_frame_when_rate_unknown() -> None:
    frames = [lk.AudioFrame(np.zeros(100, np.int16), 11_025)]
    stream = lk.from_frames(frames).chunk(ms=20)  # format unknown until the first frame
    with pytest.raises(lk.ParameterError, match="not a whole number"):
        await stream.collect()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of ms= or samples="),
        ({"ms": 20, "samples": 320}, "exactly one of ms= or samples="),
        ({"samples": 0}, "samples must be positive"),
        ({"ms": -5}, "ms must be positive"),
        ({"ms": float("nan")}, "ms must be positive"),
        ({"samples": 10, "tail": "wrap"}, "tail must be one of"),
    ],
)
def test_bad_parameters_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        lk.chunk(**kwargs)


@pytest.mark.anyio
async def test_format_change_mid_stream_raises_naming_both() -> None:
    async def frames() -> Any:
        yield lk.AudioFrame(np.zeros(480, np.int16), 48_000)
        yield lk.AudioFrame(np.zeros(160, np.int16), 16_000)

    stream = lk.Stream(frames).chunk(samples=100)
    with pytest.raises(lk.FormatError, match=r"expected 48000 Hz mono int16, got 16000 Hz"):
        await stream.collect()


@pytest.mark.anyio
async def test_frames_inside_one_block_are_views_and_straddlers_copies() -> None:
    x = np.arange(1000, dtype=np.int16)
    out = await lk.from_array(x, 8_000, block_ms=50).chunk(samples=300).collect()  # 400-blocks
    assert [f.pts for f in out] == [0, 300, 600, 900]
    assert np.shares_memory(out[0].data, x)  # 0..300 lies in block 0..400
    assert not np.shares_memory(out[1].data, x)  # 300..600 straddles 400
    assert not np.shares_memory(out[2].data, x)  # 600..900 straddles 800
    assert np.shares_memory(out[3].data, x)  # the 100-sample tail lies in block 800..1000
    assert np.array_equal(np.concatenate([f.data.ravel() for f in out]), x)


@pytest.mark.anyio
async def test_yielded_frames_stay_valid_after_later_pushes() -> None:
    x = np.arange(5000, dtype=np.int16)
    async with lk.from_array(x, 8_000, block_ms=17).chunk(samples=123).open() as frames:
        kept = [(frame, frame.data.copy()) async for frame in frames]
    assert all(np.array_equal(frame.data, snapshot) for frame, snapshot in kept)


@pytest.mark.anyio
async def test_pts_starts_at_the_first_input_frame() -> None:
    x = np.zeros(1000, np.int16)
    out = await lk.from_array(x, 8_000, pts=4_000).chunk(samples=400).collect()
    assert [f.pts for f in out] == [4_000, 4_400, 4_800]
