"""The one place lkframes uses python-soundfile's private parts, and what it assumes of them.

lkframes reads and writes blocks with libsndfile's own ``sf_readf_*``/``sf_writef_*``
rather than ``SoundFile.read``/``write``: python-soundfile seeks after every read (which
restarts mpg123 badly: every MP3 block after the first decodes as garbage), drops the
samples a read decoded when it then raises on corrupt data, and only asserts that a write
wrote every frame. ``tests/io/test_libsndfile_contract.py`` checks each assumption below on
the installed soundfile, so a release that changes one fails there, by name.

Relies on: ``soundfile._snd`` (the cffi library: ``sf_readf_short``/``_float``,
``sf_writef_short``/``_float``, ``sf_error``, ``sf_strerror``), ``soundfile._ffi`` (its
``cast`` and ``string``), and ``SoundFile._file`` (the open ``SNDFILE *``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import soundfile

__all__ = ("read_into", "write_from")


def _ctype(dtype: np.dtype[Any]) -> str:
    return "short" if dtype == np.int16 else "float"


def read_into(handle: soundfile.SoundFile, out: NDArray[Any]) -> tuple[int, str | None]:
    """Decode up to ``len(out)`` frames into ``out`` (C-contiguous int16 or float32, shaped
    (frames, channels)) from where ``handle`` is, without seeking.

    Returns:
        How many frames were decoded (kept even when an error followed them), and
        libsndfile's error on damaged data, if it hit one (it then reads nothing more).
    """
    import soundfile

    ctype = _ctype(out.dtype)
    file = handle._file
    pointer = soundfile._ffi.cast(f"{ctype} *", out.ctypes.data)
    got = max(int(getattr(soundfile._snd, f"sf_readf_{ctype}")(file, pointer, out.shape[0])), 0)
    return got, _error(file)


def write_from(handle: soundfile.SoundFile, block: NDArray[Any]) -> tuple[int, str | None]:
    """Encode ``block`` (C-contiguous int16 or float32, (frames, channels)) into ``handle``.

    Returns:
        How many frames libsndfile took, and its error, if it reported one.
    """
    import soundfile

    ctype = _ctype(block.dtype)
    pointer = soundfile._ffi.cast(f"{ctype} *", block.ctypes.data)
    file = handle._file
    done = int(getattr(soundfile._snd, f"sf_writef_{ctype}")(file, pointer, block.shape[0]))
    return done, _error(file)


def _error(file: Any) -> str | None:
    import soundfile

    if not soundfile._snd.sf_error(file):
        return None
    message: bytes = soundfile._ffi.string(soundfile._snd.sf_strerror(file))
    return message.decode("utf-8", "replace")
