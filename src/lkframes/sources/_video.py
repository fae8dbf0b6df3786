"""`from_video_frames`: a stream over `VideoFrame` items from any (sync or async) iterable."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Iterable

from .._core.errors import InvalidVideoError
from .._core.opening import consume
from .._core.stream import Stream
from .._core.video import VideoFrame
from ._arrays import replayable

__all__ = ("from_video_frames",)


def from_video_frames(
    frames: Iterable[VideoFrame] | AsyncIterable[VideoFrame],
) -> Stream[VideoFrame]:
    """A stream over `VideoFrame` items from a list, generator or async generator.

    Timestamps must not go back: a frame whose ``timestamp_us`` is before the previous
    one's is refused (players and encoders need them in order).

    Raises:
        InvalidVideoError: (while running) an item that is not a `VideoFrame`, or a
            timestamp that goes back.
        anyio.ClosedResourceError: a one-shot iterable is iterated a second time.

    Examples:
        >>> import numpy as np, lkframes as lk
        >>> frames = [lk.VideoFrame(np.zeros((2, 4, 3), np.uint8), "rgb24", timestamp_us=t)
        ...           for t in (0, 33_333, 66_667)]
        >>> [f.timestamp_us for f in lk.run_sync(lk.from_video_frames(frames).collect())]
        [0, 33333, 66667]
    """
    items_of = replayable(frames, "from_video_frames")

    async def run() -> AsyncGenerator[VideoFrame, None]:
        last = None
        async with consume(items_of()) as items:
            async for item in items:
                if not isinstance(item, VideoFrame):
                    raise InvalidVideoError(
                        f"from_video_frames takes lkframes.VideoFrame items "
                        f"(got {type(item).__name__})"
                    )
                if last is not None and item.timestamp_us < last:
                    raise InvalidVideoError(
                        f"timestamp_us goes back from {last} to {item.timestamp_us}"
                    )
                last = item.timestamp_us
                yield item

    return Stream(run, name="from_video_frames")
