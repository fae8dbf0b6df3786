"""Sources: arrays, frame iterables, synthetic signals, and streams made of streams."""

from __future__ import annotations

from ._arrays import from_array as from_array
from ._arrays import from_frames as from_frames
from ._combine import concat as concat
from ._combine import merge as merge
from ._combine import mix as mix
from ._combine import zip as zip
from ._synthetic import noise as noise
from ._synthetic import silence as silence
from ._synthetic import sine as sine
from ._video import from_video_frames as from_video_frames

__all__ = (
    "concat",
    "from_array",
    "from_frames",
    "from_video_frames",
    "merge",
    "mix",
    "noise",
    "silence",
    "sine",
    "zip",
)
