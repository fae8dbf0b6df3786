"""The stages: plain functions that validate their parameters and return a `Stage`.

Each is registered once (``@stage_entry``); `Stream`'s methods, pipeline files and the
command line are derived from that entry.
"""

from __future__ import annotations

from ._chunk import chunk as chunk
from ._items import filter as filter
from ._items import skip_while as skip_while
from ._items import take_while as take_while
from ._items import tap as tap
from ._items import timeout as timeout
from ._levels import gain as gain
from ._levels import remix as remix
from ._levels import to_dtype as to_dtype
from ._limiter import limit as limit
from ._limits import skip as skip
from ._limits import take as take
from ._loudness import loudness as loudness
from ._loudness import meter_loudness as meter_loudness
from ._map import flat_map as flat_map
from ._map import map as map
from ._normalize import normalize as normalize
from ._resample import resample as resample
from ._video import fps as fps
from ._video import resize as resize
from ._video import to_pixel_format as to_pixel_format
from ._window import window as window

__all__ = (
    "chunk",
    "filter",
    "flat_map",
    "fps",
    "gain",
    "limit",
    "loudness",
    "map",
    "meter_loudness",
    "normalize",
    "remix",
    "resample",
    "resize",
    "skip",
    "skip_while",
    "take",
    "take_while",
    "tap",
    "timeout",
    "to_dtype",
    "to_pixel_format",
    "window",
)
