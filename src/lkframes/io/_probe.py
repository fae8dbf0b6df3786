"""`probe`: an input's header read, by libsndfile or FFmpeg, with what the readers need: a
length the file really declares, the layout of headerless audio, a cut the header shows,
a pipe's opened container."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .._core.errors import (
    AudioFileError,
    ParameterError,
    TruncatedAudioError,
    UnsupportedAudioError,
)
from .._core.warnings import AssumedFormatWarning
from ._decoders import declared_truncation
from ._info import (
    AudioFileInfo,
    Probe,
    RawRequest,
    ffmpeg_reason,
    header_format,
    is_mp4,
    open_soundfile,
    pyav_dtype,
    quoted,
    soundfile_dtype,
)
from ._lengths import TRUSTED_CONTAINERS, XingTag, mp3_complete, ogg_problem, xing_tag
from ._opus import opus_pre_skip
from ._raw import HEADERLESS_SUFFIXES, RAW_DEMUXERS, RawLayout, encoding_of_demuxer, raw_layout
from ._source import Source

if TYPE_CHECKING:
    import soundfile

__all__ = ("probe",)


_NOTHING_GIVEN = RawRequest()


def probe(source: Source, request: RawRequest = _NOTHING_GIVEN) -> Probe:
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
