"""`to_file`: write a stream's audio incrementally; the file is valid however the run ends."""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import numpy as np
from numpy.typing import NDArray

from .._core.ahead import Ahead
from .._core.checks import FormatGuard, PtsGuard, all_finite, check_finite
from .._core.errors import AudioFileError, FormatError, InvalidAudioError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.params import Partial
from .._core.registry import method_entry
from .._core.resources import held
from .._core.stream import RunSummary, Stream
from ._encodings import (
    AAC_CONTAINERS,
    channel_problem,
    container_for,
    default_subtype,
    rate_problem,
)
from ._libsndfile import write_from
from ._replace import Destination, ObjectDestination, destination_of
from ._target import open_target, pipe_wav_header, remove_made, report_failure
from ._write_aac import AacEncoder

if TYPE_CHECKING:
    import soundfile

__all__ = ("to_file",)

WRITE_BLOCK_MS = 500
"""Audio gathered before each write from the worker thread."""
NOT_FINITE = "a file cannot hold them (frames made with AudioFrame.of are not scanned)"


def _libsndfile_reason(exc: BaseException) -> str:
    """libsndfile's message without python-soundfile's "Error opening <object at 0x..>:"."""
    text = str(exc)
    text = re.sub(r"^Error opening .*?: (Error : )?", "", text)
    return text.strip()


class _Encoder:
    """The open output file: libsndfile writing through a `WriteTarget`, from worker threads.

    A lock makes a close wait for a write still running in a worker thread.
    """

    def __init__(
        self,
        file: Path,
        write_to: Path | IO[bytes],
        container: str,
        subtype: str | None,
        fmt: AudioFormat,
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
        too_many = channel_problem(chosen, fmt.num_channels)
        if too_many is not None:
            raise AudioFileError(f"{cannot}: {too_many[0]}; remix first, e.g. .remix(2)")
        self.target = open_target(file, write_to, cannot)
        output: Any = self.target if self.target.seekable else self.target.fileno()
        if not self.target.seekable and container == "WAV":
            # libsndfile writes no WAV to a pipe (it would seek back to its header): the
            # header goes first, saying "length unknown" as ffmpeg's does, then raw samples.
            self.target.write(pipe_wav_header(fmt.sample_rate, fmt.num_channels, chosen))
            container = "RAW"
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
            remove_made(write_to)  # created just now, and empty: not left behind
            why = str(self.target.error) if self.target.error else _libsndfile_reason(exc)
            raise AudioFileError(f"{cannot}: {why}") from None

    def write(self, data: NDArray[Any]) -> None:
        """Write ``data`` with libsndfile's own ``sf_writef_*`` (in a worker thread).

        python-soundfile's ``write()`` only asserts that every frame was written, and a
        short write through virtual I/O sets no libsndfile error: both are checked here.
        """
        with self._lock:
            if self.handle.closed:
                raise AudioFileError(f"writing {str(self.file)!r} failed: the file was closed")
            block = np.ascontiguousarray(data)
            frames = block.shape[0]
            done, error = write_from(self.handle, block)
            problem: object = self.target.error
            if problem is None:
                problem = error
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
    """Gathers frames into blocks of `WRITE_BLOCK_MS` and writes each from a worker thread
    while the next block gathers (one block in flight)."""

    def __init__(
        self, destination: Destination | ObjectDestination, container: str, subtype: str | None
    ) -> None:
        self._destination = destination
        self._container = container
        self._subtype = subtype
        self.encoder: _Encoder | AacEncoder | None = None
        self.written = 0
        self._pending: list[NDArray[Any]] = []
        self._pending_samples = 0
        self._flush_at = 0
        self._behind: Ahead[None] = Ahead()  # the block being written while frames come
        self._behind_samples = 0

    async def open(self, fmt: AudioFormat, start: int = 0) -> None:
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
        self.start = start  # the pts of the file's first sample

    async def add(self, data: NDArray[Any], gap: int = 0) -> None:
        """Queue ``gap`` samples of silence (a gap in pts), then ``data``; write the queue
        once it holds a block. Silence goes a block at a time, however long the gap."""
        if gap:
            zeros = np.zeros((min(gap, self._flush_at), data.shape[1]), data.dtype)
            for at in range(0, gap, zeros.shape[0]):
                await self.add(zeros[: gap - at])
        if data.shape[0]:
            self._pending.append(data)
            self._pending_samples += data.shape[0]
            if self._pending_samples >= self._flush_at:
                await self.flush()

    async def flush(self) -> None:
        """Hand everything queued to the writing thread, once the write before it is done
        (write-behind: one block in flight; its error is raised by the next flush)."""
        if not self._pending or self.encoder is None:
            return
        data = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        if not all_finite(data):  # 0.5 s at a time: about 0.1 µs per 20 ms frame
            self._pending, self._pending_samples = [], 0  # not written, not retried on close
            at = self.start + self.written + (self._behind_samples if self._behind.busy else 0)
            check_finite(data, "to_file: the audio", at, hint=NOT_FINITE)
        # Kept until handed over: a cancellation while the write before it finishes leaves
        # it for the shielded flush in `finish` instead of dropping it.
        self._pending = [data]
        try:
            await self.drain()
        finally:
            if self.encoder.reported:  # do not retry a failed write on close
                self._pending, self._pending_samples = [], 0
        self._behind.start(self.encoder.write, data)
        self._behind_samples = data.shape[0]
        self._pending, self._pending_samples = [], 0

    async def drain(self) -> None:
        """Wait for the write in flight, if any; its error is raised here. A checkpoint
        either way, as each write was when it was awaited."""
        if not self._behind.busy:
            await anyio.lowlevel.checkpoint()
            return
        await self._behind.result()
        self.written += self._behind_samples

    async def finish(self, in_flight: BaseException | None) -> None:
        """Write what is queued and close the file, however the run ended (shielded)."""
        if self.encoder is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                await self.flush()
                await self.drain()
            except (AudioFileError, InvalidAudioError) as exc:
                report_failure(exc, in_flight)
            finally:
                await self._behind.asettle()  # no write left running on a closed file
                self.encoder.close()


def _check_empty(
    destination: Destination | ObjectDestination, encoder: _Encoder | AacEncoder
) -> None:
    """Refuse an empty file that nothing can read back, and remove it.

    libsndfile writes FLAC, MP3 and Opus headers with the first audio, so a stream without
    a single sample would leave a 0-byte (or unreadable) file behind a successful run.
    """
    import soundfile

    if isinstance(destination, ObjectDestination):
        if not encoder.kind.startswith(("WAV/", "OGG/VORBIS")):
            raise _empty_error(destination.final, encoder)
        return
    try:
        soundfile.info(str(destination.write_to))
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        if not destination.replacing and destination.write_to.is_file():
            destination.write_to.unlink(missing_ok=True)
        raise _empty_error(destination.final, encoder) from None


def _empty_error(name: Path, encoder: _Encoder | AacEncoder) -> AudioFileError:
    return AudioFileError(
        f"cannot write {str(name)!r} as {encoder.kind}: the stream has no samples, and "
        "libsndfile writes this format only with audio (WAV and OGG/Vorbis can be empty)"
    )


@method_entry
async def to_file(
    stream: Stream[AudioFrame],
    path: str | os.PathLike[str] | IO[bytes],
    *,
    subtype: str | None = None,
    format: str | None = None,
    overwrite: bool = False,
    partial: Partial | None = None,
) -> RunSummary:
    """Run ``stream`` and write its audio to ``path`` incrementally.

    Writes in blocks of about 0.5 s from a worker thread (each block is written while the
    next one gathers; a write error is raised at the next block), to a hidden temporary
    file beside ``path`` that is renamed into place only when the run succeeds: a failure,
    a cancellation or a kill leaves no file that looks complete, and an existing file (with
    ``overwrite=True``) is left intact, so ``path`` may be the file the stream reads (an
    edit in place). A live stream (a track, a room, a microphone) is recorded in place
    instead, its header finalised however the run ends, so a recording that is stopped
    keeps everything it received (``partial="keep"``; a kill loses the last half second).

    The file holds what the pts say, from the first frame's pts (no silence before it). A
    gap after a frame's end (as `filter` leaves) is written as silence of exactly its
    length, a block at a time however long. A frame that starts before the previous one
    ends raises `TimestampError`: `merge`'s frames overlap in time (`mix` them, or `chunk`
    them to write one after the other); ``map(ordered=False)`` yields out of order.

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
            ``.ogg``, ``.opus``, ``.mp3``, ``.m4a``, ``.mp4``, ...). Or a writable binary
            file object (`io.BytesIO`, ``sys.stdout.buffer``) with ``format=``, written as
            the frames come (a pipe, too: libsndfile writes WAV and FLAC headers that say
            "length unknown" there; an MP4 needs a file that can seek).
        subtype: libsndfile subtype, e.g. ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``.
            By default PCM_16 for int16 streams and FLOAT (WAV) / PCM_24 (FLAC) for
            float32 streams, VORBIS for .ogg and OPUS for .opus; ``"AAC"`` (the only
            one) for .m4a and .mp4.
        format: Container name (``"WAV"``, ``"FLAC"``, ``"M4A"``, ``"MP4"``, ...) when
            the extension does not say.
        overwrite: Replace an existing file (otherwise `OutputExistsError`).
        partial: What a run that does not finish leaves at ``path``: ``"discard"``
            (nothing; the default for files and arrays) or ``"keep"`` (a valid file with
            what was written; the default for live streams). An existing file is never
            half-replaced either way.

    Returns:
        A `RunSummary` of what was written.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
        AudioFileError: The file cannot be created or written (permissions, disk full),
            its encoder cannot take the stream's rate or channels, or the stream has no
            samples and the format cannot be empty (FLAC, MP3, Opus, AAC).
        ParameterError: The extension names no known format and ``format`` is unset.
        FormatError: The frames' format changes mid-stream.
        TimestampError: A frame starts before the previous frame ends.
        InvalidAudioError: NaN or infinity in float samples.

    Examples:
        >>> import lkframes as lk, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "out.wav")
        >>> lk.run_sync(lk.to_file(lk.sine(440, 2.0, 48_000).chunk(ms=20), path)).frames
        100
    """
    destination, name = destination_of(path, overwrite, partial, stream.live)
    writer = _Writer(destination, container_for(name, format), subtype)
    guard = FormatGuard("to_file", stream.format)
    timeline = PtsGuard("to_file")
    count = 0
    done = False
    with held("file"):
        try:
            async with stream.open() as frames:
                async for frame in frames:
                    fmt = guard(frame)
                    gap = timeline(frame)
                    if writer.encoder is None:
                        await writer.open(fmt, frame.pts)
                    count += 1
                    await writer.add(frame.data, gap)
            if writer.encoder is None and guard.format is not None:
                await writer.open(guard.format)
            with anyio.CancelScope(shield=True):
                await writer.flush()
                await writer.drain()
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
