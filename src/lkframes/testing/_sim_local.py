"""Publishing into a `SimulatedRoom`: your own participant, its sources and tracks.

``lk.publish(room, ...)`` and ``lk.publish_media(room, ...)`` (through lkframes' SDK
adapter) make a `SimulatedAudioSource` / `SimulatedVideoSource` and a
`SimulatedLocalTrack` instead of LiveKit's; the audio source plays in real time on the
room's clock, as ``rtc.AudioSource`` does, a video frame is sent when it is captured, as
with ``rtc.VideoSource``, and both keep what they sent, so a test can read what your code
published: ``room.local_participant.published["name"]``.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np
from livekit import rtc
from numpy.typing import NDArray

from .._core.video import VideoFrame

if TYPE_CHECKING:
    from ._sim_room import SimulatedRoom

__all__ = (
    "Published",
    "SimulatedAudioSource",
    "SimulatedLocalParticipant",
    "SimulatedLocalTrack",
    "SimulatedVideoSource",
)

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
            await anyio.sleep(ahead)
        data = np.frombuffer(frame.data, np.int16).reshape(-1, frame.num_channels).copy()
        start = max(self._room.clock(), self._until)
        self.chunks.append((start, data))
        self._until = start + frame.samples_per_channel / frame.sample_rate

    async def wait_for_playout(self) -> None:
        """Until everything captured has played."""
        await anyio.sleep(self.queued_duration)

    def clear_queue(self) -> None:
        """Drop what has not played yet."""
        now = self._room.clock()
        self.chunks[:] = [(at, data) for at, data in self.chunks if at < now]
        self._until = min(self._until, now)

    async def aclose(self) -> None:
        """Nothing to release."""


class SimulatedVideoSource:
    """``rtc.VideoSource``'s shape: ``capture_frame`` sends the frame now (it never
    waits), kept with when it was sent on the room's clock."""

    lkframes_simulated = True

    def __init__(self, room: SimulatedRoom, width: int, height: int) -> None:
        self._room = room
        self.width = width
        self.height = height
        self.frames: list[tuple[float, VideoFrame]] = []
        """(when it was sent on the room's clock, a copy of the frame) of every capture."""

    def capture_frame(
        self,
        frame: rtc.VideoFrame,
        *,
        timestamp_us: int = 0,
        rotation: Any = None,
    ) -> None:
        """Send ``frame`` now: a copy is kept with ``timestamp_us``."""
        data = np.frombuffer(frame.data, np.uint8).copy()
        kept = VideoFrame.from_rtc(
            rtc.VideoFrame(frame.width, frame.height, frame.type, data.data),
            timestamp_us=timestamp_us,
        )
        self.frames.append((self._room.clock(), kept))

    async def aclose(self) -> None:
        """Nothing to release."""


class SimulatedLocalTrack:
    """``rtc.LocalAudioTrack``'s or ``rtc.LocalVideoTrack``'s shape, fed by a
    `SimulatedAudioSource` or a `SimulatedVideoSource`."""

    lkframes_simulated = True

    def __init__(self, name: str, source: SimulatedAudioSource | SimulatedVideoSource) -> None:
        self.name = name
        self.source = source
        self.sid = f"TR_local_{next(_sids)}"
        video = isinstance(source, SimulatedVideoSource)
        self.kind = rtc.TrackKind.KIND_VIDEO if video else rtc.TrackKind.KIND_AUDIO
        self.muted = False

    def published(self) -> Published:
        """What it sent so far."""
        if isinstance(self.source, SimulatedVideoSource):
            return Published(self.name, frames=self.source.frames)
        return Published(self.name, self.source.chunks)


class Published:
    """What your code published on one track: its audio, or its video frames, on the
    room's clock.

    Examples:
        >>> from lkframes.testing._sim_local import Published
        >>> Published("echo", []).audio().shape
        (0,)
    """

    def __init__(
        self,
        name: str,
        chunks: list[tuple[float, NDArray[np.int16]]] | None = None,
        frames: list[tuple[float, VideoFrame]] | None = None,
    ) -> None:
        self.name = name
        self.chunks = [] if chunks is None else chunks
        """(when it played, samples) of an audio track."""
        self.frames = [] if frames is None else frames
        """(when it was sent, the frame with its ``timestamp_us``) of a video track."""

    @property
    def started_at(self) -> float | None:
        """When its first sample played or first frame was sent (room clock), None if
        nothing was captured."""
        first = self.chunks or self.frames
        return first[0][0] if first else None

    def audio(self, *, squeeze: bool = True) -> NDArray[np.int16]:
        """Everything it played, in order, as int16: 1-D for mono and ``(samples,
        channels)`` otherwise, as `Stream.to_array` gives (``squeeze=False``: always 2-D)."""
        if not self.chunks:
            return np.zeros((0,) if squeeze else (0, 1), np.int16)
        out = np.concatenate([data for _, data in self.chunks])
        return out.reshape(-1) if squeeze and out.shape[1] == 1 else out


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
                "a SimulatedRoom publishes tracks lkframes made for it (lk.publish, "
                f"lk.publish_media), not {type(track).__name__}"
            )
        self.track_publications[track.sid] = track
        self.published[track.name] = track.published()
        self._room.emit("local_track_published", track, track)
        return track

    async def unpublish_track(self, sid: str) -> None:
        """Unpublish the track ``sid``."""
        track = self.track_publications.pop(sid, None)
        if track is None:
            raise ValueError(f"track {sid!r} is not published")
        self.published[track.name] = track.published()
        self._room.emit("local_track_unpublished", track)
