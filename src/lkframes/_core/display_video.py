"""Rich display of video in Jupyter: a frame as a PNG, a list of frames as a WebM player.

Every pixel format goes through `to_av` and FFmpeg's swscale to ``rgb24`` (or ``yuv420p``
for the player), so a layout lkframes learns later displays with no change here. This
module imports neither `VideoFrame` nor `video_av` at run time, since `VideoFrame`'s own
display methods import it. PyAV is imported by the functions.
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
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .av_pixels import to_av
from .display import audio_html
from .samples import convert_dtype

if TYPE_CHECKING:
    import av

    from .frame import AudioFrame
    from .video import VideoFrame

__all__ = (
    "FILMSTRIP",
    "IMAGE_BOX",
    "MAX_VIDEO_BYTES",
    "MAX_VIDEO_FRAMES",
    "PLAYER_BOX",
    "frame_html",
    "frame_png",
    "media_html",
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
_AUDIO_BITRATE = 64_000


def _fit(width: int, height: int, box: tuple[int, int], *, even: bool = False) -> tuple[int, int]:
    """``width`` x ``height`` scaled down (never up) to fit in ``box``, aspect kept."""
    scale = min(1.0, box[0] / width, box[1] / height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    if even:  # VP8's 4:2:0 chroma wants even sizes
        w, h = max(2, w + (w & 1)), max(2, h + (h & 1))
    return w, h


def _scaled(frame: VideoFrame, width: int, height: int, name: str) -> av.VideoFrame:
    """PyAV's frame of ``frame`` at ``width`` x ``height`` in FFmpeg's format ``name`` (the
    PyAV frame a decoded `VideoFrame` keeps, if already so: the caller setting its pts, as
    `to_media_file`'s encoder does, is harmless)."""
    return to_av(frame).reformat(width=width, height=height, format=name)


def png_bytes(frame: VideoFrame, width: int | None = None, height: int | None = None) -> bytes:
    """The frame as a PNG (rgb24, FFmpeg's encoder), scaled to ``width`` x ``height`` if given.

    Examples:
        >>> import numpy as np, lkframes as lk
        >>> png_bytes(lk.VideoFrame(np.zeros((2, 3, 4), np.uint8)))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    import av

    rgb = _scaled(frame, width or frame.width, height or frame.height, "rgb24")
    encoder: Any = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = rgb.width, rgb.height, "rgb24"
    packets = [*encoder.encode(rgb), *encoder.encode(None)]
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
    """When each frame shows, in µs from the origin, the clip's length, and the rate."""

    times_us: list[int]
    duration_us: int
    fps: float
    note: str


def _timeline(frames: Sequence[VideoFrame], origin_us: int | None = None) -> _Timeline:
    """The frames' own times (from ``origin_us``, else the first frame's) when they
    increase; else `_ASSUMED_FPS` from 0, said in the note."""
    stamps = [f.timestamp_us for f in frames]
    steps = np.diff(np.asarray(stamps, np.int64))
    if len(frames) > 1 and bool((steps > 0).all()):
        last = int(np.median(steps))  # the last frame shows for a typical frame's time
        origin = stamps[0] if origin_us is None else origin_us
        times = [t - origin for t in stamps]
        fps = len(frames) * 1e6 / (stamps[-1] - stamps[0] + last)
        return _Timeline(times, times[-1] + last, fps, "")
    step = round(1e6 / _ASSUMED_FPS)
    note = "" if len(frames) == 1 else "timestamps do not increase: played at 30 fps"
    return _Timeline([i * step for i in range(len(frames))], len(frames) * step, 1e6 / step, note)


def _pick(count: int) -> list[int]:
    """Indices of the frames a player holds: all, or `MAX_VIDEO_FRAMES` evenly spaced."""
    if count <= MAX_VIDEO_FRAMES:
        return list(range(count))
    return sorted({round(x) for x in np.linspace(0, count - 1, MAX_VIDEO_FRAMES)})


@dataclass(frozen=True, slots=True)
class _Sound:
    """The audio of an A/V player: float32 ``(samples, 1 or 2)``, its rate, its start."""

    data: NDArray[np.float32]
    rate: int
    start_us: int


def _feed(out: Any, stream: Any, sound: _Sound, done: int, until_us: int) -> int:
    """Encode ``sound`` from sample ``done`` up to ``until_us``; the samples now done."""
    import av

    wanted = round((until_us - sound.start_us) * sound.rate / 1e6)
    until = min(int(sound.data.shape[0]), max(done, wanted))
    if until > done:
        layout = "stereo" if sound.data.shape[1] == 2 else "mono"
        part = np.ascontiguousarray(sound.data[done:until]).reshape(1, -1)
        block = av.AudioFrame.from_ndarray(part, format="flt", layout=layout)
        block.sample_rate = sound.rate
        block.pts = round(sound.start_us * sound.rate / 1e6) + done
        block.time_base = Fraction(1, sound.rate)
        out.mux(stream.encode(block))
    return until


def _webm(
    frames: Sequence[VideoFrame],
    times_us: Sequence[int],
    size: tuple[int, int],
    bitrate: int,
    sound: _Sound | None = None,
) -> bytes:
    """The frames as WebM (VP8, FFmpeg's libvpx), each shown from its time in ``times_us``,
    with ``sound`` as Opus beside them; the two are encoded in step (interleaved)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as out:
        stream: Any = out.add_stream("libvpx", rate=_ASSUMED_FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1_000_000)
        stream.bit_rate = bitrate
        stream.options = {"deadline": "realtime", "cpu-used": "8", "g": "60"}
        audio: Any = None
        if sound is not None:
            layout = "stereo" if sound.data.shape[1] == 2 else "mono"
            audio = out.add_stream("libopus", rate=48_000, layout=layout)
            audio.bit_rate = _AUDIO_BITRATE
            audio.codec_context.time_base = Fraction(1, 48_000)
        done = 0
        for frame, time_us in zip(frames, times_us, strict=True):
            if sound is not None:
                done = _feed(out, audio, sound, done, time_us)
            picture = _scaled(frame, size[0], size[1], "yuv420p")
            picture.pts, picture.time_base = time_us, Fraction(1, 1_000_000)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
        if sound is not None:
            _feed(out, audio, sound, done, sound.start_us + 10**15)
            out.mux(audio.encode(None))
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


def _plan(
    frames: Sequence[VideoFrame], timeline: _Timeline
) -> tuple[list[int], tuple[int, int], list[str]]:
    """The frames a player holds, its size, and notes on what differs from the frames."""
    first = frames[0]
    notes = [timeline.note] if timeline.note else []
    if any((f.width, f.height) != (first.width, first.height) for f in frames):
        notes.append(f"frames of other sizes are scaled to {first.width}x{first.height}")
    chosen = _pick(len(frames))
    if len(chosen) < len(frames):
        notes.append(f"the player holds {len(chosen)} of the {len(frames)} frames, evenly spaced")
    size = _fit(first.width, first.height, PLAYER_BOX, even=True)
    if size != (first.width, first.height):
        notes.append(f"shown at {size[0]}x{size[1]}")
    return chosen, size, notes


def _player(
    frames: Sequence[VideoFrame], timeline: _Timeline, title: str, sound: _Sound | None
) -> tuple[str, list[str], bool]:
    """The HTML of the player (or of the filmstrip, when over `MAX_VIDEO_BYTES`) and the
    notes saying what was left out."""
    chosen, size, notes = _plan(frames, timeline)
    seconds = timeline.duration_us / 1e6
    budget = 0.8 * MAX_VIDEO_BYTES * 8 / seconds - (_AUDIO_BITRATE if sound else 0)
    bitrate = int(min(_MAX_BITRATE, max(_MIN_BITRATE, budget)))
    webm = b""
    if budget > 0:  # else the audio alone is over the limit
        times = [timeline.times_us[i] for i in chosen]
        webm = _webm([frames[i] for i in chosen], times, size, bitrate, sound)
    parts = [f"<div><code>{html.escape(title)}</code><br>"]
    playing = bool(webm) and len(webm) <= MAX_VIDEO_BYTES
    if playing:
        encoded = base64.b64encode(webm).decode("ascii")
        parts.append(
            f'<video controls preload="auto" width="{size[0]}" height="{size[1]}" '
            f'src="data:video/webm;base64,{encoded}"></video>'
        )
    else:
        what = f"as WebM it is {_megabytes(len(webm))}" if webm else "its audio alone is"
        notes.append(
            f"no player: {what} over the {MAX_VIDEO_BYTES / 1e6:g} MB a page embeds; "
            f"{FILMSTRIP} stills instead"
        )
        parts.append(_filmstrip(frames, timeline.times_us))
    return "".join(parts), notes, playing


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def _caption(frames: Sequence[VideoFrame], timeline: _Timeline) -> str:
    first = frames[0]
    return (
        f"{len(frames)} video frame{'s' if len(frames) > 1 else ''}, "
        f"{first.width}x{first.height} {first.pixel_format}, {timeline.fps:.4g} fps"
    )


def video_html(frames: Sequence[VideoFrame]) -> str:
    """HTML with a caption (frames, size, rate, length) and a WebM player of the frames,
    bounded as the module says; a note in the page says what was left out."""
    timeline = _timeline(frames)
    title = f"{_caption(frames, timeline)}, {timeline.duration_us / 1e6:.3f} s"
    player, notes, _ = _player(frames, timeline, title, None)
    if notes:
        player += f"<br><small>{html.escape('; '.join(notes))}</small>"
    return player + "</div>"


def media_html(audio: Sequence[AudioFrame], video: Sequence[VideoFrame]) -> str | None:
    """HTML with one WebM player (VP8 and Opus) of audio and video frames on one timeline
    (audio ``pts`` and video ``timestamp_us`` from the same origin, as `open_media` gives
    them); a filmstrip and an audio player when over the limits. None when the audio
    frames differ in format."""
    fmt = audio[0].format
    if any(f.format != fmt for f in audio):
        return None
    data = np.concatenate([f.data for f in audio])
    audio_start = round(audio[0].pts * 1e6 / fmt.sample_rate)
    origin = min(video[0].timestamp_us, audio_start)
    timeline = _timeline(video, origin)
    audio_end = audio_start - origin + round(data.shape[0] * 1e6 / fmt.sample_rate)
    timeline = replace(timeline, duration_us=max(timeline.duration_us, audio_end))
    pcm = convert_dtype(data, "float32")
    if pcm.shape[1] > 2:
        pcm = pcm.mean(axis=1, keepdims=True, dtype=np.float32)
    sound = _Sound(pcm, fmt.sample_rate, audio_start - origin)
    title = (
        f"{_caption(video, timeline)}; {len(audio)} audio frames, {fmt}; "
        f"{timeline.duration_us / 1e6:.3f} s"
    )
    player, notes, playing = _player(video, timeline, title, sound)
    if playing and fmt.num_channels > 2:
        notes.append(f"the player's audio is mono (the clip has {fmt.num_channels} channels)")
    if notes:
        player += f"<br><small>{html.escape('; '.join(notes))}</small>"
    if not playing:
        player += "<br>" + audio_html(data, fmt.sample_rate, f"the audio: {fmt}")
    return player + "</div>"
