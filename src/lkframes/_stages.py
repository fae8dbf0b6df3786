"""The stages: each a function that validates its parameters and returns a `Stage`.

The work happens in private async generators that read their upstream through
`consume`, so closing the last stage closes them all. Every stage checks that the
frames it receives keep one format and raises `FormatError` naming the change otherwise.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar, cast

import anyio
import numpy as np
import soxr
from numpy.typing import ArrayLike, NDArray

from . import _dsp
from ._errors import FormatError, InvalidAudioError, ParameterError
from ._format import SUPPORTED_DTYPES, AudioFormat, DType, positive_int, samples_for
from ._frame import AudioFrame
from ._stream import Quality, Stage, Stream, Tail, consume

__all__ = (
    "chunk",
    "filter",
    "gain",
    "map",
    "remix",
    "resample",
    "resampled_length",
    "skip",
    "take",
    "tap",
    "to_dtype",
)

T = TypeVar("T")

_QUALITIES = ("QQ", "LQ", "MQ", "HQ", "VHQ")
_TAILS = ("keep", "pad", "drop")

MapResult = AudioFrame | NDArray[Any]
MapFunction = Callable[[AudioFrame], MapResult | Awaitable[MapResult]]


class _FormatCheck:
    """Remembers the first format seen (or the declared one) and rejects any change."""

    __slots__ = ("fmt", "stage")

    def __init__(self, stage: str, declared: AudioFormat | None) -> None:
        self.stage = stage
        self.fmt = declared

    def __call__(self, frame: AudioFrame) -> AudioFormat:
        fmt: AudioFormat | None = getattr(frame, "_format", None)
        if fmt is not None and fmt is self.fmt:
            return fmt
        if fmt is None or not isinstance(frame, AudioFrame):
            raise InvalidAudioError(
                f"{self.stage} takes lkframes.AudioFrame items (got {type(frame).__name__})"
            )
        if self.fmt is None:
            self.fmt = fmt
        elif fmt != self.fmt:
            raise FormatError(f"{self.stage}: frame format changed mid-stream", self.fmt, fmt)
        self.fmt = fmt  # equal: keep this object so the identity check above hits next time
        return fmt


# -- resample --------------------------------------------------------------------------


def resampled_length(samples: int, in_rate: int, out_rate: int) -> int:
    """Samples per channel that `resample` makes of ``samples`` input samples.

    ``floor(samples * out_rate / in_rate + 1/2)`` in exact integer arithmetic, the length
    ``soxr.resample`` gives for the whole signal.

    Args:
        samples: Input samples per channel.
        in_rate: Input rate in Hz.
        out_rate: Output rate in Hz.

    Returns:
        Output samples per channel.

    Raises:
        ParameterError: A rate that is not a positive int, or a negative ``samples``.

    Examples:
        >>> resampled_length(44_100, 44_100, 16_000), resampled_length(1, 32_000, 16_000)
        (16000, 1)
    """
    in_rate = positive_int(in_rate, "in_rate")
    out_rate = positive_int(out_rate, "out_rate")
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 0:
        raise ParameterError(f"samples must be an int >= 0 (got {samples!r})")
    return (int(samples) * out_rate + in_rate // 2) // in_rate


def resample(sample_rate: int, quality: Quality = "HQ") -> Stage[AudioFrame, AudioFrame]:
    """Resample to ``sample_rate`` with soxr, streaming, flushed at the end of the stream.

    One ``soxr.ResampleStream`` per iteration of the stream. The output equals
    ``soxr.resample`` of the whole signal (float32 bit-exact, int16 within 2 LSB) however
    the input is split, and its length is `resampled_length` (``n * out_rate / in_rate``
    rounded half up). Output frames
    have whatever sizes soxr produces; follow with `chunk` for exact sizes. ``pts`` is
    rescaled to the new rate from the first frame on and then continuous.

    Args:
        sample_rate: Output rate in Hz.
        quality: soxr recipe: ``"QQ"``, ``"LQ"``, ``"MQ"``, ``"HQ"`` (default, as sox's
            ``rate -h``) or ``"VHQ"`` (as ``rate -v``).

    Returns:
        The stage. At the input rate it passes frames through untouched.

    Raises:
        ParameterError: ``sample_rate`` not a positive int, or an unknown quality.
        FormatError: (while running) the input format changes mid-stream.

    Examples:
        >>> import lkframes as lk
        >>> y = lk.run_sync(lk.sine(440, 1.0, 44_100).resample(16_000).to_array())
        >>> y.shape
        (16000,)
    """
    rate = positive_int(sample_rate)
    if quality not in _QUALITIES:
        raise ParameterError(f"quality must be one of {_QUALITIES} (got {quality!r})")
    name = f"resample({rate}, quality={quality!r})"

    def apply(stream: Stream[AudioFrame]) -> Stream[AudioFrame]:
        fmt = stream.format.with_(sample_rate=rate) if stream.format is not None else None
        return stream._derive(name, lambda up: _resample(up, rate, quality, name), fmt)

    return Stage(name, apply)


async def _resample(
    up: Stream[AudioFrame], rate: int, quality: str, name: str
) -> AsyncGenerator[AudioFrame, None]:
    check = _FormatCheck(name, up.format)
    resampler: Any = None
    out_fmt: AudioFormat | None = None
    pts = 0
    async with consume(up) as frames:
        async for frame in frames:
            fmt = check(frame)
            if fmt.sample_rate == rate:
                yield frame
                continue
            if resampler is None:
                resampler = soxr.ResampleStream(
                    fmt.sample_rate, rate, fmt.num_channels, dtype=fmt.dtype, quality=quality
                )
                out_fmt = fmt.with_(sample_rate=rate)
                pts = resampled_length(frame.pts, fmt.sample_rate, rate)
            out = resampler.resample_chunk(frame.data)
            if out.shape[0]:
                yield AudioFrame._wrap(out, out_fmt, pts)  # type: ignore[arg-type]
                pts += out.shape[0]
    if resampler is not None:
        assert out_fmt is not None
        tail = resampler.resample_chunk(
            np.empty((0, out_fmt.num_channels), out_fmt.numpy_dtype), last=True
        )
        if tail.shape[0]:
            yield AudioFrame._wrap(tail, out_fmt, pts)


# -- chunk -----------------------------------------------------------------------------


def chunk(
    *, ms: float | None = None, samples: int | None = None, tail: Tail = "keep"
) -> Stage[AudioFrame, AudioFrame]:
    """Cut the stream into frames of exactly ``ms`` milliseconds or ``samples`` samples.

    Concatenating the output gives back the input sample for sample. Frames are views of
    the incoming blocks where they lie inside one; only frames that straddle two blocks
    are copied (see `FrameBuffer`). ``pts`` starts at the first input frame's pts and is
    continuous.

    Args:
        ms: Frame duration; must be a whole number of samples at the stream's rate.
        samples: Frame size in samples per channel (instead of ``ms``).
        tail: The last, shorter piece: ``"keep"`` it as a short frame (default, nothing
            lost), ``"pad"`` it with silence to full size, or ``"drop"`` it.

    Returns:
        The stage.

    Raises:
        ParameterError: Both or neither of ``ms``/``samples``, a non-positive size, an
            unknown tail policy, or ``ms`` that is not a whole number of samples (at build
            time when the stream's rate is known, else at the first frame).

    Examples:
        >>> import lkframes as lk
        >>> frames = lk.run_sync(lk.silence(0.05, 16_000).chunk(ms=20).collect())
        >>> [f.samples_per_channel for f in frames], [f.pts for f in frames]
        ([320, 320, 160], [0, 320, 640])
    """
    if (ms is None) == (samples is None):
        raise ParameterError(
            f"give exactly one of ms= or samples= (got ms={ms}, samples={samples})"
        )
    if samples is not None:
        samples = samples_for(1, samples=samples)
    elif ms is not None:
        samples_for(1_000_000, ms=ms)  # validates sign/finiteness now, exactness later
    if tail not in _TAILS:
        raise ParameterError(f"tail must be one of {_TAILS} (got {tail!r})")
    size_text = f"ms={ms}" if ms is not None else f"samples={samples}"
    name = f"chunk({size_text}, tail={tail!r})"

    def apply(stream: Stream[AudioFrame]) -> Stream[AudioFrame]:
        if ms is not None and stream.format is not None:
            samples_for(stream.format.sample_rate, ms=ms)  # raise at build time
        return stream._derive(name, lambda up: _chunk(up, ms, samples, tail, name), stream.format)

    return Stage(name, apply)


async def _chunk(
    up: Stream[AudioFrame], ms: float | None, samples: int | None, tail: str, name: str
) -> AsyncGenerator[AudioFrame, None]:
    from ._buffer import FrameBuffer

    check = _FormatCheck(name, up.format)
    buf: FrameBuffer | None = None
    fmt: AudioFormat | None = None
    size = 0
    pts = 0
    async with consume(up) as frames:
        async for frame in frames:
            fmt = check(frame)
            if buf is None:
                size = samples_for(fmt.sample_rate, ms=ms, samples=samples)
                buf = FrameBuffer(fmt.num_channels, fmt.dtype)
                pts = frame.pts
            buf._push_valid(frame.data)
            while buf._available >= size:
                yield AudioFrame._wrap(buf._take(size), fmt, pts)
                pts += size
    if buf is None or fmt is None or not buf.available or tail == "drop":
        return
    rest = buf.pop_all()
    if tail == "pad":
        padded = np.zeros((size, fmt.num_channels), fmt.numpy_dtype)
        padded[: rest.shape[0]] = rest
        rest = padded
    yield AudioFrame._wrap(rest, fmt, pts)


# -- remix, to_dtype, gain -------------------------------------------------------------


def remix(num_channels: int, *, matrix: ArrayLike | None = None) -> Stage[AudioFrame, AudioFrame]:
    """Change the channel count: mono to N copies, N to mono by averaging, or any matrix.

    Args:
        num_channels: Output channels.
        matrix: ``(input_channels, num_channels)`` gains; ``out = in @ matrix``. Required
            for conversions other than to or from mono, e.g. ``[[1, 0], [0, 1], [.7, .7]]``
            for 3 to 2 channels.

    Returns:
        The stage. int16 results are rounded and clipped.

    Raises:
        ParameterError: ``num_channels`` not positive, a matrix of the wrong shape or with
            non-finite values, or no matrix where no default exists.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> stereo = np.array([[100, 300], [-50, 50]], np.int16)
        >>> lk.run_sync(lk.from_array(stereo, 8_000).remix(1).to_array()).ravel().tolist()
        [200, 0]
    """
    out_channels = positive_int(num_channels, "num_channels")
    given: NDArray[np.float32] | None = None
    if matrix is not None:
        given = np.asarray(matrix, dtype=np.float32)
        if given.ndim != 2 or given.shape[1] != out_channels:
            raise ParameterError(
                f"matrix has invalid shape {given.shape} (expected (input_channels, "
                f"{out_channels}))"
            )
        if not np.isfinite(given).all():
            raise ParameterError("matrix contains NaN or infinity (expected finite gains)")
    name = f"remix({out_channels})"

    def matrix_for(in_channels: int) -> NDArray[np.float32] | None:
        if given is not None:
            if given.shape[0] != in_channels:
                raise FormatError(
                    f"{name}: matrix rows do not match the input channels",
                    f"{given.shape[0]} channels",
                    f"{in_channels} channels",
                )
            return given
        if in_channels == out_channels:
            return None
        default = _dsp.mix_matrix(in_channels, out_channels)
        if default is None:
            raise ParameterError(
                f"no default mix from {in_channels} to {out_channels} channels; pass matrix="
            )
        return default

    def apply(stream: Stream[AudioFrame]) -> Stream[AudioFrame]:
        fmt = None
        if stream.format is not None:
            matrix_for(stream.format.num_channels)  # raise at build time
            fmt = stream.format.with_(num_channels=out_channels)
        return stream._derive(name, lambda up: _remix(up, matrix_for, out_channels, name), fmt)

    return Stage(name, apply)


async def _remix(
    up: Stream[AudioFrame],
    matrix_for: Callable[[int], NDArray[np.float32] | None],
    out_channels: int,
    name: str,
) -> AsyncGenerator[AudioFrame, None]:
    check = _FormatCheck(name, up.format)
    out_fmt: AudioFormat | None = None
    matrix: NDArray[np.float32] | None = None
    async with consume(up) as frames:
        async for frame in frames:
            fmt = check(frame)
            if out_fmt is None:
                matrix = matrix_for(fmt.num_channels)
                out_fmt = fmt.with_(num_channels=out_channels)
            if matrix is None:
                yield frame
            else:
                yield AudioFrame._wrap(_dsp.apply_matrix(frame.data, matrix), out_fmt, frame.pts)


def to_dtype(dtype: DType) -> Stage[AudioFrame, AudioFrame]:
    """Convert samples to ``"int16"`` or ``"float32"``.

    int16 full scale (32768) is float 1.0; float to int16 rounds and clips, so
    int16 → float32 → int16 is exact.

    Raises:
        ParameterError: An unsupported dtype.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> x = np.array([-32768, 16384], np.int16)
        >>> lk.run_sync(lk.from_array(x, 8_000).to_dtype("float32").to_array()).tolist()
        [-1.0, 0.5]
    """
    if dtype not in SUPPORTED_DTYPES:
        raise ParameterError(f"dtype must be one of {SUPPORTED_DTYPES} (got {dtype!r})")
    name = f"to_dtype({dtype!r})"

    def convert(frame: AudioFrame, fmt: AudioFormat) -> AudioFrame:
        return AudioFrame._wrap(_dsp.convert_dtype(frame.data, dtype), fmt, frame.pts)

    return _per_frame(name, convert, lambda f: f.with_(dtype=dtype), lambda f: f.dtype == dtype)


def gain(db: float) -> Stage[AudioFrame, AudioFrame]:
    """Multiply the level by ``10 ** (db / 20)``; int16 is rounded and clipped.

    Raises:
        ParameterError: ``db`` is NaN or infinite.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> x = np.array([1000, -1000], np.int16)
        >>> lk.run_sync(lk.from_array(x, 8_000).gain(-6.0206).to_array()).tolist()
        [500, -500]
    """
    if not np.isfinite(db):
        raise ParameterError(f"db must be finite (got {db})")
    factor = float(10.0 ** (db / 20.0))
    name = f"gain({db:g} dB)"

    def scale(frame: AudioFrame, fmt: AudioFormat) -> AudioFrame:
        return AudioFrame._wrap(_dsp.scale(frame.data, factor), fmt, frame.pts)

    return _per_frame(name, scale, lambda f: f, lambda f: db == 0)


def _per_frame(
    name: str,
    transform: Callable[[AudioFrame, AudioFormat], AudioFrame],
    out_format: Callable[[AudioFormat], AudioFormat],
    identity: Callable[[AudioFormat], bool],
) -> Stage[AudioFrame, AudioFrame]:
    """A stage that maps each frame independently to a frame of a derived format."""

    async def run(up: Stream[AudioFrame]) -> AsyncGenerator[AudioFrame, None]:
        check = _FormatCheck(name, up.format)
        out_fmt: AudioFormat | None = None
        async with consume(up) as frames:
            async for frame in frames:
                fmt = check(frame)
                if identity(fmt):
                    yield frame
                    continue
                if out_fmt is None:
                    out_fmt = out_format(fmt)
                yield transform(frame, out_fmt)

    def apply(stream: Stream[AudioFrame]) -> Stream[AudioFrame]:
        fmt = out_format(stream.format) if stream.format is not None else None
        return stream._derive(name, run, fmt)

    return Stage(name, apply)


# -- map, filter, tap ------------------------------------------------------------------


def _label(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _annotate(exc: BaseException, stage: str, frame: object) -> None:
    where = f" at pts={frame.pts}" if isinstance(frame, AudioFrame) else ""
    exc.add_note(f"raised in lkframes stage {stage}{where}")


async def _call(fn: Callable[[T], object], item: T) -> Any:
    result = fn(item)
    if inspect.isawaitable(result):
        result = await result
    return result


def map(
    fn: MapFunction,
    *,
    concurrency: int = 1,
    format: AudioFormat | None = None,
) -> Stage[AudioFrame, AudioFrame]:
    """Apply ``fn`` to every frame; ``fn`` may be sync or async.

    ``fn`` returns an `AudioFrame`, or a numpy array that becomes a frame with the input
    frame's rate and pts. The output must keep the input format unless ``format`` declares
    another, so a function that changes the channel count by mistake is caught at the first
    frame instead of producing wrong-speed or garbled audio downstream.

    Args:
        fn: ``frame -> frame | ndarray`` or an async function of the same shape.
        concurrency: Run ``fn`` on up to this many frames at once (async functions in one
            task each, sync functions in worker threads). Order is kept: frames are taken in
            batches of ``concurrency`` and yielded in input order when the batch is done.
        format: The output format when ``fn`` changes it (rate, channels or dtype).

    Returns:
        The stage.

    Raises:
        ParameterError: ``concurrency`` < 1 or ``fn`` not callable.
        FormatError: (while running) ``fn`` returned a frame of another format.
        InvalidAudioError: (while running) ``fn`` returned something that is not audio.
        Exception: whatever ``fn`` raises, unchanged, with a note naming the stage and pts.

    Examples:
        >>> import lkframes as lk
        >>> quieter = lk.sine(1000, 0.1, 8_000).map(lambda f: f.data // 2)
        >>> int(lk.run_sync(quieter.to_array()).max())
        8192
    """
    if not callable(fn):
        raise ParameterError(f"fn must be callable (got {type(fn).__name__})")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ParameterError(f"concurrency must be an int >= 1 (got {concurrency!r})")
    name = f"map({_label(fn)})"
    is_async = inspect.iscoroutinefunction(fn)

    def result_frame(result: object, frame: AudioFrame, expected: AudioFormat) -> AudioFrame:
        if isinstance(result, AudioFrame):
            out = result
        elif isinstance(result, np.ndarray):
            try:
                out = AudioFrame(result, expected.sample_rate, pts=frame.pts)
            except InvalidAudioError as exc:
                _annotate(exc, name, frame)
                raise
        else:
            raise InvalidAudioError(
                f"{name} must return an AudioFrame or a numpy array (got {type(result).__name__})"
            )
        if out._format is not expected and out._format != expected:
            raise FormatError(
                f"{name} changed the frame format",
                expected,
                out._format,
                hint="pass format= to map() to declare the new format",
            )
        return out

    async def call(frame: AudioFrame) -> Any:
        try:
            if concurrency > 1 and not is_async:
                return await anyio.to_thread.run_sync(fn, frame)
            return await _call(fn, frame)
        except Exception as exc:
            _annotate(exc, name, frame)
            raise

    async def run_batch(batch: list[AudioFrame]) -> list[Any]:
        results: list[Any] = [None] * len(batch)
        failed: dict[int, int] = {}  # id(exception) -> index in the batch

        async def one(i: int) -> None:
            try:
                results[i] = await call(batch[i])
            except Exception as exc:
                failed[id(exc)] = i
                raise

        try:
            async with anyio.create_task_group() as tg:
                for i in range(len(batch)):
                    tg.start_soon(one, i)
        except BaseExceptionGroup as group:
            errors = [
                e for e in group.exceptions if not isinstance(e, anyio.get_cancelled_exc_class())
            ]
            if errors and all(id(e) in failed for e in errors):
                # As with concurrency=1: the error of the earliest failing frame, unwrapped.
                first = min(errors, key=lambda e: failed[id(e)])
                if len(errors) > 1:
                    first.add_note(f"{len(errors) - 1} more frame(s) of the same batch failed")
                raise first from None
            raise
        return results

    async def run(up: Stream[AudioFrame]) -> AsyncGenerator[AudioFrame, None]:
        check = _FormatCheck(name, up.format)
        expected = format
        batch: list[AudioFrame] = []
        async with consume(up) as frames:
            async for frame in frames:
                fmt = check(frame)
                if expected is None:
                    expected = fmt
                if concurrency == 1:
                    yield result_frame(await call(frame), frame, expected)
                    continue
                batch.append(frame)
                if len(batch) == concurrency:
                    results = await run_batch(batch)
                    for result, source in zip(results, batch, strict=True):
                        yield result_frame(result, source, expected)
                    batch = []
            if batch:
                assert expected is not None
                results = await run_batch(batch)
                for result, source in zip(results, batch, strict=True):
                    yield result_frame(result, source, expected)

    def apply(stream: Stream[AudioFrame]) -> Stream[AudioFrame]:
        return stream._derive(name, run, format if format is not None else stream.format)

    return Stage(name, apply)


def filter(predicate: Callable[[T], bool | Awaitable[bool]]) -> Stage[T, T]:
    """Keep only the frames for which ``predicate`` (sync or async) returns true.

    Dropped frames leave a gap in ``pts``; follow with `chunk` to get continuous frames.

    Raises:
        ParameterError: ``predicate`` is not callable.
        Exception: whatever ``predicate`` raises, with a note naming the stage.

    Examples:
        >>> import lkframes as lk
        >>> loud = lk.sine(440, 0.1, 16_000).chunk(ms=20).filter(lambda f: f.pts >= 640)
        >>> [f.pts for f in lk.run_sync(loud.collect())]
        [640, 960, 1280]
    """
    if not callable(predicate):
        raise ParameterError(f"predicate must be callable (got {type(predicate).__name__})")
    name = f"filter({_label(predicate)})"

    async def run(up: Stream[T]) -> AsyncGenerator[T, None]:
        async with consume(up) as items:
            async for item in items:
                try:
                    keep = await _call(predicate, item)
                except Exception as exc:
                    _annotate(exc, name, item)
                    raise
                if keep:
                    yield item

    return Stage(name, lambda stream: stream._derive(name, run, stream.format))


def tap(fn: Callable[[T], object]) -> Stage[T, T]:
    """Call ``fn`` (sync or async) on every frame for its side effect; pass frames on.

    Raises:
        ParameterError: ``fn`` is not callable.
        Exception: whatever ``fn`` raises, with a note naming the stage.

    Examples:
        >>> import lkframes as lk
        >>> seen = []
        >>> _ = lk.run_sync(lk.silence(0.04, 16_000).chunk(ms=20).tap(seen.append).run())
        >>> len(seen)
        2
    """
    if not callable(fn):
        raise ParameterError(f"fn must be callable (got {type(fn).__name__})")
    name = f"tap({_label(fn)})"

    async def run(up: Stream[T]) -> AsyncGenerator[T, None]:
        async with consume(up) as items:
            async for item in items:
                try:
                    await _call(fn, item)
                except Exception as exc:
                    _annotate(exc, name, item)
                    raise
                yield item

    return Stage(name, lambda stream: stream._derive(name, run, stream.format))


# -- take, skip --------------------------------------------------------------------------


def _limit(n: int | None, ms: float | None, samples: int | None, what: str) -> tuple[str, float]:
    given = [(k, v) for k, v in (("n", n), ("ms", ms), ("samples", samples)) if v is not None]
    if len(given) != 1:
        raise ParameterError(f"{what}: give exactly one of n, ms= or samples= (got {dict(given)})")
    key, value = given[0]
    if key != "ms" and (isinstance(value, bool) or not isinstance(value, int | np.integer)):
        raise ParameterError(f"{what}: {key} must be an int (got {type(value).__name__})")
    if not np.isfinite(value) or value < 0:
        raise ParameterError(f"{what}: {key} must be >= 0 (got {value})")
    return key, value


def _sample_limit(key: str, value: float, frame: AudioFrame, what: str) -> int:
    if not isinstance(frame, AudioFrame):
        raise InvalidAudioError(
            f"{what} with {key}= needs AudioFrame items (got {type(frame).__name__})"
        )
    if key == "samples":
        return int(value)
    return 0 if value == 0 else samples_for(frame.sample_rate, ms=value)


def take(
    n: int | None = None, *, ms: float | None = None, samples: int | None = None
) -> Stage[T, T]:
    """The first ``n`` frames, or exactly the first ``ms`` / ``samples`` of audio.

    With ``ms`` or ``samples`` the last frame is cut to the exact length. The upstream is
    closed as soon as the limit is reached, so ``take`` ends live sources promptly.

    Raises:
        ParameterError: Not exactly one limit, a negative limit, or ``ms`` that is not a
            whole number of samples at the stream's rate.

    Examples:
        >>> import lkframes as lk
        >>> lk.run_sync(lk.sine(440, None, 16_000).take(ms=250).to_array()).shape
        (4000,)
    """
    key, value = _limit(n, ms, samples, "take")
    name = f"take({key}={value})" if key != "n" else f"take({value})"

    async def run(up: Stream[T]) -> AsyncGenerator[T, None]:
        if value == 0:
            return
        remaining: int | None = int(value) if key == "n" else None
        last: list[T] = []  # the item that reaches the limit, yielded once upstream is closed
        async with consume(up) as items:
            async for item in items:
                if key == "n":
                    assert remaining is not None
                    remaining -= 1
                    if remaining == 0:
                        last.append(item)
                        break
                    yield item
                    continue
                frame = cast(AudioFrame, item)
                if remaining is None:
                    remaining = _sample_limit(key, value, frame, name)
                size = frame.samples_per_channel
                if size >= remaining:
                    if remaining:
                        cut = AudioFrame._wrap(frame.data[:remaining], frame.format, frame.pts)
                        last.append(cast(T, cut))
                    break
                remaining -= size
                yield item
        for item in last:
            yield item

    return Stage(name, lambda stream: stream._derive(name, run, stream.format))


def skip(
    n: int | None = None, *, ms: float | None = None, samples: int | None = None
) -> Stage[T, T]:
    """Drop the first ``n`` frames, or exactly the first ``ms`` / ``samples`` of audio.

    With ``ms`` or ``samples`` the frame that straddles the cut is trimmed and its ``pts``
    advanced accordingly (pts keep counting from the stream's start).

    Raises:
        ParameterError: Not exactly one limit, a negative limit, or ``ms`` that is not a
            whole number of samples at the stream's rate.

    Examples:
        >>> import lkframes as lk
        >>> frames = lk.run_sync(lk.silence(0.1, 16_000).skip(ms=30).chunk(ms=50).collect())
        >>> [(f.pts, f.samples_per_channel) for f in frames]
        [(480, 800), (1280, 320)]
    """
    key, value = _limit(n, ms, samples, "skip")
    name = f"skip({key}={value})" if key != "n" else f"skip({value})"

    async def run(up: Stream[T]) -> AsyncGenerator[T, None]:
        remaining: int | None = int(value) if key == "n" else None
        async with consume(up) as items:
            async for item in items:
                if key == "n":
                    assert remaining is not None
                    if remaining:
                        remaining -= 1
                        continue
                    yield item
                    continue
                frame = cast(AudioFrame, item)
                if remaining is None:
                    remaining = _sample_limit(key, value, frame, name)
                if remaining == 0:
                    yield item
                    continue
                size = frame.samples_per_channel
                if size <= remaining:
                    remaining -= size
                    continue
                cut = remaining
                remaining = 0
                yield cast(T, AudioFrame._wrap(frame.data[cut:], frame.format, frame.pts + cut))

    return Stage(name, lambda stream: stream._derive(name, run, stream.format))
