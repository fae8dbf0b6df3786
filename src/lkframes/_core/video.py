"""`VideoFrame`: pixels as a read-only numpy array, convertible to and from LiveKit's frames."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

from .av_pixels import convert_pixels
from .errors import InvalidVideoError, ParameterError

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("PixelFormat", "VideoFrame", "buffer_type", "check_pixel_format")

PixelFormat: TypeAlias = Literal[
    "rgba", "bgra", "argb", "abgr", "rgb24", "bgr24", "gray", "i420", "nv12"
]
"""Pixel layouts lkframes hands out.

Packed ones are ``(height, width, channels)`` arrays: ``rgba``, ``bgra``, ``argb``,
``abgr`` (4 channels), ``rgb24`` and ``bgr24`` (3; ``bgr24`` is OpenCV's order);
``gray`` is 8-bit luma, one ``(height, width)`` plane; ``i420`` and ``nv12`` are planar
YUV 4:2:0, the flat buffer.

Examples:
    >>> import typing
    >>> import lkframes as lk
    >>> "bgr24" in typing.get_args(lk.PixelFormat)
    True
"""

PACKED_BYTES = {"rgba": 4, "bgra": 4, "argb": 4, "abgr": 4, "rgb24": 3, "bgr24": 3}
_PLANAR = ("i420", "nv12")
_ALL = (*PACKED_BYTES, "gray", *_PLANAR)
_LIVEKIT = ("rgba", "bgra", "argb", "abgr", "rgb24", "i420", "nv12")
"""The layouts LiveKit has a buffer type of (``rtc.VideoBufferType``)."""

TO_LIVEKIT_AS: PixelFormat = "bgra"
"""The layout a ``bgr24`` or ``gray`` frame is handed to LiveKit in (LiveKit has neither):
the same colours, opaque, ``gray`` as R = G = B. LiveKit converts BGRA to I420 itself."""


def check_pixel_format(pixel_format: object) -> PixelFormat:
    """``pixel_format`` if lkframes knows it, else `ParameterError` naming the choices."""
    if pixel_format not in _ALL:
        raise ParameterError(f"pixel_format must be one of {_ALL} (got {pixel_format!r})")
    return pixel_format  # type: ignore[return-value]


def buffer_type(pixel_format: str) -> int:
    """LiveKit's ``rtc.VideoBufferType`` value for ``pixel_format``.

    Raises:
        ParameterError: An unknown pixel format, or one LiveKit has no buffer type of
            (``bgr24``, ``gray``: see `TO_LIVEKIT_AS`).
    """
    from livekit import rtc

    check_pixel_format(pixel_format)
    if pixel_format not in _LIVEKIT:
        raise ParameterError(
            f"LiveKit has no {pixel_format} buffer type (it has {_LIVEKIT}); "
            f"convert to {TO_LIVEKIT_AS!r} first"
        )
    return int(getattr(rtc.VideoBufferType, pixel_format.upper()))


def _packed_size(data: NDArray[np.uint8], pixel_format: str) -> tuple[int, int]:
    """(height, width) of packed or gray pixels, or `InvalidVideoError` naming the shape
    the layout wants."""
    if pixel_format == "gray":
        if data.ndim != 2:
            raise InvalidVideoError(
                f"gray data has invalid shape {data.shape} (expected (height, width): one "
                "8-bit plane, as cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) gives)"
            )
    else:
        channels = PACKED_BYTES[pixel_format]
        if data.ndim != 3 or data.shape[2] != channels:
            opencv = data.ndim == 3 and data.shape[2] == 3 and channels == 4
            raise InvalidVideoError(
                f"{pixel_format} data has invalid shape {data.shape} (expected "
                f"(height, width, {channels}))"
                + ("; an OpenCV colour image is pixel_format='bgr24'" if opencv else "")
            )
    return int(data.shape[0]), int(data.shape[1])


def _planar_size(width: int, height: int) -> int:
    chroma = ((width + 1) // 2) * ((height + 1) // 2)
    return width * height + 2 * chroma


class VideoFrame:
    """One video frame: pixels as a read-only numpy array, its size, layout and time.

    Packed layouts (``rgba``, ``bgra``, ``argb``, ``abgr``, ``rgb24``, ``bgr24``) are
    arrays of shape ``(height, width, channels)``, ``gray`` one ``(height, width)`` plane
    (so an OpenCV image is a frame as it is); planar ones (``i420``, ``nv12``) are the
    flat buffer. In Jupyter a frame shows as a picture (``_repr_png_``, ``_repr_html_``),
    any layout, scaled down past 1920x1080; a list of frames as a video player (see
    `FrameList`).

    Args:
        data: uint8 pixels, C-contiguous; not copied.
        pixel_format: The layout of ``data``.
        timestamp_us: Capture time in microseconds.
        width: Needed for planar layouts (packed ones take it from the shape).
        height: Likewise.

    Raises:
        InvalidVideoError: Wrong dtype, shape or size for the layout.
        ParameterError: An unknown pixel format.

    Examples:
        >>> import numpy as np
        >>> VideoFrame(np.zeros((48, 64, 4), np.uint8)).width
        64
        >>> VideoFrame(np.zeros((48, 64), np.uint8), "gray").height
        48
    """

    __slots__ = ("_data", "_height", "_pixel_format", "_source", "_timestamp_us", "_width")

    def __init__(
        self,
        data: NDArray[np.uint8],
        pixel_format: PixelFormat = "rgba",
        *,
        timestamp_us: int = 0,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        check_pixel_format(pixel_format)
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
            got = data.dtype if isinstance(data, np.ndarray) else type(data).__name__
            raise InvalidVideoError(f"video data must be a uint8 array (got {got})")
        if not data.flags.c_contiguous:
            raise InvalidVideoError("video data is not C-contiguous; pass np.ascontiguousarray")
        if pixel_format in PACKED_BYTES or pixel_format == "gray":
            height, width = _packed_size(data, pixel_format)
        else:
            if width is None or height is None:
                raise InvalidVideoError(f"{pixel_format} data needs width= and height=")
            expected = _planar_size(width, height)
            if data.size != expected:
                raise InvalidVideoError(
                    f"{pixel_format} data has {data.size} bytes (expected {expected} for "
                    f"{width}x{height})"
                )
            data = data.reshape(-1)
        if data.flags.writeable:
            data = data.view()
            data.flags.writeable = False
        self._data = data
        self._pixel_format: PixelFormat = pixel_format
        self._width = width
        self._height = height
        self._timestamp_us = int(timestamp_us)
        self._source: object = None  # a PyAV frame of these pixels, if made from one

    def at(self, timestamp_us: int) -> VideoFrame:
        """The same pixels at another time (no copy).

        Examples:
            >>> import numpy as np
            >>> VideoFrame(np.zeros((2, 2, 3), np.uint8), "rgb24").at(40_000).timestamp_us
            40000
        """
        frame = object.__new__(VideoFrame)
        frame._data, frame._pixel_format = self._data, self._pixel_format
        frame._width, frame._height = self._width, self._height
        frame._timestamp_us, frame._source = int(timestamp_us), self._source
        return frame

    @property
    def data(self) -> NDArray[np.uint8]:
        """Pixels, read-only."""
        return self._data

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self._width

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self._height

    @property
    def pixel_format(self) -> PixelFormat:
        """Layout of `data`."""
        return self._pixel_format

    @property
    def timestamp_us(self) -> int:
        """Capture time in microseconds."""
        return self._timestamp_us

    def __repr__(self) -> str:
        return (
            f"VideoFrame({self._width}x{self._height} {self._pixel_format}, "
            f"t={self._timestamp_us / 1e6:.3f} s)"
        )

    def _repr_png_(self) -> bytes:
        """The frame as a PNG for Jupyter (any pixel format; scaled down past 1920x1080)."""
        from .display_video import frame_png

        return frame_png(self)

    def _repr_html_(self) -> str:
        """The frame's repr above the frame as an image, for Jupyter."""
        from .display_video import frame_html

        return frame_html(self)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        """PNG and HTML from one encoding: Jupyter asks for this before the others."""
        from .display_video import frame_html, frame_png

        png = frame_png(self)
        return {"image/png": png, "text/html": frame_html(self, png), "text/plain": repr(self)}

    @classmethod
    def from_rtc(
        cls,
        frame: rtc.VideoFrame,
        *,
        timestamp_us: int = 0,
        pixel_format: PixelFormat | None = None,
    ) -> VideoFrame:
        """Wrap a ``livekit.rtc.VideoFrame``, converting it first if ``pixel_format`` differs.

        The pixels are a view of LiveKit's buffer when no conversion is needed. LiveKit
        converts to its own layouts; ``bgr24`` and ``gray`` (which LiveKit has not) are
        made by lkframes from the frame's own layout, as `lkframes.to_pixel_format` does.

        Raises:
            ParameterError: A layout lkframes does not hand out (convert with
                ``pixel_format=``).
        """
        from livekit import rtc

        names = {int(getattr(rtc.VideoBufferType, n.upper())): n for n in _LIVEKIT}
        if pixel_format is not None:
            check_pixel_format(pixel_format)
            if pixel_format in _LIVEKIT and int(frame.type) != buffer_type(pixel_format):
                frame = frame.convert(buffer_type(pixel_format))  # type: ignore[arg-type]
            elif int(frame.type) not in names:  # e.g. I420A: to a layout lkframes reads
                frame = frame.convert(rtc.VideoBufferType.I420)
        name = names.get(int(frame.type))
        if name is None:
            raise ParameterError(
                f"unsupported LiveKit buffer type {frame.type}; pass pixel_format='rgba'"
            )
        data = np.frombuffer(frame.data, np.uint8)
        if name in PACKED_BYTES:
            data = data[: frame.height * frame.width * PACKED_BYTES[name]].reshape(
                frame.height, frame.width, PACKED_BYTES[name]
            )
        out = cls(data, name, timestamp_us=timestamp_us, width=frame.width, height=frame.height)  # type: ignore[arg-type]
        return out if pixel_format is None else out.convert(pixel_format)

    def to_rtc(self) -> rtc.VideoFrame:
        """A ``livekit.rtc.VideoFrame`` of these pixels (copied once into LiveKit's buffer).

        ``bgr24`` and ``gray`` frames become BGRA (`TO_LIVEKIT_AS`): LiveKit has neither.
        """
        from livekit import rtc

        if self._pixel_format not in _LIVEKIT:
            return self.convert(TO_LIVEKIT_AS)._to_rtc_shared()  # the conversion's own copy
        return rtc.VideoFrame(
            self._width,
            self._height,
            buffer_type(self._pixel_format),  # type: ignore[arg-type]
            bytearray(self._data),  # one copy, straight from the array's buffer
        )

    def _to_rtc_shared(self) -> rtc.VideoFrame:
        """`to_rtc` without the copy when these pixels own a writable buffer: for handing
        straight to ``VideoSource.capture_frame``, which copies them before it returns. The
        result must not outlive that call (its pixels are this frame's)."""
        from livekit import rtc

        if self._pixel_format not in _LIVEKIT:
            return self.convert(TO_LIVEKIT_AS)._to_rtc_shared()
        base = self._data.base
        if (
            isinstance(base, np.ndarray)
            and base.base is None
            and base.flags.writeable
            and base.flags.c_contiguous
            and base.dtype == np.uint8
            and base.nbytes == self._data.nbytes
        ):
            pixels = memoryview(base.reshape(-1))  # type: ignore[arg-type]
            kind: Any = buffer_type(self._pixel_format)
            return rtc.VideoFrame(self._width, self._height, kind, pixels)
        return self.to_rtc()

    def convert(self, pixel_format: PixelFormat) -> VideoFrame:
        """The same frame in another layout.

        Between packed layouts and ``gray`` numpy converts, as OpenCV does (see
        `lkframes.to_pixel_format`); between LiveKit's own layouts and I420 or NV12 LiveKit
        does (libyuv); between ``bgr24`` or ``gray`` and I420 or NV12, FFmpeg's swscale.

        Raises:
            ParameterError: An unknown pixel format.
        """
        check_pixel_format(pixel_format)
        if pixel_format == self._pixel_format:
            return self
        planar = pixel_format in _PLANAR or self._pixel_format in _PLANAR
        if not planar or pixel_format not in _LIVEKIT or self._pixel_format not in _LIVEKIT:
            pixels = convert_pixels(
                self._data, self._pixel_format, pixel_format, self._width, self._height
            )
            return VideoFrame(
                pixels,
                pixel_format,
                timestamp_us=self._timestamp_us,
                width=self._width,
                height=self._height,
            )
        return VideoFrame.from_rtc(  # LiveKit converts into a new buffer: no copy first
            self._to_rtc_shared(), timestamp_us=self._timestamp_us, pixel_format=pixel_format
        )
