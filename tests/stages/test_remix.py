"""`remix`'s default 5.1 / 7.1 down-mix against FFmpeg's ``-ac 2`` / ``-ac 1`` on files FFmpeg
made, and the channel counts that keep their old default or have none."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from surround_files import CHANNELS, ffmpeg_downmix, surround_wav

import lkframes as lk

SCALED_FLOAT = ("-af", "aresample=rematrix_maxval=1", "-c:a", "pcm_f32le")
"""FFmpeg's float output with the scaling it applies to integer output (see `lk.remix`)."""


def _remix(path: Path, channels: int) -> NDArray[Any]:
    return lk.run_sync(lk.from_file(path).remix(channels).to_array(squeeze=False))


def _int(x: NDArray[Any]) -> NDArray[np.int64]:
    return x.astype(np.int64)


@pytest.mark.parametrize("layout", sorted(CHANNELS))
@pytest.mark.parametrize("channels", [2, 1])
def test_float32_down_mix_equals_ffmpeg(layout: str, channels: int, tmp_path: Path) -> None:
    path = surround_wav(tmp_path / "in.wav", layout, "float32")
    ours = _remix(path, channels)
    assert ours.dtype == np.float32
    assert ours.shape == (24_000, channels)
    reference = ffmpeg_downmix(path, channels, *SCALED_FLOAT)
    assert np.abs(reference).max() > 0.3  # every channel carries a tone
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)
    # Plain ``ffmpeg -ac N out.wav`` writes 16-bit PCM: the same, rounded.
    plain = ffmpeg_downmix(path, channels)
    assert np.abs(ours.astype(np.float64) * 32768 - plain).max() <= 1.0


@pytest.mark.parametrize("layout", sorted(CHANNELS))
@pytest.mark.parametrize("channels", [2, 1])
def test_int16_down_mix_equals_ffmpeg_within_one(
    layout: str, channels: int, tmp_path: Path
) -> None:
    path = surround_wav(tmp_path / "in.wav", layout, "int16")
    ours = _remix(path, channels)
    assert ours.dtype == np.int16
    reference = ffmpeg_downmix(path, channels)
    assert np.abs(reference).max() > 10_000
    # FFmpeg's int16 mix rounds its gains to multiples of 1/32768, lkframes does not.
    difference = _int(ours) - _int(reference)
    assert np.abs(difference).max() <= 1
    assert abs(difference.mean()) < 0.05  # no bias: a level error would show here


def test_ffmpeg_float_output_is_unscaled_by_one_plus_root_two(tmp_path: Path) -> None:
    """What the docstring says of ``-c:a pcm_f32le`` without ``rematrix_maxval=1``."""
    path = surround_wav(tmp_path / "in.wav", "5.1", "float32")
    unscaled = ffmpeg_downmix(path, 2, "-c:a", "pcm_f32le")
    np.testing.assert_allclose(unscaled, _remix(path, 2) * (1 + math.sqrt(2)), atol=1e-6)
    assert 20 * math.log10(1 + math.sqrt(2)) == pytest.approx(7.66, abs=0.01)


@pytest.mark.parametrize("in_channels", [6, 8])
@pytest.mark.parametrize("out_channels", [2, 1])
@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_full_scale_in_every_channel_reaches_full_scale_without_clipping(
    in_channels: int, out_channels: int, dtype: type[np.int16 | np.float32]
) -> None:
    top = 32767 if dtype is np.int16 else 1.0
    x = np.full((100, in_channels), top, dtype)
    x[:, 3] = 0  # the LFE, which no output takes
    y = lk.run_sync(lk.from_array(x, 48_000).remix(out_channels).to_array())
    if dtype is np.int16:
        assert set(y.ravel().tolist()) == {32767}
    else:
        np.testing.assert_allclose(y, 1.0, atol=1e-6)


@pytest.mark.parametrize("in_channels", [6, 8])
@pytest.mark.parametrize("out_channels", [2, 1])
def test_lfe_is_dropped(in_channels: int, out_channels: int) -> None:
    x = np.zeros((100, in_channels), np.int16)
    x[:, 3] = 20_000
    y = lk.run_sync(lk.from_array(x, 48_000).remix(out_channels).to_array())
    assert not y.any()


def test_a_given_matrix_replaces_the_default() -> None:
    x = np.eye(6, dtype=np.float32)
    matrix = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = lk.run_sync(lk.from_array(x, 48_000).remix(2, matrix=matrix).to_array())
    np.testing.assert_array_equal(y, matrix)


@pytest.mark.parametrize("in_channels", [2, 3, 4, 5, 7, 9])
def test_other_counts_still_average_to_mono(in_channels: int) -> None:
    x = np.arange(in_channels * 4, dtype=np.float32).reshape(4, in_channels)
    y = lk.run_sync(lk.from_array(x, 8_000).remix(1).to_array())  # mono: 1-D
    np.testing.assert_allclose(y, x.mean(axis=1), rtol=1e-6)


@pytest.mark.parametrize("out_channels", [2, 3, 6, 8])
def test_mono_is_still_copied_to_every_channel(out_channels: int) -> None:
    x = np.array([1, -2, 3, 32767], np.int16)
    y = lk.run_sync(lk.from_array(x, 8_000).remix(out_channels).to_array())
    np.testing.assert_array_equal(y, np.repeat(x[:, None], out_channels, axis=1))


@pytest.mark.parametrize(
    ("in_channels", "out_channels"), [(3, 2), (4, 2), (5, 2), (7, 2), (6, 4), (8, 6), (2, 6)]
)
def test_counts_without_a_default_still_ask_for_a_matrix(
    in_channels: int, out_channels: int
) -> None:
    stream = lk.from_array(np.zeros((10, in_channels), np.int16), 8_000)
    expected = (
        rf"no default mix from {in_channels} to {out_channels} channels \(defaults exist to "
        r"mono, from mono, and from 5\.1 or 7\.1 \(6 or 8 channels\) to stereo\); pass "
        rf"matrix= with {in_channels} rows of {out_channels} gains"
    )
    with pytest.raises(lk.ParameterError, match=expected):
        stream.remix(out_channels)


def test_pipeline_spec_remix_down_mixes_5_1_without_a_matrix(tmp_path: Path) -> None:
    path = surround_wav(tmp_path / "in.wav", "5.1", "float32")
    spec = lk.PipelineSpec.parse(
        {"input": str(path), "stages": [{"stage": "remix", "num_channels": 2}]}
    )
    ours = lk.run_sync(spec.build().to_array())
    np.testing.assert_allclose(ours, ffmpeg_downmix(path, 2, *SCALED_FLOAT), rtol=0, atol=1e-6)


def test_pipeline_spec_names_the_stage_when_there_is_no_default(tmp_path: Path) -> None:
    path = tmp_path / "five.wav"
    lk.run_sync(lk.from_array(np.zeros((100, 5), np.int16), 8_000).to_file(path))
    spec = lk.PipelineSpec.parse(
        {"input": str(path), "stages": [{"stage": "remix", "num_channels": 2}]}
    )
    with pytest.raises(
        lk.PipelineError, match=r"stages\[0\] \(remix\): no default mix from 5 to 2 channels"
    ):
        spec.build()
