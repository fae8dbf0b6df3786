"""Sources: numpy arrays, frame iterables and synthetic signals; plus `concat`."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import numpy as np
from numpy.typing import NDArray

from ._errors import FormatError, InvalidAudioError, ParameterError
from ._format import SUPPORTED_DTYPES, AudioFormat, DType, positive_int
from ._frame import AudioFrame, ensure_finite, validate_samples
from ._stream import Stream, consume

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("concat", "from_array", "from_frames", "noise", "silence", "sine")

DEFAULT_BLOCK_MS = 500
"""Block size sources emit by default: large blocks keep soxr's per-call cost low."""

_CHECKPOINT_EVERY_S = 0.005


class _Checkpoints:
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


def _block_samples(sample_rate: int, block_ms: float) -> int:
    if not math.isfinite(block_ms) or block_ms <= 0:
        raise ParameterError(f"block_ms must be positive (got {block_ms})")
    return max(1, round(sample_rate * block_ms / 1000))


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
    rate = positive_int(sample_rate)
    flat = isinstance(array, np.ndarray) and array.ndim == 1
    data = validate_samples(array, what="array")
    if check_finite:
        ensure_finite(data, what="array")
    fmt = AudioFormat(rate, data.shape[1], data.dtype.name)  # type: ignore[arg-type]
    block = _block_samples(rate, block_ms)
    start = int(pts)

    async def run(data: NDArray[Any] = data) -> AsyncGenerator[AudioFrame, None]:
        checkpoint = _Checkpoints()
        for offset in range(0, data.shape[0], block):
            await checkpoint()
            yield AudioFrame._wrap(data[offset : offset + block], fmt, start + offset)

    return Stream(run, format=fmt, name=f"from_array({data.shape[0]} samples)", flat=flat)


def from_frames(
    frames: Iterable[AudioFrame | rtc.AudioFrame] | AsyncIterable[AudioFrame | rtc.AudioFrame],
    *,
    format: AudioFormat | None = None,
) -> Stream[AudioFrame]:
    """A stream over lkframes or LiveKit frames from a (sync or async) iterable.

    LiveKit frames are wrapped without copying and numbered with continuous ``pts``;
    lkframes frames keep theirs. Every frame must have the same format.

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
        >>> lk.run_sync(lk.from_frames([a, a]).to_array()).shape
        (320, 1)
    """
    one_shot = _is_one_shot(frames)
    opened = False

    async def run() -> AsyncGenerator[AudioFrame, None]:
        nonlocal opened
        if one_shot and opened:
            raise anyio.ClosedResourceError(
                "from_frames() wraps a one-shot iterator that was already consumed; pass a "
                "list or make a new stream"
            )
        opened = True
        expected = format
        next_pts = 0
        async with consume(_as_async(frames)) as items:
            async for item in items:
                frame = _to_frame(item, next_pts)
                if expected is None:
                    expected = frame.format
                elif frame.format != expected:
                    raise FormatError(
                        "from_frames: frame format changed mid-stream", expected, frame.format
                    )
                next_pts = frame.end_pts
                yield frame

    return Stream(run, format=format, name="from_frames")


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
        checkpoint = _Checkpoints()
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


# -- synthetic signals -----------------------------------------------------------------


def _synthetic(
    name: str,
    duration: float | None,
    sample_rate: int,
    num_channels: int,
    dtype: DType,
    block_ms: float,
    make_block: Any,
) -> Stream[AudioFrame]:
    rate = positive_int(sample_rate)
    if dtype not in SUPPORTED_DTYPES:
        raise ParameterError(f"dtype must be one of {SUPPORTED_DTYPES} (got {dtype!r})")
    fmt = AudioFormat(rate, num_channels, dtype)
    total: int | None = None
    if duration is not None:
        if not math.isfinite(duration) or duration < 0:
            raise ParameterError(f"duration must be >= 0 seconds or None (got {duration})")
        total = round(duration * rate)
    block = _block_samples(rate, block_ms)

    async def run() -> AsyncGenerator[AudioFrame, None]:
        state = make_block.start() if hasattr(make_block, "start") else None
        checkpoint = _Checkpoints()
        start = 0
        while total is None or start < total:
            await checkpoint()
            n = block if total is None else min(block, total - start)
            mono = make_block(start, n, state)
            if dtype == "int16":
                mono = np.clip(np.rint(mono * 32768.0), -32768, 32767).astype(np.int16)
            else:
                mono = mono.astype(np.float32)
            data = (
                np.repeat(mono[:, None], num_channels, axis=1)
                if num_channels > 1
                else mono[:, None]
            )
            yield AudioFrame._wrap(data, fmt, start)
            start += n

    return Stream(run, format=fmt, name=name, flat=num_channels == 1)


def sine(
    frequency: float,
    duration: float | None,
    sample_rate: int = 48_000,
    *,
    amplitude: float = 0.5,
    num_channels: int = 1,
    dtype: DType = "int16",
    phase: float = 0.0,
    block_ms: float = DEFAULT_BLOCK_MS,
) -> Stream[AudioFrame]:
    """A sine tone, phase-continuous across blocks.

    Args:
        frequency: Hz.
        duration: Seconds (rounded to whole samples), or None for an endless tone (stop it
            with `Stream.take`).
        sample_rate: Hz.
        amplitude: Peak level as a fraction of full scale.
        num_channels: The same tone on every channel.
        dtype: ``"int16"`` or ``"float32"``.
        phase: Starting phase in radians.
        block_ms: Size of the frames emitted.

    Raises:
        ParameterError: A non-positive rate, a negative duration, an amplitude outside
            [0, 1], or a bad dtype.

    Examples:
        >>> import lkframes as lk
        >>> lk.run_sync(lk.sine(1000, 0.5, 8_000, amplitude=0.25).to_array()).max()
        np.int16(8192)
    """
    if not 0.0 <= amplitude <= 1.0:
        raise ParameterError(f"amplitude must be within [0, 1] of full scale (got {amplitude})")
    if not math.isfinite(frequency) or frequency < 0:
        raise ParameterError(f"frequency must be >= 0 Hz (got {frequency})")
    rate = positive_int(sample_rate)
    step = 2.0 * math.pi * frequency / rate

    def make(start: int, n: int, _state: object) -> NDArray[np.float64]:
        return amplitude * np.sin(phase + step * np.arange(start, start + n, dtype=np.float64))

    return _synthetic(
        f"sine({frequency:g} Hz)", duration, rate, num_channels, dtype, block_ms, make
    )


class _NoiseBlocks:
    def __init__(self, amplitude: float, seed: int | None) -> None:
        self.amplitude = amplitude
        self.seed = seed

    def start(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def __call__(self, _start: int, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        return rng.uniform(-self.amplitude, self.amplitude, n)


def noise(
    duration: float | None,
    sample_rate: int = 48_000,
    *,
    amplitude: float = 0.1,
    seed: int | None = 0,
    num_channels: int = 1,
    dtype: DType = "int16",
    block_ms: float = DEFAULT_BLOCK_MS,
) -> Stream[AudioFrame]:
    """Uniform white noise in ``[-amplitude, amplitude]``, reproducible for a given seed.

    Args:
        duration: Seconds, or None for endless noise.
        sample_rate: Hz.
        amplitude: Peak level as a fraction of full scale.
        seed: Seed of numpy's default generator (each iteration starts from it); None for
            fresh noise each time.
        num_channels: The same noise on every channel.
        dtype: ``"int16"`` or ``"float32"``.
        block_ms: Size of the frames emitted.

    Raises:
        ParameterError: As for `sine`.

    Examples:
        >>> import lkframes as lk
        >>> x = lk.run_sync(lk.noise(1.0, 16_000, amplitude=0.1).to_array())
        >>> x.shape, int(abs(x).max()) <= 3277
        ((16000,), True)
    """
    if not 0.0 <= amplitude <= 1.0:
        raise ParameterError(f"amplitude must be within [0, 1] of full scale (got {amplitude})")
    return _synthetic(
        "noise", duration, sample_rate, num_channels, dtype, block_ms, _NoiseBlocks(amplitude, seed)
    )


def silence(
    duration: float | None,
    sample_rate: int = 48_000,
    *,
    num_channels: int = 1,
    dtype: DType = "int16",
    block_ms: float = DEFAULT_BLOCK_MS,
) -> Stream[AudioFrame]:
    """Digital silence (zeros).

    Raises:
        ParameterError: As for `sine`.

    Examples:
        >>> import lkframes as lk
        >>> lk.run_sync(lk.silence(0.01, 48_000, num_channels=2).to_array()).shape
        (480, 2)
    """

    def make(_start: int, n: int, _state: object) -> NDArray[np.float64]:
        return np.zeros(n)

    return _synthetic("silence", duration, sample_rate, num_channels, dtype, block_ms, make)


def concat(*streams: Stream[AudioFrame]) -> Stream[AudioFrame]:
    """The streams one after the other, as one stream with continuous ``pts``.

    Raises:
        ParameterError: No streams given.
        FormatError: The streams' formats differ (at build time when known, else when the
            first frame of the differing stream arrives).

    Examples:
        >>> import lkframes as lk
        >>> both = lk.concat(lk.sine(440, 0.01, 16_000), lk.silence(0.02, 16_000))
        >>> [(f.pts, f.samples_per_channel) for f in lk.run_sync(both.collect())]
        [(0, 160), (160, 320)]
    """
    if not streams:
        raise ParameterError("concat needs at least one stream")
    known = [s.format for s in streams if s.format is not None]
    for fmt in known[1:]:
        if fmt != known[0]:
            raise FormatError("concat: streams have different formats", known[0], fmt)
    declared = known[0] if known else None

    async def run() -> AsyncGenerator[AudioFrame, None]:
        expected = declared
        next_pts: int | None = None
        for stream in streams:
            shift: int | None = None
            async with consume(stream) as frames:
                async for frame in frames:
                    if expected is None:
                        expected = frame.format
                    elif frame.format != expected:
                        raise FormatError(
                            "concat: streams have different formats", expected, frame.format
                        )
                    if shift is None:
                        shift = 0 if next_pts is None else next_pts - frame.pts
                    out = (
                        frame
                        if shift == 0
                        else AudioFrame._wrap(frame.data, frame.format, frame.pts + shift)
                    )
                    next_pts = out.end_pts
                    yield out

    flat = all(s._flat for s in streams)
    return Stream(run, format=declared, name=f"concat({len(streams)} streams)", flat=flat)
