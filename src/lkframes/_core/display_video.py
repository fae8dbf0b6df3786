"""Rich display of video in Jupyter: a frame as a PNG, a list of frames as a WebM player.

Every pixel format goes through `reformat` to ``rgb24`` (FFmpeg's swscale), so a layout
lkframes learns later displays with no change here. PyAV is imported by the functions.
The player is bounded like the audio one: at most `MAX_VIDEO_FRAMES` frames (a longer
list plays every n-th frame), at most `PLAYER_BOX` pixels, a bit rate chosen to fit
`MAX_VIDEO_BYTES`, and a filmstrip of `FILMSTRIP` stills when the WebM would still be
over it; the page says in words what was left out.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .video import VideoFrame
from .video_av import reformat, to_av

__all__ = (
    "FILMSTRIP",
    "IMAGE_BOX",
    "MAX_VIDEO_BYTES",
    "MAX_VIDEO_FRAMES",
    "PLAYER_BOX",
    "frame_html",
    "frame_png",
    "png_bytes",
    "video_html",
)

IMAGE_BOX = (1920, 1080)
"""A frame larger than this (either way round) is shown scaled down to fit in it."""
PLAYER_BOX = (640, 480)
"""The player shows frames scaled down to fit in this box."""
MAX_VIDEO_FRAMES = 300
"""The most frames a player holds; a longer list plays evenly spaced frames (a lower rate)."""
MAX_VIDEO_BYTES = 1_500_000
"""The most WebM bytes a page embeds (about 2 MB of HTML): over it, a filmstrip."""
FILMSTRIP = 8
"""Stills in the filmstrip shown instead of a player that would be too large."""
_THUMB_BOX = (160, 120)
_ASSUMED_FPS = 30
_MAX_BITRATE = 1_000_000
_MIN_BITRATE = 50_000


def _fit(width: int, height: int, box: tuple[int, int], *, even: bool = False) -> tuple[int, int]:
    """``width`` x ``height`` scaled down (never up) to fit in ``box``, aspect kept."""
    scale = min(1.0, box[0] / width, box[1] / height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    if even:  # VP8's 4:2:0 chroma wants even sizes
        w, h = max(2, w + (w & 1)), max(2, h + (h & 1))
    return w, h


def png_bytes(frame: VideoFrame, width: int | None = None, height: int | None = None) -> bytes:
    """The frame as a PNG (rgb24, FFmpeg's encoder), scaled to ``width`` x ``height`` if given.

    Examples:
        >>> import numpy as np
        >>> png_bytes(VideoFrame(np.zeros((2, 3, 4), np.uint8)))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    import av

    rgb = reformat(frame, width=width, height=height, pixel_format="rgb24")
    encoder: Any = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = rgb.width, rgb.height, "rgb24"
    packets = [*encoder.encode(to_av(rgb)), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


def _img(png: bytes, width: int, height: int, alt: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{encoded}" width="{width}" height="{height}" '
        f'alt="{html.escape(alt)}">'
    )


def frame_png(frame: VideoFrame) -> bytes:
    """The frame as a PNG, scaled down to fit in `IMAGE_BOX`."""
    return png_bytes(frame, *_fit(frame.width, frame.height, IMAGE_BOX))


def frame_html(frame: VideoFrame, png: bytes | None = None) -> str:
    """HTML with the frame's repr and the frame as an image (``png``, else `frame_png`)."""
    width, height = _fit(frame.width, frame.height, IMAGE_BOX)
    parts = [
        f"<div><code>{html.escape(repr(frame))}</code><br>",
        _img(frame_png(frame) if png is None else png, width, height, repr(frame)),
    ]
    if (width, height) != (frame.width, frame.height):
        parts.append(f"<br><small>shown scaled down to {width}x{height}</small>")
    parts.append("</div>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _Timeline:
    """When each frame shows, in µs from the first, and how long the clip lasts."""

    times_us: list[int]
    duration_us: int
    note: str

    @property
    def fps(self) -> float:
        return len(self.times_us) * 1e6 / self.duration_us


def _timeline(frames: Sequence[VideoFrame]) -> _Timeline:
    """The frames' own times when they increase; else `_ASSUMED_FPS`, said in the note."""
    stamps = [f.timestamp_us for f in frames]
    steps = np.diff(np.asarray(stamps, np.int64))
    if len(frames) > 1 and bool((steps > 0).all()):
        last = int(np.median(steps))  # the last frame shows for a typical frame's time
        times = [t - stamps[0] for t in stamps]
        return _Timeline(times, times[-1] + last, "")
    step = round(1e6 / _ASSUMED_FPS)
    note = "" if len(frames) == 1 else "timestamps do not increase: played at 30 fps"
    return _Timeline([i * step for i in range(len(frames))], len(frames) * step, note)


def _pick(count: int) -> list[int]:
    """Indices of the frames a player holds: all, or `MAX_VIDEO_FRAMES` evenly spaced."""
    if count <= MAX_VIDEO_FRAMES:
        return list(range(count))
    return sorted({round(x) for x in np.linspace(0, count - 1, MAX_VIDEO_FRAMES)})


def _webm(
    frames: Sequence[VideoFrame], times_us: Sequence[int], size: tuple[int, int], bitrate: int
) -> bytes:
    """The frames as WebM (VP8, FFmpeg's libvpx), each shown from its time in ``times_us``."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as out:
        stream: Any = out.add_stream("libvpx", rate=_ASSUMED_FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1_000_000)
        stream.bit_rate = bitrate
        stream.options = {"deadline": "realtime", "cpu-used": "8", "g": "60"}
        for frame, time_us in zip(frames, times_us, strict=True):
            picture = to_av(reformat(frame, width=size[0], height=size[1], pixel_format="i420"))
            picture.pts, picture.time_base = time_us, Fraction(1, 1_000_000)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return buffer.getvalue()


def _filmstrip(frames: Sequence[VideoFrame], times_us: Sequence[int]) -> str:
    """`FILMSTRIP` evenly spaced stills, each labelled with its time."""
    chosen = sorted({round(x) for x in np.linspace(0, len(frames) - 1, FILMSTRIP)})
    cells = []
    for index in chosen:
        frame = frames[index]
        width, height = _fit(frame.width, frame.height, _THUMB_BOX)
        label = f"frame {index}, {times_us[index] / 1e6:.3f} s"
        cells.append(
            '<figure style="display:inline-block;margin:2px">'
            f"{_img(png_bytes(frame, width, height), width, height, label)}"
            f"<figcaption><small>{label}</small></figcaption></figure>"
        )
    return "".join(cells)


def video_html(frames: Sequence[VideoFrame]) -> str:
    """HTML with a caption (frames, size, rate, length) and a WebM player of the frames,
    bounded as the module says; a note in the page says what was left out."""
    first = frames[0]
    timeline = _timeline(frames)
    title = (
        f"{len(frames)} video frame{'s' if len(frames) > 1 else ''}, "
        f"{first.width}x{first.height} {first.pixel_format}, "
        f"{timeline.fps:.4g} fps, {timeline.duration_us / 1e6:.3f} s"
    )
    notes = [timeline.note] if timeline.note else []
    if any((f.width, f.height) != (first.width, first.height) for f in frames):
        notes.append(f"frames of other sizes are scaled to {first.width}x{first.height}")
    chosen = _pick(len(frames))
    if len(chosen) < len(frames):
        notes.append(f"the player holds {len(chosen)} of the {len(frames)} frames, evenly spaced")
    size = _fit(first.width, first.height, PLAYER_BOX, even=True)
    if size != (first.width, first.height):
        notes.append(f"shown at {size[0]}x{size[1]}")
    seconds = timeline.duration_us / 1e6
    bitrate = int(min(_MAX_BITRATE, max(_MIN_BITRATE, 0.8 * MAX_VIDEO_BYTES * 8 / seconds)))
    times = [timeline.times_us[i] for i in chosen]
    webm = _webm([frames[i] for i in chosen], times, size, bitrate)
    parts = [f"<div><code>{html.escape(title)}</code><br>"]
    if len(webm) <= MAX_VIDEO_BYTES:
        encoded = base64.b64encode(webm).decode("ascii")
        parts.append(
            f'<video controls preload="auto" width="{size[0]}" height="{size[1]}" '
            f'src="data:video/webm;base64,{encoded}"></video>'
        )
    else:
        notes.append(
            f"no player: as WebM it is {len(webm) / 1e6:.1f} MB, over the "
            f"{MAX_VIDEO_BYTES / 1e6:g} MB a page embeds; {FILMSTRIP} stills instead"
        )
        parts.append(_filmstrip(frames, timeline.times_us))
    if notes:
        parts.append(f"<br><small>{html.escape('; '.join(notes))}</small>")
    parts.append("</div>")
    return "".join(parts)
