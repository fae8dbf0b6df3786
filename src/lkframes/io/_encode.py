"""`MediaEncoder`: encoders and a muxer for one media file (PyAV), driven from worker threads.

Every call takes the encoder's lock: the audio and the video consumer of `to_media_file`
call it from their own worker threads, and an FFmpeg muxer is not thread-safe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .._core.errors import MediaFileError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.video import VideoFrame
from .._core.video_av import AV_FORMATS, to_av
from ._encodings import rate_problem
from ._info import ffmpeg_reason
from ._target import WriteTarget

__all__ = ("CONTAINERS", "Codecs", "MediaEncoder", "codecs_for")


@dataclass(frozen=True, slots=True)
class Codecs:
    """The container and codecs a media file is written with."""

    container: str
    """FFmpeg's muxer name: ``"mp4"``, ``"matroska"``, ``"webm"``, ``"mov"``."""
    video: str
    """FFmpeg's video encoder, e.g. ``"libx264"``, ``"libvpx"``."""
    audio: str
    """FFmpeg's audio encoder, e.g. ``"aac"``, ``"libopus"``."""


CONTAINERS: dict[str, Codecs] = {
    ".mp4": Codecs("mp4", "libx264", "aac"),
    ".m4v": Codecs("mp4", "libx264", "aac"),
    ".mov": Codecs("mov", "libx264", "aac"),
    ".mkv": Codecs("matroska", "libx264", "libopus"),
    ".webm": Codecs("webm", "libvpx", "libopus"),
}
"""What each extension is written as, unless codecs are given."""

_ALIASES = {
    "h264": "libx264",
    "x264": "libx264",
    "vp8": "libvpx",
    "vp9": "libvpx-vp9",
    "av1": "libsvtav1",
    "opus": "libopus",
}
_WEBM = {"libvpx", "libvpx-vp9", "libsvtav1", "libopus", "libvorbis"}
_NOT_MP4 = {"libvpx", "libvorbis"}
_VIDEO_OPTIONS: dict[str, dict[str, str]] = {
    "libx264": {"preset": "veryfast", "crf": "23"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"},
}
_VPX_BITRATE = 2_000_000


def codecs_for(path: Path, video: str | None, audio: str | None) -> Codecs:
    """The container from ``path``'s extension and the codecs (given, or its defaults).

    Raises:
        ParameterError: An extension lkframes does not write media to, or a codec the
            container cannot hold.
    """
    chosen = CONTAINERS.get(path.suffix.lower())
    if chosen is None:
        raise ParameterError(
            f"cannot tell the media container from {path.name!r}; use .mp4, .mkv, .webm or "
            ".mov (audio alone: to_file)"
        )
    codecs = Codecs(
        chosen.container,
        _ALIASES.get(video or "", video or chosen.video),
        _ALIASES.get(audio or "", audio or chosen.audio),
    )
    for codec in (codecs.video, codecs.audio):
        if chosen.container == "webm" and codec not in _WEBM:
            raise ParameterError(f"a WebM file holds VP8, VP9, AV1, Opus or Vorbis, not {codec}")
        if chosen.container in ("mp4", "mov") and codec in _NOT_MP4:
            raise ParameterError(f"an {path.suffix} file cannot hold {codec}; use .mkv or .webm")
    return codecs


class _PyAVFile:
    """A `WriteTarget` as the file object PyAV writes through (its ``seekable`` is a flag,
    where PyAV calls a method)."""

    __slots__ = ("seek", "tell", "write")

    def __init__(self, target: WriteTarget) -> None:
        self.write, self.seek, self.tell = target.write, target.seek, target.tell


class MediaEncoder:
    """One output file: its muxer and, created at their first frame, an audio and a video
    encoder."""

    def __init__(
        self,
        path: Path | WriteTarget,
        codecs: Codecs,
        *,
        video_bitrate: int | None = None,
        video_options: dict[str, str] | None = None,
        fps_hint: float = 30.0,
        muxer_options: dict[str, str] | None = None,
    ) -> None:
        """``path`` is a file name (FFmpeg creates the file with the first packet) or an
        open `WriteTarget`; ``muxer_options`` are added to the muxer's own."""
        import av

        self._lock = threading.Lock()
        self._codecs = codecs
        self._video_bitrate = video_bitrate
        self._video_options = video_options
        self._fps_hint = fps_hint
        options = {"flush_packets": "1"}  # a killed MKV/WebM keeps what was written...
        if codecs.container in ("matroska", "webm"):
            options["cluster_time_limit"] = "1000"  # ...up to the last 1 s cluster
        options.update(muxer_options or {})
        output: Any = str(path) if isinstance(path, Path) else _PyAVFile(path)
        try:
            self._out = av.open(output, "w", format=codecs.container, options=options)
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise MediaFileError(f"cannot write {str(path)!r}: {ffmpeg_reason(exc)}") from None
        self._video: Any = None
        self._audio: Any = None
        self._size: tuple[int, int] | None = None
        self._last_pts = -1
        self._closed = False
        self._broken: BaseException | None = None  # the failed write, if one failed
        self.wrote = False
        """Whether a frame was encoded."""

    def add_video(self, width: int, height: int) -> None:
        """Add the video stream, sized ``width`` x ``height`` rounded down to even."""
        with self._lock:
            size = (max(2, width - width % 2), max(2, height - height % 2))
            stream: Any = self._out.add_stream(self._codecs.video, rate=round(self._fps_hint))
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = Fraction(1, 1_000_000)
            options = dict(_VIDEO_OPTIONS.get(self._codecs.video, {}))
            options["g"] = str(max(1, round(2 * self._fps_hint)))  # a keyframe every 2 s
            options.update(self._video_options or {})
            stream.options = options
            if self._video_bitrate or self._codecs.video.startswith("libvpx"):
                stream.bit_rate = self._video_bitrate or _VPX_BITRATE
            self._video, self._size = stream, size

    def add_audio(self, fmt: AudioFormat) -> None:
        """Add the audio stream for ``fmt`` (Opus at 48 kHz unless the rate is one of its own)."""
        with self._lock:
            rate = fmt.sample_rate
            if self._codecs.audio == "libopus" and rate_problem("OPUS", rate) is not None:
                rate = 48_000  # PyAV resamples what it encodes to the encoder's rate
            stream = self._out.add_stream(self._codecs.audio, rate=rate, layout=_layout(fmt))
            stream.codec_context.time_base = Fraction(1, rate)
            self._audio = stream

    def write_video(self, frame: VideoFrame) -> None:
        """Encode and mux one frame at its ``timestamp_us`` (scaled to the stream's size)."""
        assert self._size is not None
        picture = to_av(frame)
        width, height = self._size
        if (frame.width, frame.height, AV_FORMATS[frame.pixel_format]) != (
            width,
            height,
            "yuv420p",
        ):
            picture = picture.reformat(width=width, height=height, format="yuv420p")
        with self._lock:
            # Strictly increasing, as MP4 demands (to_media_file leaves out the others).
            pts = frame.timestamp_us
            if pts <= self._last_pts:
                raise ValueError(f"video timestamp {pts} µs is not after {self._last_pts} µs")
            self._last_pts = pts
            picture.pts = pts
            picture.time_base = Fraction(1, 1_000_000)
            self._mux(self._video.encode(picture))

    def write_audio(self, frame: AudioFrame) -> None:
        """Encode and mux one block of audio at its ``pts``."""
        import av

        fmt = frame.format
        data = np.ascontiguousarray(frame.data).reshape(1, -1)
        sample_format = "s16" if fmt.dtype == "int16" else "flt"
        block = av.AudioFrame.from_ndarray(data, format=sample_format, layout=_layout(fmt))
        block.sample_rate = fmt.sample_rate
        block.pts = frame.pts
        block.time_base = Fraction(1, fmt.sample_rate)
        with self._lock:
            self._mux(self._audio.encode(block))

    def _mux(self, packets: list[Any]) -> None:
        if self._broken is not None:
            raise OSError(f"an earlier write failed: {self._broken}")
        self.wrote = True
        try:
            for packet in packets:
                self._out.mux(packet)
        except BaseException as exc:
            # PyAV (18.1) crashes the process (SIGSEGV) if a muxer is given another packet
            # after a write failed, as on a full disk: so never again, and no flush at close.
            self._broken = exc
            raise

    def close(self) -> None:
        """Flush the encoders and write the container's trailer (once)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                for stream in (self._video, self._audio):
                    if stream is not None and self._broken is None:
                        self._mux(stream.encode(None))
            finally:
                self._out.close()


_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad"}
"""FFmpeg's layouts for 1 to 4 channels, each kept by AAC and by Opus (measured). FFmpeg's
own choice for 3 channels, ``2.1``, makes the third the LFE: AAC low-passes it (a 700 Hz
tone comes out silent), and libopus refuses it, as it refuses ``4.0``."""


def _layout(fmt: AudioFormat) -> str:
    """FFmpeg's name for the channel layout: ``mono``, ``stereo``, ``3.0``, ``quad``, and
    ``5c`` etc. beyond (FFmpeg's default layout for the count)."""
    return _LAYOUTS.get(fmt.num_channels, f"{fmt.num_channels}c")
