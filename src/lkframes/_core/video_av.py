"""`VideoFrame` to and from PyAV's frames: the bridge for decoding, encoding and reformatting.

PyAV is imported by the functions, not by this module, so ``import lkframes`` stays light.
The array-level work (planes, layouts) is in `lkframes._core.av_pixels`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .av_pixels import AV_FORMATS, PLANAR, convert_pixels, pixels_of, to_av
from .errors import ParameterError
from .video import PixelFormat, VideoFrame, check_pixel_format

if TYPE_CHECKING:
    import av

__all__ = ("AV_FORMATS", "from_av", "reformat", "to_av")


_INTERPOLATION = "BILINEAR"


def from_av(
    frame: av.VideoFrame, pixel_format: PixelFormat, timestamp_us: int, *, keep: bool = True
) -> VideoFrame:
    """A `VideoFrame` of PyAV's ``frame`` in ``pixel_format`` (converted by FFmpeg if needed).

    With ``keep``, the PyAV frame is kept with it, so `to_av` gives it back instead of
    copying. Without, FFmpeg reuses its buffer for the next frame (a scaler's output is
    not kept: the pages of a new buffer for every frame cost a tenth of the scaling).

    Raises:
        ParameterError: An unknown pixel format.
    """
    check_pixel_format(pixel_format)
    name = AV_FORMATS[pixel_format]
    if frame.format.name != name:
        frame = frame.reformat(format=name)
    out = VideoFrame(
        pixels_of(frame, pixel_format),
        pixel_format,
        timestamp_us=timestamp_us,
        width=frame.width,
        height=frame.height,
    )
    if keep:
        out._source = frame  # to_av gives it back instead of copying the pixels again
    return out


def reformat(
    frame: VideoFrame,
    *,
    width: int | None = None,
    height: int | None = None,
    pixel_format: PixelFormat | None = None,
    interpolation: str = _INTERPOLATION,
) -> VideoFrame:
    """The frame scaled to ``width`` x ``height`` and/or converted to ``pixel_format``, by
    FFmpeg's swscale (one call for both), or, for a conversion only between packed
    layouts and ``gray``, by numpy as OpenCV converts (`lkframes._core.pixels`)."""
    target: Any = pixel_format or frame.pixel_format
    check_pixel_format(target)
    w, h = width or frame.width, height or frame.height
    if (w, h, target) == (frame.width, frame.height, frame.pixel_format):
        return frame
    if w <= 0 or h <= 0:
        raise ParameterError(f"width and height must be positive (got {w}x{h})")
    if (w, h) == (frame.width, frame.height) and (
        PLANAR.isdisjoint((target, frame.pixel_format)) or "gray" in (target, frame.pixel_format)
    ):
        # packed to packed: channel moves or OpenCV's luma; gray and YUV: by table (pixels.py)
        pixels = convert_pixels(frame.data, frame.pixel_format, target, w, h)
        return VideoFrame(pixels, target, timestamp_us=frame.timestamp_us, width=w, height=h)
    scaled = to_av(frame).reformat(
        width=w,
        height=h,
        format=AV_FORMATS[target],
        # PyAV's own default is bilinear; naming it costs ~17 µs a frame (PyAV 17)
        interpolation=None if interpolation == _INTERPOLATION else interpolation,
    )
    return from_av(scaled, target, frame.timestamp_us, keep=False)
