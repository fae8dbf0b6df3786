"""`Destination`: where a sink writes, so that a file that existed before a run is either
left intact or completely replaced, never half-written.

A new file is written in place, block by block, so a run that is cancelled, fails or is
killed still leaves a valid file with what was written so far. An existing regular file
is never written into: the audio goes to a hidden temporary file beside it, which is
flushed to disk and renamed over the original only when the run succeeds. So a failure, a
cancellation, a kill or a full disk leaves the original byte for byte, and reading a file
while writing it (an edit in place) reads the original to its end.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path
from typing import IO, get_args

from .._core.checks import check_choice
from .._core.errors import AudioFileError, OutputExistsError, ParameterError
from .._core.params import Partial
from ._target import seekable

__all__ = ("Destination", "ObjectDestination", "Partial", "check_output", "destination_of")

TEMP_MARK = ".lkframes-"
"""Part of every temporary file's name: ``.<name>.lkframes-<random>.tmp``."""


class Destination:
    """The file a sink writes, and how it ends up at ``path``.

    Args:
        path: The file the caller asked for (a symlink is followed: its target is replaced).
        overwrite: Whether an existing file may be replaced.
        beside: Write a new file beside too, renamed into place only on `commit`, so that
            the file exists only once complete (the CLI's many-file runs resume by that).
    """

    __slots__ = ("final", "replacing", "write_to")

    def __init__(self, path: Path, overwrite: bool, *, beside: bool = False) -> None:
        self.final = path.resolve() if path.is_symlink() else path
        regular = self.final.is_file()
        # Only a regular file (or a new one) is written beside: a device (/dev/full, a
        # terminal) or a FIFO is written in place, never renamed over.
        beside = beside and (regular or not self.final.exists())
        self.replacing = beside or (overwrite and regular)
        """Whether the file is written beside, then renamed into place (an existing
        regular file replaced, or ``beside``)."""
        self.write_to = self._temporary() if self.replacing else self.final
        """The file the encoder writes."""

    def _temporary(self) -> Path:
        name = f".{self.final.name}{TEMP_MARK}{secrets.token_hex(4)}.tmp"
        return self.final.with_name(name)

    def commit(self) -> None:
        """Put the written file in place: flush it to disk, keep the old file's permission
        bits, rename it over the old file and flush the directory entry (a no-op for a new
        file, written in place)."""
        if not self.replacing:
            return
        _fsync(self.write_to)
        with suppress(OSError):
            os.chmod(self.write_to, stat.S_IMODE(self.final.stat().st_mode))
        os.replace(self.write_to, self.final)
        _fsync(self.final.parent)

    def discard(self) -> None:
        """Remove the temporary file of a replacement that did not complete."""
        if self.replacing:
            with suppress(FileNotFoundError, NotADirectoryError):
                self.write_to.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ObjectDestination:
    """A caller's file object as a destination: written as it comes, nothing to rename."""

    __slots__ = ("final", "write_to")
    replacing = False

    def __init__(self, file: IO[bytes], name: Path) -> None:
        self.final = name
        self.write_to = file

    def commit(self) -> None:
        """Nothing to put in place."""

    def discard(self) -> None:
        """Nothing to remove: the caller owns the object."""


def destination_of(
    path: object, overwrite: bool, partial: Partial | None, live: bool
) -> tuple[Destination | ObjectDestination, Path]:
    """Where `to_file` writes, and the name its messages and extension come from.

    Raises:
        ParameterError: ``path`` is neither a path nor a writable binary file object,
            or ``partial`` is not a `Partial`.
        AudioFileError: ``path`` is a folder.
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
    """
    if partial is not None:
        check_choice(partial, get_args(Partial), "partial")
    if isinstance(path, str | os.PathLike):
        file = Path(path)
        check_output(file, overwrite)
        keep = partial == "keep" or (partial is None and live)
        return Destination(file, overwrite, beside=not keep), file
    write = getattr(path, "write", None)
    if not callable(write) or isinstance(path, io.TextIOBase):
        raise ParameterError(
            "to_file writes to a path or a binary file object opened for writing "
            f"(got {type(path).__name__})"
        )
    if not seekable(path) and not _has_fileno(path):
        raise ParameterError(
            "to_file needs a file object that can seek (a file, io.BytesIO) or a pipe "
            f"with a file descriptor (sys.stdout.buffer); got {type(path).__name__}"
        )
    name = getattr(path, "name", None)
    shown = Path(name) if isinstance(name, str) and name else Path(f"<{type(path).__name__}>")
    return ObjectDestination(path, shown), shown  # type: ignore[arg-type]


def _has_fileno(file: object) -> bool:
    try:
        file.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
    return True


def check_output(file: Path, overwrite: bool) -> None:
    """Refuse a folder, or an existing file without ``overwrite``.

    Raises:
        AudioFileError: ``file`` is a folder.
        OutputExistsError: ``file`` exists and ``overwrite`` is false.
    """
    if file.is_dir():
        raise AudioFileError(f"is a directory: {str(file)!r}")
    if file.exists() and not overwrite:
        raise OutputExistsError(f"{str(file)!r} exists; pass overwrite=True to replace it")
