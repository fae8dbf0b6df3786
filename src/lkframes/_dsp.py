"""Sample-level arithmetic shared by the stages: dtype conversion, gain, channel mixing.

Conventions (the same as libsndfile's normalised float I/O on read): int16 full scale
32768 maps to float 1.0. Float to int16 multiplies by 32768, rounds half to even and clips
to [-32768, 32767], so int16 -> float32 -> int16 is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = (
    "apply_matrix",
    "convert_dtype",
    "float_to_int16",
    "int16_to_float32",
    "mix_matrix",
    "scale",
)

_INT16_SCALE = np.float32(32768.0)


def int16_to_float32(data: NDArray[Any]) -> NDArray[np.float32]:
    """int16 samples to float32 in [-1, 1)."""
    out = data.astype(np.float32)
    out *= np.float32(1.0 / 32768.0)
    return out


def float_to_int16(data: NDArray[Any]) -> NDArray[np.int16]:
    """float samples (full scale ±1.0) to int16, rounded and clipped."""
    return _round_to_int16(np.multiply(data, _INT16_SCALE, dtype=np.float32))


def _round_to_int16(scaled: NDArray[np.float32]) -> NDArray[np.int16]:
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
    return _round_to_int16(scaled)


def mix_matrix(in_channels: int, out_channels: int) -> NDArray[np.float32] | None:
    """The default ``(in_channels, out_channels)`` mixing matrix, or None if there is none.

    Down-mix to mono averages the channels; up-mix from mono copies the channel to every
    output; otherwise there is no obvious default and the caller must give a matrix.
    """
    if in_channels == out_channels:
        return np.eye(in_channels, dtype=np.float32)
    if out_channels == 1:
        return np.full((in_channels, 1), 1.0 / in_channels, dtype=np.float32)
    if in_channels == 1:
        return np.ones((1, out_channels), dtype=np.float32)
    return None


def apply_matrix(data: NDArray[Any], matrix: NDArray[np.float32]) -> NDArray[Any]:
    """Mix ``(n, in)`` samples through an ``(in, out)`` matrix, keeping the dtype."""
    if data.dtype == np.float32:
        return np.ascontiguousarray(data @ matrix, dtype=np.float32)
    return _round_to_int16(data.astype(np.float32) @ matrix)
