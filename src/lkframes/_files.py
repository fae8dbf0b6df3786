"""Audio files: `from_file` streams any file libsndfile or FFmpeg reads; `to_file` writes.

Reading goes block by block in a worker thread (never the whole file in memory, never a
blocking read on the event loop). libsndfile (python-soundfile) reads WAV, FLAC,
OGG/Vorbis, Opus, MP3 and more; PyAV (FFmpeg) is the fallback for what it cannot read
(m4a/AAC, webm, the audio track of a video).
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import warnings
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import anyio
import numpy as np
from numpy.typing import NDArray

from ._errors import FormatError, LkFramesError, ParameterError
from ._format import _MAX_CHANNELS, _MAX_SAMPLE_RATE, SUPPORTED_DTYPES, AudioFormat, DType
from ._frame import AudioFrame
from ._resources import held
from ._stream import RunSummary, Stream, consume

if TYPE_CHECKING:
    import soundfile

__all__ = (
    "AudioFileError",
    "AudioFileInfo",
    "OutputExistsError",
    "TruncatedAudioError",
    "TruncatedAudioWarning",
    "UnsupportedAudioError",
    "file_info",
    "from_file",
    "write_file",
)

OnTruncated = Literal["raise", "warn"]

_WRITE_BLOCK_MS = 500
_INT_SUBTYPES = {"PCM_S8", "PCM_U8", "PCM_16", "ULAW", "ALAW", "GSM610", "IMA_ADPCM", "MS_ADPCM"}


class AudioFileError(LkFramesError, OSError):
    """A file could not be read or written as audio: missing, empty, a directory, not audio.

    Examples:
        >>> import lkframes as lk, os, tempfile
        >>> try:
        ...     lk.file_info(os.path.join(tempfile.mkdtemp(), "missing.wav"))
        ... except lk.AudioFileError as exc:
        ...     print(isinstance(exc, OSError))
        True
    """


class UnsupportedAudioError(AudioFileError):
    """Neither libsndfile nor FFmpeg (PyAV) can decode the file.

    Examples:
        >>> import lkframes as lk, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> with open(path, "w") as file:
        ...     _ = file.write("not audio " * 50)
        >>> try:
        ...     lk.file_info(path)
        ... except lk.UnsupportedAudioError:
        ...     print("not audio")
        not audio
    """


class TruncatedAudioError(AudioFileError):
    """The file ends before its header says it should, or its data is corrupt mid-way.

    Raised after every decodable sample has been yielded (policy ``on_truncated="raise"``).

    Examples:
        >>> import lkframes as lk, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> _ = lk.run_sync(lk.sine(440, 0.5, 16_000).to_file(path))
        >>> with open(path, "r+b") as file:
        ...     _ = file.truncate(4_000)  # cut the data chunk short
        >>> try:
        ...     lk.run_sync(lk.from_file(path).collect())
        ... except lk.TruncatedAudioError:
        ...     print("truncated")
        truncated
    """


class TruncatedAudioWarning(UserWarning):
    """Like `TruncatedAudioError`, as a warning (policy ``on_truncated="warn"``).

    Examples:
        >>> import lkframes as lk, os, tempfile, warnings
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> _ = lk.run_sync(lk.sine(440, 0.5, 16_000).to_file(path))
        >>> with open(path, "r+b") as file:
        ...     _ = file.truncate(4_000)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     frames = lk.run_sync(lk.from_file(path, on_truncated="warn").collect())
        >>> [warning.category.__name__ for warning in caught]
        ['TruncatedAudioWarning']
    """


class OutputExistsError(AudioFileError, FileExistsError):
    """`to_file` would replace an existing file; pass ``overwrite=True`` to allow it.

    Examples:
        >>> import lkframes as lk, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> _ = lk.run_sync(lk.sine(440, 0.1, 16_000).to_file(path))
        >>> try:
        ...     lk.run_sync(lk.sine(440, 0.1, 16_000).to_file(path))
        ... except lk.OutputExistsError as exc:
        ...     print(isinstance(exc, FileExistsError))
        True
    """


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
    frames: int | None
    """Samples per channel, if the container says (None for some streams)."""
    container: str
    """Container name, e.g. ``"WAV"``, ``"FLAC"``, ``"mov,mp4,m4a,3gp,3g2,mj2"``."""
    codec: str
    """Sample encoding, e.g. ``"PCM_16"``, ``"VORBIS"``, ``"aac"``."""
    backend: Literal["soundfile", "pyav"]
    """Which library decodes it."""

    @property
    def duration(self) -> float | None:
        """Seconds, if the number of frames is known."""
        return None if self.frames is None else self.frames / self.format.sample_rate


class _Decoder(Protocol):
    def read(self, samples: int) -> NDArray[Any]: ...
    def close(self) -> None: ...
    @property
    def problem(self) -> str | None: ...


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioFileError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise AudioFileError(f"is a directory, not an audio file: {str(path)!r}")
    if path.stat().st_size == 0:
        raise AudioFileError(f"empty file (0 bytes): {str(path)!r}")


# -- libsndfile ------------------------------------------------------------------------


_DATA_SIZE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def _declared_truncation(info: str) -> str | None:
    """libsndfile clamps a WAV whose data chunk is longer than the file; find that."""
    match = _DATA_SIZE.search(info)
    if match is None:
        return None
    declared, actual = int(match.group(1)), int(match.group(2))
    if declared == 0 or declared >= 0xFFFFFFF0 or actual >= declared:
        return None  # streaming writers leave 0 or 0xFFFFFFFF as a placeholder
    return f"data chunk declares {declared} bytes, file holds {actual}"


class _SoundFileDecoder:
    """Reads with libsndfile's own ``sf_readf_*``, not `soundfile.SoundFile.read`.

    python-soundfile seeks to the new position after every read. For MP3, libsndfile's
    seek (even to where it already is) restarts mpg123 badly, so every block after the
    first decodes as garbage; and when a read hits corrupt data, python-soundfile raises
    and drops the samples that call did decode. Reading directly avoids both.
    """

    def __init__(self, handle: soundfile.SoundFile, dtype: DType) -> None:
        import soundfile

        self._handle = handle
        self._dtype = dtype
        self._ffi = soundfile._ffi
        self._snd = soundfile._snd
        self._ctype = "short" if dtype == "int16" else "float"
        self._readf = getattr(soundfile._snd, f"sf_readf_{self._ctype}")
        self.problem: str | None = _declared_truncation(handle.extra_info)
        self._failed = False
        # A file cut or damaged while it is read ends early without any error from
        # libsndfile; the length its header declared (exact except for MP3, which
        # libsndfile estimates) tells.
        self._declared = _known_frames(handle) if handle.format != "MP3" else None
        self._total = 0
        # read() runs in a worker thread; close() may come from the event loop's thread
        # while a read is still in libsndfile (Ctrl-C, loop shutdown): closing the native
        # handle under it crashed the interpreter. The lock makes close wait for the read.
        self._lock = threading.Lock()
        self._closed = False

    def read(self, samples: int) -> NDArray[Any]:
        with self._lock:
            if self._failed or self._closed:
                return np.empty((0, self._handle.channels), self._dtype)
            out = np.empty((samples, self._handle.channels), self._dtype)
            file = self._handle._file
            pointer = self._ffi.cast(f"{self._ctype} *", out.ctypes.data)
            got = max(int(self._readf(file, pointer, samples)), 0)
            self._total += got
            if self._snd.sf_error(file):  # libsndfile reports corrupt data mid-stream
                self._failed = True
                message = self._ffi.string(self._snd.sf_strerror(file))
                self.problem = f"decoding failed: {message.decode('utf-8', 'replace')}"
            elif got < samples and self._declared is not None and self._total < self._declared:
                self._failed = True
                self.problem = (
                    f"the file ended after {self._total} of the {self._declared} samples "
                    "its header declares"
                )
            return out[:got]

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._handle.close()


_SF_COUNT_MAX = 2**63 - 1
"""What libsndfile reports as the length of a stream whose length it does not know."""


def _known_frames(handle: soundfile.SoundFile) -> int | None:
    frames = int(handle.frames)
    return frames if 0 <= frames < _SF_COUNT_MAX else None


def _open_soundfile(path: Path) -> soundfile.SoundFile | None:
    import soundfile

    try:
        return soundfile.SoundFile(str(path))
    except soundfile.LibsndfileError:
        return None


def _soundfile_dtype(subtype: str) -> DType:
    return "int16" if subtype in _INT_SUBTYPES else "float32"


# -- PyAV (FFmpeg) -----------------------------------------------------------------------


class _PyAVDecoder:
    def __init__(self, path: Path, dtype: DType) -> None:
        import av

        self._container = av.open(str(path))
        self._stream = self._container.streams.audio[0]
        self._rate = self._stream.rate
        self._channels = self._stream.channels
        self._resampler = av.AudioResampler(
            format="s16" if dtype == "int16" else "flt",
            layout=self._stream.layout,
            rate=self._stream.rate,
        )
        self._frames = self._container.decode(self._stream)
        self._pending: list[NDArray[Any]] = []
        self._pending_samples = 0
        self._done = False
        self._dtype = dtype
        self.problem: str | None = None
        self._lock = threading.Lock()  # see _SoundFileDecoder: close waits for a read
        self._closed = False

    def _decode_more(self) -> None:
        try:
            frame = next(self._frames)
        except StopIteration:
            outputs = self._resampler.resample(None)
            self._done = True
        except Exception as exc:  # FFmpeg reports corrupt data mid-stream
            outputs = []
            self._done = True
            self.problem = f"decoding failed: {exc}"
        else:
            try:
                outputs = self._resampler.resample(frame)
            except ValueError:  # PyAV's resampler keeps the first frame's input format
                outputs = []
                self._done = True
                self.problem = (
                    f"the audio format changes mid-stream (from {self._rate} Hz "
                    f"{self._channels} ch to {frame.rate} Hz {frame.layout.nb_channels} ch)"
                )
        for out in outputs:
            data = out.to_ndarray().reshape(-1, self._channels)
            self._pending.append(data)
            self._pending_samples += data.shape[0]

    def read(self, samples: int) -> NDArray[Any]:
        with self._lock:
            if self._closed:
                return np.empty((0, self._channels), self._dtype)
            while self._pending_samples < samples and not self._done:
                self._decode_more()
            if not self._pending:
                return np.empty((0, self._channels), self._dtype)
            data = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            block, rest = data[:samples], data[samples:]
            self._pending = [rest] if rest.shape[0] else []
            self._pending_samples = rest.shape[0]
            return np.ascontiguousarray(block)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._container.close()


def _pyav_info(path: Path) -> AudioFileInfo:
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
            sample_format = stream.format.name if stream.format is not None else ""
            dtype: DType = "int16" if sample_format.startswith(("s16", "u8")) else "float32"
            return AudioFileInfo(
                path=path,
                format=_header_format(path, int(stream.rate), int(stream.channels), dtype),
                frames=frames,
                container=container.format.name,
                codec=stream.codec_context.name,
                backend="pyav",
            )
    except UnsupportedAudioError:
        raise
    except (av.FFmpegError, IndexError, ValueError) as exc:
        raise UnsupportedAudioError(
            f"not an audio file libsndfile or FFmpeg can read: {str(path)!r} ({exc})"
        ) from None


def _header_format(path: Path, sample_rate: int, num_channels: int, dtype: DType) -> AudioFormat:
    """The format a header declares; one lkframes cannot carry makes the file unsupported."""
    try:
        return AudioFormat(sample_rate, num_channels, dtype)
    except ParameterError:
        raise UnsupportedAudioError(
            f"{str(path)!r} declares {sample_rate} Hz with {num_channels} channels (lkframes "
            f"carries 1 to {_MAX_SAMPLE_RATE} Hz and 1 to {_MAX_CHANNELS} channels)"
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
        >>> info.format, info.frames, info.codec
        (AudioFormat(sample_rate=16000, num_channels=1, dtype='int16'), 8000, 'PCM_16')
    """
    file = Path(path)
    _check_path(file)
    handle = _open_soundfile(file)
    if handle is None:
        return _pyav_info(file)
    with handle:
        return AudioFileInfo(
            path=file,
            format=_header_format(
                file, handle.samplerate, handle.channels, _soundfile_dtype(handle.subtype)
            ),
            frames=_known_frames(handle),
            container=handle.format,
            codec=handle.subtype,
            backend="soundfile",
        )


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
    if not math.isfinite(block_ms) or block_ms <= 0:
        raise ParameterError(f"block_ms must be positive (got {block_ms})")
    if dtype is not None and dtype not in SUPPORTED_DTYPES:
        raise ParameterError(f"dtype must be one of {SUPPORTED_DTYPES} (got {dtype!r})")
    if on_truncated not in ("raise", "warn"):
        raise ParameterError(f"on_truncated must be 'raise' or 'warn' (got {on_truncated!r})")
    info = file_info(path)
    fmt = info.format if dtype is None else info.format.with_(dtype=dtype)
    block = max(1, round(fmt.sample_rate * block_ms / 1000))
    file = info.path

    def open_decoder() -> _Decoder:
        # Each iteration opens the file anew: it may have been replaced or removed since
        # the header was read, and frames must never be labelled with a format they lack.
        changed = f"{str(file)!r} changed since it was opened"
        decoder: _Decoder
        if info.backend == "soundfile":
            handle = _open_soundfile(file)
            if handle is None:
                raise AudioFileError(changed)
            rate, channels = handle.samplerate, handle.channels
            decoder = _SoundFileDecoder(handle, fmt.dtype)
        else:
            try:
                pyav = _PyAVDecoder(file, fmt.dtype)
            except (OSError, IndexError, ValueError) as exc:  # av.FFmpegError is both
                raise AudioFileError(f"{changed} ({exc})") from None
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
                    yield AudioFrame._wrap(data, fmt, pts)
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


_DEFAULT_SUBTYPES = {
    ("WAV", "int16"): "PCM_16",
    ("WAV", "float32"): "FLOAT",
    ("FLAC", "int16"): "PCM_16",
    ("FLAC", "float32"): "PCM_24",
    ("OGG", "int16"): "VORBIS",
    ("OGG", "float32"): "VORBIS",
}


def _container_for(path: Path, container: str | None) -> str:
    import soundfile

    if container is not None:
        return container.upper()
    suffix = path.suffix.lower().lstrip(".")
    known = {name.lower(): name for name in soundfile.available_formats()}
    if suffix == "opus":
        return "OGG"
    if suffix in known:
        return str(known[suffix])
    raise ParameterError(
        f"cannot tell the file format from the extension {path.suffix!r} (expected one of "
        f".wav, .flac, .ogg, .opus, .mp3, ...); pass format="
    )


class _WriteTarget:
    """The output file, written by libsndfile through its virtual I/O; keeps the first OS error.

    libsndfile ignores errors of the writes it makes while closing a file (the last
    Ogg/Vorbis pages, a FLAC or WAV header update), so a disk that fills up just then would
    go unnoticed and leave a broken file behind a successful run. Every write and seek
    goes through here; none raises (an exception cannot cross libsndfile), the error is
    kept for `write_file` to raise.

    A pipe cannot be written this way (libsndfile would seek back to headers it cannot
    reach): ``seekable`` is false, and libsndfile writes to ``fileno()`` itself, with its
    own handling of pipes.
    """

    __slots__ = ("_file", "error", "seekable")

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()
        self.seekable = self._file.seekable()
        self.error: OSError | None = None

    def fileno(self) -> int:
        return self._file.fileno()

    def _failed(self, exc: OSError) -> None:
        if self.error is None:
            self.error = exc

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        done = 0
        while done < len(view):
            try:
                count = self._file.write(view[done:])
            except OSError as exc:
                self._failed(exc)
                break
            if not count:
                break
            done += count
        return done

    def readinto(self, buffer: Any) -> int:
        try:
            return self._file.readinto(buffer) or 0
        except OSError as exc:
            self._failed(exc)
            return 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        try:
            return self._file.seek(offset, whence)
        except OSError as exc:
            self._failed(exc)
            return -1

    def tell(self) -> int:
        try:
            return self._file.tell()
        except OSError as exc:
            self._failed(exc)
            return -1

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            self._failed(exc)


def _report(failure: AudioFileError, in_flight: BaseException | None) -> None:
    """Raise ``failure``, unless the run is failing already: then it is noted on that error.

    A pipeline's own error (a failing ``map``, a format change) says more than the write
    error that closing the file on a full disk adds to it; a cancellation does not, so the
    write error replaces it.
    """
    if in_flight is None or isinstance(in_flight, anyio.get_cancelled_exc_class()):
        raise failure
    in_flight.add_note(f"and then {failure}")


def _check_output(file: Path, overwrite: bool) -> None:
    if file.is_dir():
        raise AudioFileError(f"is a directory: {str(file)!r}")
    if file.exists() and not overwrite:
        raise OutputExistsError(f"{str(file)!r} exists; pass overwrite=True to replace it")


async def write_file(
    stream: Stream[AudioFrame],
    path: str | os.PathLike[str],
    *,
    subtype: str | None = None,
    format: str | None = None,
    overwrite: bool = False,
) -> RunSummary:
    """Run ``stream`` and write it to ``path`` incrementally. See `Stream.to_file`."""
    import soundfile

    file = Path(path)
    _check_output(file, overwrite)
    container = _container_for(file, format)
    handle: soundfile.SoundFile | None = None
    expected = stream.format
    count = 0
    written = 0
    pending: list[NDArray[Any]] = []
    pending_samples = 0
    flush_at = 0

    target: _WriteTarget | None = None
    reported = False  # a write failure has been raised already

    def open_handle(fmt: AudioFormat) -> soundfile.SoundFile:
        nonlocal target
        chosen = subtype or _DEFAULT_SUBTYPES.get((container, fmt.dtype))
        if file.suffix.lower() == ".opus" and subtype is None:
            chosen = "OPUS"
        cannot = f"cannot write {str(file)!r} as {container}/{chosen}"
        try:
            if not soundfile.check_format(container, chosen):
                raise AudioFileError(f"{cannot}: invalid combination of format and subtype")
        except (ValueError, TypeError) as exc:  # an unknown format or subtype name
            raise AudioFileError(f"{cannot}: {exc}") from None
        try:
            target = _WriteTarget(file)
        except OSError as exc:
            raise AudioFileError(f"{cannot}: {exc}") from None
        output = target if target.seekable else target.fileno()
        try:
            return soundfile.SoundFile(
                output,
                "w",
                fmt.sample_rate,
                fmt.num_channels,
                chosen,
                format=container,
                closefd=False,
            )
        except (soundfile.LibsndfileError, OSError, ValueError, TypeError) as exc:
            target.close()
            raise AudioFileError(f"{cannot}: {target.error or exc}") from None

    lock = threading.Lock()  # a write in a worker thread must finish before the close

    def write(data: NDArray[Any]) -> None:
        # libsndfile's own sf_writef_*: python-soundfile's write() only asserts that every
        # frame was written, and a short write through virtual I/O sets no libsndfile error.
        nonlocal reported
        assert handle is not None
        assert target is not None
        with lock:
            if handle.closed:
                raise AudioFileError(f"writing {str(file)!r} failed: the file was closed")
            block = np.ascontiguousarray(data)
            ctype = "short" if block.dtype == np.int16 else "float"
            pointer = soundfile._ffi.cast(f"{ctype} *", block.ctypes.data)
            frames = block.shape[0]
            done = int(getattr(soundfile._snd, f"sf_writef_{ctype}")(handle._file, pointer, frames))
            problem: object = target.error
            if problem is None and soundfile._snd.sf_error(handle._file):
                problem = soundfile._ffi.string(soundfile._snd.sf_strerror(handle._file)).decode(
                    "utf-8", "replace"
                )
            if problem is None and done != frames:
                problem = f"{done} of {frames} frames written"
            if problem is not None:
                reported = True
                raise AudioFileError(f"writing {str(file)!r} failed: {problem}")

    def close() -> None:
        assert handle is not None
        assert target is not None
        with lock:
            try:
                handle.close()
            except soundfile.LibsndfileError as exc:
                target._failed(OSError(str(exc)))
            finally:
                target.close()
        if target.error is not None and not reported:
            failure = AudioFileError(f"writing {str(file)!r} failed: {target.error}")
            _report(failure, sys.exception())

    async def flush() -> None:
        nonlocal pending, pending_samples, written
        if pending:
            data = pending[0] if len(pending) == 1 else np.concatenate(pending)
            # Kept until written: a cancellation that lands before the worker thread starts
            # leaves it for the shielded flush in ``finally`` instead of dropping it.
            pending = [data]
            try:
                await anyio.to_thread.run_sync(write, data)
            except AudioFileError:
                pending, pending_samples = [], 0  # do not retry a failed write on close
                raise
            pending, pending_samples = [], 0
            written += data.shape[0]

    with held("file"):
        try:
            async with consume(stream) as frames:
                async for frame in frames:
                    if expected is None:
                        expected = frame.format
                    elif frame.format is not expected and frame.format != expected:
                        raise FormatError(
                            "to_file: frame format changed mid-stream", expected, frame.format
                        )
                    if handle is None:
                        # Shielded: once a frame has arrived, a cancelled run still leaves a file.
                        with anyio.CancelScope(shield=True):
                            handle = await anyio.to_thread.run_sync(open_handle, expected)
                        flush_at = max(1, expected.sample_rate * _WRITE_BLOCK_MS // 1000)
                    count += 1
                    if frame.samples_per_channel:
                        pending.append(frame.data)
                        pending_samples += frame.samples_per_channel
                        if pending_samples >= flush_at:
                            await flush()
            with anyio.CancelScope(shield=True):
                if handle is None and expected is not None:
                    handle = await anyio.to_thread.run_sync(open_handle, expected)
                await flush()
        finally:
            if handle is not None:
                in_flight = sys.exception()
                with anyio.CancelScope(shield=True):
                    try:
                        await flush()
                    except AudioFileError as exc:
                        _report(exc, in_flight)
                    finally:
                        close()
    if expected is None:
        raise FormatError(
            "cannot write an empty stream of unknown format",
            "a declared format or at least one frame",
            "no frames",
        )
    return RunSummary(count, written, expected)
