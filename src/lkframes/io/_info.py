"""`file_info` and `AudioFileInfo`: what an input's header says, read with libsndfile or
FFmpeg; `probe` adds what the readers need (a length the file really declares, the
layout of headerless audio, a pipe's opened container)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._core.errors import (
    AudioFileError,
    ParameterError,
    TruncatedAudioError,
    UnsupportedAudioError,
)
from .._core.format import MAX_CHANNELS, MAX_SAMPLE_RATE, AudioFormat, DType
from .._core.warnings import AssumedFormatWarning
from ._decoders import declared_truncation
from ._lengths import TRUSTED_CONTAINERS, XingTag, mp3_complete, ogg_problem, xing_tag
from ._opus import opus_pre_skip
from ._raw import HEADERLESS_SUFFIXES, RAW_DEMUXERS, RawLayout, encoding_of_demuxer, raw_layout
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
    "probe",
    "pyav_dtype",
    "quoted",
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


# -- probing ------------------------------------------------------------------------------


def probe(source: Source, request: RawRequest = RawRequest()) -> Probe:
    """Read ``source``'s header: libsndfile first, FFmpeg for what it cannot read.

    Raises:
        UnsupportedAudioError: Neither can read it.
        ParameterError: Headerless input without the layout it needs, or a layout given
            for a file whose header says another.
        TruncatedAudioError: An MP4 without its index.
    """
    implied = HEADERLESS_SUFFIXES.get(source.suffix)
    if source.suffix in HEADERLESS_SUFFIXES or (request.given and source.kind == "pipe"):
        return _headerless(source, request, implied)
    if source.kind != "pipe":
        try:
            handle = open_soundfile(source)
        except TypeError:
            return _headerless(source, request, implied)
        if handle is not None and handle.subtype == "OPUS":
            # Opus is read by FFmpeg, at 48 kHz: as ffmpeg and a pipe read it (libsndfile
            # picks the encoder's input rate, 24 kHz for 22.05), 2.5x faster than libopus
            # here, and with what follows damage placed by its timestamps.
            handle.close()
        elif handle is not None:
            with handle:
                return _check_request(_soundfile_probe(source, handle), request)
    return _pyav_probe(source, request)


def _soundfile_probe(
    source: Source, handle: soundfile.SoundFile, raw: RawLayout | None = None
) -> Probe:
    frames = int(handle.frames)
    declared = frames if 0 <= frames < 2**63 - 1 else None
    xing = None
    if handle.format == "MP3":
        xing = xing_tag(source)
        if xing is None or xing.frames is None:
            declared = None  # libsndfile's length of an MP3 without a frame count is a guess
    info = AudioFileInfo(
        path=source.path,
        format=header_format(
            quoted(source), handle.samplerate, handle.channels, soundfile_dtype(handle.subtype)
        ),
        samples_per_channel=declared,
        container="RAW" if raw is not None else handle.format,
        codec=handle.subtype,
        backend="soundfile",
        name=source.name,
    )
    probed = Probe(source, info, declared, raw=raw, xing=xing)
    probed.cut = _cut(source, handle.format, handle.extra_info, xing)
    return probed


def _cut(source: Source, container: str, extra_info: str, xing: XingTag | None) -> str | None:
    """What the header and the file's size alone say about a cut (see `Probe.cut`)."""
    if container == "WAV":
        return declared_truncation(extra_info)
    if container == "OGG":
        return ogg_problem(source)
    size = source.size
    if xing is None or not xing.stream_bytes or size is None:
        return None
    if mp3_complete(xing, size):
        return None
    held = size - xing.offset
    return f"the file holds {held} of the {xing.stream_bytes} bytes its MP3 header counts"


def _headerless(source: Source, request: RawRequest, implied: Any) -> Probe:
    layout = raw_layout(
        quoted(source),
        implied,
        request.sample_rate,
        request.num_channels,
        request.encoding,
        request.dtype,
    )
    if layout.assumed:
        warnings.warn(
            AssumedFormatWarning(
                f"{quoted(source)} is headerless {layout.describe().split()[-1]}: read as "
                f"{layout.describe()}, the format's standard where not given; give "
                "sample_rate= and num_channels= if it is another"
            ),
            stacklevel=4,
        )
    if source.kind == "pipe":
        return _pyav_probe(source, request, layout)
    handle = open_soundfile(source, layout)
    if handle is None:
        raise UnsupportedAudioError(
            f"libsndfile cannot read {quoted(source)} as {layout.describe()}"
        )
    with handle:
        probed = _soundfile_probe(source, handle, layout)
    size = source.size
    if size is not None and size % layout.frame_bytes:
        probed.declared = None  # a partial last sample: read what is whole, judge nothing
    return probed


def _check_request(probed: Probe, request: RawRequest) -> Probe:
    """Refuse a layout given for a file whose header declares another."""
    if not request.given:
        return probed
    fmt = probed.info.format
    said = {"sample_rate": fmt.sample_rate, "num_channels": fmt.num_channels}
    for what, value in (
        ("sample_rate", request.sample_rate),
        ("num_channels", request.num_channels),
    ):
        if value is not None and value != said[what]:
            raise ParameterError(
                f"{quoted(probed.source)} has a header that says {said[what]} for {what} "
                f"(got {what}={value}); sample_rate=, num_channels= and encoding= are for "
                "headerless files"
            )
    if request.encoding is not None:
        raise ParameterError(
            f"{quoted(probed.source)} has a header ({probed.info.container} "
            f"{probed.info.codec}); encoding= is for headerless files"
        )
    return probed


def _pyav_probe(source: Source, request: RawRequest, layout: RawLayout | None = None) -> Probe:
    import av

    options = {}
    demuxer = None
    if layout is not None:
        demuxer = layout.encoding
        options = {"sample_rate": str(layout.sample_rate), "ch_layout": f"{layout.num_channels}c"}
    try:
        container = av.open(source.for_libraries(), format=demuxer, options=options)
    except (av.FFmpegError, IndexError, ValueError) as exc:
        if layout is None and request.given:  # no header anyone reads, and a layout given
            return _headerless(source, request, None)
        raise _unreadable(source, exc) from None
    keep = False
    try:
        name = container.format.name
        if layout is None and name in RAW_DEMUXERS:
            container.close()
            implied = encoding_of_demuxer(name)
            return _headerless(source, request, implied)
        probed = _pyav_container_probe(source, container, layout)
        if source.kind == "pipe":
            probed.pending, keep = container, True
        return probed if layout is not None else _check_request(probed, request)
    finally:
        if not keep:
            container.close()


def _pyav_container_probe(source: Source, container: Any, layout: RawLayout | None) -> Probe:
    if not container.streams.audio:
        raise UnsupportedAudioError(f"no audio stream in {quoted(source)}")
    stream = container.streams.audio[0]
    if stream.codec_context is None or stream.rate is None or not stream.channels:
        raise UnsupportedAudioError(f"audio stream without rate/channels in {quoted(source)}")
    name = container.format.name
    xing = xing_tag(source) if name == "mp3" else None
    trusted = name in TRUSTED_CONTAINERS or (xing is not None and xing.frames is not None)
    declared = None
    if trusted and stream.duration is not None and stream.time_base is not None:
        declared = round(stream.duration * stream.time_base * stream.rate)
        if name == "ogg" and stream.codec_context.name == "opus":
            declared -= opus_pre_skip(stream)  # the granule counts the encoder's look-ahead
    if source.kind == "pipe":
        declared = None  # a pipe's length is only ever FFmpeg's guess
    info = AudioFileInfo(
        path=source.path,
        format=header_format(
            quoted(source), int(stream.rate), int(stream.channels), pyav_dtype(stream)
        ),
        samples_per_channel=declared,
        container="RAW" if layout is not None else name,
        codec=stream.codec_context.name,
        backend="pyav",
        name=source.name,
    )
    probed = Probe(source, info, declared, raw=layout, xing=xing)
    if name == "ogg":
        probed.cut = ogg_problem(source)
    duration = container.duration  # of the longest stream: the audio, if it is the only one
    if declared is None and trusted and duration and len(container.streams) == 1:
        probed.expected = round(duration * int(stream.rate) / 1_000_000)
        probed.expected_slack = round(0.025 * int(stream.rate))
    return probed


def _unreadable(source: Source, exc: BaseException) -> AudioFileError:
    if source.path is not None and is_mp4(source.path):
        return TruncatedAudioError(
            f"{quoted(source)} is an MP4/m4a file without its index (no moov box): it was "
            "cut or never finished"
        )
    hint = ""
    if source.suffix == "":  # no name to tell: it may be headerless
        hint = "; if it is headerless audio, give sample_rate=, num_channels=, encoding="
    return UnsupportedAudioError(
        f"not an audio file libsndfile or FFmpeg can read: {quoted(source)} "
        f"({ffmpeg_reason(exc)}){hint}"
    )
