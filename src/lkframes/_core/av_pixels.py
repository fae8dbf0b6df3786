"""The pixel formats' FFmpeg names and `to_av`: the half of the PyAV bridge that needs no
`VideoFrame` at run time, so the video frame's own display code can use it (a module
importing `video` could not be imported from it: the layout test forbids the cycle).

PyAV is imported by the function, not by this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import av

    from .video import VideoFrame

__all__ = ("AV_FORMATS", "to_av")

AV_FORMATS: dict[str, str] = {
    "rgba": "rgba",
    "bgra": "bgra",
    "argb": "argb",
    "abgr": "abgr",
    "rgb24": "rgb24",
    "i420": "yuv420p",
    "nv12": "nv12",
}
"""FFmpeg's name for each lkframes pixel format."""


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
