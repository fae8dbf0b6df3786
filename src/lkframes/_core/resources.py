"""A count of what lkframes holds open right now: pipeline stages, files, LiveKit handles.

Every place that acquires something that must be released (an upstream iterator, a file,
a native LiveKit stream or source) does so inside `held`, so a test can assert that
nothing is left open after a pipeline ends, breaks, fails or is cancelled
(`lkframes.testing.open_resources`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ("acquire", "held", "open_resources", "release")

_open: Counter[str] = Counter()


def acquire(kind: str) -> None:
    """Count one more open resource of ``kind`` (pair with `release` in a ``finally``)."""
    _open[kind] += 1


def release(kind: str) -> None:
    """Count one open resource of ``kind`` fewer."""
    _open[kind] -= 1


@contextmanager
def held(kind: str) -> Iterator[None]:
    """Count one open resource of ``kind`` for the duration of the block."""
    acquire(kind)
    try:
        yield
    finally:
        release(kind)


def open_resources() -> dict[str, int]:
    """What is open now, by kind (``"stage"``, ``"file"``, ``"livekit.audio_stream"``, ...).

    Returns:
        A new dict of the kinds with at least one open resource; empty when nothing is open.

    Raises:
        Nothing: It only reads in-process counters; it has no failure mode of its own.

    Examples:
        >>> import lkframes as lk
        >>> from lkframes.testing import open_resources
        >>> async def peek():
        ...     async with lk.sine(440, 1.0, 16_000).chunk(ms=20).open() as frames:
        ...         await anext(frames)
        ...         return open_resources()["stage"] > 0
        >>> lk.run_sync(peek), open_resources()
        (True, {})
    """
    return {kind: count for kind, count in _open.items() if count}
