"""`Source`: what a file reader reads from: a path, bytes, or a binary file object (a pipe
such as stdin included), opened for libsndfile or FFmpeg alike."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TypeAlias

from .._core.errors import AudioFileError, MediaFileError, ParameterError

__all__ = ("AudioInput", "Source")

AudioInput: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]"
"""What `from_file` and `file_info` read: a path, the file's bytes, or a readable binary
file object (an open file, `io.BytesIO`, ``sys.stdin.buffer``)."""


class Source:
    """One input, named for messages, that can be opened once per read.

    A path is opened anew each time; bytes are wrapped anew; a seekable file object is
    rewound to where it was when given (the caller keeps it open; lkframes never closes
    it). A file object that cannot seek (a pipe) can be read once: `take_once` hands it
    out the first time and refuses after.

    Raises:
        ParameterError: ``value`` is none of these.
        AudioFileError: A path that is missing, a directory or empty.
    """

    __slots__ = ("_file", "_head", "_start", "_taken", "kind", "name", "path")

    def __init__(self, value: object, error: type[MediaFileError] = AudioFileError) -> None:
        self.path: Path | None = None
        self._file: IO[bytes] | None = None
        self._start = 0
        self._taken = False
        self._head = b""
        if isinstance(value, str | os.PathLike):
            self.path = Path(value)
            self.kind = "path"
            self.name = str(self.path)
            check_path(self.path, error)
            return
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
            if not data:
                raise error("empty input (0 bytes)")
            self._file = io.BytesIO(data)
            self.kind = "bytes"
            self.name = f"<{len(data)} bytes>"
            return
        read = getattr(value, "read", None)
        if not callable(read) or isinstance(value, io.TextIOBase):
            what = "a text file (open it with 'rb')" if isinstance(value, io.TextIOBase) else None
            raise ParameterError(
                "a file to read must be a path, bytes or a binary file object opened for "
                f"reading (got {what or type(value).__name__})"
            )
        self._file = value  # type: ignore[assignment]
        self.name = _file_name(value)
        if _seekable(value):
            self.kind = "file"
            self._start = value.tell()  # type: ignore[attr-defined]
        else:
            self.kind = "pipe"
            # The first bytes are kept, so a header in them (an MP3's Xing tag) can be
            # looked at; the one read replays them before the rest.
            self._head = bytes(value.read(_PIPE_HEAD))  # type: ignore[attr-defined]

    @property
    def seekable(self) -> bool:
        """Whether the input can be read more than once (and sought in)."""
        return self.kind != "pipe"

    @property
    def size(self) -> int | None:
        """Bytes from the start of the input to its end, if known."""
        if self.path is not None:
            return self.path.stat().st_size
        if self.kind == "pipe" or self._file is None:
            return None
        position = self._file.tell()
        try:
            return self._file.seek(0, os.SEEK_END) - self._start
        finally:
            self._file.seek(position)

    def file(self) -> IO[bytes]:
        """A binary file object at the input's start: a new one for a path (the caller
        closes it), the caller's own one rewound otherwise (never to be closed by us)."""
        if self.path is not None:
            opened: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - the caller closes it
            return opened
        assert self._file is not None
        if self.kind == "pipe":
            if self._taken:
                raise AudioFileError(
                    f"{self.name} is a pipe and has been read already; it can be read once"
                )
            self._taken = True
            return io.BufferedReader(_Replay(self._head, self._file))
        else:
            self._file.seek(self._start)
        return self._file

    def for_libraries(self) -> str | IO[bytes]:
        """What libsndfile or FFmpeg open: the path as text (their own, faster file
        access), else the file object at its start."""
        return str(self.path) if self.path is not None else self.file()

    @contextlib.contextmanager
    def reading(self) -> Iterator[tuple[IO[bytes], int]]:
        """The input (not a pipe) open to read at will, at its start, and where its start
        is in the file object: a path's file is closed after, the caller's rewound."""
        if self.path is not None:
            with open(self.path, "rb") as opened:
                yield opened, 0
            return
        given = self.file()
        try:
            yield given, self._start
        finally:
            self.file()

    def head(self, count: int) -> bytes:
        """The input's first ``count`` bytes (of a pipe, those kept: up to 64 KiB)."""
        if self.kind == "pipe":
            return self._head[:count]
        with self.reading() as (file, _):
            return bytes(file.read(count))

    def tail(self, count: int) -> tuple[int, bytes]:
        """Where the last ``count`` bytes start, and they (``(0, b"")`` for a pipe)."""
        size = self.size
        if size is None:
            return 0, b""
        start = max(0, size - count)
        with self.reading() as (file, base):
            file.seek(base + start)
            return start, bytes(file.read())

    @property
    def suffix(self) -> str:
        """The file name's extension, lower case ("" when there is no name)."""
        return Path(self.name).suffix.lower() if self.kind in ("path", "file") else ""


_PIPE_HEAD = 64 * 1024


class _Replay(io.RawIOBase):
    """A pipe whose first bytes were read already: those, then the rest of the pipe."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def check_path(path: Path, error: type[MediaFileError] = AudioFileError) -> None:
    """Refuse a missing, empty or directory ``path`` with ``error`` (default: audio's)."""
    what = "an audio file" if issubclass(error, AudioFileError) else "a media file"
    if not path.exists():
        raise error(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise error(f"is a directory, not {what}: {str(path)!r}")
    if path.stat().st_size == 0:
        raise error(f"empty file (0 bytes): {str(path)!r}")


def _seekable(file: Any) -> bool:
    try:
        return bool(file.seekable()) and isinstance(file.tell(), int)
    except (AttributeError, OSError, ValueError):
        return False


def _file_name(file: Any) -> str:
    name = getattr(file, "name", None)
    if isinstance(name, str) and name and not name.startswith("<"):
        return name
    if isinstance(name, int) or name == "<stdin>":
        return "<stdin>" if name in (0, "<stdin>") else f"<fd {name}>"
    return f"<{type(file).__name__}>"
