"""`from_room`: every remote participant's audio on one wall-clock timeline, mixed or apart."""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

import anyio
import numpy as np
from numpy.typing import NDArray

from .._core.checks import finite_number
from .._core.clock import monotonic
from .._core.errors import NotConnectedError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.stream import Stream, consume, current_task_group
from ._events import on_disconnect, require_asyncio
from ._live import DEFAULT_SAMPLE_RATE, Live, LiveStats, audio_format
from ._room_blocks import BATCH_DELAY_S, BLOCK_S, stretch
from ._timeline import Timeline
from ._track import participant_audio

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("RoomStats", "from_room")

EXACT_SUM = 256
"""Up to this many participants at gain 1, their int16 sum is exact in float32 (below
2**24): `_mixed` adds them as integers, the same samples, faster."""


@dataclass
class RoomStats:
    """What `from_room` did, updated while it runs.

    Examples:
        >>> import lkframes as lk
        >>> stats = lk.RoomStats()
        >>> stats.started_at is None, stats.late_samples
        (True, 0)
    """

    started_at: float | None = None
    """``time.monotonic()`` at the timeline's position 0 (``pts`` 0), once it started."""
    placed: dict[str, int] = field(default_factory=dict)
    """Samples (per channel) of each participant's audio that went into the output."""
    late_samples: int = 0
    """Samples dropped because they arrived more than ``delay`` after their time."""
    participants: set[str] = field(default_factory=set)
    """Everyone whose audio was heard."""
    seconds: float = 0.0
    """Seconds of the timeline handed out so far."""


class _Listeners:
    """One task per wanted participant in the room, placing their audio on the timeline.

    Knows when the stream should end: the room disconnected, or (``until_empty``) the
    last remote participant left after someone had been there.
    """

    def __init__(self, room: rtc.Room, timeline: Timeline, settings: _Settings) -> None:
        self.room = room
        self.timeline = timeline
        self.settings = settings
        self.ended_at: float | None = None
        self.error: BaseException | None = None
        self._scopes: dict[str, anyio.CancelScope] = {}
        self._idle = anyio.Event()
        self._idle.set()
        self._seen = bool(room.remote_participants)
        self._closing = False

    def start(self, group: Any) -> None:
        self._group = group
        self.room.on("participant_connected", self._joined)
        self.room.on("participant_disconnected", self._left)
        self._stop_watching = on_disconnect(self.room, self._end)
        for participant in list(self.room.remote_participants.values()):
            self._joined(participant)

    def _joined(self, participant: Any) -> None:
        self._seen = True
        identity = participant.identity
        wanted = self.settings.identities
        if self._closing or identity in self._scopes or (wanted and identity not in wanted):
            return
        scope = anyio.CancelScope()
        self._scopes[identity] = scope
        if self._idle.is_set():
            self._idle = anyio.Event()
        self._group.start_soon(self._listen, identity, scope)

    def _left(self, participant: Any) -> None:
        if self.settings.until_empty and self._seen and not self.room.remote_participants:
            self._end()

    def _end(self) -> None:
        if self.ended_at is None:
            self.ended_at = monotonic()

    async def _listen(self, identity: str, scope: anyio.CancelScope) -> None:
        from livekit import rtc

        settings = self.settings
        stats = LiveStats() if settings.stall_timeout else None
        live = Live.make("block", None, stats, "silence", settings.stall_timeout)
        audio = participant_audio(
            self.room,
            identity,
            rtc.TrackSource.SOURCE_MICROPHONE,
            self.timeline.format,
            None,
            live,
            settings.blocks,
        )
        try:
            with scope:
                async with consume(audio) as frames:
                    async for frame in frames:
                        self.timeline.add(identity, frame.data, monotonic())
        except Exception as exc:
            self.error = self.error or exc
        finally:
            del self._scopes[identity]
            if not self._scopes:
                self._idle.set()
        back = self.room.remote_participants.get(identity)
        if back is not None and not (stats and stats.stalled) and self.room.isconnected():
            self._joined(back)  # they left and came back before this task saw them leave

    @property
    def idle(self) -> bool:
        """No participant is being listened to."""
        return self._idle.is_set()

    async def close(self) -> None:
        self._closing = True
        self.room.off("participant_connected", self._joined)
        self.room.off("participant_disconnected", self._left)
        self._stop_watching()
        for scope in list(self._scopes.values()):
            scope.cancel()
        with anyio.CancelScope(shield=True):
            await self._idle.wait()


@dataclass(frozen=True)
class _Settings:
    fmt: AudioFormat
    mix: bool
    gains: Mapping[str, float]
    identities: frozenset[str]
    delay: float
    until_empty: bool
    duration: float | None
    stall_timeout: float | None
    stats: RoomStats | None

    @property
    def blocks(self) -> bool:
        """Whether a simulated room's ``block`` may be used (see `stretch`)."""
        low, high = BATCH_DELAY_S
        return self.mix and not self.stall_timeout and low <= self.delay <= high


def _mixed(parts: dict[str, NDArray[np.int16]], settings: _Settings, length: int) -> Any:
    """The participants' blocks added with their gains, saturating at int16 full scale."""
    gains = [(_gain(settings.gains, identity), data) for identity, data in parts.items()]
    if len(gains) == 1 and gains[0][0] == 1.0:
        return gains[0][1]
    if not gains:
        return np.zeros((length, settings.fmt.num_channels), np.int16)
    if len(gains) <= EXACT_SUM and all(gain == 1.0 for gain, _ in gains):
        whole = np.zeros((length, settings.fmt.num_channels), np.int32)
        for _, data in gains:
            whole += data  # what float32 adds too, exactly (whole numbers below 2**24)
        return np.clip(whole, -32768, 32767).astype(np.int16)
    total = np.zeros((length, settings.fmt.num_channels), np.float32)
    for gain, data in gains:
        total += data * np.float32(gain)  # float32: a float64 gain would upcast the block
    np.clip(np.rint(total, out=total), -32768, 32767, out=total)
    return total.astype(np.int16)


def _gain(gains: Mapping[str, float], identity: str) -> float:
    """``identity``'s gain now (the mapping may change while the stream runs)."""
    gain = gains.get(identity, 1.0)
    if isinstance(gain, bool) or not isinstance(gain, int | float) or not math.isfinite(gain):
        raise ParameterError(f"gains[{identity!r}] must be a finite number (got {gain!r})")
    return float(gain)


async def _timeline(room: rtc.Room, settings: _Settings) -> AsyncGenerator[Any, None]:
    """Give the timeline out block by block, ``delay`` after each block's end."""
    require_asyncio("from_room", room)
    if not room.isconnected():
        raise NotConnectedError("from_room needs a connected room (got a disconnected rtc.Room)")
    fmt = settings.fmt
    rate = fmt.sample_rate
    zero = monotonic()
    timeline = Timeline(fmt, zero)
    stats = settings.stats
    if stats is not None:
        stats.started_at = zero
    listeners = _Listeners(room, timeline, settings)
    listeners.start(current_task_group())
    limit = None if settings.duration is None else round(settings.duration * rate)
    step = max(1, round(BLOCK_S * rate))
    try:
        while True:
            pts = timeline.taken
            end = pts + step if limit is None else min(pts + step, limit)
            wake = None
            if listeners.ended_at is not None and listeners.idle:
                # Everyone's last audio has arrived (it drains after they leave): stop.
                last = max(math.ceil((listeners.ended_at - zero) * rate), timeline.heard_until)
                end = min(end, max(pts, last))
            elif settings.blocks:
                end, wake = stretch(room, zero, rate, pts, end, limit, settings.delay)
            if end <= pts:
                return
            await anyio.sleep(max(0.0, (wake or zero + end / rate + settings.delay) - monotonic()))
            if listeners.error is not None:
                raise listeners.error
            parts = timeline.block(end - pts)
            if stats is not None:
                stats.late_samples = timeline.late
                stats.placed.update(timeline.placed)
                stats.participants.update(parts)
                stats.seconds = end / rate
            if settings.mix:
                yield AudioFrame.of(_mixed(parts, settings, end - pts), fmt, pts)
            else:
                for identity in sorted(parts):
                    alone = _mixed({identity: parts[identity]}, settings, end - pts)
                    yield identity, AudioFrame.of(alone, fmt, pts)
    finally:
        await listeners.close()


@overload
def from_room(
    room: rtc.Room,
    *,
    mix: Literal[True] = True,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    num_channels: int = 1,
    gains: Mapping[str, float] | None = None,
    identities: Collection[str] | None = None,
    delay: float = 0.05,
    until_empty: bool = False,
    duration: float | None = None,
    stall_timeout: float | None = None,
    stats: RoomStats | None = None,
) -> Stream[AudioFrame]: ...
@overload
def from_room(
    room: rtc.Room,
    *,
    mix: Literal[False],
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    num_channels: int = 1,
    gains: Mapping[str, float] | None = None,
    identities: Collection[str] | None = None,
    delay: float = 0.05,
    until_empty: bool = False,
    duration: float | None = None,
    stall_timeout: float | None = None,
    stats: RoomStats | None = None,
) -> Stream[tuple[str, AudioFrame]]: ...
def from_room(
    room: rtc.Room,
    *,
    mix: bool = True,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    num_channels: int = 1,
    gains: Mapping[str, float] | None = None,
    identities: Collection[str] | None = None,
    delay: float = 0.05,
    until_empty: bool = False,
    duration: float | None = None,
    stall_timeout: float | None = None,
    stats: RoomStats | None = None,
) -> Stream[AudioFrame] | Stream[tuple[str, AudioFrame]]:
    """Every remote participant's microphone on one wall-clock timeline, mixed or apart.

    ``pts`` 0 is when the iteration started (``stats.started_at``); from then on the stream
    keeps to wall time, 10 ms per frame, whoever speaks: silence where nobody does or
    nobody is there. Participants already in the room and those who join later are
    followed across re-publishes until they leave; each one's audio is placed by when it
    arrived, so people who joined at different times line up as they were heard.

    Each 10 ms of the timeline is handed out ``delay`` seconds after it ends, so that
    audio the event loop delivered a little late still makes it; audio later than that is
    dropped and counted in ``stats.late_samples`` (raise ``delay`` on a loaded machine).
    The latency this adds is ``delay`` plus up to 10 ms.

    Args:
        room: A connected ``rtc.Room`` (auto-subscribe on, the default).
        mix: ``True``: one `AudioFrame` per 10 ms, everyone added together (int16 that
            saturates at full scale instead of wrapping around). ``False``: an
            ``(identity, AudioFrame)`` item per participant heard in each 10 ms (in
            identity order), with ``pts`` on the same timeline, and silence within the
            10 ms where their audio had not started or arrived.
        sample_rate: The rate to receive and mix at.
        num_channels: Channels to receive and mix.
        gains: A linear gain per identity (default 1.0), in the mix and (``mix=False``)
            in each participant's own frames; read at every frame, so changing the
            mapping while the stream runs changes the level from then on.
        identities: Only these participants (default: everyone).
        delay: Seconds each stretch waits for late audio (default 0.05).
        until_empty: End when the last remote participant leaves (once someone was
            there), instead of only when the room disconnects.
        duration: End after this many seconds of timeline.
        stall_timeout: Stop listening to a participant whose connection died (reported
            LOST by the server, and no packet for this long; see `from_participant`).
        stats: A `RoomStats` to fill in while the stream runs.

    Returns:
        A stream that runs a task per participant: iterate it with `Stream.open` or a
        terminal (`to_file`, `collect`, ...). It ends when the room disconnects, at
        ``duration``, or (``until_empty``) when the room empties.

    Raises:
        ParameterError: A bad rate, channel count, gain, delay, duration or
            stall_timeout; (while running) a gain changed to something that is not a
            finite number.
        NotConnectedError: (while running) the room is not connected.
        WrongEventLoopError: (while running) not running on asyncio.

    Examples:
        Building the stream does no network I/O; its format is known at once:

        >>> import asyncio
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def build():
        ...     return lk.from_room(rtc.Room(), sample_rate=16_000).format
        >>> asyncio.run(build())
        AudioFormat(sample_rate=16000, num_channels=1, dtype='int16')
    """
    fmt = audio_format(sample_rate, num_channels)
    Live.make("block", None, None, "silence", stall_timeout)  # checks stall_timeout
    gains = {} if gains is None else gains
    if isinstance(identities, str):
        raise ParameterError(
            f"identities takes a collection of identities (got the string {identities!r}); "
            f"pass [{identities!r}]"
        )
    for identity, gain in gains.items():
        finite_number(gain, f"gains[{identity!r}]")
    settings = _Settings(
        fmt=fmt,
        mix=bool(mix),
        gains=gains,
        identities=frozenset(identities or ()),
        delay=_seconds(delay, "delay", zero_ok=True),
        until_empty=bool(until_empty),
        duration=None if duration is None else _seconds(duration, "duration", zero_ok=False),
        stall_timeout=stall_timeout,
        stats=stats,
    )
    stream: Stream[Any] = Stream(
        lambda: _timeline(room, settings),
        format=fmt if mix else None,
        name="from_room(mixed)" if mix else "from_room(apart)",
        tasks=True,
        live=True,
    )
    return stream


def _seconds(value: object, what: str, *, zero_ok: bool) -> float:
    number = finite_number(value, what)
    if number < 0 or (number == 0 and not zero_ok):
        bound = ">= 0" if zero_ok else "> 0"
        raise ParameterError(f"{what} must be a number of seconds {bound} (got {value!r})")
    return number
