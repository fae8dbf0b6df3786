"""Conversions among packed layouts and ``gray`` in numpy: channel moves, and OpenCV's luma.

These are the conversions OpenCV's ``cv2.cvtColor`` defines the same way, and lkframes
gives its results pixel for pixel:

- between ``rgba``, ``bgra``, ``argb``, ``abgr``, ``rgb24`` and ``bgr24``: the colour
  channels moved, the alpha kept (or 255 where there was none);
- ``gray`` from any of them: BT.601 luma in OpenCV's fixed point,
  ``(9798 R + 19235 G + 3735 B + 2**14) >> 15`` (``cv2.COLOR_RGB2GRAY`` and its siblings
  give exactly this for every one of the 2**24 colours);
- any of them from ``gray``: R = G = B = the gray value, alpha 255 (``cv2.COLOR_GRAY2BGR``).

And ``gray`` to and from ``i420``/``nv12`` as FFmpeg's swscale converts it (PyAV's
``reformat``): gray is full range, Y limited (16..235), so gray is
``clip(round((Y - 16) * 255 / 219))`` and Y is ``round(16 + gray * 219 / 255)`` with grey
chroma (128), by table lookup (two pixels a lookup).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ("ALPHA_AT", "RGB_AT", "convert_packed", "gray_of_yuv", "luma", "yuv_of_gray")

RGB_AT: dict[str, tuple[int, int, int]] = {
    "rgba": (0, 1, 2),
    "bgra": (2, 1, 0),
    "argb": (1, 2, 3),
    "abgr": (3, 2, 1),
    "rgb24": (0, 1, 2),
    "bgr24": (2, 1, 0),
}
"""Where red, green and blue are in each packed layout's pixel."""

ALPHA_AT: dict[str, int] = {"rgba": 3, "bgra": 3, "argb": 0, "abgr": 0}
"""Where alpha is, in the layouts that have it."""

LUMA_WEIGHTS = (9798, 19235, 3735)
"""OpenCV's BT.601 weights of R, G and B (0.299, 0.587, 0.114) in 15-bit fixed point."""

LUMA_SHIFT = 15

_BLOCK_PIXELS = 1 << 14
"""Pixels converted at once: their float32 copy (256 KiB) stays in the CPU's cache (the
whole 1080p frame at once is 3x slower; blocks of 2**15 and more, 2x)."""


def luma(data: NDArray[np.uint8], pixel_format: str) -> NDArray[np.uint8]:
    """OpenCV's 8-bit gray of packed ``(height, width, channels)`` pixels.

    Computed in float32 on blocks of pixels: the weights and pixels are integers and
    every partial sum is below 2**24, so each product and sum is exact whatever the
    order, and the scaling by 2**-15 is exact too; the cast to uint8 floors. The result
    is the integer formula's, bit for bit.
    """
    height, width, channels = data.shape
    weights = np.zeros(channels, np.float32)
    for at, weight in zip(RGB_AT[pixel_format], LUMA_WEIGHTS, strict=True):
        weights[at] = weight
    flat = data.reshape(-1, channels)
    out = np.empty(flat.shape[0], np.uint8)
    block = max(1, min(flat.shape[0], _BLOCK_PIXELS))
    pixels = np.empty((block, channels), np.float32)
    sums = np.empty(block, np.float32)
    scale = np.float32(1 / (1 << LUMA_SHIFT))
    for start in range(0, flat.shape[0], block):
        part = flat[start : start + block]
        count = part.shape[0]
        np.copyto(pixels[:count], part)
        total = sums[:count]
        np.matmul(pixels[:count], weights, out=total)
        total += 1 << (LUMA_SHIFT - 1)
        total *= scale
        out[start : start + count] = total  # the cast truncates: floor, as all are >= 0
    return out.reshape(height, width)


def convert_packed(data: NDArray[np.uint8], source: str, target: str) -> NDArray[np.uint8]:
    """Packed or gray pixels of layout ``source`` in layout ``target`` (a new array, or
    ``data`` itself when the layouts are the same)."""
    if source == target:
        return data
    if target == "gray":
        return luma(data, source)
    height, width = data.shape[:2]
    channels = 4 if target in ALPHA_AT else 3
    out = np.empty((height, width, channels), np.uint8)
    if source == "gray":
        for at in RGB_AT[target]:
            out[..., at] = data
    else:
        for into, take in zip(RGB_AT[target], RGB_AT[source], strict=True):
            out[..., into] = data[..., take]
    if target in ALPHA_AT:
        if source in ALPHA_AT:
            out[..., ALPHA_AT[target]] = data[..., ALPHA_AT[source]]
        else:
            out[..., ALPHA_AT[target]] = 255
    return out


def _tables(values: NDArray[np.float64]) -> tuple[NDArray[np.uint8], NDArray[np.uint16]]:
    """A byte table of ``values`` (rounded, clipped), and the same for two bytes at once:
    entry ``i`` of the second maps the pixel pair whose bytes (in this machine's order)
    make the uint16 ``i``."""
    single = np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)
    pairs = np.arange(1 << 16, dtype=np.uint16).view(np.uint8).reshape(-1, 2)
    return single, np.ascontiguousarray(single[pairs]).view(np.uint16).reshape(-1)


_LEVELS = np.arange(256, dtype=np.float64)
_TO_FULL = _tables((_LEVELS - 16) * 255 / 219)
"""Limited-range Y to full-range gray, as swscale (checked equal for all 256 levels)."""
_TO_LIMITED = _tables(16 + _LEVELS * 219 / 255)
"""Full-range gray to limited-range Y, as swscale."""


def _look_up(
    table: tuple[NDArray[np.uint8], NDArray[np.uint16]], values: NDArray[np.uint8]
) -> NDArray[np.uint8]:
    """``table`` applied to a flat contiguous array, two bytes a lookup (twice as fast
    as one)."""
    single, pairs = table
    out = np.empty(values.size, np.uint8)
    even = values.size - values.size % 2
    np.take(pairs, values[:even].view(np.uint16), out=out[:even].view(np.uint16))
    if even < values.size:
        out[-1] = single[values[-1]]
    return out


def gray_of_yuv(data: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """Full-range gray ``(height, width)`` of a flat I420 or NV12 buffer (its Y plane)."""
    return _look_up(_TO_FULL, data[: width * height]).reshape(height, width)


def yuv_of_gray(data: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """A flat I420 or NV12 buffer (the same bytes: chroma is all 128) of gray pixels."""
    chroma = 2 * ((width + 1) // 2) * ((height + 1) // 2)
    out = np.empty(width * height + chroma, np.uint8)
    out[: width * height] = _look_up(_TO_LIMITED, np.ascontiguousarray(data).reshape(-1))
    out[width * height :] = 128
    return out
