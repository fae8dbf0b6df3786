"""`FrameList`: what `Stream.collect` returns, a list that also renders in Jupyter."""

from __future__ import annotations

from typing import SupportsIndex, TypeVar, overload

import numpy as np

from .display import audio_html
from .frame import AudioFrame
from .video import VideoFrame

__all__ = ("FrameList",)

T = TypeVar("T")

_REPR_ITEMS = 3


class FrameList(list[T]):
    """The list `Stream.collect` returns: a plain list that also renders in Jupyter.

    In Jupyter (``_repr_html_``), audio frames of one format show as the clip's waveform
    and an audio player; video frames as a video player (WebM, VP8) under their count,
    size and rate; audio and video frames together (e.g. `open_media`'s two streams
    merged) as one player with sound. What a cell embeds is bounded (about 2 MB): a long
    clip plays a 16 kHz mono preview, a long or large video fewer frames, smaller, or 8
    stills, and the cell says what was left out. Any other list shows as a list.

    Examples:
        >>> import lkframes as lk
        >>> frames = lk.run_sync(lk.sine(440, 0.1, 16_000).chunk(ms=50).collect())
        >>> isinstance(frames, list), len(frames)
        (True, 2)
        >>> "<audio" in frames._repr_html_()
        True
        >>> type(frames[:1]).__name__  # a slice displays too
        'FrameList'
        >>> import numpy as np
        >>> video = lk.FrameList([lk.VideoFrame(np.zeros((48, 64, 3), np.uint8), "rgb24",
        ...                                     timestamp_us=t) for t in (0, 40_000)])
        >>> print(video._repr_html_()[:55])
        <div><code>2 video frames, 64x48 rgb24, 25 fps, 0.080 s
    """

    @overload
    def __getitem__(self, index: SupportsIndex) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> FrameList[T]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> T | FrameList[T]:
        """An item, or for a slice (``frames[:5]``) a `FrameList`, which displays too."""
        if isinstance(index, slice):
            return FrameList(list.__getitem__(self, index))
        return list.__getitem__(self, index)

    def copy(self) -> FrameList[T]:
        """A shallow copy that is a `FrameList` too."""
        return FrameList(self)

    def __add__(self, other: list[T]) -> FrameList[T]:  # type: ignore[override]
        """``a + b`` of two lists of frames is a `FrameList`."""
        return FrameList(list.__add__(self, other))

    def __repr__(self) -> str:
        """A list's repr, with the middle of a long list left out: O(1) at any length."""
        if len(self) <= 2 * _REPR_ITEMS:
            return list.__repr__(self)
        head = ", ".join(repr(item) for item in self[:_REPR_ITEMS])
        tail = ", ".join(repr(item) for item in self[-_REPR_ITEMS:])
        return f"[{head}, ... {len(self) - 2 * _REPR_ITEMS} more ..., {tail}]"

    def _repr_html_(self) -> str | None:
        """Jupyter's view: audio frames of one format as a waveform and a player, video
        frames as a video player (both bounded in size); None (a plain list) otherwise."""
        video = [f for f in self if isinstance(f, VideoFrame)]
        if video:
            from .display_video import media_html, video_html

            if len(video) == len(self):
                return video_html(video)
            audio = [f for f in self if isinstance(f, AudioFrame)]
            return media_html(audio, video) if len(audio) + len(video) == len(self) else None
        frames = [f for f in self if isinstance(f, AudioFrame)]
        if not frames or len(frames) != len(self):
            return None
        fmt = frames[0].format
        if any(f.format != fmt for f in frames):
            return None
        data = np.concatenate([f.data for f in frames])
        seconds = data.shape[0] / fmt.sample_rate
        title = f"{len(frames)} frames, {fmt}, {seconds:.3f} s"
        return audio_html(data, fmt.sample_rate, title)
