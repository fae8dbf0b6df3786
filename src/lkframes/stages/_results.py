"""What the item stages share: calling a user's function (sync or async) and turning its
results into frames of the expected format, with O(1) checks and the same clear errors, and
one vectorised pass over float results for NaN and infinity."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.checks import all_finite, check_finite
from .._core.errors import FormatError, InvalidAudioError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame, validate_samples

__all__ = ("PLAIN_RESULTS", "annotate", "call", "finite", "is_async", "label", "to_frame")

WRONG_RESULT = "{stage} must return an AudioFrame or a numpy array (got {got})"
FORMAT_CHANGED = "{stage} changed the frame format"
FORMAT_HINT = "pass format= to {function}() to declare the new format"

PLAIN_RESULTS = (bool, np.ndarray, AudioFrame, type(None))
"""Result types that are never awaitable: no need to ask `inspect.isawaitable`."""


def is_async(fn: object) -> bool:
    """Whether calling ``fn`` gives a coroutine: an async function, a partial of one, or an
    object whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - the method itself is what is asked about
    )


def label(fn: Callable[..., object]) -> str:
    """How a user's function is named in a stage's name."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name or type(fn).__qualname__


def annotate(exc: BaseException, stage: str, item: object) -> None:
    """Note on ``exc`` which stage raised it, and at which pts."""
    where = f" at pts={item.pts}" if isinstance(item, AudioFrame) else ""
    exc.add_note(f"raised in lkframes stage {stage}{where}")


async def call(fn: Callable[[Any], Any], item: object) -> Any:
    """``fn(item)``, awaited if ``fn`` is async (or returned an awaitable)."""
    result = fn(item)
    if type(result) not in PLAIN_RESULTS and inspect.isawaitable(result):
        result = await result
    return result


def finite(frame: AudioFrame, item: AudioFrame, stage: str) -> AudioFrame:
    """``frame``, which ``stage``'s function made from ``item``, if its samples are finite.

    A float NaN or infinity would reach a sink as 0 (int16) or full scale (a 16-bit file),
    so it is refused where it was made. O(n), one vectorised pass; int16 is not scanned.

    Raises:
        InvalidAudioError: NaN or infinity in float samples, with a note naming ``stage``
            and ``item``'s pts.
    """
    if frame is not item and not all_finite(frame.data):
        try:
            check_finite(frame.data, f"the audio {stage} returned", frame.pts)
        except InvalidAudioError as exc:
            annotate(exc, stage, item)
            raise
    return frame


def to_frame(
    result: object,
    item: AudioFrame,
    expected: AudioFormat,
    stage: str,
    function: str,
    pts: int | None = None,
) -> AudioFrame:
    """``result`` of a user's function on ``item`` as a frame of ``expected``.

    A numpy array becomes a frame at ``pts`` (by default ``item``'s pts). O(1) checks on the
    fast path, and one pass over float samples (`finite`).

    Raises:
        FormatError: A frame or array of another format (with a hint to declare it).
        InvalidAudioError: Not a frame or an array, an array that is not audio, or float
            samples with NaN or infinity.
    """
    if type(result) is np.ndarray:
        try:
            frame = AudioFrame.of(result, expected, item.pts if pts is None else pts)
        except InvalidAudioError:
            raise _explain(result, expected, stage, function, item) from None
        return finite(frame, item, stage)
    if isinstance(result, AudioFrame):
        if result.format is not expected and result.format != expected:
            raise FormatError(
                FORMAT_CHANGED.format(stage=stage),
                expected,
                result.format,
                hint=FORMAT_HINT.format(function=function),
            )
        return finite(result, item, stage)
    if isinstance(result, np.ndarray):  # a subclass: checked the slow way
        return to_frame(np.asarray(result), item, expected, stage, function, pts)
    raise InvalidAudioError(WRONG_RESULT.format(stage=stage, got=type(result).__name__))


def _explain(
    result: np.ndarray[Any, Any], expected: AudioFormat, stage: str, function: str, item: AudioFrame
) -> Exception:
    """The error for an array `AudioFrame.of` refused: not audio at all, or another format."""
    try:
        data = validate_samples(result, what=f"the array {stage} returned")
    except InvalidAudioError as exc:
        annotate(exc, stage, item)
        return exc
    got = AudioFormat(expected.sample_rate, data.shape[1], data.dtype.name)  # type: ignore[arg-type]
    return FormatError(
        FORMAT_CHANGED.format(stage=stage),
        expected,
        got,
        hint=FORMAT_HINT.format(function=function),
    )
