"""LiveKit video tracks and sources: `from_video_track` and `to_video_source`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import anyio

from .._core.errors import InvalidVideoError, ParameterError
from .._core.registry import method_entry
from .._core.resources import acquire, release
from .._core.stream import RunSummary, Stream
from .._core.video import PixelFormat, VideoFrame, buffer_type, check_pixel_format
from ._events import on_track_end, require_asyncio

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("from_video_track", "to_video_source")


async def _video_frames_of(
    track: rtc.Track, pixel_format: PixelFormat
) -> AsyncGenerator[VideoFrame, None]:
    from livekit import rtc

    require_asyncio("from_track (video)")
    video = rtc.VideoStream(track, format=buffer_type(pixel_format))  # type: ignore[arg-type]
    closing: list[asyncio.Task[None]] = []

    def end() -> None:
        if not closing:
            closing.append(asyncio.get_running_loop().create_task(video.aclose()))

    stop_watching = on_track_end(track, end)
    acquire("livekit.video_stream")
    try:
        async for event in video:
            yield VideoFrame.from_rtc(
                event.frame, timestamp_us=event.timestamp_us, pixel_format=pixel_format
            )
    finally:
        stop_watching()
        end()
        with anyio.CancelScope(shield=True):
            try:
                await closing[0]
            finally:
                release("livekit.video_stream")


def from_video_track(track: rtc.Track, *, pixel_format: PixelFormat = "rgba") -> Stream[VideoFrame]:
    """Frames of a LiveKit video track, converted to ``pixel_format`` by LiveKit.

    Same lifetime rules as `lkframes.from_track` (which calls this for video tracks).

    Raises:
        ParameterError: Not a video track, or an unknown pixel format.

    Examples:
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> track = rtc.LocalVideoTrack.create_video_track("cam", rtc.VideoSource(4, 2))
        >>> lk.from_video_track(track, pixel_format="i420").format is None
        True
        >>> try:
        ...     lk.from_video_track(track, pixel_format="yuv")
        ... except lk.ParameterError:
        ...     print("unknown pixel format")
        unknown pixel format
    """
    from livekit import rtc

    if track.kind != rtc.TrackKind.KIND_VIDEO:
        raise ParameterError(f"needs a video track (got {type(track).__name__})")
    check_pixel_format(pixel_format)
    name = f"from_track({track.name or track.sid!r}, video)"
    return Stream(lambda: _video_frames_of(track, pixel_format), name=name)


@method_entry
async def to_video_source(
    stream: Stream[VideoFrame], source: rtc.VideoSource, *, realtime: bool = True
) -> RunSummary:
    """Push video frames into an ``rtc.VideoSource``.

    ``capture_frame`` never waits, so with ``realtime`` (the default) frames are paced by
    their ``timestamp_us`` (a file or generator plays at 1x); without it they are pushed
    as fast as they come.

    Raises:
        WrongEventLoopError: Not running on asyncio.
        InvalidVideoError: An item that is not a `VideoFrame`.

    Examples:
        >>> import asyncio
        >>> import lkframes as lk, numpy as np
        >>> from livekit import rtc
        >>> async def frames():
        ...     for i in range(3):
        ...         yield lk.VideoFrame(np.zeros((2, 4, 4), np.uint8), timestamp_us=i * 1_000)
        >>> async def send():
        ...     source = rtc.VideoSource(4, 2)
        ...     summary = await lk.to_video_source(lk.Stream(frames), source)
        ...     await source.aclose()
        ...     return summary.frames
        >>> asyncio.run(send())
        3
    """
    require_asyncio("to_source (video)")
    count = 0
    start_wall: float | None = None
    start_ts = 0
    async with stream.open() as frames:
        async for frame in frames:
            if not isinstance(frame, VideoFrame):
                raise InvalidVideoError(
                    f"a VideoSource takes lkframes.VideoFrame items (got {type(frame).__name__})"
                )
            if realtime:
                if start_wall is None:
                    start_wall, start_ts = time.monotonic(), frame.timestamp_us
                due = start_wall + (frame.timestamp_us - start_ts) / 1e6
                delay = due - time.monotonic()
                if delay > 0:
                    await anyio.sleep(delay)
            source.capture_frame(frame.to_rtc(), timestamp_us=frame.timestamp_us)
            count += 1
    return RunSummary(count, 0, None)
