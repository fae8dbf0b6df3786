"""LiveKit audio sources and rooms as sinks: `to_source` and `publish`."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

import anyio

from .._core.errors import NotConnectedError, StreamTimeoutError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.loops import call_later
from .._core.registry import method_entry
from .._core.resources import held
from .._core.stream import RunSummary, Stream
from ._events import require_asyncio, while_published
from ._live import DEFAULT_SAMPLE_RATE, audio_format
from ._sdk import new_audio_source, new_audio_track

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("publish", "to_source")


@method_entry
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
        WrongEventLoopError: Not running on asyncio.
        ParameterError: ``frame_ms`` is not a whole number of samples at the source's rate.
        StreamTimeoutError: A ``capture_frame`` did not return within 10-20 s: LiveKit's
            source stopped draining its queue (livekit/rust-sdks#1289), which would
            otherwise hang the stream forever with the room still connected.

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
    require_asyncio("to_source", source)
    target = audio_format(source.sample_rate, source.num_channels)
    adapted = _adapt(stream, target).chunk(ms=frame_ms)
    count, samples = await _push(source, adapted, target)
    if wait_for_playout:
        await source.wait_for_playout()
    return RunSummary(count, samples, target)


async def _push(
    source: rtc.AudioSource, frames: Stream[AudioFrame], target: AudioFormat
) -> tuple[int, int]:
    """Capture every frame; the frames and samples per channel captured.

    Raises:
        StreamTimeoutError: A capture stalled (see `_Watchdog`).
    """
    count = samples = 0
    with anyio.CancelScope() as stop:
        watchdog = _Watchdog(stop)
        try:
            async with frames.open() as opened:
                async for frame in opened:
                    watchdog.begun += 1
                    watchdog.busy = True
                    await _capture(source, frame.to_rtc())
                    watchdog.busy = False
                    count += 1
                    samples += frame.samples_per_channel
        finally:
            watchdog.close()
    if watchdog.stalled:
        raise StreamTimeoutError(
            f"LiveKit's AudioSource.capture_frame did not return within {CAPTURE_STALL_S:g} s, "
            f"{samples / target.sample_rate:.3f} s into the stream: the source stopped draining "
            "its queue (livekit/rust-sdks#1289); its queued audio was dropped"
        )
    return count, samples


RELEASE_WAIT_S = 0.05
"""How long a cancelled capture waits for LiveKit to let go of its frame: measured 0.07 to
5.5 ms (median 0.13 ms) after ``clear_queue``, over 30 trials."""


CAPTURE_STALL_S = 10.0
"""How long one ``capture_frame`` may wait (up to twice this: see `_Watchdog`) before the
source counts as stalled and `to_source` stops with `StreamTimeoutError`. It waits
for room in the source's queue, which LiveKit's native layer drains every 10 ms, so a
healthy one returns within a frame or two; a buffered source whose drain stalled never
returns (livekit/rust-sdks#1289, seen here once in a benchmark on a loaded machine)."""


async def _capture(source: rtc.AudioSource, frame: rtc.AudioFrame) -> None:
    """``source.capture_frame(frame)``; if that is cancelled, LiveKit is let finish it.

    A ``capture_frame`` waits while the source's queue is full, and cancelling it in Python
    does not cancel it in LiveKit's native layer: that completes it up to ``queue_size_ms``
    later, and if the process has exited by then, it logs ``ERROR ... [AUDIO_CAPTURE]
    Failed to send callback ...: the server is not configured``. So the queue is cleared
    (this is a stop: the queued audio is not played), which lets the native call complete,
    and the cancellation waits `RELEASE_WAIT_S` for it (a stalled capture is stopped this
    way too, by `_Watchdog`). Nothing is added per frame: a task to await the native call
    itself would cost ~30 µs a frame.
    """
    try:
        await source.capture_frame(frame)
    except BaseException:
        source.clear_queue()
        with anyio.CancelScope(shield=True):
            await anyio.sleep(RELEASE_WAIT_S)
        raise


class _Watchdog:
    """Cancels ``scope`` once a capture has been under way for `CAPTURE_STALL_S` to twice
    that: every `CAPTURE_STALL_S` it looks whether the capture under way began before its
    last look. One timer per run, and two stores per frame (a deadline per capture would
    cost 3-16 µs a frame, a tenth of what ``to_source`` adds to a capture loop)."""

    def __init__(self, scope: anyio.CancelScope) -> None:
        self.begun = 0  # captures begun
        self.busy = False  # one is under way
        self.stalled = False
        self._scope = scope
        self._seen = -1
        self._later = call_later(CAPTURE_STALL_S, self._look)

    def _look(self) -> None:
        if self.busy and self.begun == self._seen:
            self.stalled = True
            self._scope.cancel()
            return
        self._seen = self.begun
        self._later = call_later(CAPTURE_STALL_S, self._look)

    def close(self) -> None:
        """Stop looking."""
        self._later.cancel()


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


@method_entry
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
        WrongEventLoopError: Not running on asyncio.
        NotConnectedError: The room is not connected.
        anyio.BrokenResourceError: The room disconnected, or the track was unpublished
            elsewhere, before the stream ended.
        StreamTimeoutError: LiveKit's source stopped taking audio (see `to_source`); the
            track is unpublished.

    Examples:
        Publishing needs a connected room (see `connect`); a room that is not connected is
        refused before anything is sent:

        >>> import asyncio
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def main():
        ...     try:
        ...         await lk.publish(lk.sine(440, 1.0), rtc.Room(), "tone")
        ...     except lk.NotConnectedError as exc:
        ...         print(exc)
        >>> asyncio.run(main())
        publish needs a connected room (got a disconnected rtc.Room)
    """
    require_asyncio("publish", room)
    from livekit import rtc

    if not room.isconnected():
        raise NotConnectedError("publish needs a connected room (got a disconnected rtc.Room)")
    audio_source = new_audio_source(room, sample_rate, num_channels, queue_size_ms)
    track = new_audio_track(room, name, audio_source)
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
    """`to_source` for a published source, stopped when the room or the track goes away."""
    gone = (
        f"track {publication.name!r} was unpublished, or the room disconnected, "
        "before the stream ended"
    )
    with while_published(room, {publication.sid}, gone):
        summary = await to_source(stream, audio_source, frame_ms=frame_ms)
    return summary


async def _unpublish(room: rtc.Room, sid: str, audio_source: rtc.AudioSource) -> None:
    """Unpublish ``sid`` if it is still published, and close the source (shielded)."""
    with anyio.CancelScope(shield=True):
        try:
            if room.isconnected() and sid in room.local_participant.track_publications:
                await room.local_participant.unpublish_track(sid)
        finally:
            await audio_source.aclose()
