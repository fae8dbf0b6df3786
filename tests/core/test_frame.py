"""`AudioFrame`: construction, validation, immutability and LiveKit interop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from numpy.typing import NDArray

import lkframes as lk

# -- construction ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_mono_1d_becomes_one_channel(dtype: type[np.generic]) -> None:
    x = np.arange(6).astype(dtype)
    frame = lk.AudioFrame(x, 16_000, pts=10)
    assert frame.data.shape == (6, 1)
    assert frame.num_channels == 1
    assert frame.samples_per_channel == 6
    assert frame.dtype == np.dtype(dtype).name
    assert frame.format == lk.AudioFormat(16_000, 1, np.dtype(dtype).name)  # type: ignore[arg-type]
    assert frame.pts == 10
    np.testing.assert_array_equal(frame.data[:, 0], x)


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_2d_keeps_channels(dtype: type[np.generic]) -> None:
    x = np.arange(12).astype(dtype).reshape(4, 3)
    frame = lk.AudioFrame(x, 48_000)
    assert frame.data.shape == (4, 3)
    assert frame.num_channels == 3
    assert frame.samples_per_channel == 4
    assert frame.sample_rate == 48_000
    np.testing.assert_array_equal(frame.data, x)


def test_data_is_read_only_and_callers_array_stays_writable() -> None:
    x = np.zeros((8, 2), np.int16)
    frame = lk.AudioFrame(x, 8_000)
    assert not frame.data.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        frame.data[0, 0] = 1
    assert x.flags.writeable
    x[0, 0] = 7  # the caller keeps its own writable reference
    assert frame.data[0, 0] == 7


@pytest.mark.parametrize("x", [np.zeros(16, np.int16), np.zeros((16, 2), np.float32)])
def test_callers_array_is_not_copied(x: NDArray[Any]) -> None:
    frame = lk.AudioFrame(x, 8_000)
    assert np.shares_memory(frame.data, x)


def test_view_of_a_bigger_array_is_not_copied() -> None:
    big = np.arange(100, dtype=np.int16)
    frame = lk.AudioFrame(big[10:30], 8_000)
    assert np.shares_memory(frame.data, big)
    np.testing.assert_array_equal(frame.data[:, 0], np.arange(10, 30))


def test_of_takes_an_ndarray_subclass_the_slow_way(tmp_path: Path) -> None:
    samples = np.memmap(tmp_path / "x.raw", dtype=np.int16, mode="w+", shape=(8, 2))
    samples[:] = np.arange(16).reshape(8, 2)
    frame = lk.AudioFrame.of(samples[2:6], lk.AudioFormat(8_000, 2), pts=2)
    assert type(frame.data) is np.memmap
    assert not frame.data.flags.writeable
    assert samples.flags.writeable
    assert frame.data.tolist() == samples[2:6].tolist()
    assert frame.pts == 2


def test_numpy_integer_pts_is_accepted() -> None:
    frame = lk.AudioFrame(np.zeros(4, np.int16), 8_000, pts=np.int64(5))  # type: ignore[arg-type]
    assert frame.pts == 5
    assert type(frame.pts) is int


# -- invalid data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros(4, np.float64), r"expected int16 or float32, got float64"),
        (np.zeros(4, np.int32), r"expected int16 or float32, got int32"),
        (np.zeros(4, np.uint8), r"expected int16 or float32, got uint8"),
        (np.zeros((2, 2, 2), np.int16), r"\(2, 2, 2\).*got 3 dimensions"),
        (np.zeros((), np.int16), r"got 0 dimensions"),
        (np.zeros((4, 0), np.int16), r"\(4, 0\) \(expected >= 1 channel, got 0\)"),
        (np.zeros((4, 2), np.int16)[:, 0], r"not C-contiguous .*got strides \(4,\)"),
        (np.zeros(8, np.int16)[::2], r"not C-contiguous .*got strides \(4,\)"),
        (np.zeros((8, 2), np.float32)[::2], r"not C-contiguous .*got strides \(16, 4\)"),
        (np.zeros((2, 4), np.int16).T, r"not C-contiguous"),
    ],
)
def test_invalid_data_raises_with_expected_and_got(x: NDArray[Any], message: str) -> None:
    with pytest.raises(lk.InvalidAudioError, match=message):
        lk.AudioFrame(x, 16_000)


def test_float64_error_suggests_a_conversion() -> None:
    with pytest.raises(lk.InvalidAudioError, match=r"astype\(np\.float32\)"):
        lk.AudioFrame(np.zeros(4), 16_000)


def test_non_array_raises() -> None:
    with pytest.raises(lk.InvalidAudioError, match=r"expected numpy\.ndarray, got list"):
        lk.AudioFrame([0, 1, 2], 16_000)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float_samples_raise(bad: float) -> None:
    x = np.zeros((5, 2), np.float32)
    x[3, 1] = bad
    with pytest.raises(
        lk.InvalidAudioError, match=rf"expected finite floats, got {bad} at sample 3"
    ):
        lk.AudioFrame(x, 16_000)


def test_check_finite_false_allows_nan() -> None:
    x = np.array([0.0, np.nan, np.inf], np.float32)
    frame = lk.AudioFrame(x, 16_000, check_finite=False)
    assert np.isnan(frame.data[1, 0])
    assert np.isinf(frame.data[2, 0])


@pytest.mark.parametrize(("pts", "got"), [(1.5, "float"), (True, "bool"), ("0", "str")])
def test_non_int_pts_raises(pts: object, got: str) -> None:
    with pytest.raises(lk.InvalidAudioError, match=rf"pts must be an int .*\(got {got}\)"):
        lk.AudioFrame(np.zeros(4, np.int16), 16_000, pts=pts)  # type: ignore[arg-type]


@pytest.mark.parametrize(("rate", "got"), [(0, "0"), (16_000.0, "16000.0"), (True, "True")])
def test_bad_sample_rate_raises_parameter_error(rate: object, got: str) -> None:
    with pytest.raises(lk.ParameterError, match=rf"sample_rate: .*\(got {got}\)"):
        lk.AudioFrame(np.zeros(4, np.int16), rate)  # type: ignore[arg-type]


# -- time --------------------------------------------------------------------------------


def test_duration_end_pts_and_timestamp() -> None:
    frame = lk.AudioFrame(np.zeros(320, np.int16), 16_000, pts=640)
    assert frame.duration == 0.02
    assert frame.end_pts == 960
    assert frame.timestamp == 0.04
    empty = lk.AudioFrame(np.zeros(0, np.int16), 16_000, pts=7)
    assert (empty.duration, empty.end_pts) == (0.0, 7)


def test_replace_keeps_rate_and_changes_data_or_pts() -> None:
    frame = lk.AudioFrame(np.ones(4, np.int16), 8_000, pts=3)
    moved = frame.replace(pts=100)
    assert moved.pts == 100
    assert np.shares_memory(moved.data, frame.data)
    louder = frame.replace(np.full((4, 2), 2, np.int16))
    assert (louder.pts, louder.num_channels, louder.sample_rate) == (3, 2, 8_000)
    # O(1) checks only (no scan for NaN, unlike the constructor), with the same errors
    with pytest.raises(lk.InvalidAudioError, match="invalid shape"):
        frame.replace(np.zeros((2, 2, 2), np.int16))
    with pytest.raises(lk.InvalidAudioError, match="unsupported dtype"):
        frame.replace(np.zeros(4, np.float64))


def test_repr_names_size_format_and_pts() -> None:
    frame = lk.AudioFrame(np.zeros((480, 2), np.int16), 48_000, pts=960)
    assert repr(frame) == "AudioFrame(480 samples, 48000 Hz stereo int16, pts=960, 10 ms)"


# -- LiveKit interop ---------------------------------------------------------------------


def _rtc_frame(samples: NDArray[np.int16], rate: int = 48_000) -> rtc.AudioFrame:
    spc, channels = samples.shape
    return rtc.AudioFrame(bytearray(samples.tobytes()), rate, channels, spc)


def test_from_rtc_is_a_view_of_the_livekit_buffer() -> None:
    samples = np.arange(960, dtype=np.int16).reshape(480, 2)
    lk_rtc = _rtc_frame(samples)
    frame = lk.AudioFrame.from_rtc(lk_rtc, pts=480)
    raw = np.frombuffer(lk_rtc.data, np.int16)
    assert np.shares_memory(frame.data, raw)
    np.testing.assert_array_equal(frame.data.reshape(-1), raw)
    assert frame.format == lk.AudioFormat(48_000, 2, "int16")
    assert (frame.samples_per_channel, frame.pts) == (480, 480)
    assert not frame.data.flags.writeable
    lk_rtc.data[1] = -5  # a change through LiveKit shows: it is one buffer
    assert frame.data[0, 1] == -5


def test_from_rtc_ignores_extra_bytes_past_the_samples() -> None:
    lk_rtc = rtc.AudioFrame(bytearray(np.arange(12, dtype=np.int16).tobytes()), 8_000, 1, 10)
    frame = lk.AudioFrame.from_rtc(lk_rtc)
    np.testing.assert_array_equal(frame.data[:, 0], np.arange(10))


@pytest.mark.parametrize("channels", [1, 2])
def test_to_rtc_round_trips_int16(channels: int) -> None:
    rng = np.random.default_rng(1)
    samples = rng.integers(-32768, 32768, size=(480, channels)).astype(np.int16)
    frame = lk.AudioFrame(samples, 48_000)
    out = frame.to_rtc()
    assert (out.sample_rate, out.num_channels, out.samples_per_channel) == (48_000, channels, 480)
    np.testing.assert_array_equal(np.frombuffer(out.data, np.int16).reshape(480, channels), samples)
    back = lk.AudioFrame.from_rtc(out)
    np.testing.assert_array_equal(back.data, samples)


def test_to_rtc_scales_float32_to_int16_and_clips() -> None:
    x = np.array([[0.5, -1.0], [1.5, -0.25]], np.float32)
    out = lk.AudioFrame(x, 16_000).to_rtc()
    assert (out.num_channels, out.samples_per_channel) == (2, 2)
    assert np.frombuffer(out.data, np.int16).tolist() == [16384, -32768, 32767, -8192]


def test_to_rtc_shares_memory_with_a_frame_owned_by_lkframes() -> None:
    # Documented: int16 data is shared with the LiveKit frame when numpy can hand out a
    # writable view, so LiveKit code that writes in place changes the lkframes frame.
    frame = lk.AudioFrame(np.zeros(480, np.int16), 48_000)
    out = frame.to_rtc()
    assert np.shares_memory(frame.data, np.frombuffer(out.data, np.int16))
    out.data[0] = 1234
    assert frame.data[0, 0] == 1234


def test_to_rtc_of_a_read_only_buffer_copies() -> None:
    frozen = np.arange(8, dtype=np.int16)
    frozen.flags.writeable = False
    frame = lk.AudioFrame(frozen, 8_000)
    out = frame.to_rtc()
    assert not np.shares_memory(frozen, np.frombuffer(out.data, np.int16))
    assert np.frombuffer(out.data, np.int16).tolist() == list(range(8))


def test_to_rtc_copy_does_not_share_memory() -> None:
    frame = lk.AudioFrame(np.arange(480, dtype=np.int16), 48_000)
    out = frame.to_rtc(copy=True)
    assert not np.shares_memory(frame.data, np.frombuffer(out.data, np.int16))
    out.data[0] = 999
    assert frame.data[0, 0] == 0
    assert np.frombuffer(out.data, np.int16)[1:].tolist() == list(range(1, 480))


def test_to_rtc_of_a_view_into_a_bigger_array_keeps_its_offset() -> None:
    big = np.arange(1000, dtype=np.int16)
    frame = lk.AudioFrame(big[100:580], 48_000)
    out = frame.to_rtc()
    assert np.frombuffer(out.data, np.int16).tolist() == list(range(100, 580))


def test_livekit_rejects_odd_byte_lengths_itself() -> None:
    with pytest.raises(ValueError, match="multiple of sizeof"):
        rtc.AudioFrame(bytearray(5), 8_000, 1, 2)


@dataclass
class _FakeRtcFrame:
    """Quacks like rtc.AudioFrame, to build buffers the SDK refuses to construct."""

    _data: bytes
    num_channels: int
    samples_per_channel: int
    sample_rate: int


def test_from_rtc_odd_byte_length_raises() -> None:
    fake = _FakeRtcFrame(bytes(5), num_channels=1, samples_per_channel=2, sample_rate=8_000)
    with pytest.raises(lk.InvalidAudioError, match=r"expected a multiple of 2 .*got 5 bytes"):
        lk.AudioFrame.from_rtc(fake)  # type: ignore[arg-type]


def test_from_rtc_short_buffer_raises() -> None:
    fake = _FakeRtcFrame(bytes(6), num_channels=2, samples_per_channel=2, sample_rate=8_000)
    with pytest.raises(lk.InvalidAudioError, match=r"expected 8 bytes .*got 6"):
        lk.AudioFrame.from_rtc(fake)  # type: ignore[arg-type]
