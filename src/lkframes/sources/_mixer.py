"""`Mixer`: the pts-aligned sum behind `mix`, block by block."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.checks import FormatGuard
from .._core.errors import FormatError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.samples import round_to_int16

__all__ = ("Mixer",)


class _Input:
    """One stream being mixed: its pieces not yet mixed, and how far its content is known."""

    __slots__ = ("ended", "frames", "gain", "known", "pieces")

    def __init__(self, frames: AsyncIterator[AudioFrame], gain: float) -> None:
        self.frames = frames
        self.gain = gain
        self.pieces: deque[tuple[int, NDArray[Any]]] = deque()  # (pts, samples)
        self.known: int | None = None  # the content up to this pts has arrived
        self.ended = False

    async def pull(self, guard: FormatGuard) -> None:
        """Read one more frame, or note the end of the stream."""
        try:
            frame = await anext(self.frames)
        except StopAsyncIteration:
            self.ended = True
            return
        guard(frame)
        if self.known is not None and frame.pts < self.known:
            raise FormatError(
                "mix: a stream's pts went backwards", f"pts >= {self.known}", frame.pts
            )
        if frame.samples_per_channel:
            self.pieces.append((frame.pts, frame.data))
        self.known = frame.end_pts

    def add_into(self, out: NDArray[np.float32], start: int) -> None:
        """Add this input's samples in ``[start, start + len(out))`` and drop them."""
        end = start + out.shape[0]
        while self.pieces:
            pts, data = self.pieces[0]
            if pts >= end:
                break
            stop = pts + data.shape[0]
            lo, hi = max(pts, start), min(stop, end)
            if hi > lo:
                part = data[lo - pts : hi - pts]
                if self.gain == 1.0:
                    out[lo - start : hi - start] += part
                else:
                    out[lo - start : hi - start] += part * np.float32(self.gain)
            if stop <= end:
                self.pieces.popleft()
            else:
                self.pieces[0] = (end, data[end - pts :])
                break

    def buffered_end(self) -> int | None:
        return self.pieces[-1][0] + self.pieces[-1][1].shape[0] if self.pieces else None


class Mixer:
    """Sums streams by pts, one output block at a time, reading each only as far as needed."""

    def __init__(
        self,
        frames: Sequence[AsyncIterator[AudioFrame]],
        gains: Sequence[float],
        guard: FormatGuard,
    ) -> None:
        self._inputs = [_Input(f, g) for f, g in zip(frames, gains, strict=True)]
        self._guard = guard
        self._cursor: int | None = None

    async def next_block(self) -> AudioFrame | None:
        """The next block of the mix, or None at the end."""
        inputs = self._inputs
        if self._cursor is None:
            for one in inputs:
                while not one.ended and not one.pieces:
                    await one.pull(self._guard)
            starts = [one.pieces[0][0] for one in inputs if one.pieces]
            if not starts:
                return None
            self._cursor = min(starts)
        start = self._cursor
        for one in inputs:
            while not one.ended and (one.known is None or one.known <= start):
                await one.pull(self._guard)
        live = [one.known for one in inputs if not one.ended and one.known is not None]
        if live:
            end = min(live)
        else:
            ends = [e for e in (one.buffered_end() for one in inputs) if e is not None]
            if not ends:
                return None
            end = max(ends)
        fmt = self._guard.format
        assert fmt is not None
        end = min(end, start + fmt.sample_rate)  # at most 1 s per block, however long a gap
        out = np.zeros((end - start, fmt.num_channels), np.float32)
        for one in inputs:
            one.add_into(out, start)
        self._cursor = end
        return AudioFrame.of(_as_format(out, fmt), fmt, start)


def _as_format(mixed: NDArray[np.float32], fmt: AudioFormat) -> NDArray[Any]:
    return mixed if fmt.dtype == "float32" else round_to_int16(mixed)
