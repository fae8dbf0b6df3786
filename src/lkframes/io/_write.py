"""`to_file`: write a stream's audio incrementally; the file is valid however the run ends."""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np
from numpy.typing import NDArray

from .._core.checks import FormatGuard
from .._core.errors import AudioFileError, FormatError, OutputExistsError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.registry import method_entry
from .._core.resources import held
from .._core.stream import RunSummary, Stream
from ._encodings import rate_problem
from ._replace import Destination
from ._target import WriteTarget, report_failure
from ._write_aac import AAC_CONTAINERS, AAC_SUFFIXES, AacEncoder

if TYPE_CHECKING:
    import soundfile

__all__ = ("container_for", "default_subtype", "to_file")

WRITE_BLOCK_MS = 500
"""Audio gathered before each write from the worker thread."""

_DEFAULT_SUBTYPES = {
    ("WAV", "int16"): "PCM_16",
    ("WAV", "float32"): "FLOAT",
    ("FLAC", "int16"): "PCM_16",
    ("FLAC", "float32"): "PCM_24",
    ("OGG", "int16"): "VORBIS",
    ("OGG", "float32"): "VORBIS",
}


def container_for(path: Path, container: str | None) -> str:
    """The container name for ``path`` (from its extension) or ``container``: libsndfile's,
    or ``M4A``/``MP4`` for AAC (`AacEncoder`).

    Raises:
        ParameterError: The extension names no container libsndfile writes.
    """
    import soundfile

    if container is not None:
        return container.upper()
    suffix = path.suffix.lower().lstrip(".")
    known = {name.lower(): name for name in soundfile.available_formats()}
    if suffix == "opus":
        return "OGG"
    if f".{suffix}" in AAC_SUFFIXES:
        return AAC_SUFFIXES[f".{suffix}"]
    if suffix in known:
        return str(known[suffix])
    raise ParameterError(
        f"cannot tell the file format from the extension {path.suffix!r} (expected one of "
        f".wav, .flac, .ogg, .opus, .mp3, .m4a, ...); pass format="
    )


def _libsndfile_reason(exc: BaseException) -> str:
    """libsndfile's message without python-soundfile's "Error opening <object at 0x..>:"."""
    text = str(exc)
    text = re.sub(r"^Error opening .*?: (Error : )?", "", text)
    return text.strip()


def default_subtype(path: Path, container: str, dtype: str) -> str:
    """The libsndfile subtype `to_file` writes when none is given: PCM_16 for int16 audio,
    FLOAT (WAV) or PCM_24 (FLAC) for float32, VORBIS for .ogg, OPUS for .opus, and the
    container's first subtype otherwise (MPEG layer III for .mp3)."""
    import soundfile

    if path.suffix.lower() == ".opus":
        return "OPUS"
    chosen = _DEFAULT_SUBTYPES.get((container, dtype))
    if chosen is None:
        chosen = soundfile.default_subtype(container) or "PCM_16"
    return chosen


class _Encoder:
    """The open output file: libsndfile writing through a `WriteTarget`, from worker threads.

    A lock makes a close wait for a write still running in a worker thread.
    """

    def __init__(
        self, file: Path, write_to: Path, container: str, subtype: str | None, fmt: AudioFormat
    ) -> None:
        import soundfile

        self.file = file
        self.reported = False  # a write failure has been raised already
        self._lock = threading.Lock()
        chosen = subtype or default_subtype(file, container, fmt.dtype)
        self.kind = f"{container}/{chosen}"
        cannot = f"cannot write {str(file)!r} as {self.kind}"
        try:
            if not soundfile.check_format(container, chosen):
                raise AudioFileError(f"{cannot}: invalid combination of format and subtype")
        except (ValueError, TypeError) as exc:  # an unknown format or subtype name
            raise AudioFileError(f"{cannot}: {exc}") from None
        problem = rate_problem(chosen, fmt.sample_rate)
        if problem is not None:
            raise AudioFileError(
                f"{cannot}: {problem[0]}; resample first, e.g. .resample({problem[1]})"
            )
        replacing = write_to != file
        try:
            self.target = WriteTarget(write_to, exclusive=replacing)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if replacing:
                raise AudioFileError(
                    f"cannot replace {str(file)!r} safely: a temporary file cannot be created "
                    f"beside it in {str(write_to.parent)!r} ({reason}); the file is unchanged"
                ) from None
            raise AudioFileError(f"{cannot}: {reason}") from None
        output: Any = self.target if self.target.seekable else self.target.fileno()
        try:
            self.handle: soundfile.SoundFile = soundfile.SoundFile(
                output,
                "w",
                fmt.sample_rate,
                fmt.num_channels,
                chosen,
                format=container,
                closefd=False,
            )
        except (soundfile.LibsndfileError, OSError, ValueError, TypeError) as exc:
            self.target.close()
            if not replacing and write_to.is_file():
                write_to.unlink(missing_ok=True)  # created just now, and empty: not left behind
            why = str(self.target.error) if self.target.error else _libsndfile_reason(exc)
            raise AudioFileError(f"{cannot}: {why}") from None

    def write(self, data: NDArray[Any]) -> None:
        """Write ``data`` with libsndfile's own ``sf_writef_*`` (in a worker thread).

        python-soundfile's ``write()`` only asserts that every frame was written, and a
        short write through virtual I/O sets no libsndfile error: both are checked here.
        """
        import soundfile

        with self._lock:
            if self.handle.closed:
                raise AudioFileError(f"writing {str(self.file)!r} failed: the file was closed")
            block = np.ascontiguousarray(data)
            ctype = "short" if block.dtype == np.int16 else "float"
            pointer = soundfile._ffi.cast(f"{ctype} *", block.ctypes.data)
            frames = block.shape[0]
            writef = getattr(soundfile._snd, f"sf_writef_{ctype}")
            done = int(writef(self.handle._file, pointer, frames))
            problem: object = self.target.error
            if problem is None and soundfile._snd.sf_error(self.handle._file):
                message = soundfile._snd.sf_strerror(self.handle._file)
                problem = soundfile._ffi.string(message).decode("utf-8", "replace")
            if problem is None and done != frames:
                problem = f"{done} of {frames} frames written"
            if problem is not None:
                self.reported = True
                raise AudioFileError(f"writing {str(self.file)!r} failed: {problem}")

    def close(self) -> None:
        """Finalise the header and close the file; raise (or note) a write error."""
        import soundfile

        with self._lock:
            try:
                self.handle.close()
            except soundfile.LibsndfileError as exc:
                self.target._failed(OSError(str(exc)))
            finally:
                self.target.close()
        if self.target.error is not None and not self.reported:
            failure = AudioFileError(f"writing {str(self.file)!r} failed: {self.target.error}")
            report_failure(failure, sys.exception())


class _Writer:
    """Gathers frames into blocks of `WRITE_BLOCK_MS` and writes them from a worker thread."""

    def __init__(self, destination: Destination, container: str, subtype: str | None) -> None:
        self._destination = destination
        self._container = container
        self._subtype = subtype
        self.encoder: _Encoder | AacEncoder | None = None
        self.written = 0
        self._pending: list[NDArray[Any]] = []
        self._pending_samples = 0
        self._flush_at = 0

    async def open(self, fmt: AudioFormat) -> None:
        """Create the file (shielded: once a frame has arrived, a cancelled run leaves one)."""
        with anyio.CancelScope(shield=True):
            self.encoder = await anyio.to_thread.run_sync(
                AacEncoder if self._container in AAC_CONTAINERS else _Encoder,
                self._destination.final,
                self._destination.write_to,
                self._container,
                self._subtype,
                fmt,
            )
        self._flush_at = max(1, fmt.sample_rate * WRITE_BLOCK_MS // 1000)

    async def add(self, data: NDArray[Any]) -> None:
        """Queue ``data``; write the queue once it holds a block."""
        if data.shape[0]:
            self._pending.append(data)
            self._pending_samples += data.shape[0]
            if self._pending_samples >= self._flush_at:
                await self.flush()

    async def flush(self) -> None:
        """Write everything queued."""
        if not self._pending or self.encoder is None:
            return
        data = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        # Kept until written: a cancellation that lands before the worker thread starts
        # leaves it for the shielded flush in `finish` instead of dropping it.
        self._pending = [data]
        try:
            await anyio.to_thread.run_sync(self.encoder.write, data)
        finally:
            if self.encoder.reported:  # do not retry a failed write on close
                self._pending, self._pending_samples = [], 0
        self._pending, self._pending_samples = [], 0
        self.written += data.shape[0]

    async def finish(self, in_flight: BaseException | None) -> None:
        """Write what is queued and close the file, however the run ended (shielded)."""
        if self.encoder is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                await self.flush()
            except AudioFileError as exc:
                report_failure(exc, in_flight)
            finally:
                self.encoder.close()


def _check_empty(destination: Destination, encoder: _Encoder | AacEncoder) -> None:
    """Refuse an empty file that nothing can read back, and remove it.

    libsndfile writes FLAC, MP3 and Opus headers with the first audio, so a stream without
    a single sample would leave a 0-byte (or unreadable) file behind a successful run.
    """
    import soundfile

    try:
        soundfile.info(str(destination.write_to))
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        if not destination.replacing and destination.write_to.is_file():
            destination.write_to.unlink(missing_ok=True)
        raise AudioFileError(
            f"cannot write {str(destination.final)!r} as {encoder.kind}: the stream has no "
            "samples, and libsndfile writes this format only with audio (WAV and OGG/Vorbis "
            "can be empty)"
        ) from None


def _check_output(file: Path, overwrite: bool) -> None:
    if file.is_dir():
        raise AudioFileError(f"is a directory: {str(file)!r}")
    if file.exists() and not overwrite:
        raise OutputExistsError(f"{str(file)!r} exists; pass overwrite=True to replace it")


@method_entry
async def to_file(
    stream: Stream[AudioFrame],
    path: str | os.PathLike[str],
    *,
    subtype: str | None = None,
    format: str | None = None,
    overwrite: bool = False,
) -> RunSummary:
    """Run ``stream`` and write its audio to ``path`` incrementally.

    Writes in blocks of about 0.5 s from a worker thread. A new file is written in place and
    closed (its header finalised) however the pipeline ends, so a cancelled or failed run
    leaves a valid file holding everything written so far. An existing file (with
    ``overwrite=True``) is replaced atomically: the audio goes to a hidden temporary file
    beside it, renamed over it only when the run succeeds, so a failure, a cancellation, a
    kill or a full disk leaves the original intact, and ``path`` may be the file the
    stream reads (an edit in place).

    ``.m4a`` and ``.mp4`` are AAC (FFmpeg's encoder, through PyAV) at FFmpeg's default
    bit rate, as ``ffmpeg -i x.wav -c:a aac y.m4a`` writes them (about 69 kb/s mono,
    128 kb/s stereo), with exactly the samples written as the file's length (the encoder's
    priming and padding are in its edit list). AAC takes 7350 to 96000 Hz (44100 and
    48000, not 50000: resample first) and 1 to 8 channels (6 to 8 as 5.1, 6.1 and 7.1,
    whose 4th channel is the LFE). Its index is written last, so a killed run leaves no
    readable new MP4 (a failed or cancelled one does), and a pipe cannot take it.

    Args:
        stream: The audio to write.
        path: Output file; the format follows the extension (``.wav``, ``.flac``,
            ``.ogg``, ``.opus``, ``.mp3``, ``.m4a``, ``.mp4``, ...).
        subtype: libsndfile subtype, e.g. ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``.
            By default PCM_16 for int16 streams and FLOAT (WAV) / PCM_24 (FLAC) for
            float32 streams, VORBIS for .ogg and OPUS for .opus; ``"AAC"`` (the only
            one) for .m4a and .mp4.
        format: Container name (``"WAV"``, ``"FLAC"``, ``"M4A"``, ``"MP4"``, ...) when
            the extension does not say.
        overwrite: Replace an existing file (otherwise `OutputExistsError`).

    Returns:
        A `RunSummary` of what was written.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
        AudioFileError: The file cannot be created or written (permissions, disk full),
            its encoder cannot take the stream's rate or channels, or the stream has no
            samples and the format cannot be empty (FLAC, MP3, Opus, AAC).
        ParameterError: The extension names no known format and ``format`` is unset.
        FormatError: The frames' format changes mid-stream.

    Examples:
        >>> import lkframes as lk, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.wav")
        >>> lk.run_sync(lk.to_file(lk.sine(440, 2.0, 48_000).chunk(ms=20), path)).frames
        100
    """
    file = Path(path)
    _check_output(file, overwrite)
    destination = Destination(file, overwrite)
    writer = _Writer(destination, container_for(file, format), subtype)
    guard = FormatGuard("to_file", stream.format)
    count = 0
    done = False
    with held("file"):
        try:
            async with stream.open() as frames:
                async for frame in frames:
                    fmt = guard(frame)
                    if writer.encoder is None:
                        await writer.open(fmt)
                    count += 1
                    await writer.add(frame.data)
            if writer.encoder is None and guard.format is not None:
                await writer.open(guard.format)
            with anyio.CancelScope(shield=True):
                await writer.flush()
            done = True
        finally:
            try:
                await writer.finish(sys.exception())
                if done and writer.encoder is not None and writer.written == 0:
                    await anyio.to_thread.run_sync(_check_empty, destination, writer.encoder)
            except BaseException:
                done = False
                raise
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(
                        destination.commit if done and writer.encoder else destination.discard
                    )
    if guard.format is None:
        raise FormatError(
            "cannot write an empty stream of unknown format",
            "a declared format or at least one frame",
            "no frames",
        )
    return RunSummary(count, writer.written, guard.format)
