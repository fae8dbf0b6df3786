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
    """What is open now, by kind (``"stage"``, ``"file"``, ``"livekit.audio_stream"``, ...)."""
    return {kind: count for kind, count in _open.items() if count}
