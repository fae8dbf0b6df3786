"""Conversions among packed layouts and ``gray`` in numpy: channel moves, and OpenCV's luma.

These are the conversions OpenCV's ``cv2.cvtColor`` defines the same way, and lkframes
gives its results pixel for pixel:

- between ``rgba``, ``bgra``, ``argb``, ``abgr``, ``rgb24`` and ``bgr24``: the colour
  channels moved, the alpha kept (or 255 where there was none);
- ``gray`` from any of them: BT.601 luma in OpenCV's fixed point,
  ``(9798 R + 19235 G + 3735 B + 2**14) >> 15`` (``cv2.COLOR_RGB2GRAY`` and its siblings
  give exactly this for every one of the 2**24 colours);
- any of them from ``gray``: R = G = B = the gray value, alpha 255 (``cv2.COLOR_GRAY2BGR``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ("ALPHA_AT", "RGB_AT", "convert_packed", "luma")

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

_BLOCK_PIXELS = 1 << 16
"""Pixels converted at once: their float32 copy stays in the CPU's cache (the whole frame
at once is 3x slower at 1080p)."""


def luma(data: NDArray[np.uint8], pixel_format: str) -> NDArray[np.uint8]:
    """OpenCV's 8-bit gray of packed ``(height, width, channels)`` pixels.

    Computed in float32 on blocks of rows: the weights and pixels are integers and every
    partial sum is below 2**24, so each product and sum is exact whatever the order, and
    the scaling by 2**-15 is exact too; the cast to uint8 floors. The result is the
    integer formula's, bit for bit.
    """
    height, width, channels = data.shape
    weights = np.zeros(channels, np.float32)
    for at, weight in zip(RGB_AT[pixel_format], LUMA_WEIGHTS, strict=True):
        weights[at] = weight
    out = np.empty((height, width), np.uint8)
    rows = min(height, max(1, _BLOCK_PIXELS // max(width, 1)))
    pixels = np.empty((rows, width, channels), np.float32)
    sums = np.empty((rows, width), np.float32)
    scale = np.float32(1 / (1 << LUMA_SHIFT))
    for top in range(0, height, rows):
        block = data[top : top + rows]
        count = block.shape[0]
        np.copyto(pixels[:count], block)
        total = sums[:count]
        np.matmul(pixels[:count], weights, out=total)
        total += 1 << (LUMA_SHIFT - 1)
        total *= scale
        out[top : top + count] = total  # the cast truncates: floor, as all are >= 0
    return out


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
