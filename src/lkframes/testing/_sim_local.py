"""Publishing into a `SimulatedRoom`: your own participant, its audio sources and tracks.

``lk.publish(room, ...)`` (through lkframes' SDK adapter) makes a `SimulatedAudioSource`
and a `SimulatedLocalTrack` instead of LiveKit's; the source plays in real time on the
room's clock, as ``rtc.AudioSource`` does, and keeps what it played, so a test can read
what your code published: ``room.local_participant.published["name"]``.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ._sim_room import SimulatedRoom

__all__ = ("Published", "SimulatedAudioSource", "SimulatedLocalParticipant", "SimulatedLocalTrack")

_sids = itertools.count()


class SimulatedAudioSource:
    """``rtc.AudioSource``'s shape: ``capture_frame`` waits while more than
    ``queue_size_ms`` is queued ahead of real time (the room's clock), and each frame
    plays when the one before it has."""

    lkframes_simulated = True

    def __init__(self, room: SimulatedRoom, sample_rate: int, num_channels: int, queue_ms: int):
        self._room = room
        self.sample_rate = sample_rate
        self.num_channels = num_channels
        self._queue_s = queue_ms / 1000
        self._until = 0.0
        self.chunks: list[tuple[float, NDArray[np.int16]]] = []
        """(when it plays on the room's clock, samples) of every captured frame."""

    @property
    def queued_duration(self) -> float:
        """Seconds captured but not yet played."""
        return max(0.0, self._until - self._room.clock())

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        """Queue ``frame`` to play after what is queued; wait while the queue is full."""
        ahead = self.queued_duration - self._queue_s
        if ahead > 0:
            await asyncio.sleep(ahead)
        data = np.frombuffer(frame.data, np.int16).reshape(-1, frame.num_channels).copy()
        start = max(self._room.clock(), self._until)
        self.chunks.append((start, data))
        self._until = start + frame.samples_per_channel / frame.sample_rate

    async def wait_for_playout(self) -> None:
        """Until everything captured has played."""
        await asyncio.sleep(self.queued_duration)

    def clear_queue(self) -> None:
        """Drop what has not played yet."""
        now = self._room.clock()
        self.chunks[:] = [(at, data) for at, data in self.chunks if at < now]
        self._until = min(self._until, now)

    async def aclose(self) -> None:
        """Nothing to release."""


class SimulatedLocalTrack:
    """``rtc.LocalAudioTrack``'s shape, fed by a `SimulatedAudioSource`."""

    lkframes_simulated = True

    def __init__(self, name: str, source: SimulatedAudioSource) -> None:
        self.name = name
        self.source = source
        self.sid = f"TR_local_{next(_sids)}"
        self.kind = rtc.TrackKind.KIND_AUDIO
        self.muted = False


class Published:
    """What your code published on one track: its audio on the room's clock.

    Examples:
        >>> from lkframes.testing._sim_local import Published
        >>> Published("echo", []).audio().shape
        (0, 1)
    """

    def __init__(self, name: str, chunks: list[tuple[float, NDArray[np.int16]]]) -> None:
        self.name = name
        self.chunks = chunks

    @property
    def started_at(self) -> float | None:
        """When its first sample played (room clock), None if nothing was captured."""
        return self.chunks[0][0] if self.chunks else None

    def audio(self) -> NDArray[np.int16]:
        """Everything it played, in order, as (samples, channels) int16."""
        if not self.chunks:
            return np.zeros((0, 1), np.int16)
        return np.concatenate([data for _, data in self.chunks])


class SimulatedLocalParticipant:
    """``room.local_participant`` of a `SimulatedRoom`: ``identity``, ``sid``,
    ``track_publications``, ``publish_track`` and ``unpublish_track`` as the SDK's, and
    ``published``: what each track (by name) played."""

    lkframes_simulated = True

    def __init__(self, room: SimulatedRoom, identity: str) -> None:
        self._room = room
        self.identity = identity
        self.sid = f"PA_{identity}"
        self.track_publications: dict[str, Any] = {}
        self.published: dict[str, Published] = {}

    async def publish_track(self, track: Any, options: Any = None) -> Any:
        """Publish a `SimulatedLocalTrack`; returns its publication (``sid``, ``name``)."""
        if not isinstance(track, SimulatedLocalTrack):
            raise TypeError(
                "a SimulatedRoom publishes tracks lkframes made for it (lk.publish), "
                f"not {type(track).__name__}"
            )
        self.track_publications[track.sid] = track
        self.published[track.name] = Published(track.name, track.source.chunks)
        self._room.emit("local_track_published", track, track)
        return track

    async def unpublish_track(self, sid: str) -> None:
        """Unpublish the track ``sid``."""
        track = self.track_publications.pop(sid, None)
        if track is None:
            raise ValueError(f"track {sid!r} is not published")
        self.published[track.name] = Published(track.name, track.source.chunks)
        self._room.emit("local_track_unpublished", track)
