"""Pixels (numpy arrays) to and from PyAV's frames, and conversions between layouts on
arrays: numpy among packed layouts and ``gray``, FFmpeg's swscale otherwise.

Below `VideoFrame` (it knows arrays, layouts and sizes only), so `VideoFrame.convert` and
the PyAV bridge (`lkframes._core.video_av`) both use it. PyAV is imported by the
functions, not by this module, so ``import lkframes`` stays light. Planar layouts are
copied plane by plane, which also works for odd sizes (PyAV's own ``to_ndarray`` wants
even ones for yuv420p).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .pixels import convert_packed, gray_of_yuv, yuv_of_gray

if TYPE_CHECKING:
    import av

    from .video import VideoFrame

__all__ = ("AV_FORMATS", "PLANAR", "av_frame", "convert_pixels", "pixels_of", "to_av")

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

PLANAR = frozenset(("i420", "nv12"))


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


def pixels_of(frame: av.VideoFrame, pixel_format: str) -> NDArray[np.uint8]:
    """PyAV's ``frame`` as lkframes' array of ``pixel_format`` (already in that layout):
    the flat buffer of a planar one, a C-contiguous copy of a packed one."""
    if pixel_format in PLANAR:
        return _planes(frame)
    return np.ascontiguousarray(frame.to_ndarray(), np.uint8)  # a copy for padded rows


def av_frame(data: NDArray[np.uint8], pixel_format: str, width: int, height: int) -> av.VideoFrame:
    """PyAV's frame of lkframes' array ``data`` in ``pixel_format`` (copied once)."""
    import av

    name = AV_FORMATS[pixel_format]
    if pixel_format not in PLANAR:
        return av.VideoFrame.from_ndarray(data, format=name)
    out = av.VideoFrame(width, height, name)
    offset = 0
    for index, plane in enumerate(out.planes):
        plane_width = 2 * ((width + 1) // 2) if (name == "nv12" and index == 1) else plane.width
        size = plane_width * plane.height
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        rows[:, :plane_width] = data[offset : offset + size].reshape(plane.height, plane_width)
        offset += size
    return out


def to_av(frame: VideoFrame) -> av.VideoFrame:
    """PyAV's frame of a `VideoFrame`'s pixels: the PyAV frame it was decoded from if it
    kept one, else its pixels copied once into FFmpeg's buffer. (Here, below `VideoFrame`,
    so the frame's own display code can use it without an import cycle.)"""
    import av

    source = frame._source
    if isinstance(source, av.VideoFrame):
        return source
    return av_frame(frame.data, frame.pixel_format, frame.width, frame.height)


def convert_pixels(
    data: NDArray[np.uint8], source: str, target: str, width: int, height: int
) -> NDArray[np.uint8]:
    """``data`` (``source``, ``width`` x ``height``) in layout ``target``: numpy as OpenCV
    converts between packed layouts and ``gray`` (`lkframes._core.pixels`), FFmpeg's
    swscale (as PyAV's ``reformat``) to or from a planar one (``gray`` by table, as
    swscale maps each level)."""
    if source in PLANAR and target == "gray":
        return gray_of_yuv(data, width, height)
    if source == "gray" and target in PLANAR:
        return yuv_of_gray(data, width, height)
    if source in PLANAR or target in PLANAR:
        converted = av_frame(data, source, width, height).reformat(format=AV_FORMATS[target])
        return pixels_of(converted, target)
    return convert_packed(data, source, target)
