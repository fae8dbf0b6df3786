"""A simulated room's script: its actions in time order, and where it is quiet (the cells
in which `lkframes.from_room` may take a room's audio a block at a time)."""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Callable
from typing import Any

from .._core.errors import ParameterError

__all__ = ("SETTLE_S", "Script")

SETTLE_S = 0.75
"""How long a scripted action's consequences last, beyond the slowest network's buffer
(its audio in flight): 0.17 s of silence after an unsubscription, then a reader's drain of
up to 0.3 s, with room to spare."""

_Action = tuple[float, int, Callable[..., Any], tuple[Any, ...]]


class Script:
    """The actions a room runs at their times (room clock), first come first run at the
    same time, and every action's time, past or to come, to say where nothing happens.

    ``buffer()`` is the slowest network's buffer now (the script may grow a cast).
    """

    def __init__(self, block: object, buffer: Callable[[], float]) -> None:
        if not (isinstance(block, int | float) and math.isfinite(block) and block >= 0):
            raise ParameterError(f"SimulatedRoom block= must be seconds >= 0 (got {block!r})")
        self.block = float(block)
        self._buffer = buffer
        self._heap: list[_Action] = []
        self._order = itertools.count()
        self._times: list[float] = []  # every action's time, sorted
        self._cells: dict[tuple[int, float, float], float | None] = {}  # cell_end's

    def add(self, at: float, action: Callable[..., Any], args: tuple[Any, ...]) -> None:
        heapq.heappush(self._heap, (at, next(self._order), action, args))
        bisect.insort(self._times, at)
        self._cells.clear()

    def pop(self, now: float) -> tuple[Callable[..., Any], tuple[Any, ...]] | None:
        """The next action due by ``now``, if any (taken off the script)."""
        if not self._heap or self._heap[0][0] > now:
            return None
        _, _, action, args = heapq.heappop(self._heap)
        return action, args

    @property
    def next_at(self) -> float | None:
        """When the next action is due, if there is one."""
        return self._heap[0][0] if self._heap else None

    def quiet(self, start: float, end: float) -> bool:
        """Whether no action is scripted from `settle` before ``start`` until ``end``: no
        join, leave, publication, subscription, mute or removal, nor the consequences of
        one (a stream's end, the audio in flight), within the stretch."""
        first = bisect.bisect_left(self._times, start - self.settle)
        return first == len(self._times) or self._times[first] > end

    @property
    def settle(self) -> float:
        """How long an action's consequences last (see `SETTLE_S`)."""
        return SETTLE_S + self._buffer()

    def cell_end(self, at: float, before: float, after: float) -> float | None:
        """The end of the `block`-long cell that holds ``at``, if the script is `quiet`
        from ``before`` seconds before that cell until ``after`` after it; None if not (or
        without a ``block``): frame by frame there."""
        block = self.block
        if not block:
            return None
        cell = math.floor(at / block)
        key = (cell, before, after)
        if key not in self._cells:
            quiet = self.quiet(cell * block - before, (cell + 1) * block + after)
            self._cells[key] = (cell + 1) * block if quiet else None
        return self._cells[key]
