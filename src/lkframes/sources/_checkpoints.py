"""`Checkpoints`: scheduling points for sources that never wait."""

from __future__ import annotations

import math
import time

import anyio.lowlevel

from .._core.errors import ParameterError

__all__ = ("DEFAULT_BLOCK_MS", "Checkpoints", "block_samples")

DEFAULT_BLOCK_MS = 500
"""Block size sources emit by default: large blocks keep soxr's per-call cost low."""

_CHECKPOINT_EVERY_S = 0.005


class Checkpoints:
    """Yields to the event loop every few milliseconds of a source's own work.

    Sources that never wait (arrays, synthetic signals, lists) would otherwise run a whole
    pipeline without a single scheduling point: nothing else on the loop would run and a
    timeout or cancellation (``anyio.move_on_after``) could never land. A checkpoint per
    block would cost too much with small blocks, so it is rationed by wall time.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = time.monotonic()

    async def __call__(self) -> None:
        now = time.monotonic()
        if now - self._last >= _CHECKPOINT_EVERY_S:
            await anyio.lowlevel.checkpoint()
            self._last = time.monotonic()


def block_samples(sample_rate: int, block_ms: float) -> int:
    """Samples per block of ``block_ms`` (at least 1); `ParameterError` for a bad size."""
    if isinstance(block_ms, bool) or not isinstance(block_ms, int | float):
        raise ParameterError(f"block_ms must be a number (got {type(block_ms).__name__})")
    if not math.isfinite(block_ms) or block_ms <= 0:
        raise ParameterError(f"block_ms must be positive (got {block_ms})")
    return max(1, round(sample_rate * block_ms / 1000))
