"""`WriteTarget`: the output file as libsndfile's (or FFmpeg's) virtual I/O, keeping the
first OS error; `report_failure`: how an encoder raises a write error it finds on close."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import IO, Any

import anyio

from .._core.errors import AudioFileError

__all__ = (
    "WriteTarget",
    "open_target",
    "pipe_wav_header",
    "remove_made",
    "report_failure",
    "seekable",
)


def report_failure(failure: Exception, in_flight: BaseException | None) -> None:
    """Raise ``failure``, unless the run is failing already: then it is noted on that error.

    A pipeline's own error (a failing ``map``, a format change) says more than the write
    error that closing the file on a full disk adds to it; a cancellation does not, so the
    write error replaces it.
    """
    if in_flight is None or isinstance(in_flight, anyio.get_cancelled_exc_class()):
        raise failure
    in_flight.add_note(f"and then {failure}")


class WriteTarget:
    """The output file, written by libsndfile through its virtual I/O; keeps the first OS error.

    libsndfile ignores errors of the writes it makes while closing a file (the last
    Ogg/Vorbis pages, a FLAC or WAV header update), so a disk that fills up just then would
    go unnoticed and leave a broken file behind a successful run. Every write and seek
    goes through here; none raises (an exception cannot cross libsndfile), the error is
    kept for the writer to raise.

    A pipe cannot be written this way (libsndfile would seek back to headers it cannot
    reach): ``seekable`` is false, and libsndfile writes to ``fileno()`` itself, with its
    own handling of pipes.
    """

    __slots__ = ("_file", "_own", "error", "seekable")

    def __init__(self, path: Path | IO[bytes], *, exclusive: bool = False) -> None:
        self._own = isinstance(path, Path)
        self._file: Any
        if isinstance(path, Path):
            # Unbuffered, as libsndfile expects; a temporary file never clobbers another.
            self._file = io.FileIO(path, "x" if exclusive else "w")
        else:  # the caller's file object: written, flushed, never closed here
            self._file = path
            path.flush()  # what Python buffered goes first, if libsndfile writes the fd
        self.seekable = seekable(self._file)
        self.error: OSError | None = None

    def fileno(self) -> int:
        return int(self._file.fileno())

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
            return int(self._file.seek(offset, whence))
        except OSError as exc:
            self._failed(exc)
            return -1

    def tell(self) -> int:
        try:
            return int(self._file.tell())
        except OSError as exc:
            self._failed(exc)
            return -1

    def close(self) -> None:
        try:
            if self._own:
                self._file.close()
            else:
                self._file.flush()
        except OSError as exc:
            self._failed(exc)


_WAV_CODES = {
    "PCM_U8": (1, 8),
    "PCM_16": (1, 16),
    "PCM_24": (1, 24),
    "PCM_32": (1, 32),
    "FLOAT": (3, 32),
    "DOUBLE": (3, 64),
    "ALAW": (6, 8),
    "ULAW": (7, 8),
}
"""WAV's format tag and bits per sample for each libsndfile subtype."""


def pipe_wav_header(sample_rate: int, num_channels: int, subtype: str) -> bytes:
    """A WAV header for a stream of unknown length (a pipe): the RIFF and data sizes are
    0xFFFFFFFF, as ffmpeg writes them, and readers take the data to the stream's end.

    Raises:
        ValueError: A subtype WAV cannot hold as plain samples.
    """
    if subtype not in _WAV_CODES:
        raise ValueError(f"{subtype} cannot be written to a pipe as WAV")
    tag, bits = _WAV_CODES[subtype]
    align = num_channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, num_channels, sample_rate, sample_rate * align, align, bits)
    unknown = 0xFFFFFFFF
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + (fmt + b"data" + struct.pack("<I", unknown))
    )


def seekable(file: Any) -> bool:
    """Whether ``file`` can seek (a regular file, `io.BytesIO`; not a pipe)."""
    try:
        return bool(file.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def open_target(file: Path, write_to: Path | IO[bytes], cannot: str) -> WriteTarget:
    """The file an encoder writes: ``write_to`` (a new file, a temporary one beside
    ``file``, created afresh, never over another, or the caller's file object).

    Raises:
        AudioFileError: It cannot be created; ``cannot`` starts the message, or, when an
            existing ``file`` was to be replaced, the message says it is unchanged.
    """
    beside = isinstance(write_to, Path) and write_to != file
    try:
        return WriteTarget(write_to, exclusive=beside)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if beside and file.exists():
            raise AudioFileError(
                f"cannot replace {str(file)!r} safely: a temporary file cannot be created "
                f"beside it in {str(file.parent)!r} ({reason}); the file is unchanged"
            ) from None
        raise AudioFileError(f"{cannot}: {reason}") from None


def remove_made(write_to: Path | IO[bytes]) -> None:
    """Remove a file an encoder created and could not fill (a regular file only: never a
    device such as /dev/full, never the caller's file object)."""
    if isinstance(write_to, Path) and write_to.is_file():
        write_to.unlink(missing_ok=True)
