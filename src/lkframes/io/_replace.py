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

import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path

__all__ = ("Destination",)

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
        self.replacing = beside or (overwrite and self.final.is_file())
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
            with suppress(FileNotFoundError):
                self.write_to.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
