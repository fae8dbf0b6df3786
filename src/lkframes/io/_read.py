"""`from_file`: stream an audio file block by block in a worker thread."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import AsyncGenerator
from typing import Literal, get_args

import anyio

from .._core.checks import check_choice
from .._core.errors import (
    AudioFileError,
    ParameterError,
    TruncatedAudioError,
    TruncatedAudioWarning,
)
from .._core.format import SUPPORTED_DTYPES, DType
from .._core.frame import AudioFrame
from .._core.resources import held
from .._core.stream import Stream
from ._decoders import Decoder, PyAVDecoder, SoundFileDecoder
from ._info import ffmpeg_reason, file_info, open_soundfile

__all__ = ("OnTruncated", "from_file")

OnTruncated = Literal["raise", "warn"]
"""What `from_file` does with a file that ends early or is corrupt mid-way.

Examples:
    >>> import typing, lkframes as lk
    >>> typing.get_args(lk.OnTruncated)
    ('raise', 'warn')
"""


def from_file(
    path: str | os.PathLike[str],
    *,
    block_ms: float = 500,
    dtype: DType | None = None,
    on_truncated: OnTruncated = "raise",
) -> Stream[AudioFrame]:
    """Stream an audio file block by block; memory stays flat for any length.

    The header is read now (so a missing or unreadable file fails here, and the stream's
    format is known); each iteration opens the file anew and reads in a worker thread.

    Args:
        path: Any file libsndfile reads (WAV 8/16/24/32-bit int and float, FLAC,
            OGG/Vorbis, Opus, MP3, AIFF, ...) or, failing that, FFmpeg (m4a/AAC, webm,
            the first audio track of a video).
        block_ms: Size of the frames emitted; `Stream.chunk` cuts exact frame sizes.
        dtype: Sample type to read as. By default int16 for 8/16-bit integer files and
            float32 for everything else (24/32-bit, float, lossy codecs), so no precision
            is lost.
        on_truncated: For a file that ends early or has corrupt data: ``"raise"`` a
            `TruncatedAudioError` after yielding all decodable audio (default), or
            ``"warn"`` with `TruncatedAudioWarning` and end the stream normally.

    Returns:
        A re-iterable stream with the file's format; ``pts`` from 0.

    Raises:
        AudioFileError: Missing, a directory, or empty.
        UnsupportedAudioError: Not audio, or a codec neither library decodes.
        ParameterError: A bad ``block_ms``, ``dtype`` or ``on_truncated``.
        TruncatedAudioError: (while running) see ``on_truncated``.

    Examples:
        >>> import lkframes as lk, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.flac")
        >>> _ = lk.run_sync(lk.sine(440, 1.0, 44_100).to_file(path))
        >>> frames = lk.run_sync(lk.from_file(path).resample(16_000).chunk(ms=20).collect())
        >>> len(frames), frames[0].samples_per_channel
        (50, 320)
    """
    if isinstance(block_ms, bool) or not isinstance(block_ms, int | float):
        raise ParameterError(f"block_ms must be a number (got {type(block_ms).__name__})")
    if not math.isfinite(block_ms) or block_ms <= 0:
        raise ParameterError(f"block_ms must be positive (got {block_ms})")
    if dtype is not None:
        check_choice(dtype, SUPPORTED_DTYPES, "dtype")
    check_choice(on_truncated, get_args(OnTruncated), "on_truncated")
    info = file_info(path)
    fmt = info.format if dtype is None else info.format.with_(dtype=dtype)
    block = max(1, round(fmt.sample_rate * block_ms / 1000))
    file = info.path

    def open_decoder() -> Decoder:
        # Each iteration opens the file anew: it may have been replaced or removed since
        # the header was read, and frames must never be labelled with a format they lack.
        changed = f"{str(file)!r} changed since it was opened"
        decoder: Decoder
        if info.backend == "soundfile":
            handle = open_soundfile(file)
            if handle is None:
                raise AudioFileError(changed)
            rate, channels = handle.samplerate, handle.channels
            decoder = SoundFileDecoder(handle, fmt.dtype, file)
        else:
            try:
                pyav = PyAVDecoder(file, fmt.dtype)
            except (OSError, IndexError, ValueError) as exc:  # av.FFmpegError is both
                raise AudioFileError(f"{changed} ({ffmpeg_reason(exc)})") from None
            rate, channels, decoder = pyav._rate, pyav._channels, pyav
        if (rate, channels) != (fmt.sample_rate, fmt.num_channels):
            decoder.close()
            raise AudioFileError(
                f"{changed} (expected {fmt.sample_rate} Hz {fmt.num_channels} ch, "
                f"got {rate} Hz {channels} ch)"
            )
        return decoder

    async def run() -> AsyncGenerator[AudioFrame, None]:
        decoder = await anyio.to_thread.run_sync(open_decoder)
        with held("file"):
            try:
                pts = 0
                while True:
                    data = await anyio.to_thread.run_sync(decoder.read, block)
                    if not data.shape[0]:
                        break
                    yield AudioFrame.of(data, fmt, pts)
                    pts += data.shape[0]
                problem = decoder.problem
            finally:
                decoder.close()
        if problem is not None:
            message = f"{str(file)!r} is truncated or corrupt after {pts} samples: {problem}"
            if on_truncated == "raise":
                raise TruncatedAudioError(message)
            warnings.warn(message, TruncatedAudioWarning, stacklevel=2)

    return Stream(run, format=fmt, name=f"from_file({file.name!r})")
