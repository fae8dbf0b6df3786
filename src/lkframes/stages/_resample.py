"""`resample`: soxr's streaming resampler, flushed at the end of the stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import numpy as np
import soxr
from numpy.typing import NDArray

from .._core.ahead import Ahead
from .._core.checks import FormatGuard, check_choice
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.params import QUALITIES, Quality
from .._core.registry import stage_entry
from .._core.samples import positive_int, resampled_length
from .._core.stage import Stage

__all__ = ("AHEAD_NOTE", "AHEAD_SAMPLES", "resample")

AHEAD_SAMPLES = 20_000
"""Output samples (all channels) per block from which a resample over an offline source
runs in a worker thread, one block ahead: below it, handing a block to a thread and back
costs more than the resampling it overlaps (measured: 48 kHz -> 16 kHz mono, 8 000 per
0.5 s block, was slower threaded; 44.1 kHz -> 48 kHz stereo, 48 000, faster)."""
AHEAD_NOTE = f"in a worker thread, one block ahead, for blocks of {AHEAD_SAMPLES:,} samples or more"
"""How `Stream.explain` shows it."""


@stage_entry(cli={"sample_rate": "--rate", "quality": "--quality"})
def resample(sample_rate: int, quality: Quality = "HQ") -> Stage[AudioFrame, AudioFrame]:
    """Resample to ``sample_rate`` with soxr, streaming, flushed at the end of the stream.

    One ``soxr.ResampleStream`` per iteration of the stream. The output equals
    ``soxr.resample`` of the whole signal (float32 bit-exact, int16 within 2 LSB) however
    the input is split, and its length is `resampled_length`. Output frames have whatever
    sizes soxr produces; follow with `chunk` for exact sizes. ``pts`` is rescaled to the
    new rate with `resampled_length` from the first frame on and then continuous.

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
        run: _Run | None = None
        async for frame in frames:
            fmt = guard(frame)
            if fmt.sample_rate == rate:
                yield frame
                continue
            if run is None:
                run = _Run(fmt, rate, quality, frame.pts)
            out = run.resampler.resample_chunk(frame.data)
            if out.shape[0]:
                yield run.frame(out)
        if run is not None and (tail := run.tail()) is not None:
            yield tail

    async def ahead(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[AudioFrame, None]:
        """`transform`, each block resampled in a worker thread while the one before it
        is used downstream, where blocks are big enough to pay for the hand-over."""
        guard = FormatGuard(name, None)
        run: _Run | None = None
        behind: Ahead[NDArray[Any]] = Ahead()
        try:
            async for frame in frames:
                fmt = guard(frame)
                if fmt.sample_rate == rate:
                    yield frame
                    continue
                if run is None:
                    run = _Run(fmt, rate, quality, frame.pts)
                    run.threaded = frame.data.size * rate >= AHEAD_SAMPLES * fmt.sample_rate
                done = behind.result_now() if behind.busy else None  # the block before
                if run.threaded:
                    behind.start_now(run.resampler.resample_chunk, frame.data)
                else:
                    done = run.resampler.resample_chunk(frame.data)
                if done is not None and done.shape[0]:
                    yield run.frame(done)
            if behind.busy:
                assert run is not None
                done = behind.result_now()
                if done.shape[0]:
                    yield run.frame(done)
            if run is not None and (tail := run.tail()) is not None:
                yield tail
        finally:
            behind.settle()

    stage = Stage(name, transform, output_format=output_format)
    stage._ahead = (ahead, AHEAD_NOTE)
    return stage


class _Run:
    """One run of a resample: soxr's stream, the output format and the next pts."""

    __slots__ = ("fmt", "pts", "resampler", "threaded")

    def __init__(self, fmt: AudioFormat, rate: int, quality: Quality, pts: int) -> None:
        self.resampler: Any = soxr.ResampleStream(
            fmt.sample_rate, rate, fmt.num_channels, dtype=fmt.dtype, quality=quality
        )
        self.fmt = fmt.with_(sample_rate=rate)
        self.pts = resampled_length(pts, fmt.sample_rate, rate)
        self.threaded = False

    def frame(self, out: NDArray[Any]) -> AudioFrame:
        """The frame of soxr's output ``out``, next in pts."""
        frame = AudioFrame.of(out, self.fmt, self.pts)
        self.pts += out.shape[0]
        return frame

    def tail(self) -> AudioFrame | None:
        """What soxr holds back, flushed at the end of the stream (None: nothing)."""
        empty = np.empty((0, self.fmt.num_channels), self.fmt.numpy_dtype)
        out = self.resampler.resample_chunk(empty, last=True)
        return self.frame(out) if out.shape[0] else None
