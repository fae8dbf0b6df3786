"""`AudioFileInfo`: what an input's header says; `Probe`: that and what the readers need
(`_probe` reads them)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._core.errors import (
    ParameterError,
    UnsupportedAudioError,
)
from .._core.format import MAX_CHANNELS, MAX_SAMPLE_RATE, AudioFormat, DType
from ._lengths import XingTag
from ._raw import RawLayout
from ._source import Source, check_path

if TYPE_CHECKING:
    import soundfile

__all__ = (
    "AudioFileInfo",
    "Probe",
    "RawRequest",
    "check_path",
    "ffmpeg_reason",
    "header_format",
    "is_mp4",
    "open_soundfile",
    "pyav_dtype",
    "quoted",
    "soundfile_dtype",
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

    path: Path | None
    """The file; None for bytes or a file object without a name."""
    format: AudioFormat
    """Rate, channels and the dtype lkframes reads it as."""
    samples_per_channel: int | None
    """How many samples each channel holds, where the file really says (a WAV or FLAC
    header, an MP4 index, an MP3's frame count) or, with ``file_info(..., exact=True)``,
    counted by decoding; None where only an estimate exists (an ADTS AAC stream, an MP3
    without a frame count, a pipe).

    The same word as :attr:`AudioFrame.samples_per_channel`: in lkframes a *frame* is
    always a block of samples with a timestamp, never one sample per channel."""
    container: str
    """Container name, e.g. ``"WAV"``, ``"FLAC"``, ``"mov,mp4,m4a,3gp,3g2,mj2"``."""
    codec: str
    """Sample encoding, e.g. ``"PCM_16"``, ``"VORBIS"``, ``"aac"``."""
    backend: Literal["soundfile", "pyav"]
    """Which library decodes it."""
    name: str = ""
    """The input as messages name it: its path, ``<stdin>``, ``<1234 bytes>``."""
    counted: bool = False
    """Whether ``samples_per_channel`` was counted by decoding (``exact=True``)."""

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


@dataclass(frozen=True, slots=True)
class RawRequest:
    """What the caller said about a headerless input (all None: nothing)."""

    sample_rate: int | None = None
    num_channels: int | None = None
    encoding: str | None = None
    dtype: DType | None = None

    @property
    def given(self) -> bool:
        return (self.sample_rate, self.num_channels, self.encoding) != (None, None, None)


@dataclass(slots=True)
class Probe:
    """An opened-and-closed look at an input: its info and what its readers need."""

    source: Source
    info: AudioFileInfo
    declared: int | None
    """A length the file really declares (never an estimate), in samples per channel."""
    raw: RawLayout | None = None
    xing: XingTag | None = None
    expected: int | None = None
    """A length to judge a cut by where none is declared (Matroska's duration, to the
    millisecond, counting the codec delay: judged with `expected_slack`)."""
    expected_slack: int = 0
    cut: str | None = None
    """Why the header alone shows the input was cut (a WAV data chunk longer than the
    file, an Ogg stream without its last page, an MP3 short of the bytes its Xing tag
    counts), found without decoding; None if it does not show."""
    pending: Any = None
    """A pipe's FFmpeg container, opened to read its header, for the one read it allows."""


def open_soundfile(source: Source, raw: RawLayout | None = None) -> soundfile.SoundFile | None:
    """libsndfile's handle on ``source`` (None if it cannot read it); headerless with ``raw``.

    Raises:
        TypeError: python-soundfile wants the layout of a ``.raw`` file (headerless).
    """
    import soundfile

    target = source.for_libraries()
    try:
        if raw is None:
            return soundfile.SoundFile(target)
        return soundfile.SoundFile(
            target,
            samplerate=raw.sample_rate,
            channels=raw.num_channels,
            subtype=raw.subtype,
            endian=raw.endian,
            format="RAW",
        )
    except soundfile.LibsndfileError:
        return None


def soundfile_dtype(subtype: str) -> DType:
    return "int16" if subtype in _INT_SUBTYPES else "float32"


def pyav_dtype(stream: Any) -> DType:
    """What lkframes reads a PyAV audio stream as: int16 for 8- and 16-bit integer
    samples, float32 for everything else."""
    sample_format = stream.format.name if stream.format is not None else ""
    return "int16" if sample_format.startswith(("s16", "u8")) else "float32"


def is_mp4(path: Path) -> bool:
    with open(path, "rb") as file:
        return file.read(8)[4:8] == b"ftyp"


def header_format(path: object, sample_rate: int, num_channels: int, dtype: DType) -> AudioFormat:
    """The format a header declares; one lkframes cannot carry makes the file unsupported."""
    try:
        return AudioFormat(sample_rate, num_channels, dtype)
    except ParameterError:
        name = repr(str(path)) if isinstance(path, Path) else str(path)
        raise UnsupportedAudioError(
            f"{name} declares {sample_rate} Hz with {num_channels} channels (lkframes "
            f"carries 1 to {MAX_SAMPLE_RATE} Hz and 1 to {MAX_CHANNELS} channels)"
        ) from None


def ffmpeg_reason(exc: BaseException) -> str:
    """FFmpeg's message without PyAV's ``[Errno 1094995529]`` and the file name it adds."""
    reason = getattr(exc, "strerror", None)
    return str(reason) if reason else str(exc)


def quoted(source: Source) -> str:
    """The input as messages name it: a quoted path, or ``<stdin>`` and the like."""
    return repr(source.name) if source.kind in ("path", "file") else source.name
