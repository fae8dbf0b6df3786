"""Sources over data the caller already has: numpy arrays and iterables of frames."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np
from numpy.typing import NDArray

from .._core.checks import FormatGuard
from .._core.errors import InvalidAudioError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame, ensure_finite, readonly, validate_samples
from .._core.samples import positive_int
from .._core.stream import Stream, consume
from ._checkpoints import DEFAULT_BLOCK_MS, Checkpoints, block_samples

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("from_array", "from_frames")


def from_array(
    array: NDArray[Any],
    sample_rate: int,
    *,
    block_ms: float = DEFAULT_BLOCK_MS,
    pts: int = 0,
    check_finite: bool = True,
) -> Stream[AudioFrame]:
    """A stream over a numpy array, in blocks of ``block_ms`` (views, never copies).

    Args:
        array: int16 or float32 samples, 1-D (mono) or ``(samples, channels)``,
            C-contiguous. Not copied: do not change it while the stream runs.
        sample_rate: Its rate in Hz.
        block_ms: Size of the frames emitted; big blocks make resampling cheaper. Use
            `Stream.chunk` for exact frame sizes.
        pts: Timestamp of the first sample.
        check_finite: Reject NaN/infinity in float input (checked once, up front).

    Returns:
        A re-iterable stream with a known format. `Stream.to_array` gives 1-D back for
        1-D input.

    Raises:
        InvalidAudioError: Wrong dtype, shape, non-contiguous memory, NaN or infinity.
        ParameterError: A non-positive ``sample_rate`` or ``block_ms``.

    Examples:
        >>> import numpy as np, lkframes as lk
        >>> x = np.arange(1000, dtype=np.int16)
        >>> frames = lk.run_sync(lk.from_array(x, 8_000, block_ms=50).collect())
        >>> [f.samples_per_channel for f in frames]
        [400, 400, 200]
    """
    rate = positive_int(sample_rate, "sample_rate")
    flat = isinstance(array, np.ndarray) and array.ndim == 1
    data = validate_samples(array, what="array")
    if check_finite:
        ensure_finite(data, what="array")
    fmt = AudioFormat(rate, data.shape[1], data.dtype.name)  # type: ignore[arg-type]
    block = block_samples(rate, block_ms)
    start = int(pts)
    frozen = readonly(data)  # one read-only view: every block sliced from it is read-only

    async def run() -> AsyncGenerator[AudioFrame, None]:
        checkpoint = Checkpoints()
        for offset in range(0, frozen.shape[0], block):
            await checkpoint()
            yield AudioFrame.of(frozen[offset : offset + block], fmt, start + offset)

    return Stream(run, format=fmt, name=f"from_array({data.shape[0]} samples)", flat=flat)


def from_frames(
    frames: Iterable[AudioFrame | rtc.AudioFrame] | AsyncIterable[AudioFrame | rtc.AudioFrame],
    *,
    format: AudioFormat | None = None,
) -> Stream[AudioFrame]:
    """A stream over lkframes or LiveKit frames from a (sync or async) iterable.

    LiveKit frames are wrapped without copying and numbered with continuous ``pts``;
    lkframes frames keep theirs, so give them their ``pts``: a sink lays frames out by
    pts, and frames that all start at 0 overlap (or re-stamp them with `chunk`). Every
    frame must have the same format.

    Args:
        frames: A list, generator, async generator, ... of `AudioFrame` or
            ``livekit.rtc.AudioFrame``. A one-shot iterator (generator) can be consumed
            once; a collection can be re-iterated.
        format: The format the frames must have, if known in advance.

    Returns:
        The stream.

    Raises:
        FormatError: (while running) a frame's format differs from the first (or ``format``).
        InvalidAudioError: (while running) an item is not a frame, or float samples contain
            NaN or infinity.
        anyio.ClosedResourceError: a one-shot iterable is iterated a second time.

    Examples:
        >>> import numpy as np, lkframes as lk
        >>> a = lk.AudioFrame(np.ones(160, np.int16), 16_000)
        >>> b = lk.AudioFrame(np.ones(160, np.int16), 16_000, pts=160)
        >>> lk.run_sync(lk.from_frames([a, b]).to_array()).shape
        (320, 1)
    """
    items_of = replayable(frames, "from_frames")

    async def run() -> AsyncGenerator[AudioFrame, None]:
        guard = FormatGuard("from_frames", format)
        next_pts = 0
        async with consume(items_of()) as items:
            async for item in items:
                frame = _to_frame(item, next_pts)
                guard(frame)
                next_pts = frame.end_pts
                yield frame

    return Stream(run, format=format, name="from_frames")


def replayable(
    frames: Iterable[Any] | AsyncIterable[Any], source: str
) -> Callable[[], AsyncGenerator[Any, None]]:
    """Each call iterates ``frames`` afresh (async); a one-shot iterator (a generator)
    refuses a second pass with ``anyio.ClosedResourceError`` naming ``source``.

    Raises:
        ParameterError: ``frames`` is not iterable.
    """
    one_shot = _is_one_shot(frames)
    opened = False

    def items() -> AsyncGenerator[Any, None]:
        nonlocal opened
        if one_shot and opened:
            raise anyio.ClosedResourceError(
                f"{source}() wraps a one-shot iterator that was already consumed; pass a "
                "list or make a new stream"
            )
        opened = True
        return _as_async(frames)

    return items


def _is_one_shot(frames: object) -> bool:
    if isinstance(frames, AsyncIterable):
        return aiter(frames) is frames
    if isinstance(frames, Iterable):
        return iter(frames) is frames
    raise ParameterError(
        f"frames must be an iterable or async iterable (got {type(frames).__name__})"
    )


async def _as_async(frames: Iterable[Any] | AsyncIterable[Any]) -> AsyncGenerator[Any, None]:
    if isinstance(frames, AsyncIterable):
        async with consume(frames) as items:
            async for item in items:
                yield item
    else:
        iterator = iter(frames)
        checkpoint = Checkpoints()
        try:
            for item in iterator:
                await checkpoint()
                yield item
        finally:
            close = getattr(iterator, "close", None)  # a generator: run its cleanup now
            if close is not None:
                close()


def _to_frame(item: object, pts: int) -> AudioFrame:
    if isinstance(item, AudioFrame):
        if item.dtype == "float32":
            ensure_finite(item.data, what="frame")
        return item
    from livekit import rtc

    if isinstance(item, rtc.AudioFrame):
        return AudioFrame.from_rtc(item, pts=pts)
    raise InvalidAudioError(
        f"expected lkframes.AudioFrame or livekit.rtc.AudioFrame items (got {type(item).__name__})"
    )
