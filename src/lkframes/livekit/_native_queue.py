"""The SDK's native frame queues, sized so that no frame is dropped where nobody counts.

Between WebRTC and Python, LiveKit's native layer keeps each stream's decoded frames in a
queue of its own (rust-sdks ``libwebrtc/src/native/{audio,video}_stream.rs``), drained by
a task that hands every frame to Python through a callback, which needs the GIL. While
Python holds the GIL (a map that runs C code for a while, an encoder) that queue fills;
a bounded one then drops its oldest frame and logs ``native ... stream queue overflow;
dropped N queued frames``, only for the first drop and every 100th, with no stream named.

``queue_size_frames`` (``NewAudioStreamRequest`` / ``NewVideoStreamRequest``) sizes it:
unset, 10 frames for audio and 1 for video; 0, unbounded. livekit 1.2.1's
``rtc.AudioStream`` sends 0, so audio waits there; its ``rtc.VideoStream`` sends nothing,
so a video frame was dropped, unseen, whenever the GIL was held for more than a frame
(reproduced: a 1 s hold dropped video frames and logged the overflow; audio lost none).
`video_stream` asks for 0 too: frames wait natively for the callback and then reach the
Python queue, where ``overflow=``/``max_queue_frames`` bound them and every drop is counted.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .._core.errors import UnsupportedSDKError

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("UNBOUNDED", "video_stream")

UNBOUNDED = 0
"""``queue_size_frames`` for a native queue that never drops (the SDK's own meaning)."""


def video_stream(track: rtc.Track, buffer_type: Any, capacity: int) -> rtc.VideoStream:
    """An ``rtc.VideoStream`` of ``track`` whose native queue keeps every frame.

    Raises:
        UnsupportedSDKError: This livekit version's ``VideoStream`` builds its request
            elsewhere (the method this relies on is gone).
    """
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
