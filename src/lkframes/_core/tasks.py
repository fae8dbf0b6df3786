"""Task groups' errors as the caller should see them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import anyio


@contextmanager
def one_error() -> Iterator[None]:
    """Raise a task group's error as itself, not wrapped in an exception group.

    A group holding one real error (beside any number of cancellations it caused) raises
    that error; a group of cancellations only raises one plain cancellation, so a
    cancelled caller sees ``CancelledError`` and not a group of them. Anything else (two
    real errors) is raised as the group.
    """
    try:
        yield
    except BaseExceptionGroup as errors:
        cancelled, others = errors.split(_cancelled_class())
        if others is None:
            assert cancelled is not None
            raise _leaves(cancelled)[0] from None
        leaves = _leaves(others)
        if len(leaves) == 1:
            raise leaves[0] from None
        raise


def _cancelled_class() -> type[BaseException]:
    try:
        return anyio.get_cancelled_exc_class()
    except Exception:  # not in an event loop: asyncio's is the one this library runs on
        return asyncio.CancelledError


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for error in group.exceptions:
        out.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return out
