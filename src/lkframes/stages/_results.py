"""What the item stages share: calling a user's function (sync or async) and turning its
results into frames of the expected format (audio) or of the input frame's layout (video),
with O(1) checks and the same clear errors, and one vectorised pass over float audio results
for NaN and infinity."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.checks import all_finite, check_finite
from .._core.errors import FormatError, InvalidAudioError, InvalidVideoError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame, validate_samples
from .._core.video import VideoFrame

__all__ = (
    "PLAIN_RESULTS",
    "annotate",
    "call",
    "finite",
    "is_async",
    "label",
    "map_result",
    "to_frame",
    "to_video_frame",
)

WRONG_RESULT = "{stage} must return an AudioFrame or a numpy array (got {got})"
FORMAT_CHANGED = "{stage} changed the frame format"
FORMAT_HINT = "pass format= to {function}() to declare the new format"
WRONG_PIXELS = "the array {stage} returned is not {what} (expected {expected}, got {got}){hint}"
PIXELS_HINT = "; return a VideoFrame to change the size or layout"

PLAIN_RESULTS = (bool, np.ndarray, AudioFrame, VideoFrame, type(None))
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
    if isinstance(item, AudioFrame):
        where = f" at pts={item.pts}"
    elif isinstance(item, VideoFrame):
        where = f" at timestamp_us={item.timestamp_us}"
    else:
        where = ""
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


def map_result(result: object, item: object, format: AudioFormat | None, stage: str) -> Any:
    """What `map` passes on when its function returned ``result`` for ``item``.

    An array becomes a frame of ``item``'s kind (`to_frame` for audio, with ``format`` or
    the item's; `to_video_frame` for video); an audio frame for an audio item is checked
    against that format; anything else, and anything for an item that is not a frame, is
    passed on as it is.

    Raises:
        FormatError: An audio frame or array of another format.
        InvalidAudioError: An array that is not audio, or float samples with NaN or infinity.
        InvalidVideoError: An array that is not pixels of ``item``'s layout and size.
    """
    if isinstance(result, np.ndarray):
        if isinstance(item, AudioFrame):
            return to_frame(result, item, format or item.format, stage, "map")
        if isinstance(item, VideoFrame):
            return to_video_frame(result, item, stage)
    elif isinstance(result, AudioFrame) and isinstance(item, AudioFrame):
        return to_frame(result, item, format or item.format, stage, "map")
    return result


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


def to_video_frame(result: np.ndarray[Any, Any], item: VideoFrame, stage: str) -> VideoFrame:
    """``result``, an array ``stage``'s function returned for ``item``, as a frame with
    ``item``'s layout, size and timestamp. O(1) checks: dtype, shape, contiguity.

    Raises:
        InvalidVideoError: Not uint8 pixels of ``item``'s shape, or not C-contiguous (the
            message names the stage, expected and got; a note gives the timestamp).
    """
    expected = item.data.shape
    if result.dtype != np.uint8:
        problem = ("uint8 pixels", "uint8", result.dtype, "")
    elif result.shape != expected:
        layout = f"{expected} for {item.width}x{item.height} {item.pixel_format}"
        problem = ("the input frame's shape", layout, result.shape, PIXELS_HINT)
    elif not result.flags.c_contiguous:
        hint = "; pass np.ascontiguousarray(array)"
        problem = ("C-contiguous", "C-contiguous", f"strides {result.strides}", hint)
    else:
        return VideoFrame(
            np.asarray(result),
            item.pixel_format,
            timestamp_us=item.timestamp_us,
            width=item.width,
            height=item.height,
        )
    what, want, got, hint = problem
    error = InvalidVideoError(
        WRONG_PIXELS.format(stage=stage, what=what, expected=want, got=got, hint=hint)
    )
    annotate(error, stage, item)
    raise error
