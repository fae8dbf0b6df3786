"""`resample`: soxr's streaming resampler, flushed at the end of the stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import numpy as np
import soxr

from .._core.checks import FormatGuard, check_choice
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.params import QUALITIES, Quality
from .._core.registry import stage_entry
from .._core.samples import positive_int, resampled_length
from .._core.stage import Stage

__all__ = ("resample",)


@stage_entry(cli={"sample_rate": "--rate", "quality": "--quality"})
def resample(sample_rate: int, quality: Quality = "HQ") -> Stage[AudioFrame, AudioFrame]:
    """Resample to ``sample_rate`` with soxr, streaming, flushed at the end of the stream.

    One ``soxr.ResampleStream`` per iteration of the stream. The output equals
    ``soxr.resample`` of the whole signal (float32 bit-exact, int16 within 2 LSB) however
    the input is split, and its length is `resampled_length`. soxr adds dither to int16
    output, from a seed that can differ between threads: pipelines resampling int16 in
    threads at once can differ in the last bit; float32 is the same in every thread.
    Output frames have whatever sizes soxr produces; follow with `chunk` for exact sizes.
    ``pts`` is rescaled to the new rate with `resampled_length` from the first frame on
    and then continuous.

    Args:
        sample_rate: Output rate in Hz.
        quality: soxr recipe: ``"QQ"``, ``"LQ"``, ``"MQ"``, ``"HQ"`` (as sox's ``rate -h``)
            or ``"VHQ"`` (as ``rate -v``).

    Returns:
        The stage. At the input rate it passes frames through untouched.

    Raises:
        ParameterError: ``sample_rate`` not a positive int, or an unknown quality.
        FormatError: (while running) the input format changes mid-stream.

    Examples:
        >>> import lkframes as lk
        >>> y = lk.run_sync(lk.sine(440, 1.0, 44_100).resample(16_000).to_array())
        >>> y.shape
        (16000,)
    """
    rate = positive_int(sample_rate, "sample_rate")
    check_choice(quality, QUALITIES, "quality")
    name = f"resample({rate}, quality={quality!r})"

    def output_format(fmt: AudioFormat) -> AudioFormat:
        return fmt.with_(sample_rate=rate)

    async def transform(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[AudioFrame, None]:
        guard = FormatGuard(name, None)
        resampler: Any = None
        out_fmt: AudioFormat | None = None
        pts = 0
        async for frame in frames:
            fmt = guard(frame)
            if fmt.sample_rate == rate:
                yield frame
                continue
            if resampler is None:
                resampler = soxr.ResampleStream(
                    fmt.sample_rate, rate, fmt.num_channels, dtype=fmt.dtype, quality=quality
                )
                out_fmt = output_format(fmt)
                pts = resampled_length(frame.pts, fmt.sample_rate, rate)
            out = resampler.resample_chunk(frame.data)
            if out.shape[0]:
                yield AudioFrame.of(out, out_fmt, pts)  # type: ignore[arg-type]
                pts += out.shape[0]
        if resampler is not None:
            assert out_fmt is not None
            empty = np.empty((0, out_fmt.num_channels), out_fmt.numpy_dtype)
            tail = resampler.resample_chunk(empty, last=True)
            if tail.shape[0]:
                yield AudioFrame.of(tail, out_fmt, pts)

    return Stage(name, transform, output_format=output_format)
