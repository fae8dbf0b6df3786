"""resample: streaming equals soxr's one-shot resample of the whole signal, for any split."""

from __future__ import annotations

import itertools
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
        return await stream.resample(rate, quality).to_array(squeeze=False)  # type: ignore[arg-type]

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


GRID_RATES = (8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000)
GRID_PAIRS = [(a, b) for a in GRID_RATES for b in GRID_RATES if a != b]
GRID_MAX = 10_000
_ZEROS = np.zeros(GRID_MAX, np.int16)


def _exact_halves(in_rate: int, out_rate: int) -> list[int]:
    """The n in 0..GRID_MAX where n * out / in is exactly k + 1/2.

    Anywhere else n * out / in is at least 1/192 000 away from a half (the denominator is at
    most 96 000), far beyond the ~1e-11 error of double arithmetic, so every rounding rule
    agrees there: these n are the only ones that tell a length formula apart.
    """
    return [
        n
        for n in range(GRID_MAX + 1)
        if (2 * n * out_rate) % in_rate == 0 and (n * out_rate) % in_rate
    ]


def _streamed_length(n: int, in_rate: int, out_rate: int, rng: np.random.Generator) -> int:
    """What a ResampleStream gives for n samples fed in random pieces (0 and 1 included)."""
    stream = soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality="QQ")
    got = pos = 0
    while pos < n:
        size = min(n - pos, int(rng.choice([0, 1, int(rng.integers(2, 3_000))])))
        got += stream.resample_chunk(_ZEROS[pos : pos + size]).shape[0]
        pos += size
    return int(got + stream.resample_chunk(_ZEROS[:0], last=True).shape[0])


@pytest.mark.parametrize(("in_rate", "out_rate"), GRID_PAIRS)
def test_resampled_length_equals_soxr_on_the_deciding_lengths(in_rate: int, out_rate: int) -> None:
    # Every exact half of 0..10 000 (where the rounding rule decides) and every 97th length,
    # one-shot; a sample of them streamed in random pieces. The length comes from libsoxr's
    # flush (double arithmetic), so it does not depend on quality, dtype or channels:
    # test_resampled_length_equals_soxr_everywhere (-m slow) checks every length.
    halves = _exact_halves(in_rate, out_rate)
    lengths = sorted({*halves, *range(0, GRID_MAX + 1, 97), 1, GRID_MAX})
    for n in lengths:
        got = soxr.resample(_ZEROS[:n], in_rate, out_rate, quality="QQ").shape[0]
        assert lk.resampled_length(n, in_rate, out_rate) == got, n
    rng = np.random.default_rng(in_rate * 7 + out_rate)
    for n in [*halves[:: max(1, len(halves) // 12)], *range(0, GRID_MAX + 1, 997)]:
        assert lk.resampled_length(n, in_rate, out_rate) == _streamed_length(
            n, in_rate, out_rate, rng
        ), n


def test_an_exact_half_can_round_down_as_soxr_does() -> None:
    # 240 samples at 48 000 -> 44 100 Hz are exactly 220.5: soxr (in doubles) gives 220.
    assert lk.resampled_length(240, 48_000, 44_100) == 220
    assert len(soxr.resample(_ZEROS[:240], 48_000, 44_100)) == 220


@pytest.mark.slow
@pytest.mark.parametrize(("in_rate", "out_rate"), GRID_PAIRS)
def test_resampled_length_equals_soxr_everywhere(in_rate: int, out_rate: int) -> None:
    rng = np.random.default_rng(in_rate + out_rate)
    for n in range(GRID_MAX + 1):
        want = lk.resampled_length(n, in_rate, out_rate)
        assert soxr.resample(_ZEROS[:n], in_rate, out_rate, quality="QQ").shape[0] == want, n
        assert _streamed_length(n, in_rate, out_rate, rng) == want, n


@pytest.mark.parametrize(("in_rate", "out_rate"), [(48_000, 44_100), (44_100, 16_000)])
@pytest.mark.parametrize("start", [0, 240, 441, 12_345])
def test_resample_rescales_pts_with_resampled_length(
    in_rate: int, out_rate: int, start: int
) -> None:
    source = lk.from_array(np.zeros(4_410, np.int16), in_rate, pts=start)
    frames = lk.run_sync(source.resample(out_rate).collect())
    assert frames[0].pts == lk.resampled_length(start, in_rate, out_rate)
    assert all(a.end_pts == b.pts for a, b in itertools.pairwise(frames))


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
