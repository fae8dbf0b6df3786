"""A simulated track's streams: frames handed out on time, through a ring as the SDK's.

`HandOut` is what the audio and the video stream share: a ring of ``capacity`` frames
(0: unbounded) that drops its oldest when the reader falls behind, as the SDK's
``RingQueue`` does, the ``on_put`` hook, waiting for the room's clock, and closing.
`SimulatedAudioStream` is LiveKit's 10 ms audio frames.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from .._core.loops import Waiter
from ._sim_audio import Playout

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("AFTER_END_S", "HandOut", "SimulatedAudioStream")

AFTER_END_S = 0.17
"""After the audio in flight at an unsubscription has played, LiveKit hands out about
this much digital silence, then nothing (measured against livekit-server 1.13)."""

E = TypeVar("E")


class RoomClock(Protocol):
    """What a stream needs of its room: its clock, and its script brought up to date."""

    def clock(self) -> float:
        """Seconds since the room was entered."""

    def catch_up(self) -> None:
        """Do every scripted action due by now that has not been done yet."""

    def behind(self) -> bool:
        """Whether a scripted action is due by now and not done yet."""


@dataclass(frozen=True)
class _Event:
    """The shape of the SDK's ``AudioFrameEvent``."""

    frame: rtc.AudioFrame


class HandOut(Generic[E]):
    """The events of one subscription, each put in the ring when it is due on the room's
    clock. Subclasses say what is due (`produce`), when the next is (`next_due`), and
    whether the iteration is over (`over`; the SDK's ends only when closed).

    At any moment, what the script does then (an unsubscription, a mute) happens before
    the frames due then are handed out, whichever task the event loop runs first (trio
    runs tasks woken together in a random order): a reader brings the script up to date
    (`RoomClock.catch_up`) before it looks, so the frames do not depend on the order.
    """

    lkframes_simulated = True

    def __init__(self, room: RoomClock, capacity: int) -> None:
        self._clock = room.clock
        self._catch_up = room.catch_up
        self._behind = room.behind
        self._capacity = capacity
        self._ring: deque[E] = deque()
        self._on_put: list[Callable[[int], None]] = []
        self._closed = False
        self._waiter = Waiter()

    def lkframes_on_put(self, before: Callable[[int], None]) -> None:
        """Call ``before(queued)`` as each frame is put into the ring (see ``_sdk.on_put``)."""
        self._on_put.append(before)

    def __aiter__(self) -> HandOut[E]:
        return self

    async def __anext__(self) -> E:
        while True:
            self._catch_up()
            self.produce()
            if self._ring:
                return self._ring.popleft()
            if self.over():
                raise StopAsyncIteration
            await self._wait(self.next_due())

    async def aclose(self) -> None:
        """End the iteration (a reader waiting for a frame gets StopAsyncIteration)."""
        self._closed = True
        self._ring.clear()
        self._waiter.wake()

    def produce(self) -> None:
        """Put what is due by now into the ring."""
        raise NotImplementedError

    def next_due(self) -> float:
        """When the next event is due (room clock; inf: none until `wake`)."""
        raise NotImplementedError

    def over(self) -> bool:
        """Whether the iteration ends once the ring is empty."""
        return self._closed

    def put(self, event: E, frames: int = 1) -> None:
        """Put ``event`` (of ``frames`` frames: the ``on_put`` hooks see each) in the ring."""
        for before in self._on_put:
            for _ in range(frames):
                before(len(self._ring))
        if self._capacity and len(self._ring) >= self._capacity:
            self._ring.popleft()
        self._ring.append(event)

    async def _wait(self, due: float) -> None:
        """Until the room's clock reaches ``due`` (forever if infinite), or a `wake`."""
        await self._waiter.wait(due - self._clock())

    def wake(self) -> None:
        """Look again: the script changed (the track was unsubscribed, the stream ended)."""
        self._waiter.wake()

    def lkframes_ready(self) -> bool:
        """Whether a frame is there to be read now, or may be: a scripted action is due
        (which only a reader's task runs: its listeners may need one)."""
        if self._behind():
            return True
        self.produce()
        return bool(self._ring)


class SimulatedAudioStream(HandOut[_Event]):
    """Frames of one subscription, cut on the subscriber's grid from ``start`` (room clock).

    A ring of ``capacity`` frames (0: unbounded) drops its oldest, as the SDK's does, when
    the reader falls behind. Iteration ends only when the stream is closed, as the SDK's.

    With ``cell_end`` (the room's ``block``, asked for by one of lkframes' readers), the
    frames due within a quiet cell of the room's clock (``cell_end(due)`` its end, None
    where the script is not quiet) are handed out together, as one frame, when the last
    of them is due; after the unsubscription, frame by frame again.
    """

    def __init__(
        self,
        playout: Playout,
        room: RoomClock,
        start: float,
        rate: int,
        channels: int,
        frame_ms: int,
        capacity: int,
        ended_at: Callable[[], float],
        cell_end: Callable[[float], float | None] | None = None,
    ) -> None:
        super().__init__(room, capacity)
        self._playout = playout
        self._start = start
        self._rate = rate
        self._channels = channels
        self._samples = rate * frame_ms // 1000
        self._step = frame_ms / 1000
        self._ended_at = ended_at
        self._cell_end = cell_end
        self._next = 0
        self.handed_out = 0
        """How many times frames were put into the ring (a block counts once)."""

    def _due(self, index: int) -> float:
        """When frame ``index`` is handed out: once the jitter buffer released its last sample."""
        return self._start + (index + 1) * self._step

    def _last_with(self, index: int) -> int:
        """The last frame handed out together with frame ``index``: itself, or within a
        quiet cell the last one due before the cell ends."""
        if self._cell_end is None or math.isfinite(self._ended_at()):
            return index
        end = self._cell_end(self._due(index))
        if end is None:
            return index
        last = max(index, math.floor((end - self._start) / self._step) - 1)
        while last > index and self._due(last) >= end:
            last -= 1
        while self._due(last + 1) < end:
            last += 1
        return last

    def next_due(self) -> float:
        begin = self._start + self._next * self._step
        if begin >= self._ended_at():
            return math.inf
        return self._due(self._last_with(self._next))

    def produce(self) -> None:
        now, end = self._clock(), self._ended_at()
        while not self._closed and self._due(self._next) <= now:
            begin = self._start + self._next * self._step
            if begin >= end:
                break
            last = self._last_with(self._next)
            while self._due(last) > now:
                last -= 1
            count = last - self._next + 1
            if count == 1:
                data = self._playout.frame(begin, self._rate, self._channels, self._samples)
            else:
                starts = self._start + np.arange(self._next, last + 1) * self._step
                data = self._playout.frames(starts, self._rate, self._channels, self._samples)
            samples = self._samples * count
            frame = _rtc().AudioFrame(data.tobytes(), self._rate, self._channels, samples)
            self.put(_Event(frame), count)
            self._next += count
            self.handed_out += 1


@functools.cache
def _rtc() -> Any:
    from livekit import rtc

    return rtc
