"""What a simulated participant's camera looks like at the subscriber: frames sent at a
frame rate, a network, a jitter buffer, and the ``VideoFrameEvent``s of a
``VideoStream``.

The model (see docs/cookbook/test-without-a-server.md for what it leaves out):

- Frame ``k`` leaves the publisher at ``published_at + k / fps`` on the room's clock (at
  ``k / fps / (1 + drift_ppm / 1e6)`` when its clock runs fast or slow).
- A frame is lost whole with probability ``loss`` (the track's own generator, seeded
  from the room's: the same seed, the same losses), and every frame sent during an
  outage, while muted (LiveKit forwards nothing of a muted camera) or after the
  publisher stopped is missing. A lost frame is not replaced and nothing else is lost
  with it (WebRTC would lose the frames that depend on it until the next key frame).
- The others arrive ``delay`` ± uniform ``jitter`` after they were sent; the jitter
  buffer shows each ``delay + jitter`` after it was sent (a fixed buffer as deep as the
  worst delay), so they come out in order, evenly spaced, and no frame is too late.
- The subscriber's stream hands a frame over when it is shown, with ``timestamp_us``
  that moment on the event loop's clock (``lkframes``' monotonic clock), from the
  subscription on, until the unsubscription. Pixels are the published ones, converted
  by LiveKit when another layout is asked for (no codec loss).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

from .._core.errors import ParameterError
from .._core.video import TO_LIVEKIT_AS, VideoFrame, buffer_type
from ._sim_audio import Network
from ._sim_stream import HandOut

if TYPE_CHECKING:
    from ._sim_room import SimulatedRoom

__all__ = ("SimulatedVideoStream", "VideoFrames", "VideoInput", "VideoPlayout")

VideoInput: TypeAlias = NDArray[np.uint8] | Iterable[NDArray[np.uint8] | VideoFrame]
"""What `SimulatedParticipant.publish_video` takes: an array of frames, or frames one by one."""

BLOCK = 256
"""Frames whose losses and delays are drawn at once (always in blocks of this size, so
the draws do not depend on how far a stream has read)."""


def _as_frame(item: object, what: str, index: int) -> VideoFrame:
    """``item`` (an RGBA or RGB uint8 array, or a `VideoFrame`) as a `VideoFrame`; RGB
    becomes RGBA (opaque), as LiveKit does not convert from RGB to other packed layouts,
    and ``bgr24`` or ``gray`` BGRA, as `lkframes.to_video_source` hands them to LiveKit."""
    if isinstance(item, VideoFrame):
        if item.pixel_format in ("bgr24", "gray"):
            return item.convert(TO_LIVEKIT_AS)
        if item.pixel_format != "rgb24":
            return item
        item = item.data
    if not isinstance(item, np.ndarray) or item.dtype != np.uint8 or item.ndim != 3:
        raise ParameterError(
            f"{what}: frame {index} must be a uint8 (height, width, 4) RGBA or (height, "
            f"width, 3) RGB array, or an lkframes.VideoFrame (got {_describe(item)})"
        )
    if item.shape[2] == 3:
        alpha = np.full((*item.shape[:2], 1), 255, np.uint8)
        return VideoFrame(np.concatenate([item, alpha], axis=2))
    if item.shape[2] != 4:
        raise ParameterError(
            f"{what}: frame {index} has {item.shape[2]} channels (expected 3 or 4)"
        )
    return VideoFrame(np.ascontiguousarray(item))


def _describe(item: object) -> str:
    if isinstance(item, np.ndarray):
        return f"a {item.dtype} array shaped {item.shape}"
    return type(item).__name__


class VideoFrames:
    """The published frames, made when first asked for: an array's by index, an
    iterable's in order (a generator is read once, as far as streams read it). Frames
    no stream can ask for any more are let go (`forget_before`)."""

    def __init__(self, frames: VideoInput, what: str) -> None:
        self._what = what
        self._array: NDArray[np.uint8] | None = None
        self._items: Iterator[object] | None = None
        self._made: dict[int, VideoFrame] = {}
        self._read = 0  # items taken from the iterable
        self.count: int | None = None
        """How many frames there are, once known."""
        if isinstance(frames, np.ndarray):
            if frames.ndim != 4 or frames.shape[0] == 0:
                raise ParameterError(
                    f"{what}: an array of frames is shaped (frames, height, width, 4 or 3) "
                    f"(got {frames.shape})"
                )
            self._array, self.count = frames, int(frames.shape[0])
        elif isinstance(frames, VideoFrame) or not isinstance(frames, Iterable):
            raise ParameterError(
                f"{what}: frames must be an array, a list or an iterable of frames "
                f"(got {type(frames).__name__})"
            )
        else:
            self._items = iter(frames)
        first = self.get(0)
        if first is None:
            raise ParameterError(f"{what}: no frames")
        self.size = (first.width, first.height)

    def get(self, index: int) -> VideoFrame | None:
        """Frame ``index``, or None past the last."""
        if self.count is not None and index >= self.count:
            return None
        if self._array is not None:
            return _as_frame(self._array[index], self._what, index)
        made = self._made.get(index)
        if made is not None:
            return made
        assert self._items is not None
        assert index >= self._read, "a forgotten frame"
        for item in itertools.islice(self._items, index - self._read + 1):
            self._made[self._read] = _as_frame(item, self._what, self._read)
            self._read += 1
        if index >= self._read:
            self.count = self._read
            return None
        return self._made[index]

    def forget_before(self, index: int) -> None:
        """No stream will ask for a frame before ``index``."""
        for old in [k for k in self._made if k < index]:
            del self._made[old]


class VideoPlayout:
    """One published camera track as the subscriber's jitter buffer shows it."""

    def __init__(
        self, frames: VideoFrames, fps: float, at: float, network: Network, seed: int
    ) -> None:
        self.frames = frames
        self.size = frames.size
        self.published_at = at
        self.network = network
        self.muted: list[tuple[float, float]] = []
        """(from, to) on the room's clock while the publisher was muted (sent nothing)."""
        self.stopped_at = math.inf
        self._period = 1 / (fps * network.speed)
        self._rng = np.random.default_rng(seed)
        self._draws: list[tuple[NDArray[np.float64], NDArray[np.bool_]]] = []
        self.readers: list[Callable[[], int]] = []
        """The next frame each open stream will hand out."""

    def sent_at(self, index: int) -> float:
        """When frame ``index`` left the publisher (room clock)."""
        return self.published_at + index * self._period

    def shown_at(self, index: int) -> float:
        """When the subscriber shows frame ``index`` (room clock)."""
        return self.sent_at(index) + self.network.delay + self.network.jitter

    def first_shown_from(self, start: float) -> int:
        """The first frame shown at or after ``start``."""
        buffer = self.network.delay + self.network.jitter
        index = max(0, math.floor((start - self.published_at - buffer) / self._period))
        while self.shown_at(index) < start:
            index += 1
        return index

    def arrives(self, index: int) -> bool:
        """Whether frame ``index`` is sent and reaches the subscriber."""
        sent = self.sent_at(index)
        if sent >= self.stopped_at or self._drawn(index)[1]:
            return False
        gaps = (*self.network.outages, *self.muted)
        return not any(begin <= sent < end for begin, end in gaps)

    def delivered(self, begin: float, end: float) -> list[int]:
        """The frames a stream from ``begin`` hands out before ``end`` (room clock): each
        that was sent and arrived, shown in ``[begin, end)``, by index.

        Frames past the end of a generator not yet read to its end count as sent.
        """
        out: list[int] = []
        index, count = self.first_shown_from(begin), self.frames.count
        if count is None and math.isinf(min(end, self.stopped_at)):
            raise ParameterError(
                "delivered(): a camera from a generator that has not ended, still "
                "subscribed and sending, has no last frame yet"
            )
        while self.shown_at(index) < end and (count is None or index < count):
            if self.sent_at(index) >= self.stopped_at:
                break
            if self.arrives(index):
                out.append(index)
            index += 1
        return out

    def packets_arrived(self, now: float) -> int:
        """How many frames the subscriber received by ``now``."""
        count, index = 0, 0
        while self.sent_at(index) <= now and (self.frames.count or math.inf) > index:
            arrived = self.sent_at(index) + self.network.delay + self._drawn(index)[0]
            count += arrived <= now and self.arrives(index)
            index += 1
        return count

    def _drawn(self, index: int) -> tuple[float, bool]:
        """Frame ``index``'s network delay beyond ``delay``, and whether it is lost."""
        net = self.network
        while len(self._draws) <= index // BLOCK:
            jitter = self._rng.uniform(-net.jitter, net.jitter, BLOCK) if net.jitter else None
            lost = self._rng.random(BLOCK) < net.loss if net.loss else None
            self._draws.append(
                (
                    np.zeros(BLOCK) if jitter is None else jitter,
                    np.zeros(BLOCK, bool) if lost is None else lost,
                )
            )
        offsets, lost = self._draws[index // BLOCK]
        return float(offsets[index % BLOCK]), bool(lost[index % BLOCK])

    def stop(self, at: float) -> None:
        """The publisher stops sending at ``at`` (if not earlier)."""
        self.stopped_at = min(self.stopped_at, at)

    def changed(self) -> None:
        """The script changed (nothing is worked out ahead: nothing to do)."""

    def release(self, now: float) -> None:
        """Let go of the frames no stream will hand out any more."""
        needed = [reader() for reader in self.readers]
        self.frames.forget_before(min([*needed, self.first_shown_from(now)]))


class SimulatedVideoStream(HandOut[rtc.VideoFrameEvent]):
    """``rtc.VideoStream``'s shape for one subscription: each frame that arrived, handed
    over when it is shown (from ``start`` on, room clock), as a ``VideoFrameEvent``.

    Iteration ends when the stream is closed, or, after ``lkframes_end``, once what was
    due by then has been read (the SDK's end-of-stream marker).
    """

    def __init__(
        self,
        playout: VideoPlayout,
        room: SimulatedRoom,
        start: float,
        buffer: Any,
        capacity: int,
        ended_at: Callable[[], float],
    ) -> None:
        super().__init__(room, capacity)
        self._playout = playout
        self._room = room
        self._type = buffer
        self._ended_at = ended_at
        self._end_at = math.inf
        self._next = playout.first_shown_from(start)
        playout.readers.append(self._reading)

    def _reading(self) -> int:
        return self._next

    def lkframes_end(self) -> None:
        """End the iteration after what is due now (as the SDK's end-of-stream marker)."""
        self._end_at = min(self._end_at, self._clock())
        self.wake()

    def over(self) -> bool:
        return self._closed or self._clock() >= self._end_at

    def next_due(self) -> float:
        playout = self._playout
        due = playout.shown_at(self._next)
        count = playout.frames.count
        gone = (count is not None and self._next >= count) or (
            playout.sent_at(self._next) >= playout.stopped_at  # nothing more is sent
        )
        return math.inf if gone or due >= min(self._ended_at(), self._end_at) else due

    def produce(self) -> None:
        playout = self._playout
        now, end = self._clock(), min(self._ended_at(), self._end_at)
        while not self._closed:
            shown = playout.shown_at(self._next)
            if shown > now or shown >= end:
                break
            if playout.arrives(self._next):
                frame = playout.frames.get(self._next)
                if frame is None:
                    break  # the publisher had no more
                self.put(self._event(frame, shown))
            self._next += 1
        playout.release(now)

    def _event(self, frame: VideoFrame, shown: float) -> rtc.VideoFrameEvent:
        kind: Any = buffer_type(frame.pixel_format)
        out = rtc.VideoFrame(frame.width, frame.height, kind, bytearray(frame.data))
        if self._type is not None and int(self._type) != int(kind):
            out = out.convert(self._type)
        upright: Any = rtc.VideoRotation.VIDEO_ROTATION_0  # the SDK's own hint is wrong
        return rtc.VideoFrameEvent(
            frame=out, timestamp_us=round(self._room.loop_time(shown) * 1e6), rotation=upright
        )

    async def aclose(self) -> None:
        await super().aclose()
        if self._reading in self._playout.readers:
            self._playout.readers.remove(self._reading)
