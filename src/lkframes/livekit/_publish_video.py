"""`publish_video`: a stream of video frames into a room as a video track."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import suppress
from typing import TYPE_CHECKING

import anyio

from .._core.errors import InvalidVideoError, NotConnectedError, ParameterError
from .._core.resources import held
from .._core.stream import RunSummary, Stream
from .._core.video import VideoFrame
from ._events import require_asyncio, while_published
from ._sdk import new_video_source, new_video_track
from ._video import send_video

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("publish_video", "video_bitrate")


def video_bitrate(width: int, height: int, fps: float) -> int:
    """A video bitrate for the size and rate: 0.06 bits a pixel, as LiveKit's 720p30
    preset (1.7 Mb/s), and at least 150 kb/s."""
    return max(150_000, round(width * height * fps * 0.06))


async def publish_video(
    stream: Stream[VideoFrame],
    room: rtc.Room,
    name: str,
    *,
    source: rtc.TrackSource.ValueType | None = None,
    fps: float = 30.0,
    max_bitrate: int | None = None,
    realtime: bool = True,
) -> RunSummary:
    """Publish a stream of video frames to a room as a video track, then unpublish.

    The video counterpart of `publish`: the track is published when the first frame
    arrives (its size is the source's), each frame is handed to LiveKit at its
    ``timestamp_us`` (a file or generator plays at 1x; ``realtime=False`` sends them as
    they come, for a live source that is already paced), and the track is unpublished and
    the source closed however the run ends. A stream with no frames publishes nothing.
    It works the same in a `lkframes.testing.SimulatedRoom`, where what was sent is kept in
    ``room.you.published[name].frames``.

    Args:
        stream: The frames, any pixel format LiveKit takes (see `VideoFrame`).
        room: A connected ``rtc.Room``.
        name: The track's name.
        source: Track source (default ``rtc.TrackSource.SOURCE_CAMERA``).
        fps: The encoder's frame-rate cap (LiveKit's presets cap small videos at 15-20
            fps; this asks for the stream's own rate).
        max_bitrate: The encoder's bitrate cap in bits per second (default 0.06 bits a
            pixel at ``fps``, at least 150 kb/s).
        realtime: Pace the frames by their ``timestamp_us``.

    Returns:
        A `RunSummary` whose ``frames`` is the number of frames sent.

    Raises:
        WrongEventLoopError: Not running on asyncio.
        NotConnectedError: The room is not connected.
        ParameterError: ``fps`` or ``max_bitrate`` is not positive.
        InvalidVideoError: An item that is not a `VideoFrame`.
        anyio.BrokenResourceError: The room disconnected, or the track was unpublished
            elsewhere, before the stream ended.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> from lkframes.testing import SimulatedRoom
        >>> pictures = [  # 3 frames of 64x48 RGBA, 30 fps
        ...     lk.VideoFrame(np.zeros((48, 64, 4), np.uint8), timestamp_us=k * 33_333)
        ...     for k in range(3)
        ... ]
        >>> async def main():
        ...     async with SimulatedRoom() as room:
        ...         sent = await lk.publish_video(lk.from_video_frames(pictures), room, "cam")
        ...         return sent.frames, len(room.you.published["cam"].frames)
        >>> lk.run_sync(main())
        (3, 3)
    """
    require_asyncio("publish_video", room)
    if not fps > 0:
        raise ParameterError(f"publish_video: fps must be positive (got {fps!r})")
    if max_bitrate is not None and max_bitrate <= 0:
        raise ParameterError(f"publish_video: max_bitrate must be positive (got {max_bitrate!r})")
    if not room.isconnected():
        raise NotConnectedError(
            "publish_video needs a connected room (got a disconnected rtc.Room)"
        )
    async with stream.open() as frames:
        first = await anext(frames, None)
        if first is None:
            return RunSummary(0, 0, None)
        if not isinstance(first, VideoFrame):
            raise InvalidVideoError(
                f"publish_video takes lkframes.VideoFrame items (got {type(first).__name__})"
            )
        return await _publish(
            room, name, _chained(first, frames), first, source, fps, max_bitrate, realtime
        )


async def _chained(
    first: VideoFrame, rest: AsyncIterator[VideoFrame]
) -> AsyncGenerator[VideoFrame, None]:
    yield first
    async for frame in rest:
        yield frame


async def _publish(
    room: rtc.Room,
    name: str,
    frames: AsyncGenerator[VideoFrame, None],
    first: VideoFrame,
    source: rtc.TrackSource.ValueType | None,
    fps: float,
    max_bitrate: int | None,
    realtime: bool,
) -> RunSummary:
    """Create, publish, send every frame, unpublish (shielded, whatever happened)."""
    from livekit import rtc

    video_source = new_video_source(room, first.width, first.height)
    options = rtc.TrackPublishOptions(
        source=rtc.TrackSource.SOURCE_CAMERA if source is None else source
    )
    options.video_encoding.max_framerate = fps
    options.video_encoding.max_bitrate = max_bitrate or video_bitrate(
        first.width, first.height, fps
    )
    sid: str | None = None
    with held("livekit.published_track"):
        try:
            track = new_video_track(room, name, video_source)
            sid = (await room.local_participant.publish_track(track, options)).sid
            gone = (
                f"track {name!r} was unpublished, or the room disconnected, before the stream ended"
            )
            with while_published(room, {sid}, gone):
                count = await send_video(frames, video_source, realtime=realtime)
        finally:
            with anyio.CancelScope(shield=True):
                await frames.aclose()
                published = room.local_participant.track_publications
                if sid is not None and room.isconnected() and sid in published:
                    with suppress(Exception):
                        await room.local_participant.unpublish_track(sid)
                await video_source.aclose()
    return RunSummary(count, 0, None)
