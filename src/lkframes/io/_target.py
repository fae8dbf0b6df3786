"""`WriteTarget`: the output file as libsndfile's (or FFmpeg's) virtual I/O, keeping the
first OS error; `report_failure`: how an encoder raises a write error it finds on close."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import anyio

from .._core.errors import AudioFileError

__all__ = ("WriteTarget", "report_failure")


def report_failure(failure: AudioFileError, in_flight: BaseException | None) -> None:
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

    __slots__ = ("_file", "error", "seekable")

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        # Unbuffered, as libsndfile expects; a temporary file never clobbers another.
        self._file = io.FileIO(path, "x" if exclusive else "w")
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
