"""`file_info` and `AudioFileInfo`: what a file's header says, read with libsndfile or FFmpeg."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._core.errors import (
    AudioFileError,
    MediaFileError,
    ParameterError,
    TruncatedAudioError,
    UnsupportedAudioError,
)
from .._core.format import MAX_CHANNELS, MAX_SAMPLE_RATE, AudioFormat, DType

if TYPE_CHECKING:
    import soundfile

__all__ = (
    "AudioFileInfo",
    "check_path",
    "file_info",
    "header_format",
    "known_frames",
    "open_soundfile",
)

_INT_SUBTYPES = {"PCM_S8", "PCM_U8", "PCM_16", "ULAW", "ALAW", "GSM610", "IMA_ADPCM", "MS_ADPCM"}


@dataclass(frozen=True, slots=True)
class AudioFileInfo:
    """What a file's header says about its audio.

    Examples:
        >>> import lkframes as lk, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> _ = lk.run_sync(lk.sine(440, 0.5, 16_000).to_file(path))
        >>> info = lk.file_info(path)
        >>> info.container, info.backend, info.duration
        ('WAV', 'soundfile', 0.5)
    """

    path: Path
    """The file."""
    format: AudioFormat
    """Rate, channels and the dtype lkframes reads it as."""
    samples_per_channel: int | None
    """How many samples each channel holds, if the container says (None for some streams).

    The same word as :attr:`AudioFrame.samples_per_channel`: in lkframes a *frame* is
    always a block of samples with a timestamp, never one sample per channel."""
    container: str
    """Container name, e.g. ``"WAV"``, ``"FLAC"``, ``"mov,mp4,m4a,3gp,3g2,mj2"``."""
    codec: str
    """Sample encoding, e.g. ``"PCM_16"``, ``"VORBIS"``, ``"aac"``."""
    backend: Literal["soundfile", "pyav"]
    """Which library decodes it."""

    @property
    def duration(self) -> float | None:
        """Seconds, if the number of samples is known."""
        n = self.samples_per_channel
        return None if n is None else n / self.format.sample_rate

    @property
    def frames(self) -> int | None:
        """Deprecated alias of :attr:`samples_per_channel` (libsndfile's word for it).

        .. deprecated:: 0.1.0
           In lkframes a frame is a block of samples (:class:`AudioFrame`); use
           ``samples_per_channel``.
        """
        warnings.warn(
            "AudioFileInfo.frames is deprecated: it counts samples per channel, not frames; "
            "use AudioFileInfo.samples_per_channel",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.samples_per_channel


def check_path(path: Path, error: type[MediaFileError] = AudioFileError) -> None:
    """Refuse a missing, empty or directory ``path`` with ``error`` (default: audio's)."""
    what = "an audio file" if issubclass(error, AudioFileError) else "a media file"
    if not path.exists():
        raise error(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise error(f"is a directory, not {what}: {str(path)!r}")
    if path.stat().st_size == 0:
        raise error(f"empty file (0 bytes): {str(path)!r}")


# -- libsndfile ------------------------------------------------------------------------

SF_COUNT_MAX = 2**63 - 1
"""What libsndfile reports as the length of a stream whose length it does not know."""


def known_frames(handle: soundfile.SoundFile) -> int | None:
    frames = int(handle.frames)
    return frames if 0 <= frames < SF_COUNT_MAX else None


def open_soundfile(path: Path) -> soundfile.SoundFile | None:
    import soundfile

    try:
        return soundfile.SoundFile(str(path))
    except soundfile.LibsndfileError:
        return None
    except TypeError:  # python-soundfile wants the rate etc. of a .raw file from the caller
        raise UnsupportedAudioError(
            f"{str(path)!r} is headerless raw audio: its rate, channels and sample type are "
            "not in the file, and lkframes reads files that say them (WAV, FLAC, ...)"
        ) from None


def soundfile_dtype(subtype: str) -> DType:
    return "int16" if subtype in _INT_SUBTYPES else "float32"


# -- PyAV (FFmpeg) -----------------------------------------------------------------------


def pyav_dtype(stream: Any) -> DType:
    """What lkframes reads a PyAV audio stream as: int16 for 8- and 16-bit integer
    samples, float32 for everything else."""
    sample_format = stream.format.name if stream.format is not None else ""
    return "int16" if sample_format.startswith(("s16", "u8")) else "float32"


def pyav_info(path: Path) -> AudioFileInfo:
    try:
        import av
    except ImportError:  # pragma: no cover - av is a declared dependency
        raise UnsupportedAudioError(
            f"libsndfile cannot read {str(path)!r} and PyAV is not installed"
        ) from None
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise UnsupportedAudioError(f"no audio stream in {str(path)!r}")
            stream = container.streams.audio[0]
            if stream.codec_context is None or stream.rate is None or not stream.channels:
                raise UnsupportedAudioError(f"audio stream without rate/channels in {str(path)!r}")
            frames = None
            if stream.duration is not None and stream.time_base is not None:
                frames = round(stream.duration * stream.time_base * stream.rate)
            dtype = pyav_dtype(stream)
            return AudioFileInfo(
                path=path,
                format=header_format(path, int(stream.rate), int(stream.channels), dtype),
                samples_per_channel=frames,
                container=container.format.name,
                codec=stream.codec_context.name,
                backend="pyav",
            )
    except UnsupportedAudioError:
        raise
    except (av.FFmpegError, IndexError, ValueError) as exc:
        if is_mp4(path):
            raise TruncatedAudioError(
                f"{str(path)!r} is an MP4/m4a file without its index (no moov box): it was "
                "cut or never finished"
            ) from None
        raise UnsupportedAudioError(
            f"not an audio file libsndfile or FFmpeg can read: {str(path)!r} ({ffmpeg_reason(exc)})"
        ) from None


def is_mp4(path: Path) -> bool:
    with open(path, "rb") as file:
        return file.read(8)[4:8] == b"ftyp"


def header_format(path: Path, sample_rate: int, num_channels: int, dtype: DType) -> AudioFormat:
    """The format a header declares; one lkframes cannot carry makes the file unsupported."""
    try:
        return AudioFormat(sample_rate, num_channels, dtype)
    except ParameterError:
        raise UnsupportedAudioError(
            f"{str(path)!r} declares {sample_rate} Hz with {num_channels} channels (lkframes "
            f"carries 1 to {MAX_SAMPLE_RATE} Hz and 1 to {MAX_CHANNELS} channels)"
        ) from None


# -- public API ---------------------------------------------------------------------------


def file_info(path: str | os.PathLike[str]) -> AudioFileInfo:
    """Read a file's header: rate, channels, length, container and codec.

    Raises:
        AudioFileError: Missing, a directory, or empty.
        UnsupportedAudioError: Neither libsndfile nor FFmpeg can read it.

    Examples:
        >>> import lkframes as lk, numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> _ = lk.run_sync(lk.sine(440, 0.5, 16_000).to_file(path))
        >>> info = lk.file_info(path)
        >>> info.format, info.samples_per_channel, info.codec
        (AudioFormat(sample_rate=16000, num_channels=1, dtype='int16'), 8000, 'PCM_16')
    """
    file = Path(path)
    check_path(file)
    handle = open_soundfile(file)
    if handle is None:
        return pyav_info(file)
    with handle:
        return AudioFileInfo(
            path=file,
            format=header_format(
                file, handle.samplerate, handle.channels, soundfile_dtype(handle.subtype)
            ),
            samples_per_channel=known_frames(handle),
            container=handle.format,
            codec=handle.subtype,
            backend="soundfile",
        )


def ffmpeg_reason(exc: BaseException) -> str:
    """FFmpeg's message without PyAV's ``[Errno 1094995529]`` and the file name it adds."""
    reason = getattr(exc, "strerror", None)
    return str(reason) if reason else str(exc)
