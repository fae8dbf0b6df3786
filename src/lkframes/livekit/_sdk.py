"""The one place lkframes uses livekit.rtc's private parts, each with the behaviour it assumes.

It is also where a simulated room (``lkframes.testing.SimulatedRoom``) takes the SDK's
place: its rooms, participants and tracks have the SDK's public attributes and events, and
say ``lkframes_simulated = True``; here their streams and statistics come from the
simulation instead of the native layer (`audio_stream`, `video_stream`, `on_put`,
`end_stream`, `room_of`, `packets_received`, `is_remote`), and what lkframes publishes
into one goes to its sources (`new_audio_source`, `new_video_source` and their tracks).
Everything else in lkframes uses the SDK's public API.

Each function here names the private attribute it relies on and what that must do;
``tests/livekit/test_sdk_contract.py`` checks each of these on the installed livekit (CI:
the oldest allowed and the newest), so a release that changes one fails there, by name,
instead of silently here. A missing attribute raises
`UnsupportedSDKError` (or, where lkframes can do without it, falls back as documented).

The native frame queues (`video_stream`): between WebRTC and Python, LiveKit's native
layer keeps each stream's decoded frames in a queue of its own (rust-sdks
``libwebrtc/src/native/{audio,video}_stream.rs``), drained by a task that hands every frame
to Python through a callback, which needs the GIL. While Python holds the GIL (a map that
runs C code for a while, an encoder) that queue fills; a bounded one then drops its oldest
frame and logs ``native ... stream queue overflow; dropped N queued frames``, only for the
first drop and every 100th, with no stream named. ``queue_size_frames``
(``NewAudioStreamRequest`` / ``NewVideoStreamRequest``) sizes it: unset, 10 frames for
audio and 1 for video; 0, unbounded. livekit 1.2.1's ``rtc.AudioStream`` sends 0, so audio
waits there; its ``rtc.VideoStream`` sends nothing, so a video frame was dropped, unseen,
whenever the GIL was held for more than a frame (reproduced: a 1 s hold dropped video
frames and logged the overflow; audio lost none). `video_stream` asks for 0 too: frames
wait natively for the callback and then reach the Python queue, where
``overflow=``/``max_queue_frames`` bound them and every drop is counted.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .._core.errors import UnsupportedSDKError

if TYPE_CHECKING:
    from livekit import rtc

__all__ = (
    "SIMULATED",
    "UNBOUNDED",
    "audio_stream",
    "block_end",
    "dispose_native_layer",
    "end_stream",
    "frame_ready",
    "is_remote",
    "new_audio_source",
    "new_audio_track",
    "new_video_source",
    "new_video_track",
    "on_put",
    "packets_received",
    "room_of",
    "simulated",
    "video_stream",
)

T = TypeVar("T")

SIMULATED = "lkframes_simulated"
"""The attribute a simulated room's objects set (to True) in place of the SDK's classes."""


def simulated(thing: object) -> bool:
    """Whether ``thing`` (a room, participant, track, source or stream) is a simulated
    room's: no native SDK behind it, so it runs on trio as well as asyncio."""
    return bool(getattr(thing, SIMULATED, False))


def _made(owner: object, simulated: str, args: tuple[Any, ...], real: Callable[[Any], T]) -> T:
    """``owner.<simulated>(*args)`` for a simulated room's object, else ``real(rtc)``: the
    one place where the SDK's constructors and the simulator's meet."""
    if getattr(owner, SIMULATED, False):
        made: T = getattr(owner, simulated)(*args)
        return made
    from livekit import rtc

    return real(rtc)


def audio_stream(
    track: rtc.Track,
    sample_rate: int,
    num_channels: int,
    frame_size_ms: int | None,
    capacity: int,
    blocks: bool = False,
) -> rtc.AudioStream:
    """``rtc.AudioStream(track, ...)``, or a simulated track's own stream of the same shape.

    ``blocks``: the reader takes frames of any length (a multiple of ``frame_size_ms``); a
    simulated room with a ``block`` then hands out several at once where its script is
    quiet (see `block_end`). The SDK's stream ignores it.
    """
    made: rtc.AudioStream = _made(
        track,
        "lkframes_audio_stream",
        (sample_rate, num_channels, frame_size_ms, capacity, *((blocks,) if blocks else ())),
        lambda rtc: rtc.AudioStream(
            track,
            sample_rate=sample_rate,
            num_channels=num_channels,
            frame_size_ms=frame_size_ms,
            capacity=capacity,
        ),
    )
    return made


def block_end(room: rtc.Room, at: float, before: float, after: float) -> float | None:
    """Until when (monotonic clock) a reader that reached ``at`` may take the room's audio
    in one block, or None: frame by frame, at each frame's time (always, for the SDK's).

    A simulated room with a ``block`` answers the end of the block-long cell holding
    ``at`` where its script is quiet from ``before`` seconds before the cell until
    ``after`` after it (at most 0.03 and 0.5): no event a reader reacts to (a leave, the
    end of a stream, a mute) happens then. Its tracks' streams opened with ``blocks`` hand
    out the frames due within a cell by its end, and go frame by frame, on time, wherever
    such a reader would, around a cell up to one away.
    """
    if not getattr(room, SIMULATED, False):
        return None
    end: float | None = room.lkframes_block_end(at, before, after)  # type: ignore[attr-defined]
    return end


def new_audio_source(
    room: rtc.Room, sample_rate: int, num_channels: int, queue_size_ms: int
) -> rtc.AudioSource:
    """``rtc.AudioSource(...)`` to publish into ``room``, or a simulated room's own."""
    made: rtc.AudioSource = _made(
        room,
        "lkframes_audio_source",
        (sample_rate, num_channels, queue_size_ms),
        lambda rtc: rtc.AudioSource(sample_rate, num_channels, queue_size_ms=queue_size_ms),
    )
    return made


def new_audio_track(room: rtc.Room, name: str, source: rtc.AudioSource) -> rtc.LocalAudioTrack:
    """``rtc.LocalAudioTrack.create_audio_track(name, source)``, or a simulated room's."""
    made: rtc.LocalAudioTrack = _made(
        room,
        "lkframes_local_audio_track",
        (name, source),
        lambda rtc: rtc.LocalAudioTrack.create_audio_track(name, source),
    )
    return made


def new_video_source(room: rtc.Room, width: int, height: int) -> rtc.VideoSource:
    """``rtc.VideoSource(width, height)`` to publish into ``room``, or a simulated room's."""
    made: rtc.VideoSource = _made(
        room, "lkframes_video_source", (width, height), lambda rtc: rtc.VideoSource(width, height)
    )
    return made


def new_video_track(room: rtc.Room, name: str, source: rtc.VideoSource) -> rtc.LocalVideoTrack:
    """``rtc.LocalVideoTrack.create_video_track(name, source)``, or a simulated room's."""
    made: rtc.LocalVideoTrack = _made(
        room,
        "lkframes_local_video_track",
        (name, source),
        lambda rtc: rtc.LocalVideoTrack.create_video_track(name, source),
    )
    return made


def is_remote(track: rtc.Track) -> bool:
    """Whether ``track`` is another participant's (a simulated one always is)."""
    from livekit import rtc

    return bool(getattr(track, SIMULATED, False)) or isinstance(
        track, (rtc.RemoteAudioTrack, rtc.RemoteVideoTrack)
    )


async def packets_received(track: rtc.Track) -> int:
    """RTP packets received for a remote track so far (0 before the first one).

    Public API (``get_stats()``'s ``inbound_rtp``); a simulated track counts its own.

    Raises:
        UnsupportedSDKError: This livekit version's tracks have no ``get_stats()``.
    """
    if getattr(track, SIMULATED, False):
        return int(track.lkframes_packets_received())  # type: ignore[attr-defined]
    get_stats = getattr(track, "get_stats", None)
    if get_stats is None:
        raise UnsupportedSDKError("this livekit version's tracks have no get_stats()")
    for report in await get_stats():
        if report.WhichOneof("stats") == "inbound_rtp":
            return int(report.inbound_rtp.received.packets_received)
    return 0


UNBOUNDED = 0
"""``queue_size_frames`` for a native queue that never drops (the SDK's own meaning)."""


def video_stream(track: rtc.Track, buffer_type: Any, capacity: int) -> rtc.VideoStream:
    """An ``rtc.VideoStream`` of ``track`` whose native queue keeps every frame, or a
    simulated track's own stream of the same shape.

    Raises:
        UnsupportedSDKError: This livekit version's ``VideoStream`` builds its request
            elsewhere (the method this relies on is gone).
    """
    if getattr(track, SIMULATED, False):
        stream: rtc.VideoStream = track.lkframes_video_stream(  # type: ignore[attr-defined]
            buffer_type, capacity
        )
        return stream
    return _video_stream_class()(track, format=buffer_type, capacity=capacity)


@functools.cache
def _video_stream_class() -> type[rtc.VideoStream]:
    from livekit import rtc
    from livekit.rtc._ffi_client import FfiClient
    from livekit.rtc._proto import ffi_pb2, video_frame_pb2

    if not callable(getattr(rtc.VideoStream, "_create_owned_stream", None)):
        raise UnsupportedSDKError(
            "this livekit version's VideoStream has no _create_owned_stream to size its "
            "native queue"
        )

    class UnboundedVideoStream(rtc.VideoStream):
        """livekit 1.2.1's request for a track's stream, with ``queue_size_frames=0``."""

        def _create_owned_stream(self) -> Any:
            assert self._track is not None
            request = ffi_pb2.FfiRequest()
            new = request.new_video_stream
            new.track_handle = self._track._ffi_handle.handle
            new.type = video_frame_pb2.VideoStreamType.VIDEO_STREAM_NATIVE
            if self._format is not None:
                new.format = self._format
            new.normalize_stride = True
            new.queue_size_frames = UNBOUNDED
            return FfiClient.instance.request(request).new_video_stream.stream

    return UnboundedVideoStream


def on_put(stream: rtc.AudioStream | rtc.VideoStream, before: Callable[[int], None]) -> None:
    """Call ``before(queued)`` each time LiveKit puts a frame into ``stream``'s queue, with
    how many frames the queue held just before (the end-of-stream marker is not a frame).

    Relies on: ``stream._queue`` (a ``RingQueue``) whose ``put`` every frame goes through,
    and whose ``_queue`` is the deque of frames it holds; a full ring (``capacity`` frames)
    drops its oldest on ``put``, silently. Wrapping ``put`` is the only place those drops
    show.

    Raises:
        UnsupportedSDKError: This livekit version's stream keeps its frames elsewhere.
    """
    if getattr(stream, SIMULATED, False):
        stream.lkframes_on_put(before)  # type: ignore[union-attr]
        return
    queue = getattr(stream, "_queue", None)
    frames = getattr(queue, "_queue", None)
    if queue is None or frames is None:
        raise UnsupportedSDKError(
            f"this livekit version's {type(stream).__name__} has no frame queue to count "
            "(expected ._queue, a RingQueue); use overflow='block' without stats="
        )
    put = queue.put

    def counting_put(item: Any) -> None:
        if item is not None:  # None is the end-of-stream marker
            before(len(frames))
        put(item)

    queue.put = counting_put


def end_stream(stream: rtc.VideoStream) -> None:
    """Wake a reader waiting in ``stream`` for its next frame: the iteration ends.

    Relies on: ``stream._queue.put(None)`` ending the ``async for`` over the stream (the
    SDK's own end-of-stream marker). ``aclose()`` alone leaves a waiting reader waiting
    (livekit 1.2.1). Without ``_queue``, does nothing (the close still ends it later). A
    simulated stream ends the same way through its own ``lkframes_end``.
    """
    if getattr(stream, SIMULATED, False):
        stream.lkframes_end()  # type: ignore[attr-defined]
        return
    queue = getattr(stream, "_queue", None)
    if queue is not None:
        queue.put(None)


def frame_ready(stream: rtc.AudioStream) -> bool:
    """Whether a simulated stream has a frame to hand out at this very moment (False for
    LiveKit's: no private queue is read for this).

    On a virtual clock a timer and a frame can fall due at the same moment; which comes
    first is then up to the event loop (trio picks at random), and a drain deciding that
    the stream is over must not depend on it: asked first, the frame due is counted.
    """
    return bool(getattr(stream, SIMULATED, False)) and bool(stream.lkframes_ready())  # type: ignore[attr-defined]


def room_of(track: rtc.Track) -> rtc.Room | None:
    """The room a remote track belongs to, while it is subscribed; else None.

    Relies on: ``track._resolve_room()``, the SDK's weak reference from a track to its
    room (set when a remote track is subscribed, None for a local track and after the
    unsubscription). Without it, None: a stream of the track then ends only when it is
    closed (no room events to watch).
    """
    from livekit import rtc

    if getattr(track, SIMULATED, False):
        room: Any = track.lkframes_room  # type: ignore[attr-defined]
        return cast("rtc.Room | None", room)
    resolve = getattr(track, "_resolve_room", None)
    room = resolve() if callable(resolve) else None
    return room if isinstance(room, rtc.Room) else None


def dispose_native_layer() -> bool:
    """Close LiveKit's native layer now, if it was started; whether it was.

    Relies on: ``livekit.rtc._ffi_client.FfiClient._instance`` (the client, None until
    the first room, track or source) and its ``_dispose()``, the hook the SDK runs at
    exit: rooms closed, then no more callbacks into Python; a second call does nothing.
    """
    ffi = sys.modules.get("livekit.rtc._ffi_client")
    client = getattr(getattr(ffi, "FfiClient", None), "_instance", None)
    dispose = getattr(client, "_dispose", None)
    if not callable(dispose):
        return False
    dispose()
    return True
