"""`from_video_frames`: a stream over `VideoFrame` items (or OpenCV-style arrays) from any
(sync or async) iterable."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Iterable

import numpy as np
from numpy.typing import NDArray

from .._core.checks import finite_number
from .._core.errors import InvalidVideoError, ParameterError
from .._core.opening import consume
from .._core.stream import Stream
from .._core.video import PixelFormat, VideoFrame, check_pixel_format
from ._arrays import replayable

__all__ = ("from_video_frames",)

NEEDS_LAYOUT = (
    "from_video_frames: frame {index} is a numpy array; pass pixel_format= to say its "
    "layout ('bgr24' for an OpenCV colour image, 'gray' for a (height, width) one)"
)


def from_video_frames(
    frames: Iterable[VideoFrame | NDArray[np.uint8]]
    | AsyncIterable[VideoFrame | NDArray[np.uint8]],
    *,
    pixel_format: PixelFormat | None = None,
    fps: float = 30.0,
) -> Stream[VideoFrame]:
    """A stream of video frames from `VideoFrame` items or OpenCV-style uint8 arrays.

    The items come from a list, generator or async generator.

    Arrays are frames in ``pixel_format``, such as OpenCV's images: ``(height, width, 3)``
    BGR with ``"bgr24"``, ``(height, width)`` with ``"gray"``. Frame ``k`` of the
    iterable, if an array, is at ``k / fps`` seconds. Timestamps must not go back: a
    frame whose ``timestamp_us`` is before the previous one's is refused (players and
    encoders need them in order).

    Args:
        frames: `VideoFrame` items, or arrays (with ``pixel_format``), or both.
        pixel_format: The layout of the arrays: a packed one or ``"gray"`` (wrap planar
            buffers in `VideoFrame` with their size).
        fps: Frames per second the arrays are timed at.

    Returns:
        The stream.

    Raises:
        ParameterError: An unknown or planar ``pixel_format``, or ``fps`` not a positive
            number.
        InvalidVideoError: (while running) an item that is neither, an array without
            ``pixel_format`` or not of its shape and dtype (expected and got named), or a
            timestamp that goes back.
        anyio.ClosedResourceError: a one-shot iterable is iterated a second time.

    Examples:
        >>> import numpy as np, lkframes as lk
        >>> frames = [lk.VideoFrame(np.zeros((2, 4, 3), np.uint8), "rgb24", timestamp_us=t)
        ...           for t in (0, 33_333, 66_667)]
        >>> [f.timestamp_us for f in lk.run_sync(lk.from_video_frames(frames).collect())]
        [0, 33333, 66667]
        >>> images = [np.zeros((480, 640, 3), np.uint8)] * 3  # as cv2.imread gives
        >>> out = lk.run_sync(lk.from_video_frames(images, pixel_format="bgr24", fps=25).collect())
        >>> [(f.pixel_format, f.width, f.timestamp_us) for f in out]
        [('bgr24', 640, 0), ('bgr24', 640, 40000), ('bgr24', 640, 80000)]
    """
    if pixel_format is not None and check_pixel_format(pixel_format) in ("i420", "nv12"):
        raise ParameterError(
            f"from_video_frames: pixel_format={pixel_format!r} is planar, and an array does "
            "not say its size; pass lk.VideoFrame(data, pixel_format, width=, height=) items"
        )
    rate = finite_number(fps, "fps")
    if rate <= 0:
        raise ParameterError(f"fps must be more than 0 (got {fps!r})")
    items_of = replayable(frames, "from_video_frames")

    async def run() -> AsyncGenerator[VideoFrame, None]:
        last = None
        async with consume(items_of()) as items:
            index = 0
            async for item in items:
                frame = _frame(item, index, pixel_format, rate)
                if last is not None and frame.timestamp_us < last:
                    raise InvalidVideoError(
                        f"timestamp_us goes back from {last} to {frame.timestamp_us}"
                    )
                last = frame.timestamp_us
                index += 1
                yield frame

    return Stream(run, name="from_video_frames")


def _frame(item: object, index: int, pixel_format: PixelFormat | None, fps: float) -> VideoFrame:
    """``item`` as a frame: itself, or an array in ``pixel_format`` at ``index / fps``."""
    if isinstance(item, VideoFrame):
        return item
    if not isinstance(item, np.ndarray):
        raise InvalidVideoError(
            f"from_video_frames takes lkframes.VideoFrame items or numpy arrays "
            f"(got {type(item).__name__})"
        )
    if pixel_format is None:
        raise InvalidVideoError(NEEDS_LAYOUT.format(index=index))
    try:
        return VideoFrame(
            np.ascontiguousarray(item) if item.dtype == np.uint8 else item,
            pixel_format,
            timestamp_us=round(index * 1e6 / fps),
        )
    except InvalidVideoError as error:
        raise InvalidVideoError(f"from_video_frames: frame {index}: {error}") from None
