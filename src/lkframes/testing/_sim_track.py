"""A simulated participant's published audio track (`SimulatedTrack`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from livekit import rtc
from numpy.typing import ArrayLike, NDArray

from .._core.errors import ParameterError
from ._sim_audio import Playout
from ._sim_stream import AFTER_END_S, SimulatedAudioStream

if TYPE_CHECKING:
    from ._sim_room import SimulatedParticipant, SimulatedRoom

__all__ = ("SimulatedTrack", "as_int16")


class SimulatedTrack:
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

    lkframes_simulated = True

    def __init__(self, owner: SimulatedParticipant, playout: Playout, name: str, at: float):
        self.owner = owner
        self.playout = playout
        self.name = name
        self.published_at = at
        self.sid = f"TR_{owner.identity}_{len(owner.scripted)}"
        self.kind = rtc.TrackKind.KIND_AUDIO
        self.source = rtc.TrackSource.SOURCE_MICROPHONE
        self.mime_type = "audio/opus"
        self.muted = False
        self.subscribed = False
        self.unpublished_at = math.inf
        self._ends_at = math.inf
        self._streams: list[SimulatedAudioStream] = []
        self.subscribed_at: float | None = None
        """When it was first subscribed (room clock), None until then."""

    @property
    def track(self) -> SimulatedTrack | None:
        """The subscribed track (this object), or None while not subscribed."""
        return self if self.subscribed else None

    @property
    def lkframes_room(self) -> SimulatedRoom | None:
        return self.owner.room if self.subscribed else None

    def mute(self, at: float) -> SimulatedTrack:
        """Mute at ``at`` seconds: the publisher sends silence until `unmute`."""
        self.playout.muted.append((at, math.inf))
        self.playout.changed()
        self.owner.room.script(at + self.owner.network.delay, self._set_muted, True)
        return self

    def unmute(self, at: float) -> SimulatedTrack:
        """Unmute at ``at`` seconds (after a `mute`)."""
        if not self.playout.muted or self.playout.muted[-1][1] != math.inf:
            raise ParameterError(f"unmute(at={at}) of {self.sid}: it was not muted before")
        begin, _ = self.playout.muted[-1]
        self.playout.muted[-1] = (begin, at)
        self.playout.changed()
        self.owner.room.script(at + self.owner.network.delay, self._set_muted, False)
        return self

    def unpublish(self, at: float) -> SimulatedTrack:
        """Stop publishing at ``at`` seconds."""
        self.unpublished_at = min(self.unpublished_at, at)
        self.playout.stop(at)
        self.owner.room.script(at + self.owner.network.delay, self.owner.unpublished, self)
        return self

    def lkframes_audio_stream(
        self, sample_rate: int, num_channels: int, frame_size_ms: int | None, capacity: int
    ) -> SimulatedAudioStream:
        room = self.owner.room
        stream = SimulatedAudioStream(
            self.playout,
            room.clock,
            max(room.clock(), self.subscribed_at or 0.0),
            sample_rate,
            num_channels,
            frame_size_ms or 10,
            capacity,
            lambda: self._ends_at,
        )
        self._streams.append(stream)
        return stream

    def lkframes_packets_received(self) -> int:
        return self.playout.packets_arrived(self.owner.room.clock())

    def subscribe(self, now: float) -> None:
        self.subscribed = True
        if self.subscribed_at is None:
            self.subscribed_at = now

    def unsubscribe(self, now: float) -> None:
        """Unsubscribed at ``now``: what is in flight still plays, then a little silence."""
        self.subscribed = False
        self._ends_at = max(now, self.playout.last_played_at()) + AFTER_END_S
        for stream in self._streams:
            stream.wake()

    def _set_muted(self, muted: bool) -> None:
        self.muted = muted
        self.owner.room.emit("track_muted" if muted else "track_unmuted", self.owner, self)


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
