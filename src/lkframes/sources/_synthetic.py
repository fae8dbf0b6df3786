"""Synthetic signals: `sine`, `noise` and `silence`, endless or of a given duration."""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.checks import check_choice
from .._core.errors import ParameterError
from .._core.format import SUPPORTED_DTYPES, AudioFormat, DType
from .._core.frame import AudioFrame
from .._core.samples import positive_int
from .._core.stream import Stream
from ._checkpoints import DEFAULT_BLOCK_MS, Checkpoints, block_samples

__all__ = ("noise", "silence", "sine")


def _synthetic(
    name: str,
    duration: float | None,
    sample_rate: int,
    num_channels: int,
    dtype: DType,
    block_ms: float,
    make_block: Any,
) -> Stream[AudioFrame]:
    rate = positive_int(sample_rate, "sample_rate")
    check_choice(dtype, SUPPORTED_DTYPES, "dtype")
    fmt = AudioFormat(rate, num_channels, dtype)
    total: int | None = None
    if duration is not None:
        if not math.isfinite(duration) or duration < 0:
            raise ParameterError(f"duration must be >= 0 seconds or None (got {duration})")
        total = round(duration * rate)
    block = block_samples(rate, block_ms)

    async def run() -> AsyncGenerator[AudioFrame, None]:
        state = make_block.start() if hasattr(make_block, "start") else None
        checkpoint = Checkpoints()
        start = 0
        while total is None or start < total:
            await checkpoint()
            n = block if total is None else min(block, total - start)
            mono = make_block(start, n, state)
            if dtype == "int16":
                mono = np.clip(np.rint(mono * 32768.0), -32768, 32767).astype(np.int16)
            else:
                mono = mono.astype(np.float32)
            data = (
                np.repeat(mono[:, None], num_channels, axis=1)
                if num_channels > 1
                else mono[:, None]
            )
            yield AudioFrame.of(data, fmt, start)
            start += n

    return Stream(run, format=fmt, name=name, flat=num_channels == 1)


def sine(
    frequency: float,
    duration: float | None,
    sample_rate: int = 48_000,
    *,
    amplitude: float = 0.5,
    num_channels: int = 1,
    dtype: DType = "int16",
    phase: float = 0.0,
    block_ms: float = DEFAULT_BLOCK_MS,
) -> Stream[AudioFrame]:
    """A sine tone, phase-continuous across blocks.

    Args:
        frequency: Hz.
        duration: Seconds (rounded to whole samples), or None for an endless tone (stop it
            with `Stream.take`).
        sample_rate: Hz.
        amplitude: Peak level as a fraction of full scale.
        num_channels: The same tone on every channel.
        dtype: ``"int16"`` or ``"float32"``.
        phase: Starting phase in radians.
        block_ms: Size of the frames emitted.

    Raises:
        ParameterError: A non-positive rate, a negative duration, an amplitude outside
            [0, 1], or a bad dtype.

    Examples:
        >>> import lkframes as lk
        >>> lk.run_sync(lk.sine(1000, 0.5, 8_000, amplitude=0.25).to_array()).max()
        np.int16(8192)
    """
    if not 0.0 <= amplitude <= 1.0:
        raise ParameterError(f"amplitude must be within [0, 1] of full scale (got {amplitude})")
    if not math.isfinite(frequency) or frequency < 0:
        raise ParameterError(f"frequency must be >= 0 Hz (got {frequency})")
    rate = positive_int(sample_rate, "sample_rate")
    step = 2.0 * math.pi * frequency / rate

    def make(start: int, n: int, _state: object) -> NDArray[np.float64]:
        return amplitude * np.sin(phase + step * np.arange(start, start + n, dtype=np.float64))

    return _synthetic(
        f"sine({frequency:g} Hz)", duration, rate, num_channels, dtype, block_ms, make
    )


class _NoiseBlocks:
    def __init__(self, amplitude: float, seed: int | None) -> None:
        self.amplitude = amplitude
        self.seed = seed

    def start(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def __call__(self, _start: int, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        return rng.uniform(-self.amplitude, self.amplitude, n)


def noise(
    duration: float | None,
    sample_rate: int = 48_000,
    *,
    amplitude: float = 0.1,
    seed: int | None = 0,
    num_channels: int = 1,
    dtype: DType = "int16",
    block_ms: float = DEFAULT_BLOCK_MS,
) -> Stream[AudioFrame]:
    """Uniform white noise in ``[-amplitude, amplitude]``, reproducible for a given seed.

    Args:
        duration: Seconds, or None for endless noise.
        sample_rate: Hz.
        amplitude: Peak level as a fraction of full scale.
        seed: Seed of numpy's default generator (each iteration starts from it); None for
            fresh noise each time.
        num_channels: The same noise on every channel.
        dtype: ``"int16"`` or ``"float32"``.
        block_ms: Size of the frames emitted.

    Raises:
        ParameterError: As for `sine`.

    Examples:
        >>> import lkframes as lk
        >>> x = lk.run_sync(lk.noise(1.0, 16_000, amplitude=0.1).to_array())
        >>> x.shape, int(abs(x).max()) <= 3277
        ((16000,), True)
    """
    if not 0.0 <= amplitude <= 1.0:
        raise ParameterError(f"amplitude must be within [0, 1] of full scale (got {amplitude})")
    return _synthetic(
        "noise", duration, sample_rate, num_channels, dtype, block_ms, _NoiseBlocks(amplitude, seed)
    )


def silence(
    duration: float | None,
    sample_rate: int = 48_000,
    *,
    num_channels: int = 1,
    dtype: DType = "int16",
    block_ms: float = DEFAULT_BLOCK_MS,
) -> Stream[AudioFrame]:
    """Digital silence (zeros).

    Raises:
        ParameterError: As for `sine`.

    Examples:
        >>> import lkframes as lk
        >>> lk.run_sync(lk.silence(0.01, 48_000, num_channels=2).to_array()).shape
        (480, 2)
    """

    def make(_start: int, n: int, _state: object) -> NDArray[np.float64]:
        return np.zeros(n)

    return _synthetic("silence", duration, sample_rate, num_channels, dtype, block_ms, make)
