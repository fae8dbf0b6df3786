"""`chunk`: exact-size frames with continuous pts, views where the memory allows."""

from __future__ import annotations

import numpy as np

from .._core.buffer import FrameBuffer
from .._core.checks import FormatGuard, check_choice
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.params import TAILS, Tail
from .._core.registry import stage_entry
from .._core.samples import check_ms, samples_for
from .._core.stage import Stage, cutting_stage

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

    def cutter() -> _Cutter:
        return _Cutter(name, ms, samples, tail)

    return cutting_stage(name, cutter, output_format=output_format, pads=tail == "pad")


class _Cutter:
    """The frames of exactly ``size`` samples, cut from the frames pushed so far."""

    __slots__ = ("_buf", "_fmt", "_guard", "_ms", "_pts", "_samples", "_size", "_tail")

    def __init__(self, name: str, ms: float | None, samples: int | None, tail: Tail) -> None:
        self._guard = FormatGuard(name, None)
        self._buf: FrameBuffer | None = None
        self._fmt: AudioFormat | None = None
        self._ms, self._samples, self._tail = ms, samples, tail
        self._size = 0
        self._pts = 0

    def push(self, frame: AudioFrame) -> list[AudioFrame]:
        """Take ``frame``; return the frames now complete."""
        fmt = self._fmt = self._guard(frame)
        buf = self._buf
        if buf is None:
            self._size = samples_for(fmt.sample_rate, ms=self._ms, samples=self._samples)
            buf = self._buf = FrameBuffer(fmt.num_channels, fmt.dtype)
            self._pts = frame.pts
        buf.push(frame.data)
        ready = buf.frames(self._size, fmt, self._pts)
        self._pts += len(ready) * self._size
        return ready

    def end(self) -> list[AudioFrame]:
        """The last, shorter frame as ``tail`` says (at the end of the input)."""
        buf, fmt = self._buf, self._fmt
        if buf is None or fmt is None or not buf.available or self._tail == "drop":
            return []
        rest = buf.pop_all()
        if self._tail == "pad":
            padded = np.zeros((self._size, fmt.num_channels), fmt.numpy_dtype)
            padded[: rest.shape[0]] = rest
            rest = padded
        return [AudioFrame.of(rest, fmt, self._pts)]
