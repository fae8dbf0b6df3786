"""`from_file`: stream an audio input block by block, decoded in a worker thread ahead of the
pipeline, to its real end."""

from __future__ import annotations

import math
import warnings
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from typing import Any, Literal, get_args

import anyio
from numpy.typing import NDArray

from .._core.ahead import Prefetch
from .._core.checks import check_choice
from .._core.errors import ParameterError, TruncatedAudioError
from .._core.format import SUPPORTED_DTYPES, AudioFormat, DType
from .._core.frame import AudioFrame
from .._core.resources import held
from .._core.stream import Stream
from .._core.sync import run_sync
from .._core.warnings import DamagedAudioWarning, TruncatedAudioWarning
from ._damage import OnDamaged
from ._info import AudioFileInfo, Probe, RawRequest, quoted
from ._probe import probe
from ._raw import RawEncoding
from ._reader import FileReader
from ._source import AudioInput, Source

__all__ = ("OnTruncated", "file_info", "from_file", "read_with_info", "sample_range")

READ_AHEAD_BLOCKS = 2
"""Blocks decoded ahead of the pipeline at most (memory: that many blocks)."""
READ_AHEAD = "decoded in a worker thread, up to 2 blocks ahead"
"""How `Stream.explain` shows a file source's thread boundary."""

OnTruncated = Literal["raise", "warn"]
"""What `from_file` does with a file that ends before the length it declares (cut).

Examples:
    >>> import typing, lkframes as lk
    >>> typing.get_args(lk.OnTruncated)
    ('raise', 'warn')
"""


def from_file(
    path: AudioInput,
    *,
    block_ms: float = 500,
    dtype: DType | None = None,
    on_truncated: OnTruncated = "raise",
    on_damaged: OnDamaged = "skip",
    start: float | None = None,
    end: float | None = None,
    sample_rate: int | None = None,
    num_channels: int | None = None,
    encoding: RawEncoding | None = None,
) -> Stream[AudioFrame]:
    """Stream an audio file block by block; memory stays flat for any length.

    The header is read now (so a missing or unreadable file fails here, and the stream's
    format is known); each iteration opens the file anew and reads in a worker thread,
    to the file's real end: a length is never taken from an estimate. The next block is
    decoded while the pipeline works on the current one (up to two blocks ahead: memory
    stays flat); a decoding error is raised after every block before it has been yielded.

    Args:
        path: A path, the file's bytes, or a readable binary file object (an open file,
            `io.BytesIO`, ``sys.stdin.buffer``: a pipe is read once, through FFmpeg). Any
            file libsndfile reads (WAV, FLAC, OGG/Vorbis, MP3, AIFF, ...) or,
            failing that, FFmpeg (Opus, m4a/AAC, ADTS, webm, a video's first audio track).
        block_ms: Size of the frames emitted; `Stream.chunk` cuts exact frame sizes.
        dtype: Sample type to read as. By default int16 for 8/16-bit integer files and
            float32 for everything else (24/32-bit, float, lossy codecs), so no precision
            is lost. For a headerless file without ``encoding``, also its sample type.
        on_truncated: For a file that ends before the length it declares (cut):
            ``"raise"`` a `TruncatedAudioError` after yielding all it holds (default),
            or ``"warn"`` with `TruncatedAudioWarning` and end normally.
        on_damaged: For undecodable data mid-file: ``"skip"`` it and decode on, as
            ffmpeg does, then warn once with `DamagedAudioWarning` (where, how much lost;
            a lost stretch the file's timestamps place becomes silence of its length), or
            ``"error"``: raise `DamagedAudioError` after yielding everything before it.
        start: Seconds into the file to start at: sought, sample-exact (compressed
            formats are decoded from a little before it). The first frame's ``pts`` is
            the sample it starts at.
        end: Seconds into the file to stop at (exclusive).
        sample_rate: For headerless files (raw PCM; μ-law and A-law default to their
            standard, 8000 Hz mono, with an `AssumedFormatWarning`): the rate.
        num_channels: For headerless files: the channel count.
        encoding: For headerless files: the sample encoding (`RawEncoding`), e.g.
            ``"s16le"``, ``"mulaw"``; implied by ``.ul``/``.al`` and the like.

    Returns:
        A stream with the file's format; re-iterable, except over a pipe.

    Raises:
        AudioFileError: Missing, a directory, or empty.
        UnsupportedAudioError: Not audio, or a codec neither library decodes.
        ParameterError: A bad parameter; headerless input without its layout.
        TruncatedAudioError: (while running) see ``on_truncated``.
        DamagedAudioError: (while running) see ``on_damaged``.

    Examples:
        >>> import lkframes as lk, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.flac")
        >>> _ = lk.run_sync(lk.sine(440, 1.0, 44_100).to_file(path))
        >>> frames = lk.run_sync(lk.from_file(path).resample(16_000).chunk(ms=20).collect())
        >>> len(frames), frames[0].samples_per_channel
        (50, 320)
        >>> last = lk.run_sync(lk.from_file(path, start=0.75).collect())
        >>> last[0].pts, sum(f.samples_per_channel for f in last)
        (33075, 11025)
    """
    return read_with_info(
        path,
        block_ms=block_ms,
        dtype=dtype,
        on_truncated=on_truncated,
        on_damaged=on_damaged,
        start=start,
        end=end,
        sample_rate=sample_rate,
        num_channels=num_channels,
        encoding=encoding,
    )[1]


def read_with_info(
    path: AudioInput,
    *,
    block_ms: float = 500,
    dtype: DType | None = None,
    on_truncated: OnTruncated = "raise",
    on_damaged: OnDamaged = "skip",
    start: float | None = None,
    end: float | None = None,
    sample_rate: int | None = None,
    num_channels: int | None = None,
    encoding: RawEncoding | None = None,
) -> tuple[AudioFileInfo, Stream[AudioFrame]]:
    """`from_file`'s stream and the header it read (one look at a pipe, which allows one).

    Raises:
        Those of `from_file`.
    """
    if isinstance(block_ms, bool) or not isinstance(block_ms, int | float):
        raise ParameterError(f"block_ms must be a number (got {type(block_ms).__name__})")
    if not math.isfinite(block_ms) or block_ms <= 0:
        raise ParameterError(f"block_ms must be positive (got {block_ms})")
    if dtype is not None:
        check_choice(dtype, SUPPORTED_DTYPES, "dtype")
    check_choice(on_truncated, get_args(OnTruncated), "on_truncated")
    check_choice(on_damaged, get_args(OnDamaged), "on_damaged")
    source = Source(path)
    probed = probe(source, RawRequest(sample_rate, num_channels, encoding, dtype))
    info = probed.info
    fmt = info.format if dtype is None else info.format.with_(dtype=dtype)
    first, last = sample_range(
        start, end, fmt.sample_rate, info.samples_per_channel, quoted(source)
    )
    block = max(1, round(fmt.sample_rate * block_ms / 1000))
    label = source.name if source.path is None else source.path.name
    stream = Stream(
        _reading(probed, fmt, block, on_truncated, on_damaged, first, last),
        format=fmt,
        name=f"from_file({label!r})",
    )
    stream._threaded = READ_AHEAD
    return info, stream


def sample_range(
    start: float | None, end: float | None, rate: int, length: int | None, name: str
) -> tuple[int, int | None]:
    """``start`` and ``end`` (seconds) as samples at ``rate``, checked against each
    other and the input's ``length`` (if known).

    Raises:
        ParameterError: Not a number, negative, ``end`` not after ``start``, or a
            ``start`` at or after the input's end.

    Examples:
        >>> sample_range(0.5, 1.0, 16_000, None, "x.wav")
        (8000, 16000)
    """
    first = 0 if start is None else round(_seconds(start, "start") * rate)
    last = None if end is None else round(_seconds(end, "end") * rate)
    if last is not None and last <= first:
        raise ParameterError(f"end must be after start (got start={start}, end={end})")
    if length is not None and first and first >= length:
        raise ParameterError(
            f"start={start} is at or after the end of {name} ({length / rate:.3f} s)"
        )
    return first, last


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{what} must be a number of seconds (got {type(value).__name__})")
    if not math.isfinite(value) or value < 0:
        raise ParameterError(f"{what} must be 0 or more seconds (got {value})")
    return float(value)


def _reading(
    probed: Probe,
    fmt: AudioFormat,
    block: int,
    on_truncated: OnTruncated,
    on_damaged: OnDamaged,
    start: int,
    end: int | None,
) -> Callable[[], AsyncGenerator[AudioFrame, None]]:
    """The stream's opener: each call reads the input anew (a pipe: once)."""
    opened = [0]

    async def run() -> AsyncGenerator[AudioFrame, None]:
        if probed.source.kind == "pipe" and opened[0]:
            raise anyio.ClosedResourceError(f"{probed.source.name} is a pipe: it can be read once")
        opened[0] += 1
        reader = await anyio.to_thread.run_sync(FileReader, probed, fmt, on_damaged, start, end)

        def read() -> tuple[NDArray[Any], int]:
            data = reader.read(block)
            return data, reader.position - data.shape[0]

        # Decoded in a worker thread, up to READ_AHEAD_BLOCKS ahead of the pipeline.
        blocks = Prefetch(read, lambda item: not item[0].shape[0], READ_AHEAD_BLOCKS)
        with held("file"):
            try:
                blocks.start()
                while True:
                    data, pts = await blocks.next()
                    if not data.shape[0]:
                        break
                    yield AudioFrame.of(data, fmt, pts)
            finally:
                with anyio.CancelScope(shield=True):  # no read left running on a closed file
                    await anyio.to_thread.run_sync(_close, blocks, reader)
        _verdict(reader, on_truncated)

    return run


def _close(blocks: Prefetch[Any], reader: FileReader) -> None:
    """Wait for a read in flight, then close the input (in a worker thread)."""
    blocks.stop()
    reader.close()


def _verdict(reader: FileReader, on_truncated: OnTruncated) -> None:
    """Say what the input lacked, once every sample it holds has been yielded."""
    if reader.error is not None:
        raise reader.error
    if reader.damage:
        warnings.warn(reader.damage.warning(reader.name), stacklevel=3)
    if reader.problem is not None:
        message = f"{reader.name} is truncated after {reader.position} samples: {reader.problem}"
        if on_truncated == "raise":
            raise TruncatedAudioError(message)
        warnings.warn(TruncatedAudioWarning(message), stacklevel=3)


def file_info(
    path: AudioInput,
    *,
    exact: bool = False,
    sample_rate: int | None = None,
    num_channels: int | None = None,
    encoding: RawEncoding | None = None,
) -> AudioFileInfo:
    """Read a file's header: rate, channels, length, container and codec.

    Only the header is read, so this is instant for any length. The length is given only
    where the file really declares it (None for an ADTS AAC stream or an MP3 without a
    frame count, whose headers only allow an estimate); ``exact=True`` decodes the whole
    file and counts, as `from_file` reads it (damage skipped, a cut file counted to its
    cut). A file whose header and size alone show it was cut (a WAV's data chunk, an Ogg
    stream's last page, the bytes an MP3's Xing tag counts) raises `TruncatedAudioError`
    unless ``exact``; a cut FLAC or AAC file shows only when decoded.

    Args:
        path: A path, the file's bytes, or a seekable binary file object (rewound after).
        exact: Count the samples by decoding instead of trusting the header.
        sample_rate: For headerless files (raw PCM, μ-law, A-law): the rate.
        num_channels: For headerless files: the channel count.
        encoding: For headerless files: the sample encoding (`RawEncoding`).

    Raises:
        AudioFileError: Missing, a directory, or empty.
        UnsupportedAudioError: Neither libsndfile nor FFmpeg can read it.
        TruncatedAudioError: The header shows the file was cut (not with ``exact``).
        ParameterError: A pipe (it cannot be read twice), headerless input without its
            layout, or a layout given for a file whose header says another.

    Examples:
        >>> import lkframes as lk, numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> _ = lk.run_sync(lk.sine(440, 0.5, 16_000).to_file(path))
        >>> info = lk.file_info(path)
        >>> info.format, info.samples_per_channel, info.codec
        (AudioFormat(sample_rate=16000, num_channels=1, dtype='int16'), 8000, 'PCM_16')
    """
    source = Source(path)
    if source.kind == "pipe":
        raise ParameterError(
            f"file_info cannot read {source.name}: it is a pipe, which can be read only "
            "once; read it with from_file"
        )
    probed = probe(source, RawRequest(sample_rate, num_channels, encoding))
    if not exact:
        if probed.cut is not None:
            raise TruncatedAudioError(f"{quoted(source)} is truncated: {probed.cut}")
        return probed.info
    stream = Stream(
        _reading(probed, probed.info.format, 1 << 16, "warn", "skip", 0, None),
        format=probed.info.format,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedAudioWarning)
        warnings.simplefilter("ignore", DamagedAudioWarning)
        counted = run_sync(stream.run()).samples_per_channel
    return replace(probed.info, samples_per_channel=counted, counted=True)
