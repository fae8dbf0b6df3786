"""Sample arithmetic (`_dsp`) and the stages built on it: to_dtype, gain, remix."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk
from lkframes._core import samples as _dsp

pytestmark = pytest.mark.anyio

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


# -- dtype conversion --------------------------------------------------------------------


def test_int16_float32_int16_is_exact_for_every_value() -> None:
    as_float = _dsp.int16_to_float32(ALL_INT16)
    assert as_float.dtype == np.float32
    assert as_float.min() == -1.0
    assert as_float.max() == np.float32(32767 / 32768)
    back = _dsp.float_to_int16(as_float)
    assert back.dtype == np.int16
    np.testing.assert_array_equal(back, ALL_INT16)


def test_float_to_int16_clips_at_full_scale() -> None:
    x = np.array([1.0, -1.0, 1.5, -1.5, 100.0, -100.0, 0.0], np.float32)
    assert _dsp.float_to_int16(x).tolist() == [32767, -32768, 32767, -32768, 32767, -32768, 0]


def test_float_to_int16_rounds_half_to_even() -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.49, 0.51], np.float32) / np.float32(32768)
    assert _dsp.float_to_int16(x).tolist() == [0, 2, 2, 0, -2, 0, 1]


def test_convert_dtype_same_dtype_is_returned_as_is() -> None:
    x = np.zeros(4, np.float32)
    assert _dsp.convert_dtype(x, "float32") is x


async def test_to_dtype_stage_round_trips_every_int16_value(anyio_backend: str) -> None:
    stream = lk.from_array(ALL_INT16, 8_000, block_ms=1_000)
    floats = stream.to_dtype("float32")
    assert floats.format == lk.AudioFormat(8_000, 1, "float32")
    as_float = await floats.to_array()
    assert as_float.dtype == np.float32
    np.testing.assert_array_equal(as_float, ALL_INT16.astype(np.float32) / 32768)
    back = await floats.to_dtype("int16").to_array()
    np.testing.assert_array_equal(back, ALL_INT16)


async def test_to_dtype_to_same_dtype_passes_frames_through(anyio_backend: str) -> None:
    source = lk.from_array(np.arange(100, dtype=np.int16), 1_000, block_ms=50)
    original = await source.collect()
    passed = await source.to_dtype("int16").collect()
    assert [f.data.base is o.data.base for f, o in zip(passed, original, strict=True)] == [
        True,
        True,
    ]


def test_to_dtype_rejects_unknown_dtype() -> None:
    with pytest.raises(lk.ParameterError, match=r"dtype must be one of .*got 'float64'"):
        lk.to_dtype("float64")  # type: ignore[arg-type]


# -- gain --------------------------------------------------------------------------------


async def test_gain_6db_doubles_and_clips_int16(anyio_backend: str) -> None:
    x = np.array([1000, -1000, 20000, -20000, 0, 3], np.int16)
    y = await lk.from_array(x, 8_000).gain(6.02).to_array()
    assert y.dtype == np.int16
    assert y.tolist() == [2000, -2000, 32767, -32768, 0, 6]


async def test_gain_on_float32_scales_without_clipping(anyio_backend: str) -> None:
    x = np.array([0.25, -0.75], np.float32)
    y = await lk.from_array(x, 8_000).gain(6.0206).to_array()
    np.testing.assert_allclose(y, [0.5, -1.5], rtol=1e-5)


async def test_negative_gain_attenuates(anyio_backend: str) -> None:
    x = np.array([1000, -1000, 1], np.int16)
    y = await lk.from_array(x, 8_000).gain(-20).to_array()
    assert y.tolist() == [100, -100, 0]


async def test_gain_zero_db_passes_frames_through(anyio_backend: str) -> None:
    x = np.arange(10, dtype=np.int16)
    frames = await lk.from_array(x, 8_000).gain(0).collect()
    assert len(frames) == 1
    assert np.shares_memory(frames[0].data, x)


@pytest.mark.parametrize("db", [float("nan"), float("inf"), -float("inf")])
def test_gain_rejects_non_finite_db(db: float) -> None:
    with pytest.raises(lk.ParameterError, match=rf"db must be finite \(got {db}\)"):
        lk.gain(db)


# -- remix -------------------------------------------------------------------------------


async def test_remix_mono_to_stereo_duplicates(anyio_backend: str) -> None:
    x = np.array([1, -2, 3, 32767], np.int16)
    stream = lk.from_array(x, 8_000).remix(2)
    assert stream.format == lk.AudioFormat(8_000, 2)
    y = await stream.to_array()
    assert y.shape == (4, 2)
    np.testing.assert_array_equal(y, np.stack([x, x], axis=1))


async def test_remix_stereo_to_mono_averages_and_rounds(anyio_backend: str) -> None:
    x = np.array([[100, 300], [1, 2], [2, 3], [-3, -4], [32767, 32767], [-32768, 32767]], np.int16)
    y = await lk.from_array(x, 8_000).remix(1).to_array()
    assert y.dtype == np.int16
    # 1.5 -> 2 and 2.5 -> 2 (half to even); -3.5 -> -4; -0.5 -> -0
    assert y.ravel().tolist() == [200, 2, 2, -4, 32767, 0]


async def test_remix_stereo_to_mono_float32(anyio_backend: str) -> None:
    x = np.array([[0.5, 0.25], [-1.0, 1.0]], np.float32)
    y = await lk.from_array(x, 8_000).remix(1).to_array()
    assert y.dtype == np.float32
    assert y.ravel().tolist() == [0.375, 0.0]


def test_remix_three_to_two_needs_a_matrix_at_build_time() -> None:
    stream = lk.from_array(np.zeros((10, 3), np.int16), 8_000)
    with pytest.raises(
        lk.ParameterError,
        match=r"no default mix from 3 to 2 channels \(.*\); pass matrix= with 3 rows of 2 gains",
    ):
        stream.remix(2)


async def test_remix_three_to_two_without_format_fails_at_first_frame(anyio_backend: str) -> None:
    stream = lk.from_frames([lk.AudioFrame(np.zeros((10, 3), np.int16), 8_000)]).remix(2)
    assert stream.format is None
    with pytest.raises(lk.ParameterError, match=r"no default mix from 3 to 2 channels"):
        await stream.collect()


async def test_remix_with_matrix(anyio_backend: str) -> None:
    x = np.array([[100, 200, 1000], [0, 0, -100]], np.int16)
    matrix = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    y = await lk.from_array(x, 8_000).remix(2, matrix=matrix).to_array()
    assert y.tolist() == [[600, 700], [-50, -50]]


@pytest.mark.parametrize(
    ("matrix", "shape"),
    [([[1.0, 0.0, 0.0]], r"\(1, 3\)"), ([1.0, 1.0], r"\(2,\)"), (np.ones((3, 3)), r"\(3, 3\)")],
)
def test_remix_matrix_of_wrong_shape_raises(matrix: Any, shape: str) -> None:
    with pytest.raises(
        lk.ParameterError,
        match=rf"matrix has invalid shape {shape} \(expected \(input_channels, 2\)\)",
    ):
        lk.remix(2, matrix=matrix)


def test_remix_matrix_rows_must_match_input_channels() -> None:
    stream = lk.from_array(np.zeros((10, 3), np.int16), 8_000)
    with pytest.raises(lk.FormatError, match=r"expected 2 channels, got 3 channels"):
        stream.remix(2, matrix=np.eye(2))


def test_remix_matrix_must_be_finite() -> None:
    with pytest.raises(lk.ParameterError, match="NaN or infinity"):
        lk.remix(1, matrix=[[np.nan], [1.0]])


@pytest.mark.parametrize("channels", [0, -1])
def test_remix_rejects_non_positive_channels(channels: int) -> None:
    with pytest.raises(
        lk.ParameterError, match=rf"num_channels must be positive \(got {channels}\)"
    ):
        lk.remix(channels)


async def test_remix_keeps_pts_and_length(anyio_backend: str) -> None:
    x = np.arange(2_000, dtype=np.int16)
    stream = lk.from_array(x, 8_000, block_ms=30, pts=1_000)
    before = await stream.collect()
    after = await stream.remix(2).remix(1).collect()
    assert [(f.pts, f.samples_per_channel) for f in after] == [
        (f.pts, f.samples_per_channel) for f in before
    ]
    np.testing.assert_array_equal(np.concatenate([f.data for f in after])[:, 0], x)


async def test_remix_same_channel_count_passes_frames_through(anyio_backend: str) -> None:
    x = np.zeros((10, 2), np.int16)
    frames = await lk.from_array(x, 8_000).remix(2).collect()
    assert np.shares_memory(frames[0].data, x)


def test_default_mix_matrices() -> None:
    down = _dsp.mix_matrix(4, 1)
    up = _dsp.mix_matrix(1, 3)
    assert down is not None
    assert up is not None
    np.testing.assert_array_equal(down, np.full((4, 1), 0.25, np.float32))
    np.testing.assert_array_equal(up, np.ones((1, 3), np.float32))
    assert _dsp.mix_matrix(3, 2) is None


def test_surround_down_mix_matrices_in_closed_form() -> None:
    """libswresample's gains (-3 dB is h), divided by their largest sum over an output."""
    h = math.sqrt(0.5)
    five_one = [[1, 0], [0, 1], [h, h], [0, 0], [h, 0], [0, h]]  # FL FR FC LFE BL BR
    cases = {
        (6, 2): (five_one, 1 + 2 * h),
        (6, 1): ([[h], [h], [1], [0], [0.5], [0.5]], 2 + 2 * h),
        (8, 2): ([*five_one, [h, 0], [0, h]], 1 + 3 * h),  # then SL SR
        (8, 1): ([[h], [h], [1], [0], [0.5], [0.5], [0.5], [0.5]], 3 + 2 * h),
    }
    for (in_channels, out_channels), (gains, largest_sum) in cases.items():
        matrix = _dsp.mix_matrix(in_channels, out_channels)
        assert matrix is not None
        assert matrix.dtype == np.float32
        np.testing.assert_allclose(matrix, np.array(gains) / largest_sum, rtol=1e-7, atol=0)
    assert _dsp.surround_downmix(6, 3) is None
    assert _dsp.surround_downmix(5, 2) is None


def test_apply_matrix_clips_int16() -> None:
    x: NDArray[np.int16] = np.array([[30000, 30000]], np.int16)
    out = _dsp.apply_matrix(x, np.ones((2, 1), np.float32))
    assert out.tolist() == [[32767]]
