"""Sample arithmetic: durations to sample counts, resampled lengths, dtype conversion, gain
and channel mixing.

Conventions (the same as libsndfile's normalised float I/O on read): int16 full scale
32768 maps to float 1.0. Float to int16 multiplies by 32768, rounds half to even and clips
to [-32768, 32767], so int16 -> float32 -> int16 is exact.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ParameterError

__all__ = (
    "apply_matrix",
    "check_ms",
    "convert_dtype",
    "float_to_int16",
    "int16_to_float32",
    "mix_matrix",
    "positive_int",
    "resampled_length",
    "samples_for",
    "scale",
    "surround_downmix",
)

_INT16_SCALE = np.float32(32768.0)


def positive_int(value: object, what: str) -> int:
    """``value`` as an int if it is a positive integer, else `ParameterError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"{what} must be an int (got {type(value).__name__})")
    if value <= 0:
        raise ParameterError(f"{what} must be positive (got {value})")
    return int(value)


def check_ms(ms: object) -> None:
    """Refuse a duration in ms that is not a positive, finite number."""
    if isinstance(ms, bool) or not isinstance(ms, int | float | np.integer | np.floating):
        raise ParameterError(f"ms must be a number (got {type(ms).__name__})")
    if not math.isfinite(ms) or ms <= 0:
        raise ParameterError(f"ms must be positive and finite (got {ms})")


def samples_for(sample_rate: int, *, ms: float | None = None, samples: int | None = None) -> int:
    """Samples per channel for ``ms`` milliseconds (or ``samples``) at ``sample_rate``.

    See `AudioFormat.samples_for`.
    """
    if (ms is None) == (samples is None):
        raise ParameterError(
            f"give exactly one of ms= or samples= (got ms={ms}, samples={samples})"
        )
    if samples is not None:
        return positive_int(samples, "samples")
    assert ms is not None
    check_ms(ms)
    if ms * sample_rate < 1000:
        raise ParameterError(
            f"{ms:g} ms at {sample_rate} Hz is {ms * sample_rate / 1000:g} samples, less than "
            "one; a frame holds at least one sample"
        )
    exact = Fraction(ms).limit_denominator(1_000_000) * sample_rate / 1000
    if exact.denominator != 1:
        raise ParameterError(
            f"{ms:g} ms at {sample_rate} Hz is {float(exact):g} samples, not a whole number; "
            "pick a duration that divides evenly",
            hint="or give the size in samples with samples=",
        )
    return int(exact)


def resampled_length(samples: int, in_rate: int, out_rate: int) -> int:
    """Samples per channel that `resample` makes of ``samples`` input samples.

    The length python-soxr gives, one-shot (``soxr.resample``) or streamed (a
    ``ResampleStream`` flushed with ``last=True``), for the whole signal: ``samples *
    out_rate / in_rate`` rounded half up, computed in double precision as soxr does (so an
    exact half can round down, e.g. 240 samples from 48 000 to 44 100 Hz give 220).

    Args:
        samples: Input samples per channel.
        in_rate: Input rate in Hz.
        out_rate: Output rate in Hz.

    Returns:
        Output samples per channel.

    Raises:
        ParameterError: A rate that is not a positive int, or a negative ``samples``.

    Examples:
        >>> resampled_length(44_100, 44_100, 16_000), resampled_length(1, 32_000, 16_000)
        (16000, 1)
        >>> resampled_length(240, 48_000, 44_100)
        220
    """
    in_rate = positive_int(in_rate, "in_rate")
    out_rate = positive_int(out_rate, "out_rate")
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 0:
        raise ParameterError(f"samples must be an int >= 0 (got {samples!r})")
    if in_rate == out_rate:
        return int(samples)
    return math.floor(int(samples) / (in_rate / out_rate) + 0.5)


def int16_to_float32(data: NDArray[Any]) -> NDArray[np.float32]:
    """int16 samples to float32 in [-1, 1)."""
    out = data.astype(np.float32)
    out *= np.float32(1.0 / 32768.0)
    return out


def float_to_int16(data: NDArray[Any]) -> NDArray[np.int16]:
    """float samples (full scale ±1.0) to int16, rounded and clipped."""
    return round_to_int16(np.multiply(data, _INT16_SCALE, dtype=np.float32))


def round_to_int16(scaled: NDArray[np.float32]) -> NDArray[np.int16]:
    """Round float32 samples on the int16 scale in place, clip, and convert."""
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768.0, 32767.0, out=scaled)
    out: NDArray[np.int16] = scaled.astype(np.int16)
    return out


def convert_dtype(data: NDArray[Any], dtype: str) -> NDArray[Any]:
    """Convert between int16 and float32 with the scaling above; same dtype is returned as is."""
    if data.dtype.name == dtype:
        return data
    if dtype == "float32":
        return int16_to_float32(data)
    return float_to_int16(data)


def scale(data: NDArray[Any], factor: float) -> NDArray[Any]:
    """Multiply samples by ``factor``; int16 results are rounded and clipped."""
    scaled: NDArray[np.float32] = np.multiply(data, np.float32(factor), dtype=np.float32)
    if data.dtype == np.float32:
        return scaled
    return round_to_int16(scaled)


_MINUS_3_DB = math.sqrt(0.5)

_FIVE_ONE_TO_STEREO = (
    (1, 0),  # FL
    (0, 1),  # FR
    (_MINUS_3_DB, _MINUS_3_DB),  # FC
    (0, 0),  # LFE
    (_MINUS_3_DB, 0),  # BL (or SL: the same gains)
    (0, _MINUS_3_DB),  # BR (or SR)
)
_SURROUND_TO_STEREO = {
    6: _FIVE_ONE_TO_STEREO,  # 5.1 in WAV/FFmpeg order
    8: (*_FIVE_ONE_TO_STEREO, (_MINUS_3_DB, 0), (0, _MINUS_3_DB)),  # 7.1: then SL SR
}
"""Left and right gains of each 5.1 / 7.1 channel before scaling: libswresample's default
(ITU-R BS.775): centre and surrounds at -3 dB, LFE dropped."""


def surround_downmix(in_channels: int, out_channels: int) -> NDArray[np.float32] | None:
    """FFmpeg's ``-ac 2`` / ``-ac 1`` matrix for 5.1 (6) or 7.1 (8) channels, else None.

    Mono is -3 dB of left plus right (so FL, FR at -3 dB, FC at 0 dB, surrounds at -6 dB,
    as libswresample folds them). The gains are then divided by the largest sum of their
    absolute values over an output channel, so no output can exceed full scale: what
    libswresample does for integer output (measured with FFmpeg 5.1; it skips this for
    float output unless ``rematrix_maxval=1``).
    """
    to_stereo = _SURROUND_TO_STEREO.get(in_channels)
    if to_stereo is None or out_channels not in (1, 2):
        return None
    gains = np.array(to_stereo, np.float64)
    if out_channels == 1:
        gains = gains.sum(axis=1, keepdims=True) * _MINUS_3_DB
    scaled: NDArray[np.float32] = (gains / np.abs(gains).sum(axis=0).max()).astype(np.float32)
    return scaled


def mix_matrix(in_channels: int, out_channels: int) -> NDArray[np.float32] | None:
    """The default ``(in_channels, out_channels)`` mixing matrix, or None if there is none.

    5.1 and 7.1 to stereo or mono use `surround_downmix`; any other down-mix to mono
    averages the channels; up-mix from mono copies the channel to every output; otherwise
    there is no obvious default and the caller must give a matrix.
    """
    if in_channels == out_channels:
        return np.eye(in_channels, dtype=np.float32)
    surround = surround_downmix(in_channels, out_channels)
    if surround is not None:
        return surround
    if out_channels == 1:
        return np.full((in_channels, 1), 1.0 / in_channels, dtype=np.float32)
    if in_channels == 1:
        return np.ones((1, out_channels), dtype=np.float32)
    return None


def apply_matrix(data: NDArray[Any], matrix: NDArray[np.float32]) -> NDArray[Any]:
    """Mix ``(n, in)`` samples through an ``(in, out)`` matrix, keeping the dtype."""
    if data.dtype == np.float32:
        return np.ascontiguousarray(data @ matrix, dtype=np.float32)
    return round_to_int16(data.astype(np.float32) @ matrix)
