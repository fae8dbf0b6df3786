"""A simulated participant's published tracks: `SimulatedTrack` (audio) and
`SimulatedVideoTrack`, each the publication and the subscribed track in one object."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol, Self

import numpy as np
from livekit import rtc
from numpy.typing import ArrayLike, NDArray

from .._core.errors import ParameterError
from ._sim_audio import Playout
from ._sim_stream import AFTER_END_S, SimulatedAudioStream

if TYPE_CHECKING:
    from ._sim_room import SimulatedParticipant, SimulatedRoom
    from ._sim_video import SimulatedVideoStream, VideoPlayout

__all__ = ("ScriptedTrack", "SimulatedTrack", "SimulatedVideoTrack", "as_int16")


READER_BEFORE_S, READER_AFTER_S = 0.03, 0.5
"""How far around a cell a reader of blocks asks the script to be quiet, at most (see
``lkframes.livekit._sdk.block_end``; `lkframes.from_room` asks this)."""


class _Playout(Protocol):
    """What a track's scripted mutes and ends change (`Playout`, `VideoPlayout`)."""

    muted: list[tuple[float, float]]

    def stop(self, at: float) -> None: ...
    def changed(self) -> None: ...
    def packets_arrived(self, now: float) -> int: ...


class _Stream(Protocol):
    def wake(self) -> None: ...


class ScriptedTrack:
    """What audio and video tracks share: the script (`mute`, `unmute`, `unpublish`), the
    subscription, and the SDK's attributes of a publication and of its track."""

    lkframes_simulated = True
    kind: rtc.TrackKind.ValueType
    source: rtc.TrackSource.ValueType
    mime_type: str

    def __init__(self, owner: SimulatedParticipant, playout: _Playout, name: str, at: float):
        self.owner = owner
        self.name = name
        self.published_at = at
        self.sid = f"TR_{owner.identity}_{len(owner.scripted)}"
        self.muted = False
        self.subscribed = False
        self.unpublished_at = math.inf
        self._ends_at = math.inf
        self._script = playout
        self._streams: list[_Stream] = []
        self.subscribed_at: float | None = None
        """When it was first subscribed (room clock), None until then."""

    @property
    def track(self) -> Self | None:
        """The subscribed track (this object), or None while not subscribed."""
        return self if self.subscribed else None

    @property
    def lkframes_room(self) -> SimulatedRoom | None:
        return self.owner.room if self.subscribed else None

    def mute(self, at: float) -> Self:
        """Mute at ``at`` seconds: the publisher sends silence (audio) or no frames
        (video) until `unmute`."""
        self._script.muted.append((at, math.inf))
        self._script.changed()
        self.owner.room.script(at + self.owner.network.delay, self._set_muted, True)
        return self

    def unmute(self, at: float) -> Self:
        """Unmute at ``at`` seconds (after a `mute`)."""
        muted = self._script.muted
        if not muted or muted[-1][1] != math.inf:
            raise ParameterError(f"unmute(at={at}) of {self.sid}: it was not muted before")
        muted[-1] = (muted[-1][0], at)
        self._script.changed()
        self.owner.room.script(at + self.owner.network.delay, self._set_muted, False)
        return self

    def unpublish(self, at: float) -> Self:
        """Stop publishing at ``at`` seconds."""
        self.unpublished_at = min(self.unpublished_at, at)
        self._script.stop(at)
        self.owner.room.script(at + self.owner.network.delay, self.owner.unpublished, self)
        return self

    def stop(self, at: float) -> None:
        """The publisher stops sending at ``at`` (they left or vanished)."""
        self._script.stop(at)

    def lkframes_packets_received(self) -> int:
        return self._script.packets_arrived(self.owner.room.clock())

    def subscribe(self, now: float) -> None:
        self.subscribed = True
        if self.subscribed_at is None:
            self.subscribed_at = now

    def unsubscribe(self, now: float) -> None:
        """Unsubscribed at ``now``: its streams end (`ends_after` says when)."""
        self.subscribed = False
        self._ends_at = self.ends_after(now)
        for stream in self._streams:
            stream.wake()

    def ends_after(self, now: float) -> float:
        """When its streams stop handing out frames after an unsubscription at ``now``."""
        return now

    def _set_muted(self, muted: bool) -> None:
        self.muted = muted
        self.owner.room.emit("track_muted" if muted else "track_unmuted", self.owner, self)


class SimulatedTrack(ScriptedTrack):
    """A published audio track: the publication and the subscribed track in one object.

    As a publication it has ``sid``, ``name``, ``kind``, ``source``, ``muted``,
    ``subscribed`` and ``track`` (itself once subscribed); as a track ``sid``, ``name``,
    ``kind`` and ``muted``. Script it with `mute`, `unmute` and `unpublish`.

    Examples:
        >>> import numpy as np
        >>> from lkframes.testing import SimulatedRoom
        >>> alice = SimulatedRoom().participant("alice")
        >>> mic = alice.publish_audio(np.zeros(48_000, np.int16), at=0.5)
        >>> mic.mute(at=1.0).unmute(at=2.0).unpublish(at=3.0).name
        'microphone'
    """

    kind = rtc.TrackKind.KIND_AUDIO
    source = rtc.TrackSource.SOURCE_MICROPHONE
    mime_type = "audio/opus"

    def __init__(self, owner: SimulatedParticipant, playout: Playout, name: str, at: float):
        super().__init__(owner, playout, name, at)
        self.playout = playout

    def lkframes_audio_stream(
        self,
        sample_rate: int,
        num_channels: int,
        frame_size_ms: int | None,
        capacity: int,
        blocks: bool = False,
    ) -> SimulatedAudioStream:
        """The subscription's stream; with ``blocks`` (and the room's ``block``, and an
        unbounded ring) the frames due within a quiet cell come as one frame."""
        room = self.owner.room
        batch = blocks and room.actions.block > 0 and capacity == 0
        stream = SimulatedAudioStream(
            self.playout,
            room,
            max(room.clock(), self.subscribed_at or 0.0),
            sample_rate,
            num_channels,
            frame_size_ms or 10,
            capacity,
            lambda: self._ends_at,
            (lambda at: room.actions.cell_end(at, *_batch_margins(room.actions.block)))
            if batch
            else None,
        )
        self._streams.append(stream)
        return stream

    def ends_after(self, now: float) -> float:
        """What is in flight still plays, then a little silence."""
        return max(now, self.playout.last_played_at()) + AFTER_END_S


class SimulatedVideoTrack(ScriptedTrack):
    """A published camera track: the publication and the subscribed track in one object.

    The same attributes as `SimulatedTrack` (``kind`` is ``KIND_VIDEO``, ``source``
    ``SOURCE_CAMERA``), and the publication's ``width`` and ``height`` (of the first
    frame). Its streams end at the unsubscription: what is still in the jitter buffer
    then is not handed out. Script it with `mute`, `unmute` and `unpublish`.

    Examples:
        >>> import numpy as np
        >>> from lkframes.testing import SimulatedRoom
        >>> alice = SimulatedRoom().participant("alice")
        >>> camera = alice.publish_video(np.zeros((30, 48, 64, 4), np.uint8), fps=30)
        >>> camera.mute(at=0.2).unmute(at=0.5).unpublish(at=3.0).width
        64
    """

    kind = rtc.TrackKind.KIND_VIDEO
    source = rtc.TrackSource.SOURCE_CAMERA
    mime_type = "video/vp8"

    def __init__(
        self, owner: SimulatedParticipant, playout: VideoPlayout, name: str, at: float
    ) -> None:
        super().__init__(owner, playout, name, at)
        self.playout = playout
        self.width, self.height = playout.size

    def lkframes_video_stream(self, buffer_type: Any, capacity: int) -> SimulatedVideoStream:
        from ._sim_video import SimulatedVideoStream

        room = self.owner.room
        stream = SimulatedVideoStream(
            self.playout,
            room,
            max(room.clock(), self.subscribed_at or 0.0),
            buffer_type,
            capacity,
            lambda: self._ends_at,
        )
        self._streams.append(stream)
        return stream

    def delivered(self) -> list[int]:
        """The index of each frame the subscription got, in order: what the network
        delivered from the subscription until the unsubscription (lost frames, frames
        sent while muted or in an outage left out), whether or not a stream read them.

        Raises:
            ParameterError: Frames from a generator not yet read to its end, on a track
                still subscribed and sending: there is no last frame yet.

        Examples:
            >>> import numpy as np
            >>> from lkframes.testing import Network, SimulatedRoom, run_virtual
            >>> room = SimulatedRoom()
            >>> alice = room.participant("alice", leaves=1.0, network=Network(delay=0.1))
            >>> camera = alice.publish_video(np.zeros((30, 2, 2, 4), np.uint8), fps=10)
            >>> import asyncio
            >>> async def main() -> None:
            ...     async with room:
            ...         await asyncio.sleep(2)
            >>> run_virtual(main)
            >>> camera.delivered()  # the frames sent from 0 s until she left at 1 s
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        """
        if self.subscribed_at is None:
            return []
        return self.playout.delivered(self.subscribed_at, self._ends_at)


def _batch_margins(block: float) -> tuple[float, float]:
    """How far around a cell a stream asks the script to be quiet before it hands out the
    cell's frames at once: wherever a reader goes frame by frame (its own margins, around
    a cell up to one away), so do the frames it reads, on time."""
    return block + READER_BEFORE_S, block + READER_AFTER_S + 0.03


def as_int16(samples: ArrayLike, what: str) -> NDArray[np.int16]:
    """``samples`` as (frames, channels) int16 (floats in -1..1 scaled)."""
    data = np.asarray(samples)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] < 1 or data.shape[0] == 0:
        raise ParameterError(f"{what}: samples must be shaped (frames,) or (frames, channels)")
    if data.dtype == np.int16:
        return np.ascontiguousarray(data)
    if not np.issubdtype(data.dtype, np.floating):
        raise ParameterError(f"{what}: samples must be int16 or floats (got {data.dtype})")
    scaled: NDArray[np.int16] = np.round(np.clip(data, -1.0, 1.0) * 32767).astype(np.int16)
    return scaled
