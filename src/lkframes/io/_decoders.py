"""libsndfile's block decoder for `from_file` (FFmpeg's is `PyAVDecoder`)."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .._core.format import DType
from ._libsndfile import read_into

if TYPE_CHECKING:
    import soundfile

__all__ = ("Decoder", "SoundFileDecoder", "declared_truncation")


class Decoder(Protocol):
    """Blocks of an input's samples, read in a worker thread; empty at the end."""

    def read(self, samples: int) -> NDArray[Any]: ...
    def close(self) -> None: ...


_DATA_SIZE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def declared_truncation(info: str) -> str | None:
    """libsndfile clamps a WAV whose data chunk is longer than the file; find that."""
    match = _DATA_SIZE.search(info)
    if match is None:
        return None
    declared, actual = int(match.group(1)), int(match.group(2))
    if declared == 0 or declared >= 0xFFFFFFF0 or actual >= declared:
        return None  # streaming writers leave 0 or 0xFFFFFFFF as a placeholder
    return f"data chunk declares {declared} bytes, file holds {actual}"


READ_BLOCKS = 2
"""`SoundFileDecoder` asks libsndfile for this many of the blocks it is asked for at once."""


class SoundFileDecoder:
    """Reads with libsndfile's own ``sf_readf_*``, not `soundfile.SoundFile.read`.

    python-soundfile seeks to the new position after every read. For MP3, libsndfile's
    seek (even to where it already is) restarts mpg123 badly, so every block after the
    first decodes as garbage; and when a read hits corrupt data, python-soundfile raises
    and drops the samples that call did decode. Reading directly avoids both.

    libsndfile stops at damaged data (FLAC's lost sync, MP3's failed resync) with an error
    it keeps: ``failed`` says why, and the reader goes on with FFmpeg from there.
    """

    def __init__(self, handle: soundfile.SoundFile, dtype: DType, start: int = 0) -> None:
        self._handle = handle
        self._dtype = dtype
        self.failed: str | None = None
        """Why libsndfile stopped early: its error on damaged data."""
        if start:
            handle.seek(start)
        # read() runs in a worker thread; close() may come from the event loop's thread
        # while a read is still in libsndfile (Ctrl-C, loop shutdown): closing the native
        # handle under it crashed the interpreter. The lock makes close wait for the read.
        self._lock = threading.Lock()
        self._closed = False
        self._kept: NDArray[Any] = np.empty((0, handle.channels), dtype)  # read, not given
        self._ended = False  # libsndfile gave less than asked: its end, or its error
        self._error: str | None = None  # ... which becomes `failed` once the rest is given

    def read(self, samples: int) -> NDArray[Any]:
        """Up to ``samples`` samples, short only at the end or where libsndfile stopped
        (then ``failed`` says why), exactly as one ``sf_readf`` call of that size gives.

        libsndfile is asked for `READ_BLOCKS` times as much at once (FLAC decodes about a
        tenth faster in 1 s calls than in 0.5 s ones) and the rest is kept for the next
        call; its error is kept too, until the samples before it have been given.
        """
        with self._lock:
            if self.failed is not None or self._closed:
                return np.empty((0, self._handle.channels), self._dtype)
            if self._kept.shape[0] < samples and not self._ended:
                out = np.empty((samples * READ_BLOCKS, self._handle.channels), self._dtype)
                got, error = read_into(self._handle, out)
                self._ended = error is not None or got < out.shape[0]
                if error is not None:  # libsndfile reports corrupt data mid-stream
                    self._error = f"decoding failed: {error}"
                kept = self._kept
                self._kept = np.concatenate((kept, out[:got])) if kept.shape[0] else out[:got]
            data, self._kept = self._kept[:samples], self._kept[samples:]
            if data.shape[0] < samples or (not self._kept.shape[0] and self._ended):
                self.failed = self._error
            return data

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._handle.close()
