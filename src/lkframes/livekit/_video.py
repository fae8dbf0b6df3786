"""LiveKit video tracks and sources: `from_video_track` and `to_video_source`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

import anyio

from .._core.checks import check_choice
from .._core.clock import monotonic
from .._core.errors import InvalidVideoError, ParameterError
from .._core.loops import Started, start
from .._core.registry import method_entry
from .._core.resources import acquire, release
from .._core.stream import RunSummary, Stream
from .._core.video import PixelFormat, VideoFrame, buffer_type, check_pixel_format
from ._events import on_track_end, require_asyncio
from ._follow import follow_participant
from ._live import LiveStats, Overflow, count_frames
from ._sdk import end_stream, is_remote, video_stream

if TYPE_CHECKING:
    from livekit import rtc

__all__ = (
    "DEFAULT_VIDEO_QUEUE",
    "VideoLive",
    "from_participant_video",
    "from_video_track",
    "send_video",
    "to_video_source",
    "video_frames_of",
)


DEFAULT_VIDEO_QUEUE = 30
"""Frames a live video source keeps queued by default (``overflow="drop_oldest"``): one
second at 30 fps. A video stream that nobody reads must not queue without bound."""


@dataclass(frozen=True, slots=True)
class VideoLive:
    """A live video source's queue: ``capacity`` frames (0: unbounded) and the counts."""

    capacity: int
    stats: LiveStats | None

    @classmethod
    def make(
        cls, overflow: str, max_queue_frames: int | None, stats: LiveStats | None
    ) -> VideoLive:
        """Validated settings, as `from_video_track` takes them."""
        check_choice(overflow, get_args(Overflow), "overflow")
        if overflow == "drop_oldest":
            frames = DEFAULT_VIDEO_QUEUE if max_queue_frames is None else max_queue_frames
            if type(frames) is not int or frames <= 0:
                raise ParameterError(
                    f"overflow='drop_oldest' needs max_queue_frames > 0 (got {max_queue_frames!r})"
                )
            return cls(frames, stats or LiveStats())  # drops are always counted
        if max_queue_frames is not None:
            raise ParameterError("max_queue_frames applies to overflow='drop_oldest' only")
        return cls(0, stats)


BLACK_HELD_MAX = 15
"""Exactly black frames held back until a picture follows. When a video track is
unpublished, the subscriber's WebRTC delivers frames of pure black (measured with
livekit-server 1.13: 6 frames over 150 ms) that the participant never sent; black frames
at the end of a remote track are dropped (up to this many; a longer black run, a real
one, is let through). Local tracks are not touched."""


def is_black(frame: VideoFrame) -> bool:
    """Every pixel shows as pure black (RGB 0; YUV at or below video black, grey chroma),
    as WebRTC's made-up frames do; three pixels are looked at first, so a picture costs
    almost nothing (and nothing is copied)."""
    data = frame.data
    if data.size == 0:
        return False
    if frame.pixel_format in ("i420", "nv12"):
        pixels = frame.width * frame.height
        luma, chroma = data[:pixels], data[pixels:]
        if max(luma[0], luma[pixels // 2], luma[-1]) > VIDEO_BLACK:
            return False
        return bool(luma.max() <= VIDEO_BLACK and chroma.min() >= 124 and chroma.max() <= 132)
    if frame.pixel_format == "gray":
        colour = data[..., None]
    else:
        colour = data[..., 1:4] if frame.pixel_format in ("argb", "abgr") else data[..., :3]
    middle = colour[frame.height // 2, frame.width // 2]
    if colour[0, 0].any() or middle.any() or colour[-1, -1].any():
        return False
    return not colour.any()


LKFRAMES_CONVERTS = ("bgr24", "gray")
"""Layouts LiveKit has no buffer type of: a track's frames come in their own layout
(I420 from a remote participant) and lkframes converts them, as `lkframes.to_pixel_format`
does."""

VIDEO_BLACK = 16
"""The luma of black in limited-range video: a frame at or below it everywhere shows black."""


async def video_frames_of(
    track: rtc.Track, pixel_format: PixelFormat, live: VideoLive
) -> AsyncGenerator[VideoFrame, None]:
    """Frames of one subscription to a video track, ending when the track or room goes.

    ``rtc.VideoStream`` puts no end marker in its queue when it ends, so a reader waiting
    there would wait forever (livekit 1.2.1): the end is put there from here.
    """

    require_asyncio("from_track (video)", track)
    # LiveKit has no bgr24 or gray: take the frames as they come and convert them here
    ask = buffer_type(pixel_format) if pixel_format not in LKFRAMES_CONVERTS else None
    video = video_stream(track, ask, live.capacity)
    if live.stats is not None:
        count_frames(video, live.capacity, live.stats)
    closing: list[Started] = []

    def end() -> None:
        if not closing:
            end_stream(video)  # wakes a reader waiting for the next frame
            closing.append(start(video.aclose(), name="lkframes: closing a VideoStream"))

    stop_watching = on_track_end(track, end)
    acquire("livekit.video_stream")
    held: list[VideoFrame] = []  # black frames that may be the unpublish's
    remote = is_remote(track)
    try:
        async for event in video:
            if live.stats is not None:
                live.stats.delivered += 1
            frame = VideoFrame.from_rtc(
                event.frame, timestamp_us=event.timestamp_us, pixel_format=pixel_format
            )
            if remote and is_black(frame) and len(held) < BLACK_HELD_MAX:
                held.append(frame)
                continue
            for earlier in held:
                yield earlier
            held.clear()
            yield frame
    finally:
        if live.stats is not None:  # the unpublish's black frames: left out, and counted
            live.stats.delivered -= len(held)
            live.stats.skipped += len(held)
        stop_watching()
        end()
        with anyio.CancelScope(shield=True):
            try:
                await closing[0].wait()
            finally:
                release("livekit.video_stream")


def from_video_track(
    track: rtc.Track,
    *,
    pixel_format: PixelFormat = "rgba",
    overflow: Overflow = "drop_oldest",
    max_queue_frames: int | None = None,
    stats: LiveStats | None = None,
) -> Stream[VideoFrame]:
    """Frames of a LiveKit video track, converted to ``pixel_format`` by LiveKit.

    ``timestamp_us`` is when LiveKit schedules the frame to be shown, on this machine's
    monotonic clock (``time.monotonic()`` in microseconds), so it can be lined up with
    audio received at the same time. Same lifetime rules as `lkframes.from_track` (which
    calls this for video tracks).

    Args:
        track: A video track (remote or local).
        pixel_format: The layout to receive; LiveKit converts (``"i420"`` is its own).
            ``"bgr24"`` (OpenCV's) and ``"gray"``, which LiveKit has not, are made by
            lkframes from the frames as they come (I420 from a remote participant), the
            same pixels as ``pixel_format="i420"`` followed by ``.to_pixel_format(...)``.
        overflow: When the pipeline falls behind: ``"drop_oldest"`` (the default: keep at
            most ``max_queue_frames``, counted in ``stats``) or ``"block"`` (keep all).
        max_queue_frames: The queue bound for ``"drop_oldest"`` (default 30 frames).
        stats: A `LiveStats` counting produced, delivered and dropped frames.

    Raises:
        ParameterError: Not a video track, an unknown pixel format, or a bad overflow
            setting.

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
    live = VideoLive.make(overflow, max_queue_frames, stats)
    name = f"from_track({track.name or track.sid!r}, video)"
    return Stream(lambda: video_frames_of(track, pixel_format, live), name=name, live=True)


def from_participant_video(
    room: rtc.Room,
    identity: str,
    *,
    source: rtc.TrackSource.ValueType | None = None,
    pixel_format: PixelFormat = "rgba",
    overflow: Overflow = "drop_oldest",
    max_queue_frames: int | None = None,
    stats: LiveStats | None = None,
) -> Stream[VideoFrame]:
    """Frames of a participant's video track, following it across re-publishes.

    The video counterpart of `lkframes.from_participant`: waits for the participant's
    camera (or ``source``) track, streams it, waits for the next one when it goes, and
    ends when they leave or the room disconnects. ``timestamp_us`` is on this machine's
    monotonic clock, as for `from_video_track`, so it keeps counting across tracks.

    Args:
        room: A connected ``rtc.Room`` (auto-subscribe on, the default).
        identity: The participant's identity.
        source: Which of their tracks (default ``rtc.TrackSource.SOURCE_CAMERA``).
        pixel_format: The layout to receive (LiveKit converts; ``"bgr24"`` and
            ``"gray"`` lkframes does, as for `from_video_track`).
        overflow: ``"drop_oldest"`` (default) or ``"block"``, as for `from_video_track`.
        max_queue_frames: The queue bound for ``"drop_oldest"`` (default 30 frames).
        stats: A `LiveStats` counting frames across all the participant's tracks.

    Raises:
        ParameterError: An unknown pixel format or a bad overflow setting.
        WrongEventLoopError: (while running) not running on asyncio.

    Examples:
        Building the stream does no network I/O; iterating it waits for the participant:

        >>> import asyncio
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def build():
        ...     stream = lk.from_participant_video(rtc.Room(), "alice", pixel_format="i420")
        ...     return stream.format
        >>> asyncio.run(build()) is None
        True
    """
    from livekit import rtc

    wanted = rtc.TrackSource.SOURCE_CAMERA if source is None else source
    check_pixel_format(pixel_format)
    live = VideoLive.make(overflow, max_queue_frames, stats)

    def is_video(track: rtc.Track) -> bool:
        return bool(track.kind == rtc.TrackKind.KIND_VIDEO)

    def run() -> AsyncGenerator[VideoFrame, None]:
        return follow_participant(
            room,
            identity,
            wanted,
            is_video,
            lambda track: video_frames_of(track, pixel_format, live),
            "from_participant_video",
        )

    return Stream(run, name=f"from_participant_video({identity!r})", live=True)


@method_entry
async def to_video_source(
    stream: Stream[VideoFrame], source: rtc.VideoSource, *, realtime: bool = True
) -> RunSummary:
    """Push video frames into an ``rtc.VideoSource``.

    Frames in ``bgr24`` or ``gray``, layouts LiveKit has not, are handed over as BGRA (the
    same colours, opaque; gray as R = G = B), which LiveKit converts to I420 as it does
    any BGRA frame.

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
    require_asyncio("to_source (video)", source)
    async with stream.open() as frames:
        count = await send_video(frames, source, realtime=realtime)
    return RunSummary(count, 0, None)


async def send_video(
    frames: AsyncIterator[VideoFrame], source: rtc.VideoSource, *, realtime: bool
) -> int:
    """``capture_frame`` each frame (paced by ``timestamp_us`` if ``realtime``); how many."""
    count = 0
    start_wall: float | None = None
    start_ts = 0
    async for frame in frames:
        if not isinstance(frame, VideoFrame):
            raise InvalidVideoError(
                f"a VideoSource takes lkframes.VideoFrame items (got {type(frame).__name__})"
            )
        if realtime:
            if start_wall is None:
                start_wall, start_ts = monotonic(), frame.timestamp_us
            due = start_wall + (frame.timestamp_us - start_ts) / 1e6
            delay = due - monotonic()
            if delay > 0:
                await anyio.sleep(delay)
        source.capture_frame(frame._to_rtc_shared(), timestamp_us=frame.timestamp_us)
        count += 1
    return count
