"""`publish_media`: a media file's audio and video into a room, paced by one clock."""

from __future__ import annotations

import os
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import anyio

from .._core.clock import monotonic
from .._core.errors import NotConnectedError, ParameterError
from .._core.frame import AudioFrame
from .._core.resources import held
from .._core.stream import RunSummary, Stream
from .._core.tasks import one_error
from .._core.video import VideoFrame
from ..io import MediaFile, MediaSummary, open_media
from ..livekit import to_source
from ..livekit._events import require_asyncio, while_published
from ..livekit._publish_video import video_bitrate
from ..livekit._sdk import new_audio_source, new_audio_track, new_video_source, new_video_track

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("publish_media",)

AUDIO_QUEUE_MS = 200
"""How far ahead of real time the audio source is filled: room for the scheduling jitter of
a busy event loop, and the most the audio can lead before LiveKit sends it."""

AUDIO_SEND_DELAY_S = 0.015
"""How much later than a video frame handed to LiveKit at the same moment an audio sample
is stamped and sent, on average: the audio source hands its queue to WebRTC on its own
10 ms tick (0-10 ms away), and the Opus encoder sends a 20 ms packet, stamped then, when
its second 10 ms has arrived. A video frame is stamped when it is captured. The video
waits this long so both are stamped alike (measured against LiveKit's Go SDK: audio
14-28 ms late without it; tests/livekit/test_sync_vs_go.py)."""


class _Clock:
    """The one clock both tracks are paced by: media time 0 is when the first audio frame
    was handed to LiveKit (which sends sample ``n`` of a never-starved source ``n / rate``
    seconds later), or when the first video frame was, without audio. A starved audio
    source moves it on (see `audio_handed`)."""

    def __init__(self, has_audio: bool) -> None:
        self.zero: float | None = None
        self.started = anyio.Event()
        self._has_audio = has_audio
        self.video_delay_s = AUDIO_SEND_DELAY_S if has_audio else 0.0

    def start(self) -> None:
        if self.zero is None:
            self.zero = monotonic()
            self.started.set()

    def audio_handed(self, media_s: float) -> None:
        """Audio from media time ``media_s`` is being handed to LiveKit now.

        If that is later than the clock says, the source ran dry (a busy machine held the
        event loop longer than its queue lasts): LiveKit filled the gap with silence, and
        everything after plays that much later, so the clock moves on as much and the
        video keeps to the audio.
        """
        self.start()
        assert self.zero is not None
        late = monotonic() - (self.zero + media_s)
        if late > 0:
            self.zero += late

    async def wait_until(self, media_s: float) -> float:
        """Sleep until media time ``media_s``; the video waits for the audio to start.

        Returns:
            When it was due, on the monotonic clock.
        """
        if self.zero is None and not self._has_audio:
            self.start()
        await self.started.wait()
        assert self.zero is not None
        due = self.zero + media_s
        delay = due - monotonic()
        if delay > 0:
            await anyio.sleep(delay)
        return due


async def _send_video(
    video: Stream[VideoFrame], source: rtc.VideoSource, clock: _Clock
) -> tuple[int, float]:
    """Each frame handed to LiveKit at its time on the clock; (frames, seconds) sent."""
    count, first, last = 0, 0, 0
    async with video.open() as frames:
        async for frame in frames:
            if count == 0:
                first = frame.timestamp_us
            due = await clock.wait_until(frame.timestamp_us / 1e6 + clock.video_delay_s)
            # Stamped with when it was due: one held back by a busy event loop keeps its
            # place (WebRTC lines these stamps up with its clock, on average).
            source.capture_frame(frame._to_rtc_shared(), timestamp_us=round(due * 1e6))
            last = frame.timestamp_us
            count += 1
    return count, (last - first) / 1e6


async def _send_audio(
    audio: Stream[AudioFrame], source: rtc.AudioSource, clock: _Clock
) -> RunSummary:
    first_pts: int | None = None

    def handed(frame: AudioFrame) -> None:  # just before it goes to LiveKit
        nonlocal first_pts
        if first_pts is None:
            first_pts = frame.pts
        clock.audio_handed((frame.pts - first_pts) / frame.format.sample_rate)

    return await to_source(audio.tap(handed), source, frame_ms=20)


async def publish_media(
    room: rtc.Room,
    media: str | os.PathLike[str] | MediaFile,
    *,
    name: str = "media",
    audio: bool = True,
    video: bool = True,
    video_max_bitrate: int | None = None,
) -> MediaSummary:
    """Publish a media file's audio and video to a room, in sync, in real time.

    Both tracks are published in one stream group (so receivers lip-sync them) and paced
    by one clock: audio is handed to LiveKit as fast as its 200 ms queue takes it, which
    LiveKit sends in real time, and each video frame goes out at its ``timestamp_us`` on
    the audio's timeline. Tracks are unpublished and sources closed however the run ends
    (the end of the file, an error, a cancellation); if the room disconnects or a track is
    unpublished elsewhere, publishing stops there with ``anyio.BrokenResourceError``.

    Args:
        room: A connected ``rtc.Room``.
        media: A file (anything `open_media` reads) or an opened `MediaFile`.
        name: The tracks are ``NAME-audio`` and ``NAME-video``, in stream group ``NAME``.
        audio: Publish the audio (if the file has some).
        video: Publish the video (if the file has some).
        video_max_bitrate: The video encoder's bitrate cap in bits per second.

    Returns:
        A `MediaSummary` of what was sent.

    Raises:
        NotConnectedError: The room is not connected.
        ParameterError: Nothing to publish (no audio or video asked for, or in the file).
        WrongEventLoopError: Not running on asyncio.
        anyio.BrokenResourceError: The room went away, or a track was unpublished, first.

    Examples:
        A room that is not connected is refused before the file is read:

        >>> import asyncio
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def main():
        ...     try:
        ...         await lk.publish_media(rtc.Room(), "talk.mp4")
        ...     except lk.NotConnectedError as exc:
        ...         print(exc)
        >>> asyncio.run(main())
        publish_media needs a connected room (got a disconnected rtc.Room)
    """
    require_asyncio("publish_media", room)
    if not room.isconnected():
        raise NotConnectedError(
            "publish_media needs a connected room (got a disconnected rtc.Room)"
        )
    opened = media if isinstance(media, MediaFile) else open_for_publishing(media)
    audio_stream = opened.audio if audio else None
    video_stream = opened.video if video else None
    if audio_stream is None and video_stream is None:
        raise ParameterError(
            f"nothing to publish from {str(opened.info.path)!r}: no audio or video"
        )
    picture = opened.info.video
    size = None if picture is None or video_stream is None else (picture.width, picture.height)
    with held("livekit.published_track"):
        fps = (picture.fps if picture else None) or 30.0
        tracks = await _Tracks.publish(room, name, audio_stream, size, fps, video_max_bitrate)
        try:
            return await _play(room, tracks, audio_stream, video_stream, size)
        finally:
            with anyio.CancelScope(shield=True), suppress(Exception):
                await tracks.unpublish(room)


def open_for_publishing(path: str | os.PathLike[str]) -> MediaFile:
    """The file as `publish_media` reads it: pictures in I420 and audio in int16, what
    LiveKit takes, and the video decoder threaded by slices (read at real-time pace,
    FFmpeg's frame threads cost about a tenth more CPU and gain nothing)."""
    opened = open_media(path, pixel_format="i420", dtype="int16")
    opened._threads = "SLICE"
    return opened


class _Tracks:
    """The published sources and tracks, to unpublish at the end."""

    def __init__(self) -> None:
        self.audio_source: rtc.AudioSource | None = None
        self.video_source: rtc.VideoSource | None = None
        self.sids: list[str] = []

    @classmethod
    async def publish(
        cls,
        room: rtc.Room,
        name: str,
        audio: Stream[AudioFrame] | None,
        size: tuple[int, int] | None,
        fps: float,
        max_bitrate: int | None,
    ) -> _Tracks:
        """Create and publish an audio track (if ``audio``) and a video track of ``size``."""
        from livekit import rtc

        tracks = cls()
        publish = room.local_participant.publish_track
        try:
            if audio is not None:
                channels = min(2, audio.format.num_channels if audio.format else 1)
                audio_source = new_audio_source(room, 48_000, channels, AUDIO_QUEUE_MS)
                tracks.audio_source = audio_source
                track: Any = new_audio_track(room, f"{name}-audio", audio_source)
                mic = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, stream=name)
                tracks.sids.append((await publish(track, mic)).sid)
            if size is not None:
                tracks.video_source = video_source = new_video_source(room, *size)
                track = new_video_track(room, f"{name}-video", video_source)
                camera = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA, stream=name)
                # LiveKit's presets cap small videos at 15-20 fps: ask for the file's own.
                camera.video_encoding.max_framerate = fps
                camera.video_encoding.max_bitrate = max_bitrate or video_bitrate(*size, fps)
                tracks.sids.append((await publish(track, camera)).sid)
        except BaseException:
            with anyio.CancelScope(shield=True), suppress(Exception):
                await tracks.unpublish(room)
            raise
        return tracks

    async def unpublish(self, room: rtc.Room) -> None:
        """Unpublish what is still published and close the sources (once)."""
        sids, self.sids = self.sids, []
        for sid in sids:
            if room.isconnected() and sid in room.local_participant.track_publications:
                with suppress(Exception):
                    await room.local_participant.unpublish_track(sid)
        for source in (self.audio_source, self.video_source):
            if source is not None:
                await source.aclose()
        self.audio_source = self.video_source = None


async def _play(
    room: rtc.Room,
    tracks: _Tracks,
    audio: Stream[AudioFrame] | None,
    video: Stream[VideoFrame] | None,
    size: tuple[int, int] | None,
) -> MediaSummary:
    """Send both streams until they end, stopped if the room or a track goes away."""
    clock = _Clock(has_audio=audio is not None)
    results: dict[str, Any] = {}
    gone = "a track was unpublished, or the room disconnected, before the media ended"
    with while_published(room, tracks.sids, gone), one_error():
        await _run_both(tracks, audio, video, clock, results)
    frames, seconds = results.get("video", (0, 0.0))
    return MediaSummary(
        audio=results.get("audio"),
        video_frames=frames,
        video_size=size if frames else None,
        video_seconds=seconds,
    )


async def _run_both(
    tracks: _Tracks,
    audio: Stream[AudioFrame] | None,
    video: Stream[VideoFrame] | None,
    clock: _Clock,
    results: dict[str, Any],
) -> None:
    """The audio and the video sender, side by side."""
    async with anyio.create_task_group() as group:
        if audio is not None and tracks.audio_source is not None:

            async def send_audio(source: rtc.AudioSource = tracks.audio_source) -> None:
                results["audio"] = await _send_audio(audio, source, clock)

            group.start_soon(send_audio)
        if video is not None and tracks.video_source is not None:

            async def send_video(source: rtc.VideoSource = tracks.video_source) -> None:
                results["video"] = await _send_video(video, source, clock)

            group.start_soon(send_video)
