"""What the conformance kits share: a probe source that records how it was used, and
checks on what a stream yields."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import anyio
import anyio.lowlevel
import numpy as np
from numpy.typing import NDArray

from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.stream import Stream

__all__ = ("Boom", "Probe", "as_2d", "check_frames", "concat_frames", "same_samples")


class Boom(Exception):
    """Raised by the kit's failing source; must reach the caller unchanged."""


class Probe:
    """A source over fixed frames that records how it was opened, read and closed.

    Optionally it fails (``fail_after``: raises `Boom` instead of yielding that frame, or
    at its end), or cancels ``cancel`` just before it yields frame ``cancel_at`` (then,
    with ``checkpoint``, lets the cancellation land inside itself at once).
    """

    def __init__(
        self,
        frames: list[AudioFrame],
        fmt: AudioFormat,
        *,
        fail_after: int = -1,
        cancel: anyio.CancelScope | None = None,
        cancel_at: int = 0,
        checkpoint: bool = False,
    ) -> None:
        self.frames = frames
        self.fmt = fmt
        self.fail_after = fail_after
        self.cancel = cancel
        self.cancel_at = cancel_at
        self.checkpoint = checkpoint
        self.opened = 0
        self.closed = 0
        self.pulled = 0
        self.finished = 0
        self.raised: Boom | None = None

    def _fail(self, message: str) -> Boom:
        self.raised = Boom(message)
        return self.raised

    def stream(self, *, declare: bool) -> Stream[AudioFrame]:
        async def run() -> AsyncGenerator[AudioFrame, None]:
            self.opened += 1
            try:
                for i, frame in enumerate(self.frames):
                    if i == self.fail_after:
                        raise self._fail(f"source failed at frame {i}")
                    if self.cancel is not None and i == self.cancel_at:
                        self.cancel.cancel()
                        if self.checkpoint:
                            await anyio.lowlevel.checkpoint()
                    self.pulled += 1
                    yield frame
                if self.fail_after >= len(self.frames):
                    raise self._fail("source failed at its end")
                self.finished += 1
            finally:
                self.closed += 1

        return Stream(run, format=self.fmt if declare else None, name="probe")


def concat_frames(frames: list[AudioFrame], fmt: AudioFormat) -> NDArray[Any]:
    if not frames:
        return np.empty((0, fmt.num_channels), fmt.numpy_dtype)
    return np.concatenate([f.data for f in frames])


def check_frames(
    out: list[Any], declared: AudioFormat | None, *, continuous: bool, label: str
) -> AudioFormat | None:
    fmt = declared
    prev_end: int | None = None
    for i, frame in enumerate(out):
        assert isinstance(frame, AudioFrame), f"{label}: item {i} is {type(frame).__name__}"
        assert not frame.data.flags.writeable, f"{label}: frame {i} data is writable"
        assert frame.data.shape == (frame.samples_per_channel, frame.num_channels)
        assert frame.data.dtype.name == frame.dtype
        if fmt is None:
            fmt = frame.format
        assert frame.format == fmt, (
            f"{label}: frame {i} has format {frame.format}, stream declared/started with {fmt}"
        )
        if prev_end is not None:
            if continuous:
                assert frame.pts == prev_end, (
                    f"{label}: pts not continuous at frame {i} (expected {prev_end}, "
                    f"got {frame.pts})"
                )
            else:
                assert frame.pts >= prev_end, f"{label}: frame {i} overlaps the previous one"
        prev_end = frame.end_pts
    return fmt


def as_2d(array: NDArray[Any]) -> NDArray[Any]:
    return array.reshape(-1, 1) if array.ndim == 1 else array


def same_samples(got: NDArray[Any], want: NDArray[Any], label: str) -> None:
    """Assert equal samples, naming lost/duplicated samples or the first difference."""
    assert got.shape[0] == want.shape[0], (
        f"{label}: {want.shape[0]} samples per channel expected, got {got.shape[0]} "
        f"({'lost' if got.shape[0] < want.shape[0] else 'duplicated'} samples)"
    )
    assert got.shape == want.shape, f"{label}: shape {got.shape}, expected {want.shape}"
    if not np.array_equal(got, want):
        first = int(np.argwhere(got != want)[0][0])
        raise AssertionError(
            f"{label}: samples differ from sample {first} on (got {got[first].tolist()}, "
            f"expected {want[first].tolist()})"
        )
