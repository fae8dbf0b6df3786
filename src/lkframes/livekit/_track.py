"""LiveKit tracks and participants as sources: `from_track` and `from_participant`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, overload

import anyio
import numpy as np

from .._core.errors import FormatError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.loops import loop_clock
from .._core.resources import acquire, release
from .._core.stream import Stream, consume
from ._drain import Closer
from ._events import on_track_end, participant_of, removed_as_dead, require_asyncio
from ._follow import follow_participant
from ._live import (
    DEFAULT_SAMPLE_RATE,
    Live,
    LiveStats,
    OnMute,
    Overflow,
    audio_format,
    count_frames,
    is_audio,
)
from ._sdk import audio_stream, is_remote, room_of
from ._video import from_video_track
from ._watch import MuteSkip, StallWatch

if TYPE_CHECKING:
    from livekit import rtc

    from .._core.video import VideoFrame

__all__ = ("frames_of", "from_participant", "from_track", "participant_audio")


def _audio_stream(
    track: rtc.Track,
    fmt: AudioFormat,
    frame_size_ms: int | None,
    live: Live | None,
    blocks: bool,
) -> rtc.AudioStream:
    """The SDK's stream of ``track`` in ``fmt``, its queue sized and counted for ``live``."""

    capacity = live.capacity(frame_size_ms) if live is not None else 0
    audio = audio_stream(track, fmt.sample_rate, fmt.num_channels, frame_size_ms, capacity, blocks)
    if live is not None and live.stats is not None:
        count_frames(audio, capacity, live.stats)
        live.stats.stalled = False
    return audio


async def frames_of(
    track: rtc.Track,
    fmt: AudioFormat,
    frame_size_ms: int | None,
    start_pts: int,
    live: Live | None = None,
    blocks: bool = False,
) -> AsyncGenerator[AudioFrame, None]:
    """Frames of one subscription to ``track``, closing the native stream however it ends.

    LiveKit does not end an ``rtc.AudioStream`` when its remote track is unpublished or its
    participant leaves (checked against livekit-server 1.13: no end-of-stream arrives, the
    iteration would wait forever), only when the own room disconnects. So the stream is
    closed here: on ``disconnected`` at once, and on the room's ``track_unsubscribed`` for
    this track once the audio still in flight has arrived (`DRAIN_S`); the iteration then
    ends normally.

    ``blocks``: the caller takes frames of any length: a simulated room with a ``block``
    may then hand out several of its frames as one (not with ``on_mute="skip"`` or a
    ``stall_timeout``, which look at each frame as it comes).
    """
    require_asyncio("from_track/from_participant", track)
    blocks = blocks and (live is None or (live.on_mute != "skip" and not live.stall_timeout))
    audio = _audio_stream(track, fmt, frame_size_ms, live, blocks)
    per_frame = fmt.sample_rate * (frame_size_ms or 10) // 1000
    stats = live.stats if live is not None else None
    muted = MuteSkip(track) if live is not None and live.on_mute == "skip" else None
    room, publisher = room_of(track), participant_of(track)
    watch = (
        StallWatch(track, live.stall_timeout, publisher)
        if live is not None and live.stall_timeout
        else None
    )
    closer = Closer(audio, fmt.sample_rate * fmt.num_channels)
    clock = loop_clock()
    stop_watching = on_track_end(track, closer.end, unsubscribed=closer.drain)
    pts = start_pts
    rate, channels = fmt.sample_rate, fmt.num_channels
    watched = None if watch is None else watch.events(aiter(audio), stats)
    events = audio if watched is None else watched
    acquire("livekit.audio_stream")
    try:
        while True:
            closer.waiting_since = clock()
            event = await anext(events, None)
            closer.waiting_since = None
            if event is None:
                break
            rtc_frame = event.frame
            if rtc_frame.sample_rate != rate or rtc_frame.num_channels != channels:
                got = AudioFrame.from_rtc(rtc_frame).format
                raise FormatError("LiveKit delivered a frame of another format", fmt, got)
            samples = rtc_frame.samples_per_channel
            # A view of LiveKit's buffer, as AudioFrame.from_rtc makes, without re-validating
            # the format on every frame (this is the per-frame hot path).
            data = np.frombuffer(rtc_frame.data, np.int16, samples * channels)
            if closer.draining and closer.played_out(data):
                break  # unsubscribed, and what was in flight has played out
            if muted is not None and muted.drops(data):
                if stats is not None:
                    stats.skipped += 1
                continue
            if stats is not None:
                stats.delivered += samples // per_frame if blocks else 1
            yield AudioFrame.of(data.reshape(samples, channels), fmt, pts)
            pts += samples
        # With stall_timeout, an unsubscription waits for the reason (see removed_as_dead).
        wait = closer.draining and live is not None and bool(live.stall_timeout)
        if stats is not None and await removed_as_dead(room, publisher, wait):
            stats.stalled = True  # the server removed them: their connection had died
    finally:
        if watched is not None:
            await watched.aclose()
        stop_watching()
        with anyio.CancelScope(shield=True):
            try:
                await closer.closed()
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
    on_mute: OnMute = "silence",
    stall_timeout: float | None = None,
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
    on_mute: OnMute = "silence",
    stall_timeout: float | None = None,
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
        stats: A `LiveStats` to count produced / delivered / dropped / skipped frames into.
        on_mute: While the track is muted LiveKit delivers digital silence: ``"silence"``
            keeps it (the stream stays aligned to wall time), ``"skip"`` leaves it out
            (the stream holds only what was said; ``pts`` stays continuous). See `OnMute`.
        stall_timeout: End the stream sooner when the publisher's connection died: the
            server reports their connection quality LOST and no audio packet arrived for
            this many seconds while the track was not muted (``stats.stalled`` says so).
            Silence never ends the stream: a participant who is present but silent sends
            no packets (LiveKit's Go SDK, browsers in DTX) and is recorded until they
            leave. A frozen or killed publisher is sometimes reported LOST about 10 s
            after its last packet (measured with livekit-server 1.13.5: 8.5-10.7 s in 4
            of 6 runs of one session, in none of 14 of another) and removed by the
            server after about 20 s, which ends the stream anyway (and also sets
            ``stats.stalled``; a stream ended by an unsubscription then waits up to
            0.25 s for the participant's disconnect, which says why).
            Remote tracks only. Default: wait for the server.

    Returns:
        An int16 stream with a known format and continuous ``pts`` from 0.

    Raises:
        ParameterError: ``track`` is neither audio nor video, a bad rate/channel count,
            ``on_mute`` or ``stall_timeout``, or ``stall_timeout`` for a local track.
        WrongEventLoopError: (while running) not running on asyncio (or trio, for a
            simulated room's track).

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
        return from_video_track(track)
    if not is_audio(track):
        raise ParameterError(f"from_track needs an audio track (got a {type(track).__name__})")
    fmt = audio_format(sample_rate or DEFAULT_SAMPLE_RATE, num_channels or 1)
    live = Live.make(overflow, max_queue_ms, stats, on_mute, stall_timeout)
    if stall_timeout is not None and not is_remote(track):
        raise ParameterError(
            f"stall_timeout applies to remote tracks (got a {type(track).__name__}, which "
            "receives no packets to watch)"
        )

    return Stream(
        lambda: frames_of(track, fmt, frame_size_ms, 0, live),
        format=fmt,
        name=f"from_track({track.name or track.sid!r})",
        live=True,
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
    on_mute: OnMute = "silence",
    stall_timeout: float | None = None,
) -> Stream[AudioFrame]:
    """Frames of a participant's audio track, following it across re-publishes.

    Waits until the participant has published (and this room has subscribed to) an audio
    track of ``source``, streams it, and when that track goes away waits for the next one.
    The stream ends when the participant leaves (or the server removes them because their
    connection died, ~20 s after it did), the room disconnects or (with ``stall_timeout``)
    the server reports the participant's connection lost. A silent participant, who sends
    no packets, is recorded until they leave. ``pts`` stays continuous across
    tracks (the time between two tracks is not counted; muted time is, unless
    ``on_mute="skip"``).

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
        on_mute: ``"silence"`` keeps the silence LiveKit delivers while the participant
            is muted, ``"skip"`` leaves it out, as for `from_track`.
        stall_timeout: End the stream sooner when the participant's connection died
            (reported LOST by the server, and no packet for this many seconds; see
            `from_track`). Default: wait for the server.

    Returns:
        An int16 stream with a known format.

    Raises:
        ParameterError: A bad rate, channel count or overflow setting.
        WrongEventLoopError: (while running) not running on asyncio (or trio, for a
            simulated room's track).

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
    fmt = audio_format(sample_rate or DEFAULT_SAMPLE_RATE, num_channels or 1)
    live = Live.make(overflow, max_queue_ms, stats, on_mute, stall_timeout)
    return participant_audio(room, identity, wanted, fmt, frame_size_ms, live)


def participant_audio(
    room: rtc.Room,
    identity: str,
    wanted: rtc.TrackSource.ValueType,
    fmt: AudioFormat,
    frame_size_ms: int | None,
    live: Live,
    blocks: bool = False,
) -> Stream[AudioFrame]:
    """`from_participant` with its settings checked; ``blocks`` as for `frames_of`."""

    def run() -> AsyncGenerator[AudioFrame, None]:
        at = [0]  # pts carries on from one track to the next, per iteration

        async def frames(track: rtc.Track) -> AsyncGenerator[AudioFrame, None]:
            start = at[0]
            async with consume(frames_of(track, fmt, frame_size_ms, start, live, blocks)) as audio:
                async for frame in audio:
                    at[0] = frame.end_pts
                    yield frame

        return follow_participant(
            room,
            identity,
            wanted,
            is_audio,
            frames,
            "from_participant",
            stop_after_track=lambda: live.stats is not None and live.stats.stalled,
        )

    return Stream(run, format=fmt, name=f"from_participant({identity!r})", live=True)
