"""`SimulatedRoom`: a LiveKit room without a server, for tests of code that subscribes.

Its room, participants, publications and tracks have the attributes and events of
``livekit.rtc``'s (what lkframes and typical subscriber code use); lkframes' adapter
(``lkframes/livekit/_sdk.py``) takes its streams from the simulation. Time is the running
event loop's: under `run_virtual` a scenario of minutes runs in a moment, the same way
every time for the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import anyio
import numpy as np
from livekit import rtc
from livekit.rtc.event_emitter import EventEmitter
from numpy.typing import ArrayLike

from .._core.errors import ParameterError
from .._core.loops import Started, Waiter, loop_clock, start
from ._sim_audio import Network, Playout
from ._sim_local import (
    SimulatedAudioSource,
    SimulatedLocalParticipant,
    SimulatedLocalTrack,
    SimulatedVideoSource,
)
from ._sim_script import Script
from ._sim_track import ScriptedTrack, SimulatedTrack, SimulatedVideoTrack, as_int16
from ._sim_video import VideoFrames, VideoInput, VideoPlayout

__all__ = ("SimulatedParticipant", "SimulatedRoom", "SimulatedTrack", "SimulatedVideoTrack")

_Track = TypeVar("_Track", bound=ScriptedTrack)


class SimulatedParticipant:
    """A remote participant of a `SimulatedRoom`, made by `SimulatedRoom.participant`.

    ``identity``, ``sid``, ``track_publications``, ``disconnect_reason`` and
    ``connection_quality`` read as the SDK's ``rtc.RemoteParticipant``'s; script what they
    do with `publish_audio`, `publish_video`, `leave` and `vanish` (or the room's
    `participant` arguments).

    Examples:
        >>> from lkframes.testing import SimulatedRoom
        >>> room = SimulatedRoom()
        >>> alice = room.participant("alice", joins=1.0)
        >>> alice.leave(at=5.0).identity
        'alice'
    """

    lkframes_simulated = True

    def __init__(self, room: SimulatedRoom, identity: str, network: Network) -> None:
        self.room = room
        self.identity = identity
        self.sid = f"PA_{identity}"
        self.name = identity
        self.metadata = ""
        self.attributes: dict[str, str] = {}
        self.network = network
        self.track_publications: dict[str, ScriptedTrack] = {}
        self.scripted: list[ScriptedTrack] = []
        self.disconnect_reason: int | None = None
        self.gone_at = math.inf
        """When they stop sending: the `leave` or `vanish` in the script."""
        self.connection_quality = rtc.ConnectionQuality.QUALITY_EXCELLENT

    def publish_audio(
        self, samples: ArrayLike, *, at: float = 0.0, name: str = "microphone"
    ) -> SimulatedTrack:
        """Publish ``samples`` (48 kHz, shaped (frames,) or (frames, channels); int16, or
        floats in -1..1) as a microphone track from ``at`` seconds on."""
        data = as_int16(samples, f"publish_audio of {self.identity!r}")
        playout = Playout(data, at, self.network, self.room.rng)
        playout.stop(self.gone_at)
        return self._script(SimulatedTrack(self, playout, name, at))

    def publish_video(
        self, frames: VideoInput, *, fps: float = 30.0, at: float = 0.0, name: str = "camera"
    ) -> SimulatedVideoTrack:
        """Publish ``frames`` as a camera track from ``at`` seconds on, ``fps`` a second.

        ``frames``: a uint8 array shaped (frames, height, width, 4) RGBA or (..., 3) RGB,
        or a list or any iterable (a generator: read as streams need its frames) of such
        (height, width, 4 or 3) arrays or of `lkframes.VideoFrame`s. Frame ``k`` is sent at
        ``at + k / fps`` whatever its ``timestamp_us``; RGB is sent as opaque RGBA, and
        ``bgr24`` or ``gray`` frames as BGRA (as `lkframes.to_video_source` sends them).
        """
        what = f"publish_video of {self.identity!r}"
        if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
            raise ParameterError(f"{what}: fps= must be frames per second > 0 (got {fps!r})")
        seed = int(self.room.rng.integers(2**63))
        playout = VideoPlayout(VideoFrames(frames, what), fps, at, self.network, seed)
        playout.stop(self.gone_at)
        return self._script(SimulatedVideoTrack(self, playout, name, at))

    def _script(self, track: _Track) -> _Track:
        self.scripted.append(track)
        self.room.script(track.published_at + self.network.delay, self._published, track)
        return track

    def leave(self, at: float) -> SimulatedParticipant:
        """Leave the room at ``at`` seconds, saying goodbye (``CLIENT_INITIATED``)."""
        self._stop(at)
        reason = rtc.DisconnectReason.CLIENT_INITIATED
        self.room.script(at + self.network.delay, self.room.removed, self, reason)
        return self

    def vanish(self, at: float) -> SimulatedParticipant:
        """Stop sending anything at ``at`` seconds (a killed process, a dead link): the
        server removes them `SimulatedRoom.removal_after` later (``CONNECTION_TIMEOUT``)."""
        self._stop(at)
        reason = rtc.DisconnectReason.CONNECTION_TIMEOUT
        self.room.script(at + self.room.removal_after, self.room.removed, self, reason)
        return self

    def _stop(self, at: float) -> None:
        self.gone_at = min(self.gone_at, at)
        for track in self.scripted:
            track.stop(at)

    def unpublished(self, track: ScriptedTrack) -> None:
        if self.track_publications.pop(track.sid, None) is None:
            return
        room = self.room
        if track.subscribed:
            track.unsubscribe(room.clock())
            room.emit("track_unsubscribed", track, track, self)
        room.emit("track_unpublished", track, self)

    def _published(self, track: ScriptedTrack) -> None:
        if self.room.present.get(self.identity) is not self:
            return  # published after leaving, or before joining: seen when they join
        if track.sid in self.track_publications or track.unpublished_at <= track.published_at:
            return
        self.track_publications[track.sid] = track
        self.room.emit("track_published", track, self)
        self.room.script(self.room.clock() + self.room.subscribe_delay, self._subscribe, track)

    def _subscribe(self, track: ScriptedTrack) -> None:
        if self.track_publications.get(track.sid) is track and not track.subscribed:
            track.subscribe(self.room.clock())
            self.room.emit("track_subscribed", track, track, self)


class SimulatedRoom(rtc.Room):
    """A LiveKit room played from a script, on the event loop's clock (asyncio or trio).

    Script it before entering: `participant` (who, when they join, leave or vanish, and
    their `Network`), then each participant's `SimulatedParticipant.publish_audio` and
    `SimulatedParticipant.publish_video`, and the returned track's `SimulatedTrack.mute` /
    ``unmute`` / ``unpublish``. Times are seconds
    from entering ``async with room:``. Inside, pass ``room`` where an ``rtc.Room`` goes:
    `lkframes.from_room`, `lkframes.from_participant`, `lkframes.from_participant_video`,
    `lkframes.from_track`, `lkframes.record_participant` and your own
    code that reads ``remote_participants`` and the room's events.

    Args:
        seed: Seeds packet loss and jitter: the same seed, the same frames.
        subscribe_delay: Seconds between a track's publication reaching you and its
            subscription (auto-subscribe).
        removal_after: Seconds after a participant vanished until the server removes them
            (livekit-server 1.13.5: about 20).
        block: Seconds of audio `lkframes.from_room` (mixed) may take from each
            participant, and hand out, at once, in cells of the room's clock this long
            where the script is quiet (nothing scripted from ``block`` and about a second
            before a cell until ``block`` and half a second after it): the same samples and
            `lkframes.RoomStats` as frame by frame, in frames up to this long, each
            handed out once its cell is over (up to ``block`` seconds later than frame by
            frame). Speeds long scenarios up some 20-fold. 0 (default): LiveKit's 10 ms
            frames, each at its own time. Other readers always get 10 ms frames.

    Raises:
        ParameterError: ``block`` is not a number of seconds >= 0.

    Examples:
        >>> import numpy as np
        >>> import lkframes as lk
        >>> from lkframes.testing import Network, SimulatedRoom, run_virtual
        >>> async def main() -> float:
        ...     room = SimulatedRoom(seed=1)
        ...     alice = room.participant("alice", leaves=2.0, network=Network(delay=0.05))
        ...     alice.publish_audio(np.ones(48_000, np.int16))
        ...     async with room:
        ...         audio = await lk.from_participant(room, "alice").to_array()
        ...     return audio.shape[0] / 48_000
        >>> run_virtual(main)  # from the subscription (0.05 s) to the leave heard (2.05 s)
        2.05
        >>> # ... and 60 ms more, of what may still be in flight: lkframes reads it too.
    """

    lkframes_simulated = True

    def __init__(
        self,
        *,
        seed: int = 0,
        subscribe_delay: float = 0.05,
        removal_after: float = 20.0,
        block: float = 0.0,
    ) -> None:
        self._ffi_handle = None
        self.actions = Script(
            block, lambda: max((w.network.buffer for w, _ in self._cast), default=0.0)
        )
        """The script: what happens when, and where nothing does (see ``block``)."""
        EventEmitter.__init__(self)  # not rtc.Room's: no native room
        self.rng = np.random.default_rng(seed)
        self.subscribe_delay = subscribe_delay
        self.removal_after = removal_after
        self.present: dict[str, SimulatedParticipant] = {}
        """Who is in the room now (as `remote_participants`, typed as the script's)."""
        self._cast: list[tuple[SimulatedParticipant, float]] = []
        self._entered = False
        self._time: Callable[[], float] = lambda: 0.0
        self._zero = 0.0
        self._wake: Waiter | None = None
        self._driver: Started | None = None
        self._connected = False
        self._local = SimulatedLocalParticipant(self, "you")

    def participant(
        self,
        identity: str,
        *,
        joins: float = 0.0,
        leaves: float | None = None,
        vanishes: float | None = None,
        network: Network | None = None,
    ) -> SimulatedParticipant:
        """Someone who joins at ``joins`` seconds (0: already there) and maybe leaves or
        vanishes later, behind ``network``."""
        if any(p.identity == identity for p, _ in self._cast):
            raise ParameterError(f"participant {identity!r} is already in the script")
        who = SimulatedParticipant(self, identity, network or Network())
        self._cast.append((who, joins))
        if joins > 0:
            self.script(joins + who.network.delay, self._joined, who)
        if leaves is not None:
            who.leave(leaves)
        if vanishes is not None:
            who.vanish(vanishes)
        return who

    def script(self, at: float, action: Callable[..., Any], *args: Any) -> None:
        """Run ``action(*args)`` at ``at`` seconds of the room's clock, in script order
        (in the room's own task, or in a stream's reader that comes first at that moment,
        as the SDK emits its events from its own: listeners may use anyio)."""
        self.actions.add(at, action, args)
        if self._wake is not None:
            self._wake.wake()

    def lkframes_block_end(self, at: float, before: float, after: float) -> float | None:
        """`Script.cell_end` on the event loop's clock (lkframes' monotonic clock)."""
        end = self.actions.cell_end(at - self._zero, before, after)
        return None if end is None else self._zero + end

    async def _drive(self) -> None:
        """The room's task: runs each scripted action at its time, in script order."""
        self._wake = waiter = Waiter()
        while True:
            self.catch_up()
            after = self.actions.next_at
            await waiter.wait_until(math.inf if after is None else self._zero + after)

    def catch_up(self) -> None:
        """Do every scripted action due by now not done yet, in script order (the room's
        task does; a stream's reader asks first, so that what happens at a moment comes
        before the frames due then, whichever task runs first)."""
        if not self._connected:
            return
        while (due := self.actions.pop(self.clock())) is not None:
            action, args = due
            action(*args)

    def behind(self) -> bool:
        """Whether a scripted action is due by now and not done yet (`catch_up` does it)."""
        due = self.actions.next_at
        return self._connected and due is not None and due <= self.clock()

    def clock(self) -> float:
        """Seconds since the room was entered."""
        return self._time() - self._zero

    def loop_time(self, at: float) -> float:
        """The event loop's time (lkframes' monotonic clock) at ``at`` on the room's clock."""
        return self._zero + at

    def isconnected(self) -> bool:
        """Whether the room is entered and not disconnected (as ``rtc.Room``'s)."""
        return self._connected

    @property
    def name(self) -> str:
        """The room's name: ``"simulated"``."""
        return "simulated"

    @property
    def remote_participants(self) -> Mapping[str, rtc.RemoteParticipant]:
        """Who is in the room now, by identity (`SimulatedParticipant` objects)."""
        return cast("Mapping[str, rtc.RemoteParticipant]", self.present)

    @property
    def connection_state(self) -> rtc.ConnectionState.ValueType:
        """Connected while entered, as ``rtc.Room``'s."""
        connected = rtc.ConnectionState.CONN_CONNECTED
        return connected if self._connected else rtc.ConnectionState.CONN_DISCONNECTED

    async def connect(self, *_: Any, **__: Any) -> None:
        """Not used: enter the room with ``async with room:``."""
        raise ParameterError("a SimulatedRoom connects with `async with room:`, not connect()")

    @property
    def local_participant(self) -> rtc.LocalParticipant:
        """You: what your code publishes (``lk.publish``, ``lk.publish_media``) is kept in
        ``published``."""
        return cast("rtc.LocalParticipant", self._local)

    @property
    def you(self) -> SimulatedLocalParticipant:
        """`local_participant`, typed as what it is (``published`` is what you played)."""
        return self._local

    def lkframes_audio_source(
        self, sample_rate: int, num_channels: int, queue_size_ms: int
    ) -> SimulatedAudioSource:
        return SimulatedAudioSource(self, sample_rate, num_channels, queue_size_ms)

    def lkframes_local_audio_track(
        self, name: str, source: SimulatedAudioSource
    ) -> SimulatedLocalTrack:
        return SimulatedLocalTrack(name, source)

    def lkframes_video_source(self, width: int, height: int) -> SimulatedVideoSource:
        return SimulatedVideoSource(self, width, height)

    def lkframes_local_video_track(
        self, name: str, source: SimulatedVideoSource
    ) -> SimulatedLocalTrack:
        return SimulatedLocalTrack(name, source)

    async def __aenter__(self) -> SimulatedRoom:
        if self._entered:
            raise ParameterError("a SimulatedRoom is entered once")
        self._entered = True
        self._time = loop_clock()
        self._zero = self._time()
        self._connected = True
        for who, joins in self._cast:
            if joins <= 0:
                self.present[who.identity] = who
        for who in list(self.present.values()):
            for track in who.scripted:
                if track.published_at <= 0:
                    who._published(track)
        self._driver = start(self._drive(), name="SimulatedRoom")
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.disconnect()

    async def disconnect(self, *, reason: Any = None) -> None:
        """Leave the room: streams of its tracks end, as with ``rtc.Room.disconnect``."""
        if not self._connected:
            return
        self._connected = False
        if self._driver is not None:
            self._driver.cancel()
            with anyio.CancelScope(shield=True):  # leaving under a cancellation still ends
                await self._driver.wait()
        self.emit("connection_state_changed", rtc.ConnectionState.CONN_DISCONNECTED)
        self.emit("disconnected", rtc.DisconnectReason.CLIENT_INITIATED)

    def _joined(self, who: SimulatedParticipant) -> None:
        if who.disconnect_reason is not None:
            return
        self.present[who.identity] = who
        self.emit("participant_connected", who)
        now = self.clock()
        for track in who.scripted:
            if track.published_at + who.network.delay <= now:
                who._published(track)

    def removed(self, who: SimulatedParticipant, reason: int) -> None:
        if self.present.get(who.identity) is not who:
            who.disconnect_reason = who.disconnect_reason or reason
            return
        for track in list(who.track_publications.values()):
            who.unpublished(track)
        del self.present[who.identity]
        who.disconnect_reason = reason
        self.emit("participant_disconnected", who)
