"""Video stages: `resize`, `to_pixel_format` (FFmpeg's swscale; numpy between packed layouts)
and `fps` (by timestamp)."""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from typing import get_args

from .._core.checks import check_choice, finite_number
from .._core.errors import InvalidVideoError, ParameterError
from .._core.params import Interpolation
from .._core.registry import stage_entry
from .._core.stage import Stage
from .._core.video import PixelFormat, VideoFrame, check_pixel_format
from .._core.video_av import reformat

__all__ = ("Interpolation", "fps", "resize", "to_pixel_format")


def _video(frame: object, stage: str) -> VideoFrame:
    if not isinstance(frame, VideoFrame):
        raise InvalidVideoError(f"{stage} takes VideoFrame items (got {type(frame).__name__})")
    return frame


def _size(
    width: int | None, height: int | None, keep_aspect: bool, frame: VideoFrame
) -> tuple[int, int]:
    """The output size for ``frame``: both given (fitted inside them with ``keep_aspect``),
    or one given and the other following the frame's aspect ratio (rounded to even)."""
    if width is not None and height is not None:
        if not keep_aspect:
            return width, height
        scale = min(width / frame.width, height / frame.height)
        return _even(frame.width * scale), _even(frame.height * scale)
    if width is not None:
        return width, _even(frame.height * width / frame.width)
    assert height is not None
    return _even(frame.width * height / frame.height), height


def _even(size: float) -> int:
    """``size`` rounded to the nearest even number, at least 2 (what 4:2:0 video needs)."""
    return max(2, round(size / 2) * 2)


@stage_entry(video=True)
def resize(
    width: int | None = None,
    height: int | None = None,
    *,
    keep_aspect: bool = False,
    interpolation: Interpolation = "bilinear",
) -> Stage[VideoFrame, VideoFrame]:
    """Scale video frames to ``width`` x ``height`` (FFmpeg's swscale), keeping their layout.

    Args:
        width: Output width in pixels; None to follow ``height`` and the aspect ratio.
        height: Output height; None to follow ``width`` and the aspect ratio.
        keep_aspect: With both given, fit inside them keeping the aspect ratio (sizes
            rounded to even) instead of stretching to exactly that size.
        interpolation: The scaling algorithm (see `Interpolation`).

    Returns:
        The stage.

    Raises:
        ParameterError: Neither size, a size that is not a positive int, or an unknown
            interpolation.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> frame = lk.VideoFrame(np.zeros((720, 1280, 3), np.uint8), "rgb24")
        >>> out = lk.run_sync(lk.from_video_frames([frame]).resize(width=640).collect())
        >>> out[0].width, out[0].height
        (640, 360)
    """
    if width is None and height is None:
        raise ParameterError("resize needs width=, height= or both")
    for name, value in (("width", width), ("height", height)):
        if value is not None and (type(value) is not int or value <= 0):
            raise ParameterError(f"{name} must be a positive int (got {value!r})")
    check_choice(interpolation, get_args(Interpolation), "interpolation")
    algorithm = interpolation.upper()

    async def transform(frames: AsyncIterator[VideoFrame]) -> AsyncGenerator[VideoFrame, None]:
        async for item in frames:
            frame = _video(item, "resize")
            w, h = _size(width, height, keep_aspect, frame)
            yield reformat(frame, width=w, height=h, interpolation=algorithm)

    return Stage(f"resize({width}, {height})", transform)


@stage_entry(video=True)
def to_pixel_format(pixel_format: PixelFormat) -> Stage[VideoFrame, VideoFrame]:
    """Convert video frames to another layout, e.g. ``"i420"``, or ``"bgr24"`` for OpenCV.

    Between packed layouts and ``gray`` the result is OpenCV's ``cv2.cvtColor``, pixel for
    pixel: channels moved (alpha kept, or 255 where there was none), ``gray`` as BT.601
    luma in OpenCV's fixed point (``(9798 R + 19235 G + 3735 B + 16384) >> 15``), and
    gray to colour as R = G = B. To and from ``i420``/``nv12`` FFmpeg's swscale converts,
    as PyAV's ``VideoFrame.reformat`` does: limited-range BT.601, so ``gray`` from
    ``i420`` is the Y plane stretched from 16..235 to 0..255 (OpenCV's
    ``COLOR_YUV2GRAY_I420`` copies the Y plane as it is).

    Args:
        pixel_format: The layout to convert to (see `PixelFormat`).

    Returns:
        The stage.

    Raises:
        ParameterError: An unknown pixel format.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> frame = lk.VideoFrame(np.zeros((4, 6, 4), np.uint8), "rgba")
        >>> out = lk.run_sync(lk.from_video_frames([frame]).to_pixel_format("i420").collect())
        >>> out[0].pixel_format, out[0].data.shape
        ('i420', (36,))
        >>> white = lk.VideoFrame(np.full((2, 3, 3), 255, np.uint8), "bgr24")
        >>> out = lk.run_sync(lk.from_video_frames([white]).to_pixel_format("gray").collect())
        >>> out[0].data.tolist()
        [[255, 255, 255], [255, 255, 255]]
    """
    check_pixel_format(pixel_format)

    async def transform(frames: AsyncIterator[VideoFrame]) -> AsyncGenerator[VideoFrame, None]:
        async for item in frames:
            yield reformat(_video(item, "to_pixel_format"), pixel_format=pixel_format)

    return Stage(f"to_pixel_format({pixel_format!r})", transform)


@stage_entry(video=True)
def fps(rate: float) -> Stage[VideoFrame, VideoFrame]:
    """Make video constant-rate: one frame every ``1 / rate`` s, by dropping or repeating.

    Output frame ``k`` is at ``t0 + k / rate`` (``t0``: the first frame's time) and shows
    the latest input frame before half a frame after that time, so a 60 fps input
    becomes every other frame at 30 fps and a 15 fps input shows each frame twice. The
    output ends where the input does (its last frame's time plus its usual frame
    interval), so the length is kept. Frames are not copied; repeated ones share their pixels.

    Args:
        rate: Frames per second, more than 0.

    Returns:
        The stage.

    Raises:
        ParameterError: ``rate`` is not a positive, finite number.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> frames = [lk.VideoFrame(np.zeros((2, 2, 3), np.uint8), "rgb24", timestamp_us=t)
        ...           for t in range(0, 200_000, 50_000)]  # 20 fps
        >>> out = lk.run_sync(lk.from_video_frames(frames).fps(10).collect())
        >>> [f.timestamp_us for f in out]
        [0, 100000]
    """
    rate = finite_number(rate, "rate")
    if rate <= 0:
        raise ParameterError(f"rate must be more than 0 (got {rate})")
    step_us = 1e6 / rate

    async def transform(frames: AsyncIterator[VideoFrame]) -> AsyncGenerator[VideoFrame, None]:
        start: int | None = None
        slot = 0  # the next output frame's number
        previous: VideoFrame | None = None
        intervals: deque[int] = deque(maxlen=31)  # the input's recent frame intervals
        async for item in frames:
            frame = _video(item, "fps")
            if start is None:
                start = frame.timestamp_us
            # Every slot whose half-frame window ends before this frame shows the previous.
            while previous is not None and start + (slot + 0.5) * step_us <= frame.timestamp_us:
                yield previous.at(start + round(slot * step_us))
                slot += 1
            if previous is not None and frame.timestamp_us > previous.timestamp_us:
                intervals.append(frame.timestamp_us - previous.timestamp_us)
            previous = frame
        if previous is not None and start is not None:
            # The last frame fills the slots before the input's end (its time plus the
            # input's usual frame interval, the median), so the video keeps its length.
            end = previous.timestamp_us + (statistics.median(intervals) if intervals else 0)
            while slot == 0 or start + slot * step_us < end - 0.5:
                yield previous.at(start + round(slot * step_us))
                slot += 1

    return Stage(f"fps({rate:g})", transform)
