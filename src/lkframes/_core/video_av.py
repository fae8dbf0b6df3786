"""`VideoFrame` to and from PyAV's frames: the bridge for decoding, encoding and reformatting.

PyAV is imported by the functions, not by this module, so ``import lkframes`` stays light.
Planar layouts are copied plane by plane, which also works for odd sizes (PyAV's own
``to_ndarray`` wants even ones for yuv420p).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .errors import ParameterError
from .pixels import convert_packed
from .video import PixelFormat, VideoFrame, check_pixel_format

if TYPE_CHECKING:
    import av

__all__ = ("AV_FORMATS", "from_av", "reformat", "to_av")

AV_FORMATS: dict[str, str] = {
    "rgba": "rgba",
    "bgra": "bgra",
    "argb": "argb",
    "abgr": "abgr",
    "rgb24": "rgb24",
    "bgr24": "bgr24",
    "gray": "gray",
    "i420": "yuv420p",
    "nv12": "nv12",
}
"""FFmpeg's name for each lkframes pixel format."""

_INTERPOLATION = "BILINEAR"
_PLANAR = frozenset(("i420", "nv12"))


def _planes(frame: av.VideoFrame) -> NDArray[np.uint8]:
    """A planar frame's planes, without their line padding, one after the other (one
    allocation, one copy)."""
    planes = frame.planes
    widths = [  # nv12: the second plane's rows hold interleaved U and V bytes
        2 * ((frame.width + 1) // 2) if index == 1 and len(planes) == 2 else plane.width
        for index, plane in enumerate(planes)
    ]
    if all(plane.line_size == width for plane, width in zip(planes, widths, strict=True)):
        return np.concatenate(  # rows not padded: each plane is one run of bytes
            [
                np.frombuffer(memoryview(plane), np.uint8)[: plane.line_size * plane.height]
                for plane in planes
            ]
        )
    rows = [
        np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)[:, :width]
        for plane, width in zip(planes, widths, strict=True)
    ]
    out = np.empty(sum(r.size for r in rows), np.uint8)
    at = 0
    for part in rows:
        out[at : at + part.size].reshape(part.shape)[...] = part
        at += part.size
    return out


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
    if pixel_format in ("i420", "nv12"):
        out = VideoFrame(
            _planes(frame),
            pixel_format,
            timestamp_us=timestamp_us,
            width=frame.width,
            height=frame.height,
        )
    else:
        pixels = np.ascontiguousarray(frame.to_ndarray(), np.uint8)  # a copy for padded rows
        out = VideoFrame(pixels, pixel_format, timestamp_us=timestamp_us)
    if keep:
        out._source = frame  # to_av gives it back instead of copying the pixels again
    return out


def to_av(frame: VideoFrame) -> av.VideoFrame:
    """PyAV's frame of a `VideoFrame`'s pixels (copied once into FFmpeg's buffer)."""
    import av

    source = frame._source
    if isinstance(source, av.VideoFrame):
        return source
    name = AV_FORMATS[frame.pixel_format]
    if frame.pixel_format not in ("i420", "nv12"):
        return av.VideoFrame.from_ndarray(frame.data, format=name)
    out = av.VideoFrame(frame.width, frame.height, name)
    data, offset = frame.data, 0
    for index, plane in enumerate(out.planes):
        width = 2 * ((frame.width + 1) // 2) if (name == "nv12" and index == 1) else plane.width
        size = width * plane.height
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        rows[:, :width] = data[offset : offset + size].reshape(plane.height, width)
        offset += size
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
    if (w, h) == (frame.width, frame.height) and _PLANAR.isdisjoint((target, frame.pixel_format)):
        # packed to packed or gray: channel moves or OpenCV's luma, in numpy (pixels.py)
        pixels = convert_packed(frame.data, frame.pixel_format, target)
        return VideoFrame(pixels, target, timestamp_us=frame.timestamp_us)
    scaled = to_av(frame).reformat(
        width=w,
        height=h,
        format=AV_FORMATS[target],
        # PyAV's own default is bilinear; naming it costs ~17 µs a frame (PyAV 17)
        interpolation=None if interpolation == _INTERPOLATION else interpolation,
    )
    return from_av(scaled, target, frame.timestamp_us, keep=False)
