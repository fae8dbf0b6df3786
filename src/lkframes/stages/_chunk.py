"""`chunk`: exact-size frames with continuous pts, views where the memory allows."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import numpy as np

from .._core.buffer import FrameBuffer
from .._core.checks import FormatGuard, check_choice
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.params import TAILS, Tail
from .._core.registry import stage_entry
from .._core.samples import check_ms, samples_for
from .._core.stage import Stage

__all__ = ("chunk",)


@stage_entry(cli={"ms": "--chunk-ms"})
def chunk(
    *, ms: float | None = None, samples: int | None = None, tail: Tail = "keep"
) -> Stage[AudioFrame, AudioFrame]:
    """Cut the stream into frames of exactly ``ms`` milliseconds or ``samples`` samples.

    Concatenating the output gives back the input sample for sample. Frames are views of
    the incoming blocks where they lie inside one; only frames that straddle two blocks
    are copied (see `FrameBuffer`). ``pts`` starts at the first input frame's pts and is
    continuous.

    Args:
        ms: Frame duration; must be a whole number of samples at the stream's rate.
        samples: Frame size in samples per channel (instead of ``ms``).
        tail: The last, shorter piece: ``"keep"`` it as a short frame (default, nothing
            lost), ``"pad"`` it with silence to full size, or ``"drop"`` it.

    Returns:
        The stage.

    Raises:
        ParameterError: Both or neither of ``ms``/``samples``, a non-positive size, an
            unknown tail policy, or ``ms`` that is not a whole number of samples (at build
            time when the stream's rate is known, else at the first frame).

    Examples:
        >>> import lkframes as lk
        >>> frames = lk.run_sync(lk.silence(0.05, 16_000).chunk(ms=20).collect())
        >>> [f.samples_per_channel for f in frames], [f.pts for f in frames]
        ([320, 320, 160], [0, 320, 640])
    """
    if samples is not None or ms is None:
        samples_for(1, ms=ms, samples=samples)  # exactly one, and positive
    else:
        check_ms(ms)  # positive and finite now; whole, and at least a sample, at the rate later
    check_choice(tail, TAILS, "tail")
    size_text = f"ms={ms}" if ms is not None else f"samples={samples}"
    name = f"chunk({size_text}, tail={tail!r})"

    def output_format(fmt: AudioFormat) -> AudioFormat:
        samples_for(fmt.sample_rate, ms=ms, samples=samples)
        return fmt

    async def transform(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[AudioFrame, None]:
        guard = FormatGuard(name, None)
        buf: FrameBuffer | None = None
        fmt: AudioFormat | None = None
        size = 0
        pts = 0
        async for frame in frames:
            fmt = guard(frame)
            if buf is None:
                size = samples_for(fmt.sample_rate, ms=ms, samples=samples)
                buf = FrameBuffer(fmt.num_channels, fmt.dtype)
                pts = frame.pts
            buf.push(frame.data)
            ready = buf.frames(size, fmt, pts)
            pts += len(ready) * size
            for out in ready:
                yield out
        if buf is None or fmt is None or not buf.available or tail == "drop":
            return
        rest = buf.pop_all()
        if tail == "pad":
            padded = np.zeros((size, fmt.num_channels), fmt.numpy_dtype)
            padded[: rest.shape[0]] = rest
            rest = padded
        yield AudioFrame.of(rest, fmt, pts)

    return Stage(name, transform, output_format=output_format)
