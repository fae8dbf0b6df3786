"""`fitted_all`: frames over the arrays a function returned for a list of frames, checked
in bulk (what `map` makes of each list `chunk` cuts)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .format import AudioFormat
from .frame import AudioFrame

__all__ = ("fitted_all",)

_new = object.__new__


def fitted_all(
    arrays: list[Any], items: list[Any], fmt: AudioFormat | None
) -> list[AudioFrame] | None:
    """`fitted` for each array, at the pts of the item it was made from, or None.

    ``arrays[i]`` is what a function returned for ``items[i]``. The frames are those
    `fitted` gives one by one (of ``fmt``, or of the items' format; a writable array behind
    a read-only view), with its checks inlined in one loop: a call per array would cost
    more than the checks themselves.

    Returns:
        The frames; None unless every item is an `AudioFrame` (all of one format, without
        ``fmt``) and every array a 2-D C-contiguous array of the format's dtype and
        channels. The caller then takes the arrays one at a time, as before.
    """
    if not items:
        return []
    first = items[0]
    if type(first) is not AudioFrame:
        return None
    own = fmt is None
    fmt = fmt or first._format
    dtype, row = fmt._numpy_dtype, fmt._row
    frames: list[AudioFrame] = []
    append = frames.append
    for data, item in zip(arrays, items, strict=True):
        if (
            type(item) is not AudioFrame
            or (own and item._format is not fmt)
            or type(data) is not np.ndarray
            or data.dtype is not dtype
            or data.shape[1:] != row
        ):
            return None
        flags = data.flags
        if not flags.c_contiguous:
            return None
        if flags.writeable:
            data = data.view()
            data.setflags(False)  # type: ignore[call-arg]  # positional: half write=False's cost
        frame = _new(AudioFrame)
        frame._data, frame._format, frame._pts = data, fmt, item._pts
        append(frame)
    return frames
