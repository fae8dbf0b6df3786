"""`map`'s hot path with a sync function: the call on each frame, or on each list of frames
a `chunk` cut, and the frames made of the arrays it returns (O(1) checks each)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.fitting import fitted_all
from .._core.format import AudioFormat
from .._core.frame import AudioFrame, fitted
from .._core.plan import Pending
from ._results import PLAIN_RESULTS, annotate, finite

__all__ = ("calling",)

FLOAT32 = np.dtype(np.float32)


def calling(
    fn: Callable[[Any], Any],
    name: str,
    format: AudioFormat | None,
    result: Callable[[Any, Any], Any],
) -> tuple[Callable[[Any], Any], Callable[[list[Any]], list[Any]]]:
    """``item -> result(fn(item), item)``, and the same for a list of items.

    An array that fits the item's format (or ``format``) becomes a frame here; everything
    else goes to ``result``, which explains a wrong array, and an awaitable is left
    `Pending`. The list function calls ``fn`` on every item, then makes the frames of the
    whole list in one `fitted_all`; the results, and the first error in item order, are
    the item function's.
    """

    def finish(out: Any, item: Any) -> Any:
        if type(out) is np.ndarray and type(item) is AudioFrame:
            frame = fitted(out, format or item.format, item.pts)
            if frame is not None:
                return frame if out.dtype is not FLOAT32 else finite(frame, item, name)
            # else ``result`` raises the error that explains it, or applies format=
        elif type(out) not in PLAIN_RESULTS and inspect.isawaitable(out):
            return Pending(_awaited(out, name, item), (lambda out: result(out, item),))
        return result(out, item)

    def one(item: Any) -> Any:
        try:
            out = fn(item)
        except Exception as exc:
            annotate(exc, name, item)
            raise
        return finish(out, item)

    def many(items: list[Any]) -> list[Any]:
        outs: list[Any] = []
        append = outs.append
        failed: Exception | None = None
        try:
            for item in items:
                append(fn(item))
        except Exception as exc:
            annotate(exc, name, item)
            failed = exc
        if failed is not None:  # one at a time, the results before it came first
            try:
                for out, before in zip(outs, items, strict=False):
                    _drop(finish(out, before))
                raise failed
            finally:
                failed = None  # no cycle through this frame's traceback
                for out in outs:
                    _drop(out)
        frames = fitted_all(outs, items, format)
        if frames is None:
            return [finish(out, item) for out, item in zip(outs, items, strict=True)]
        if frames and frames[0].dtype == "float32":  # one format for the list
            for frame, item in zip(frames, items, strict=True):
                finite(frame, item, name)
        return frames

    return one, many


def _drop(result: Any) -> None:
    """Close what a result of a failed list left to await (it never will be), so that
    Python does not warn that a coroutine was never awaited."""
    awaitable = result.awaitable if type(result) is Pending else result
    if inspect.iscoroutine(awaitable):
        awaitable.close()


async def _awaited(out: Any, stage: str, item: Any) -> Any:
    """The awaitable a sync function returned, awaited, its error noted like a call's."""
    try:
        return await out
    except Exception as exc:
        annotate(exc, stage, item)
        raise
