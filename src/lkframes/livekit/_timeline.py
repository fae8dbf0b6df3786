"""A room's audio on one wall-clock timeline: where each participant's frames go, by arrival.

Pure bookkeeping (no SDK, no clock of its own): `from_room` tells it when each frame
arrived and asks it for blocks of the timeline; tests drive it with made-up arrivals.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from .._core.format import AudioFormat

__all__ = ("CATCH_UP_S", "FRAME_S", "SHIFT_S", "Timeline")

FRAME_S = 0.01
"""LiveKit hands a subscriber its audio 10 ms at a time, each frame as it begins to play
(its audio is pulled at each 10 ms tick), so a frame's first sample played out when it
arrived, or earlier by however late the event loop was. A longer frame (a simulated
room's ``block``: several frames at once) arrives as its last 10 ms begin."""

SHIFT_S = 0.005
"""Once some of a segment was handed out, its start moves earlier only when the arrivals
show it this much too late: each move drops the samples that overlap what went out (a
click), and the event loop's jitter finds a new earliest arrival, a fraction of a
millisecond earlier, every few seconds (measured through livekit-server: 2-3 clicks in
5 s without this)."""

CATCH_UP_S = 0.2
"""A frame arriving this much later than its participant's sample count says starts a new
segment (a gap: a new track, or a participant back after leaving) placed by its arrival."""


class _Segment:
    """Contiguous audio of one participant (one track, most often).

    ``start`` is when sample 0 played out, on the monotonic clock: the earliest that the
    arrivals allow (each frame arrives at or after the time its last 10 ms began to play,
    by however late the event loop was: `FRAME_S`), so it only ever moves earlier (by
    `SHIFT_S` or more once handed out). ``floor`` is the timeline position the previous
    segment ended at: the two never overlap.
    """

    def __init__(self, start: float, floor: int) -> None:
        self.start = start
        self.floor = floor
        self.received = 0  # samples added
        self.consumed = 0  # samples taken or dropped as late
        self.chunks: deque[NDArray[np.int16]] = deque()
        self.head = 0  # index (into the segment) of chunks[0][0]

    def position(self, zero: float, rate: int) -> int:
        """The timeline position of sample 0."""
        return max(round((self.start - zero) * rate), self.floor)

    def take(self, lo: int, hi: int) -> Iterator[tuple[int, NDArray[np.int16]]]:
        """The received samples with indices in [lo, hi) as (index, data) pieces; what
        comes before ``lo`` and was not taken yet is dropped."""
        self.consumed = max(self.consumed, min(lo, self.received))
        while self.chunks and self.head + self.chunks[0].shape[0] <= self.consumed:
            self.head += self.chunks.popleft().shape[0]
        index = self.head
        for chunk in self.chunks:
            if index >= hi:
                break
            first, last = max(lo, index), min(hi, index + chunk.shape[0])
            if first < last:
                yield first, chunk[first - index : last - index]
            index += chunk.shape[0]
        self.consumed = max(self.consumed, min(hi, self.received))


class Timeline:
    """Every participant's audio placed on one timeline whose position 0 is ``zero``.

    A frame's place is found from its arrival time (`add`); `block` then gives each
    participant's samples for a stretch of the timeline. Audio that arrives after its
    stretch was given out is dropped and counted in ``late``.
    """

    def __init__(self, fmt: AudioFormat, zero: float) -> None:
        self.format = fmt
        self.zero = zero
        self.late = 0  # samples (per channel) dropped for arriving after their place went
        self.placed: dict[str, int] = {}  # samples given out per participant
        self._segments: dict[str, list[_Segment]] = {}
        self._taken = 0  # the timeline is given out up to here
        self._frame = max(1, round(FRAME_S * fmt.sample_rate))

    def add(self, identity: str, data: NDArray[np.int16], arrived: float) -> None:
        """Place ``data`` (samples x channels), ``identity``'s next frame, by its arrival
        (when its last 10 ms began to play, or later: `FRAME_S`)."""
        rate = self.format.sample_rate
        segments = self._segments.setdefault(identity, [])
        last = segments[-1] if segments else None
        n = data.shape[0]
        before = max(n - self._frame, 0)  # the samples before its last 10 ms
        if last is None or arrived - (last.start + (last.received + before) / rate) > CATCH_UP_S:
            floor = 0 if last is None else last.position(self.zero, rate) + last.received
            last = _Segment(arrived - before / rate, floor)
            segments.append(last)
        else:
            earliest = arrived - (last.received + before) / rate
            if earliest < last.start - (0 if last.consumed == 0 else SHIFT_S):
                last.start = earliest
        last.chunks.append(data)
        last.received += n

    def block(self, length: int) -> dict[str, NDArray[np.int16]]:
        """The next ``length`` samples of the timeline: each participant with audio in it,
        silence where theirs has not arrived (and for the time before it started)."""
        rate, channels = self.format.sample_rate, self.format.num_channels
        lo, hi = self._taken, self._taken + length
        out: dict[str, NDArray[np.int16]] = {}
        for identity, segments in self._segments.items():
            block: NDArray[np.int16] | None = None
            for segment in segments:
                at = segment.position(self.zero, rate)
                before = segment.consumed
                for index, data in segment.take(lo - at, hi - at):
                    if block is None:
                        block = np.zeros((length, channels), np.int16)
                    start = at + index - lo
                    block[start : start + data.shape[0]] = data
                    self.placed[identity] = self.placed.get(identity, 0) + data.shape[0]
                self.late += max(0, min(lo - at, segment.received) - before)
            if block is not None:
                out[identity] = block
            _drop_finished(segments)
        self._taken = hi
        return out

    def forget(self, identity: str) -> None:
        """Drop a participant once everything of theirs was given out (they left)."""
        segments = self._segments.get(identity)
        if segments is not None and all(s.consumed >= s.received for s in segments):
            del self._segments[identity]

    @property
    def heard_until(self) -> int:
        """The timeline position after the last sample received."""
        rate = self.format.sample_rate
        ends = [
            segments[-1].position(self.zero, rate) + segments[-1].received
            for segments in self._segments.values()
        ]
        return max(ends, default=0)

    @property
    def taken(self) -> int:
        """How far the timeline was given out (samples)."""
        return self._taken


def _drop_finished(segments: list[_Segment]) -> None:
    """Forget the segments given out in full that a later one follows."""
    while len(segments) > 1 and segments[0].consumed >= segments[0].received:
        segments.pop(0)
