"""Media files with video: `open_media` (audio and video from one pass over the file) and
`from_video_file`, decoded by FFmpeg through PyAV."""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .._core.checks import check_choice
from .._core.errors import MediaFileError, TruncatedMediaError, UnsupportedMediaError
from .._core.format import SUPPORTED_DTYPES, AudioFormat, DType
from .._core.frame import AudioFrame
from .._core.resources import acquire, release
from .._core.stream import Stream
from .._core.video import PixelFormat, VideoFrame, check_pixel_format
from .._core.warnings import DamagedAudioWarning
from ._demux import Demux, Hub, Kind
from ._info import check_path, ffmpeg_reason, header_format, is_mp4, pyav_dtype
from ._lengths import TRUSTED_CONTAINERS

__all__ = ("MediaFile", "MediaInfo", "VideoInfo", "from_video_file", "open_media")


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a file's header says about its first video stream.

    Examples:
        >>> import lkframes as lk
        >>> lk.VideoInfo(1280, 720, 30.0, "h264", 900).fps
        30.0
    """

    width: int
    """Width in pixels."""
    height: int
    """Height in pixels."""
    fps: float | None
    """Average frame rate, if the container says."""
    codec: str
    """FFmpeg's codec name, e.g. ``"h264"``, ``"vp8"``."""
    frames: int | None
    """How many frames the container says it holds, if it says."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a media file's header says: its container, length, audio and video.

    Examples:
        >>> import lkframes as lk
        >>> lk.MediaInfo.__dataclass_fields__.keys()  # doctest: +ELLIPSIS
        dict_keys(['path', 'container', 'duration', 'audio', 'audio_codec', 'video'])
    """

    path: Path
    """The file."""
    container: str
    """FFmpeg's container name, e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"matroska,webm"``."""
    duration: float | None
    """Seconds, if the container says."""
    audio: AudioFormat | None
    """The first audio stream's format as lkframes reads it; None without audio."""
    audio_codec: str | None
    """FFmpeg's name of the audio codec, e.g. ``"aac"``, ``"opus"``."""
    video: VideoInfo | None
    """The first video stream; None without video."""


class _Reader:
    """One consumer of a `Hub`: an async iterator whose ``aclose`` leaves the hub."""

    def __init__(self, media: MediaFile, kind: Kind) -> None:
        self._media = media
        self._kind: Kind = kind
        self._hub = media._join(kind)
        self._closed = False
        acquire("file")

    def __aiter__(self) -> _Reader:
        return self

    async def __anext__(self) -> Any:
        if self._closed:
            raise StopAsyncIteration
        item = await self._hub.next(self._kind)
        if item is not None:
            return item
        problem, damaged = self._hub.problem, list(self._hub.damaged)
        await self.aclose()
        if damaged and not self._media._warned:
            self._media._warned = True
            places = ", ".join(f"{t:.3f} s" for t in sorted(set(damaged))[:5])
            message = (
                f"{str(self._media.info.path)!r} has damaged data, skipped at {places} "
                "(as ffmpeg skips it; lost audio is silence on the timeline)"
            )
            warnings.warn(
                DamagedAudioWarning(message, positions_s=tuple(damaged), lost_s=0.0, at_least=True),
                stacklevel=2,
            )
        if problem is not None:
            path = str(self._media.info.path)
            raise TruncatedMediaError(f"{path!r} is truncated or corrupt: {problem}")
        raise StopAsyncIteration

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                await self._hub.release(self._kind)
            finally:
                release("file")


class MediaFile:
    """A media file opened by `open_media`: its `info` and its `audio` and `video` streams.

    Streams opened together (both open before either has read a frame, as `to_media_file`
    and `publish_media` do) share one pass over the file; a stream opened later reads the
    file again from its start. Open only the streams you read: an opened stream that is
    never read queues every frame of its kind that the other one demuxes.

    Examples:
        >>> import lkframes as lk, numpy as np, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "clip.mp4")
        >>> picture = lk.VideoFrame(np.zeros((48, 64, 3), np.uint8), "rgb24")
        >>> _ = lk.run_sync(lk.to_media_file(
        ...     path, audio=lk.sine(440, 0.5, 48_000), video=lk.from_video_frames([picture])))
        >>> media = lk.open_media(path)
        >>> media.audio.format, media.info.video.width
        (AudioFormat(sample_rate=48000, num_channels=1, dtype='float32'), 64)
    """

    def __init__(self, info: MediaInfo, pixel_format: PixelFormat, dtype: DType | None) -> None:
        self.info = info
        self._pixel_format: PixelFormat = pixel_format
        self._audio_fmt = None
        if info.audio is not None:
            self._audio_fmt = info.audio if dtype is None else info.audio.with_(dtype=dtype)
        self._hub: Hub | None = None
        self._threads = "AUTO"
        self._warned = False  # the damage of a pass is reported once, not by each stream
        """How FFmpeg threads the video decoder: ``AUTO`` (frames in parallel, the fastest
        read) or ``SLICE`` (less CPU over all, for reading at real-time pace)."""

    def _join(self, kind: Kind) -> Hub:
        if self._hub is None or not self._hub.claim(kind):
            self._hub = Hub(self._open_demux)
            self._hub.claim(kind)
        return self._hub

    def _open_demux(self, wanted: set[Kind]) -> Demux:
        return Demux(self.info.path, wanted, self._pixel_format, self._audio_fmt, self._threads)

    @property
    def audio(self) -> Stream[AudioFrame] | None:
        """The first audio stream on the file's timeline (see `open_media`), or None."""
        if self._audio_fmt is None:
            return None
        name = f"open_media({self.info.path.name!r}).audio"
        return Stream(self._reader("audio"), format=self._audio_fmt, name=name)

    @property
    def video(self) -> Stream[VideoFrame] | None:
        """The first video stream, ``timestamp_us`` on the file's timeline, or None."""
        if self.info.video is None:
            return None
        name = f"open_media({self.info.path.name!r}).video"
        return Stream(self._reader("video"), name=name)

    def _reader(self, kind: Kind) -> Callable[[], AsyncGenerator[Any, None]]:
        # A `_Reader` claims its place in the shared pass when the stream is opened, and
        # leaves it when closed even if never read: an async generator could do neither
        # (its body, finally included, runs only once it is iterated). The stream machinery
        # uses only __anext__ and aclose, which it has.
        return cast("Callable[[], AsyncGenerator[Any, None]]", lambda: _Reader(self, kind))

    def __repr__(self) -> str:
        return f"MediaFile({str(self.info.path)!r})"


def _probe(path: Path) -> MediaInfo:
    import av

    check_path(path, MediaFileError)
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        if is_mp4(path):
            raise TruncatedMediaError(
                f"{str(path)!r} is an MP4/MOV file without its index (no moov box): it was "
                "cut or never finished (a recording killed before its end; record to .mkv "
                "or .webm to keep what was written)"
            ) from None
        raise UnsupportedMediaError(
            f"not a media file FFmpeg can read: {str(path)!r} ({ffmpeg_reason(exc)})"
        ) from None
    with container:
        audio = video = None
        audio_codec = None
        if container.streams.audio:
            stream = container.streams.audio[0]
            audio = header_format(path, int(stream.rate), int(stream.channels), pyav_dtype(stream))
            audio_codec = stream.codec_context.name
        if container.streams.video:
            picture = container.streams.video[0]
            rate = picture.average_rate
            guessed = picture.guessed_rate
            if rate and guessed and abs(float(rate) / float(guessed) - 1) < 0.01:
                rate = guessed  # constant rate: 25, not 25.08 from a rounded duration
            video = VideoInfo(
                width=int(picture.width),
                height=int(picture.height),
                fps=float(rate) if rate else None,
                codec=picture.codec_context.name,
                frames=int(picture.frames) or None,
            )
        if audio is None and video is None:
            raise UnsupportedMediaError(f"no audio or video stream in {str(path)!r}")
        duration = None if container.duration is None else container.duration / 1_000_000
        if container.format.name not in TRUSTED_CONTAINERS:
            duration = None  # only a guess from the bit rate (an ADTS or a bare MP3 stream)
        return MediaInfo(path, container.format.name, duration, audio, audio_codec, video)


def open_media(
    path: str | os.PathLike[str],
    *,
    pixel_format: PixelFormat = "rgb24",
    dtype: DType | None = None,
) -> MediaFile:
    """Open a media file (MP4, WebM, MKV, MOV, ...) for its audio and video streams.

    The header is read now; frames are decoded by FFmpeg (PyAV) packet by packet in a
    worker thread, so memory stays flat for any length. Audio and video are on one
    timeline, zero at the earlier of their starts: a video frame's ``timestamp_us`` and an
    audio sample's ``pts / rate`` are times on it, so a frame and the audio at its time
    belong together. Audio that starts late begins with silence, and a gap in it is filled
    with silence.

    Args:
        path: The file.
        pixel_format: The layout video frames come in, converted by FFmpeg's swscale
            as PyAV's ``reformat`` does: ``"bgr24"`` for OpenCV, ``"gray"`` for luma
            only (the limited-range Y stretched to 0..255).
        dtype: The audio sample type (default: int16 for 16-bit sources, else float32).

    Returns:
        A `MediaFile`: ``.info``, ``.audio`` and ``.video`` (None where absent).

    Raises:
        AudioFileError: Missing, a directory, or empty.
        UnsupportedMediaError: Not a media file, or one without audio and video.
        ParameterError: A bad ``pixel_format`` or ``dtype``.
        TruncatedMediaError: (while running) corrupt or cut data, after every decodable frame.

    Examples:
        >>> import lkframes as lk, numpy as np, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "clip.mkv")
        >>> frames = [lk.VideoFrame(np.zeros((48, 64, 3), np.uint8), "rgb24",
        ...                         timestamp_us=i * 40_000) for i in range(5)]
        >>> _ = lk.run_sync(lk.to_media_file(path, video=lk.from_video_frames(frames)))
        >>> media = lk.open_media(path)
        >>> media.info.video.width, media.audio is None
        (64, True)
        >>> [f.timestamp_us for f in lk.run_sync(media.video.collect())]
        [0, 40000, 80000, 120000, 160000]
    """
    check_pixel_format(pixel_format)
    if dtype is not None:
        check_choice(dtype, SUPPORTED_DTYPES, "dtype")
    return MediaFile(_probe(Path(path)), pixel_format, dtype)


def from_video_file(
    path: str | os.PathLike[str], *, pixel_format: PixelFormat = "rgb24"
) -> Stream[VideoFrame]:
    """The video frames of a file, decoded by FFmpeg frame by frame (memory stays flat).

    ``timestamp_us`` comes from the container, on the file's timeline (see `open_media`).
    ``pixel_format="bgr24"`` gives OpenCV's images (``(height, width, 3)`` BGR arrays),
    ``"gray"`` ``(height, width)`` ones.

    Raises:
        AudioFileError: Missing, a directory, or empty.
        UnsupportedMediaError: Not a media file, or one without video.
        ParameterError: A bad ``pixel_format``.

    Examples:
        >>> import lkframes as lk, numpy as np, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "clip.mkv")
        >>> frames = [lk.VideoFrame(np.full((48, 64, 3), 200, np.uint8), "rgb24",
        ...                         timestamp_us=i * 40_000) for i in range(3)]
        >>> _ = lk.run_sync(lk.to_media_file(path, video=lk.from_video_frames(frames)))
        >>> decoded = lk.run_sync(lk.from_video_file(path).collect())
        >>> len(decoded), decoded[0].data.shape
        (3, (48, 64, 3))
    """
    media = open_media(path, pixel_format=pixel_format)
    if media.video is None:
        raise UnsupportedMediaError(f"no video stream in {str(media.info.path)!r}")
    return media.video
