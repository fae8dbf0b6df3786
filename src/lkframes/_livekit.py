"""LiveKit tracks, participants, audio sources and rooms as lkframes sources and sinks.

LiveKit's Python SDK (``livekit.rtc``) runs on asyncio only: these functions raise
`LkFramesError` when awaited under another event loop (trio).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import anyio
import numpy as np
import sniffio

from ._errors import FormatError, LkFramesError, ParameterError
from ._format import AudioFormat
from ._frame import AudioFrame
from ._resources import acquire, held, release
from ._stream import RunSummary, Stream, consume

if TYPE_CHECKING:
    from livekit import rtc

    from ._video import VideoFrame

__all__ = (
    "LiveStats",
    "Overflow",
    "connect",
    "from_participant",
    "from_track",
    "make_token",
    "publish",
    "to_source",
)

DEFAULT_SAMPLE_RATE = 48_000
"""The rate LiveKit streams decode to unless told otherwise (WebRTC's Opus rate)."""


def _require_asyncio(what: str) -> None:
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        library = "none"
    if library != "asyncio":
        raise LkFramesError(
            f"{what} needs asyncio (LiveKit's Python SDK runs on asyncio only; "
            f"expected asyncio, got {library}): use asyncio.run() or anyio.run(..., "
            "backend='asyncio')"
        )


def _audio_format(sample_rate: int, num_channels: int) -> AudioFormat:
    return AudioFormat(sample_rate, num_channels, "int16")


def _is_audio(track: rtc.Track) -> bool:
    from livekit import rtc

    return bool(track.kind == rtc.TrackKind.KIND_AUDIO)


Overflow = Literal["block", "drop_oldest"]
"""What a live source does when the pipeline falls behind.

Keep every frame queued (``"block"``: nothing is lost, memory grows with the lag) or drop
the oldest beyond ``max_queue_ms`` (``"drop_oldest"``: bounded memory and latency, counted
in `LiveStats`).

Examples:
    >>> import typing
    >>> import lkframes as lk
    >>> typing.get_args(lk.Overflow)
    ('block', 'drop_oldest')
"""


@dataclass
class LiveStats:
    """Frame counts of a live source, updated while it runs.

    ``delivered + dropped + queued == produced`` at every moment: nothing goes missing
    without being counted. Pass one to `from_track` / `from_participant` as ``stats=``.

    Examples:
        >>> import lkframes as lk
        >>> stats = lk.LiveStats(produced=10, delivered=7, dropped=1)
        >>> stats.queued
        2
    """

    produced: int = 0
    """Frames LiveKit handed over."""
    delivered: int = 0
    """Frames that went into the pipeline."""
    dropped: int = 0
    """Frames discarded by ``overflow="drop_oldest"`` because the pipeline fell behind."""

    @property
    def queued(self) -> int:
        """Frames waiting (or left unread when the pipeline stopped early)."""
        return self.produced - self.delivered - self.dropped


def _count_frames(audio: Any, capacity: int, stats: LiveStats) -> None:
    """Count what LiveKit puts into the stream's frame queue, and what its ring drops.

    ``rtc.AudioStream`` keeps frames in a ring that silently drops the oldest once it
    holds ``capacity`` frames; wrapping its ``put`` is the only place those drops show.
    """
    queue = getattr(audio, "_queue", None)
    frames = getattr(queue, "_queue", None)
    if queue is None or frames is None:
        raise LkFramesError(
            "this livekit version's AudioStream has no frame queue to count (expected "
            "AudioStream._queue, a RingQueue); use overflow='block' without stats="
        )
    put = queue.put

    def counting_put(item: Any) -> None:
        if item is not None:  # None is the end-of-stream marker
            stats.produced += 1
            if capacity and len(frames) >= capacity:
                stats.dropped += 1
        put(item)

    queue.put = counting_put


@dataclass(frozen=True)
class _Live:
    """A live source's overflow settings, validated once when the stream is built."""

    overflow: Overflow
    max_queue_ms: int | None
    stats: LiveStats | None

    @classmethod
    def make(cls, overflow: str, max_queue_ms: int | None, stats: LiveStats | None) -> _Live:
        if overflow not in ("block", "drop_oldest"):
            raise ParameterError(f"overflow must be 'block' or 'drop_oldest' (got {overflow!r})")
        if overflow == "drop_oldest":
            if max_queue_ms is None or max_queue_ms <= 0:
                raise ParameterError(
                    f"overflow='drop_oldest' needs max_queue_ms > 0 (got {max_queue_ms!r})"
                )
        elif max_queue_ms is not None:
            raise ParameterError("max_queue_ms applies to overflow='drop_oldest' only")
        if overflow == "drop_oldest" and stats is None:
            stats = LiveStats()  # drops are always counted, even if nobody reads them
        return cls(overflow, max_queue_ms, stats)  # type: ignore[arg-type]

    def capacity(self, frame_size_ms: int | None) -> int:
        """Frames the native queue may hold (0: unbounded)."""
        if self.max_queue_ms is None:
            return 0
        return max(1, -(-self.max_queue_ms // (frame_size_ms or 10)))


def _room_of(track: rtc.Track) -> rtc.Room | None:
    """The room a remote track belongs to (the SDK keeps a weak reference), if any."""
    resolve = getattr(track, "_resolve_room", None)
    room = resolve() if callable(resolve) else None
    from livekit import rtc

    return room if isinstance(room, rtc.Room) else None


def _on_disconnect(room: rtc.Room, callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback`` when ``room`` disconnects; returns the function that stops watching.

    Watches ``connection_state_changed`` as well as ``disconnected``: when the SDK handles
    the state change and the room's event stream then ends before its ``disconnected``
    event, only the state change arrives (livekit 1.2.1 against livekit-server 1.13: about
    1 in 6 ``room.disconnect()`` calls). ``callback`` may be called twice.
    """
    from livekit import rtc

    def on_disconnected(*_: Any) -> None:
        callback()

    def on_state(state: rtc.ConnectionState.ValueType) -> None:
        if state == rtc.ConnectionState.CONN_DISCONNECTED:
            callback()

    room.on("disconnected", on_disconnected)
    room.on("connection_state_changed", on_state)

    def stop() -> None:
        room.off("disconnected", on_disconnected)
        room.off("connection_state_changed", on_state)

    return stop


def _on_track_end(track: rtc.Track, callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback`` when ``track`` is unsubscribed or its room disconnects.

    LiveKit does not end a track's ``AudioStream``/``VideoStream`` when the remote track is
    unpublished or its participant leaves, so the streams are closed from here. Returns the
    function that stops watching (a no-op for a track without a room, e.g. a local one).
    """
    room = _room_of(track)
    if room is None:
        return lambda: None

    def on_unsubscribed(unsubscribed: rtc.Track, *_: Any) -> None:
        if unsubscribed is track or unsubscribed.sid == track.sid:
            callback()

    room.on("track_unsubscribed", on_unsubscribed)
    stop_disconnect = _on_disconnect(room, callback)

    def stop() -> None:
        room.off("track_unsubscribed", on_unsubscribed)
        stop_disconnect()

    return stop


async def _frames_of(
    track: rtc.Track,
    fmt: AudioFormat,
    frame_size_ms: int | None,
    start_pts: int,
    live: _Live | None = None,
) -> AsyncGenerator[AudioFrame, None]:
    """Frames of one subscription to ``track``, closing the native stream however it ends.

    LiveKit does not end an ``rtc.AudioStream`` when its remote track is unpublished or its
    participant leaves (checked against livekit-server 1.13: no end-of-stream arrives, the
    iteration would wait forever), only when the own room disconnects. So the stream is
    closed here on the room's ``track_unsubscribed`` for this track and on ``disconnected``,
    and the iteration then ends normally.
    """
    from livekit import rtc

    _require_asyncio("from_track/from_participant")
    capacity = live.capacity(frame_size_ms) if live is not None else 0
    audio = rtc.AudioStream(
        track,
        sample_rate=fmt.sample_rate,
        num_channels=fmt.num_channels,
        frame_size_ms=frame_size_ms,
        capacity=capacity,
    )
    stats = live.stats if live is not None else None
    if stats is not None:
        _count_frames(audio, capacity, stats)
    closing: list[asyncio.Task[None]] = []

    def end() -> None:
        if not closing:
            closing.append(asyncio.get_running_loop().create_task(audio.aclose()))

    stop_watching = _on_track_end(track, end)
    pts = start_pts
    rate, channels = fmt.sample_rate, fmt.num_channels
    acquire("livekit.audio_stream")
    try:
        async for event in audio:
            rtc_frame = event.frame
            if rtc_frame.sample_rate != rate or rtc_frame.num_channels != channels:
                got = AudioFrame.from_rtc(rtc_frame).format
                raise FormatError("LiveKit delivered a frame of another format", fmt, got)
            samples = rtc_frame.samples_per_channel
            # A view of LiveKit's buffer, as AudioFrame.from_rtc makes, without re-validating
            # the format on every frame (this is the per-frame hot path).
            data = np.frombuffer(rtc_frame.data, np.int16, samples * channels)
            if stats is not None:
                stats.delivered += 1
            yield AudioFrame._wrap(data.reshape(samples, channels), fmt, pts)
            pts += samples
    finally:
        stop_watching()
        end()  # one close only: a second one makes the native layer log an unknown handle
        with anyio.CancelScope(shield=True):
            try:
                await closing[0]
            finally:
                release("livekit.audio_stream")


@overload
def from_track(  # type: ignore[overload-overlap]  # video tracks are Tracks too
    track: rtc.LocalVideoTrack | rtc.RemoteVideoTrack,
    *,
    sample_rate: None = None,
    num_channels: None = None,
    frame_size_ms: None = None,
) -> Stream[VideoFrame]: ...
@overload
def from_track(
    track: rtc.Track,
    *,
    sample_rate: int | None = None,
    num_channels: int | None = None,
    frame_size_ms: int | None = None,
    overflow: Overflow = "block",
    max_queue_ms: int | None = None,
    stats: LiveStats | None = None,
) -> Stream[AudioFrame]: ...
def from_track(
    track: rtc.Track,
    *,
    sample_rate: int | None = None,
    num_channels: int | None = None,
    frame_size_ms: int | None = None,
    overflow: Overflow = "block",
    max_queue_ms: int | None = None,
    stats: LiveStats | None = None,
) -> Stream[AudioFrame] | Stream[VideoFrame]:
    """Frames of a LiveKit track (remote or local): audio via ``rtc.AudioStream``.

    A video track gives `VideoFrame` items (RGBA, see `lkframes.from_video_track` for other
    layouts) instead.

    Each iteration opens a new ``rtc.AudioStream`` on the track and closes it when the
    iteration ends, so the same track can be read again (or by several pipelines at once).
    The stream ends when LiveKit ends it: the track is unpublished or unsubscribed, or the
    room disconnects.

    Args:
        track: An audio track (``rtc.RemoteAudioTrack`` or ``rtc.LocalAudioTrack``).
        sample_rate: Rate to receive at; LiveKit resamples (default 48 000).
        num_channels: Channels to receive (default 1).
        frame_size_ms: Frame duration LiveKit delivers (its default is 10 ms).
        overflow: When the pipeline falls behind the live track: ``"block"`` keeps every
            frame queued (nothing lost; memory grows with the lag), ``"drop_oldest"``
            keeps at most ``max_queue_ms`` and drops (and counts) the oldest.
        max_queue_ms: The queue bound for ``"drop_oldest"``.
        stats: A `LiveStats` to count produced / delivered / dropped frames into.

    Returns:
        An int16 stream with a known format and continuous ``pts`` from 0.

    Raises:
        ParameterError: ``track`` is neither audio nor video, or a bad rate/channel count.
        LkFramesError: (while running) not running on asyncio.

    Examples:
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def loopback():
        ...     source = rtc.AudioSource(48_000, 1)
        ...     track = rtc.LocalAudioTrack.create_audio_track("tone", source)
        ...     async with lk.from_track(track).open() as frames:
        ...         silence = lk.AudioFrame(np.zeros(480, np.int16), 48_000)
        ...         await source.capture_frame(silence.to_rtc())
        ...         first = await anext(frames)
        ...     await source.aclose()
        ...     return first.format
        >>> import asyncio, numpy as np
        >>> asyncio.run(loopback())
        AudioFormat(sample_rate=48000, num_channels=1, dtype='int16')
    """
    from livekit import rtc

    if track.kind == rtc.TrackKind.KIND_VIDEO:
        from ._video import from_video_track

        return from_video_track(track)
    if not _is_audio(track):
        raise ParameterError(f"from_track needs an audio track (got a {type(track).__name__})")
    fmt = _audio_format(sample_rate or DEFAULT_SAMPLE_RATE, num_channels or 1)
    live = _Live.make(overflow, max_queue_ms, stats)

    return Stream(
        lambda: _frames_of(track, fmt, frame_size_ms, 0, live),
        format=fmt,
        name=f"from_track({track.name or track.sid!r})",
    )


def from_participant(
    room: rtc.Room,
    identity: str,
    *,
    source: rtc.TrackSource.ValueType | None = None,
    sample_rate: int | None = None,
    num_channels: int | None = None,
    frame_size_ms: int | None = None,
    overflow: Overflow = "block",
    max_queue_ms: int | None = None,
    stats: LiveStats | None = None,
) -> Stream[AudioFrame]:
    """Frames of a participant's audio track, following it across re-publishes.

    Waits until the participant has published (and this room has subscribed to) an audio
    track of ``source``, streams it, and when that track goes away waits for the next one.
    The stream ends when the participant leaves or the room disconnects. ``pts`` stays
    continuous across tracks (gaps in wall time are not counted).

    Args:
        room: A connected ``rtc.Room`` (auto-subscribe on, the default).
        identity: The participant's identity.
        source: Which of their tracks (default ``rtc.TrackSource.SOURCE_MICROPHONE``).
        sample_rate: Rate to receive at (default 48 000).
        num_channels: Channels to receive (default 1).
        frame_size_ms: Frame duration LiveKit delivers (its default is 10 ms).
        overflow: ``"block"`` or ``"drop_oldest"``, as for `from_track`.
        max_queue_ms: The queue bound for ``"drop_oldest"``.
        stats: A `LiveStats` counting frames across all the participant's tracks.

    Returns:
        An int16 stream with a known format.

    Raises:
        ParameterError: A bad rate, channel count or overflow setting.
        LkFramesError: (while running) not running on asyncio.

    Examples:
        Building the stream does no network I/O; iterating it waits for the participant:

        >>> import asyncio
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def build():
        ...     stream = lk.from_participant(rtc.Room(), "alice", sample_rate=16_000)
        ...     return stream.format
        >>> asyncio.run(build())
        AudioFormat(sample_rate=16000, num_channels=1, dtype='int16')
    """
    from livekit import rtc

    wanted = rtc.TrackSource.SOURCE_MICROPHONE if source is None else source
    fmt = _audio_format(sample_rate or DEFAULT_SAMPLE_RATE, num_channels or 1)
    live = _Live.make(overflow, max_queue_ms, stats)

    def matching_track() -> rtc.Track | None:
        participant = next(
            (p for p in room.remote_participants.values() if p.identity == identity), None
        )
        if participant is None:
            return None
        for publication in participant.track_publications.values():
            track = publication.track
            if publication.source == wanted and track is not None and _is_audio(track):
                return track
        return None

    async def run() -> AsyncGenerator[AudioFrame, None]:
        _require_asyncio("from_participant")
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def on_subscribed(track: rtc.Track, publication: Any, participant: Any) -> None:
            if participant.identity == identity and publication.source == wanted:
                events.put_nowait(("track", track))

        def on_left(participant: Any) -> None:
            if participant.identity == identity:
                events.put_nowait(("left", None))

        room.on("track_subscribed", on_subscribed)
        room.on("participant_disconnected", on_left)
        stop_watching = _on_disconnect(room, lambda: events.put_nowait(("disconnected", None)))
        try:
            pts = 0
            ended: rtc.Track | None = None
            track = matching_track()
            while room.isconnected():
                if track is None:
                    kind, value = await events.get()
                    if kind != "track":
                        return  # the participant left or the room disconnected
                    if value is ended:
                        continue  # a late event for the track that just ended
                    track = value
                async with consume(_frames_of(track, fmt, frame_size_ms, pts, live)) as frames:
                    async for frame in frames:
                        pts = frame.end_pts
                        yield frame
                ended, track = track, None
        finally:
            room.off("track_subscribed", on_subscribed)
            room.off("participant_disconnected", on_left)
            stop_watching()

    return Stream(run, format=fmt, name=f"from_participant({identity!r})")


async def to_source(
    stream: Stream[AudioFrame],
    source: rtc.AudioSource,
    *,
    frame_ms: int = 20,
    wait_for_playout: bool = True,
) -> RunSummary:
    """Push a stream into a LiveKit ``rtc.AudioSource``, in real time, with backpressure.

    The stream is resampled, remixed and converted to the source's rate, channel count and
    int16 as needed, and cut into ``frame_ms`` frames. ``capture_frame`` waits whenever the
    source's queue (``queue_size_ms``, 1 s by default) is full, so a file plays at 1x
    speed rather than as fast as it decodes, and memory stays bounded.

    Args:
        stream: Audio to send.
        source: The LiveKit source (published or not).
        frame_ms: Frame size handed to LiveKit (10 or 20 ms are typical).
        wait_for_playout: Return only once LiveKit has played out everything queued.

    Returns:
        A `RunSummary` of what was captured.

    Raises:
        LkFramesError: Not running on asyncio.
        ParameterError: ``frame_ms`` is not a whole number of samples at the source's rate.

    Examples:
        >>> import asyncio
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def play():
        ...     source = rtc.AudioSource(48_000, 1)
        ...     tone = lk.sine(440, 0.1, 16_000)  # resampled to the source's 48 kHz
        ...     summary = await lk.to_source(tone, source, wait_for_playout=False)
        ...     await source.aclose()
        ...     return summary.frames, summary.format
        >>> asyncio.run(play())
        (5, AudioFormat(sample_rate=48000, num_channels=1, dtype='int16'))
    """
    _require_asyncio("to_source")
    target = _audio_format(source.sample_rate, source.num_channels)
    adapted = _adapt(stream, target).chunk(ms=frame_ms)
    count = 0
    samples = 0
    async with adapted.open() as frames:
        async for frame in frames:
            await source.capture_frame(frame.to_rtc())
            count += 1
            samples += frame.samples_per_channel
    if wait_for_playout:
        await source.wait_for_playout()
    return RunSummary(count, samples, target)


def _adapt(stream: Stream[AudioFrame], target: AudioFormat) -> Stream[AudioFrame]:
    """Resample / remix / convert ``stream`` to ``target`` (checked per frame if unknown)."""
    fmt = stream.format
    if fmt is None:
        # Unknown until the first frame: the stages are no-ops when already matching.
        return (
            stream.to_dtype("float32")
            .remix(target.num_channels)
            .resample(target.sample_rate)
            .to_dtype("int16")
        )
    if fmt.num_channels > target.num_channels:
        stream = stream.remix(target.num_channels)
    if fmt.sample_rate != target.sample_rate:
        stream = stream.resample(target.sample_rate)
    if fmt.num_channels < target.num_channels:
        stream = stream.remix(target.num_channels)
    return stream.to_dtype("int16")


async def publish(
    stream: Stream[AudioFrame],
    room: rtc.Room,
    name: str,
    *,
    source: rtc.TrackSource.ValueType | None = None,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    num_channels: int = 1,
    frame_ms: int = 20,
    queue_size_ms: int = 1000,
) -> RunSummary:
    """Publish a stream to a room as an audio track, play it in real time, unpublish.

    Creates an ``rtc.AudioSource`` and ``rtc.LocalAudioTrack``, publishes it, pushes the
    stream with `to_source` (resampled to ``sample_rate``), waits for the playout, and
    unpublishes the track and closes the source however the run ends (end of stream,
    error, cancellation). If the room disconnects, or the track is unpublished by someone
    else, before the stream ends, publishing stops there.

    Args:
        stream: Audio to publish.
        room: A connected ``rtc.Room``.
        name: The track's name.
        source: Track source (default ``rtc.TrackSource.SOURCE_MICROPHONE``).
        sample_rate: The source's rate (48 kHz is what WebRTC's Opus uses).
        num_channels: The source's channels.
        frame_ms: Frame size handed to LiveKit.
        queue_size_ms: How far ahead of real time the source may be filled.

    Returns:
        A `RunSummary` of what was published.

    Raises:
        LkFramesError: Not running on asyncio, or the room is not connected.
        anyio.BrokenResourceError: The room disconnected, or the track was unpublished
            elsewhere, before the stream ended.

    Examples:
        Publishing needs a connected room (see `connect`); a room that is not connected is
        refused before anything is sent:

        >>> import asyncio
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def main():
        ...     try:
        ...         await lk.publish(lk.sine(440, 1.0), rtc.Room(), "tone")
        ...     except lk.LkFramesError as exc:
        ...         print(exc)
        >>> asyncio.run(main())
        publish needs a connected room (got a disconnected rtc.Room)
    """
    _require_asyncio("publish")
    from livekit import rtc

    if not room.isconnected():
        raise LkFramesError("publish needs a connected room (got a disconnected rtc.Room)")
    audio_source = rtc.AudioSource(sample_rate, num_channels, queue_size_ms=queue_size_ms)
    track = rtc.LocalAudioTrack.create_audio_track(name, audio_source)
    options = rtc.TrackPublishOptions(
        source=rtc.TrackSource.SOURCE_MICROPHONE if source is None else source
    )
    with held("livekit.published_track"):
        try:
            publication = await room.local_participant.publish_track(track, options)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await audio_source.aclose()
            raise
        try:
            summary = await _play(stream, room, publication, audio_source, frame_ms)
        except BaseException:
            # Cleaning up must not replace the error or cancellation on its way out (an
            # unpublish racing the room's own disconnect fails with "track not found").
            with suppress(Exception):
                await _unpublish(room, publication.sid, audio_source)
            raise
        await _unpublish(room, publication.sid, audio_source)
        return summary


async def _play(
    stream: Stream[AudioFrame],
    room: rtc.Room,
    publication: rtc.LocalTrackPublication,
    audio_source: rtc.AudioSource,
    frame_ms: int,
) -> RunSummary:
    """`to_source` for a published source, stopped when the room or the track goes away.

    Without this, a disconnected room would not stop ``capture_frame``: the rest of the
    stream would be pushed, in real time, into a source nobody receives.
    """
    with anyio.CancelScope() as playing:

        def on_unpublished(unpublished: rtc.LocalTrackPublication, *_: Any) -> None:
            if unpublished.sid == publication.sid:
                playing.cancel()

        room.on("local_track_unpublished", on_unpublished)
        stop_watching = _on_disconnect(room, playing.cancel)
        try:
            summary = await to_source(stream, audio_source, frame_ms=frame_ms)
        finally:
            room.off("local_track_unpublished", on_unpublished)
            stop_watching()
    if playing.cancelled_caught:
        # A disconnecting room unpublishes its tracks first, so the two look alike here.
        raise anyio.BrokenResourceError(
            f"track {publication.name!r} was unpublished, or the room disconnected, "
            "before the stream ended"
        )
    return summary


async def _unpublish(room: rtc.Room, sid: str, audio_source: rtc.AudioSource) -> None:
    """Unpublish ``sid`` if it is still published, and close the source (shielded)."""
    with anyio.CancelScope(shield=True):
        try:
            if room.isconnected() and sid in room.local_participant.track_publications:
                await room.local_participant.unpublish_track(sid)
        finally:
            await audio_source.aclose()


@asynccontextmanager
async def connect(
    url: str | None = None,
    token: str | None = None,
    *,
    room: str | None = None,
    identity: str = "lkframes",
    api_key: str | None = None,
    api_secret: str | None = None,
    options: rtc.RoomOptions | None = None,
) -> AsyncIterator[rtc.Room]:
    """Connect to a LiveKit room for the duration of an ``async with`` block.

    Credentials come from the arguments or, as with the LiveKit CLI, from the environment:
    ``LIVEKIT_URL``, and either a token or ``LIVEKIT_API_KEY`` / ``LIVEKIT_API_SECRET`` from
    which a token for ``room`` and ``identity`` is made (needs ``livekit-api``: ``pip install
    lkframes[room]``).

    Raises:
        ParameterError: No URL, or neither a token nor an API key and secret.
        LkFramesError: Not running on asyncio.

    Examples:
        With a URL and credentials, ``async with lk.connect(url, token) as room:`` yields a
        connected ``rtc.Room``. Missing credentials are reported before any network I/O:

        >>> import asyncio
        >>> import lkframes as lk
        >>> async def main():
        ...     try:
        ...         async with lk.connect("ws://localhost:7880", api_key="k", api_secret="s"):
        ...             pass
        ...     except lk.ParameterError as exc:
        ...         print(exc)
        >>> asyncio.run(main())
        room= is needed to make a token from an API key
    """
    _require_asyncio("connect")
    from livekit import rtc

    url = url or os.environ.get("LIVEKIT_URL")
    if not url:
        raise ParameterError("no LiveKit URL: pass url= or set LIVEKIT_URL")
    if token is None:
        key = api_key or os.environ.get("LIVEKIT_API_KEY")
        secret = api_secret or os.environ.get("LIVEKIT_API_SECRET")
        if not (key and secret):
            raise ParameterError(
                "no credentials: pass token=, or api_key=/api_secret= (or set "
                "LIVEKIT_API_KEY and LIVEKIT_API_SECRET)"
            )
        if not room:
            raise ParameterError("room= is needed to make a token from an API key")
        token = make_token(key, secret, room=room, identity=identity)
    lk_room = rtc.Room()
    await lk_room.connect(url, token, options=options or rtc.RoomOptions())
    try:
        yield lk_room
    finally:
        with anyio.CancelScope(shield=True):
            await lk_room.disconnect()


def make_token(api_key: str, api_secret: str, *, room: str, identity: str) -> str:
    """A join token for ``room`` as ``identity`` that may publish and subscribe.

    Args:
        api_key: The LiveKit API key.
        api_secret: The LiveKit API secret that signs the token.
        room: The room the token may join.
        identity: The participant identity (also used as its display name).

    Returns:
        The signed JWT.

    Raises:
        LkFramesError: ``livekit-api`` is not installed (``pip install 'lkframes[room]'``).

    Examples:
        >>> import lkframes as lk
        >>> secret = "a-secret-of-at-least-32-bytes-for-hs256"
        >>> token = lk.make_token("key", secret, room="demo", identity="alice")
        >>> token.count(".")  # header.payload.signature
        2
    """
    try:
        from livekit import api
    except ImportError:
        raise LkFramesError(
            "making tokens needs livekit-api: pip install 'lkframes[room]'"
        ) from None
    grants = api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True)
    token: str = (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(identity)
        .with_grants(grants)
        .to_jwt()
    )
    return token
