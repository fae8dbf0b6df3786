"""`Stream[T]`: a lazy, re-openable async pipeline of frames with its format.

Stages are chained async generators run by the task that consumes the stream. Stages that
need concurrency (``map(concurrency=n)``, `merge`) start their tasks in the task group that
`Stream.open` holds for the whole pipeline, so no ``yield`` ever sits inside a task group.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import anyio
import numpy as np
from anyio.abc import TaskGroup
from numpy.typing import NDArray

from . import registry
from .checks import FormatGuard
from .display import FrameList
from .errors import FormatError, LkFramesError
from .format import AudioFormat, DType
from .frame import AudioFrame
from .params import Quality, Tail
from .resources import held

if TYPE_CHECKING:
    from livekit import rtc
    from numpy.typing import ArrayLike

    from .stage import Stage
    from .video import VideoFrame

__all__ = ("RunSummary", "Stream", "consume", "current_task_group")

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
B = TypeVar("B")

_task_group: contextvars.ContextVar[TaskGroup | None] = contextvars.ContextVar(
    "lkframes_task_group", default=None
)

NEEDS_OPEN = (
    "{name} runs tasks (map with concurrency, merge): iterate it with "
    "`async with stream.open() as frames:` or a terminal such as collect()"
)


def current_task_group() -> TaskGroup:
    """The task group of the pipeline being run, for stages that start tasks.

    `Stream.open` (and every terminal, which uses it) holds one task group for the whole
    pipeline when a stage declared ``tasks=True``. A stage starts its tasks there instead
    of in a task group of its own, so that it never yields inside one; it must stop them
    (cancel their scopes and wait for them) when it is closed.

    Returns:
        The task group.

    Raises:
        LkFramesError: No pipeline with tasks is being run in this context.

    Examples:
        >>> import lkframes as lk
        >>> try:
        ...     lk.current_task_group()
        ... except lk.LkFramesError:
        ...     print("not inside a pipeline")
        not inside a pipeline
    """
    group = _task_group.get()
    if group is None:
        raise LkFramesError(
            "no pipeline task group here: a stage that starts tasks must be declared with "
            "Stage(..., tasks=True) and run inside Stream.open() or a terminal"
        )
    return group


@contextlib.asynccontextmanager
async def consume(items: AsyncIterable[T]) -> AsyncGenerator[AsyncGenerator[T, None], None]:
    """Iterate ``items`` and close its iterator on exit, however the block is left.

    Every stage reads its upstream through this, so closing the last stage of a pipeline
    (``break`` inside `Stream.open`, cancellation, an exception) closes all the stages
    before it, in order, without waiting for the garbage collector.

    Raises:
        Exception: Whatever closing the iterator raises.

    Examples:
        >>> import lkframes as lk
        >>> async def first_pts(stream):
        ...     async with lk.consume(stream) as frames:
        ...         async for frame in frames:
        ...             return frame.pts
        >>> lk.run_sync(first_pts(lk.silence(0.1, 8_000)))
        0
    """
    iterator: Any = items._open() if isinstance(items, Stream) else aiter(items)
    with held("stage"):
        try:
            yield iterator
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a terminal or sink saw: counts of frames and samples that went through.

    Examples:
        >>> import lkframes as lk
        >>> summary = lk.run_sync(lk.silence(0.5, 16_000).chunk(ms=100).run())
        >>> summary.frames, summary.samples_per_channel, summary.duration
        (5, 8000, 0.5)
    """

    frames: int
    """Frames (items) that reached the end of the pipeline."""
    samples_per_channel: int
    """Total samples per channel of the audio frames among them."""
    format: AudioFormat | None
    """Format of the audio frames, None if there were none and it was never declared."""

    @property
    def duration(self) -> float:
        """Seconds of audio that went through (0.0 without a known format)."""
        if self.format is None:
            return 0.0
        return self.samples_per_channel / self.format.sample_rate


class Stream(Generic[T_co]):
    """An async-iterable pipeline of frames with its format, where known.

    Streams are lazy: nothing runs until the stream is iterated or a terminal method
    (`collect`, `to_array`, `run`, a sink) is awaited. Each iteration opens the pipeline
    anew from its source, so streams over arrays and synthetic signals can be consumed more
    than once; streams over one-shot iterators (a live track, a generator) cannot.

    Fluent methods (`resample`, `chunk`, `map`, ...) return new streams and leave this one
    unchanged; ``stream | lk.resample(16_000)`` is the same as ``stream.resample(16_000)``.

    Use ``async with stream.open() as frames:`` to iterate with a guaranteed close of every
    stage when the block exits (``break``, exception or cancellation); a bare ``async for``
    leaves closing an abandoned pipeline to the event loop's async-generator finaliser, and
    is refused for pipelines that run tasks (`merge`, ``map(concurrency=n)``).

    Args:
        open: Returns a fresh async generator of frames each time it is called.
        format: The `AudioFormat` of the frames, if known before the first frame.
        name: A label shown in reprs.
        flat: The source was 1-D, so `to_array` returns 1-D for mono output.
        tasks: Some stage starts tasks (see `current_task_group`).

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> stream = lk.from_array(np.zeros(1_600, np.int16), 16_000).chunk(ms=20)
        >>> stream.format
        AudioFormat(sample_rate=16000, num_channels=1, dtype='int16')
        >>> len(lk.run_sync(stream.collect()))
        5
    """

    __slots__ = ("_flat", "_name", "_open", "_tasks", "format")

    def __init__(
        self,
        open: Callable[[], AsyncGenerator[T_co, None]],
        *,
        format: AudioFormat | None = None,
        name: str = "stream",
        flat: bool = False,
        tasks: bool = False,
    ) -> None:
        self._open = open
        self.format = format
        """The format of the frames, if known before iteration (else None)."""
        self._name = name
        self._flat = flat
        self._tasks = tasks

    @property
    def name(self) -> str:
        """The label shown in reprs: the source and its stages."""
        return self._name

    @property
    def flat(self) -> bool:
        """Whether the source was 1-D, so `to_array` gives mono output as 1-D."""
        return self._flat

    @property
    def runs_tasks(self) -> bool:
        """Whether some stage starts tasks (then iterate through `open` or a terminal)."""
        return self._tasks

    def __repr__(self) -> str:
        fmt = f", {self.format}" if self.format is not None else ""
        return f"Stream({self._name}{fmt})"

    def __aiter__(self) -> AsyncGenerator[T_co, None]:
        if self._tasks:
            raise LkFramesError(NEEDS_OPEN.format(name=self._name))
        return self._open()

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncGenerator[AsyncGenerator[T_co, None], None]:
        """Open the pipeline as an async context manager that closes every stage on exit.

        Examples:
            >>> import lkframes as lk
            >>> async def first_frame():
            ...     async with lk.sine(440, 1.0, 16_000).chunk(ms=20).open() as frames:
            ...         async for frame in frames:
            ...             return frame.samples_per_channel
            >>> lk.run_sync(first_frame())
            320
        """
        if not self._tasks:
            async with contextlib.aclosing(self._open()) as frames:
                yield frames
            return
        try:
            async with anyio.create_task_group() as group:
                token = _task_group.set(group)
                try:
                    async with contextlib.aclosing(self._open()) as frames:
                        yield frames
                finally:
                    _task_group.reset(token)
        except BaseExceptionGroup as group_error:
            # The stages' tasks hand their errors to the stage, never to the task group, so
            # the group holds only what the caller's own block raised: give that back as is.
            if len(group_error.exceptions) == 1:
                raise group_error.exceptions[0] from None
            raise

    def __or__(self, stage: Stage[T_co, B]) -> Stream[B]:
        return stage(self)

    def pipe(self, stage: Stage[T_co, B]) -> Stream[B]:
        """Apply ``stage`` (the same as ``self | stage``)."""
        return stage(self)

    # -- stages: each the same as ``self | lkframes.<name>(...)`` (tests/core/test_registry.py)

    def resample(
        self: Stream[AudioFrame], sample_rate: int, quality: Quality = "HQ"
    ) -> Stream[AudioFrame]:
        """Resample to ``sample_rate`` with soxr. See `lkframes.resample`."""
        return self.pipe(registry.stage("resample")(sample_rate, quality))

    def chunk(
        self: Stream[AudioFrame],
        *,
        ms: float | None = None,
        samples: int | None = None,
        tail: Tail = "keep",
    ) -> Stream[AudioFrame]:
        """Cut into frames of exactly ``ms`` or ``samples``. See `lkframes.chunk`."""
        return self.pipe(registry.stage("chunk")(ms=ms, samples=samples, tail=tail))

    def remix(
        self: Stream[AudioFrame], num_channels: int, *, matrix: ArrayLike | None = None
    ) -> Stream[AudioFrame]:
        """Change the channel count. See `lkframes.remix`."""
        return self.pipe(registry.stage("remix")(num_channels, matrix=matrix))

    def to_dtype(self: Stream[AudioFrame], dtype: DType) -> Stream[AudioFrame]:
        """Convert samples to ``dtype``, scaled and clipped. See `lkframes.to_dtype`."""
        return self.pipe(registry.stage("to_dtype")(dtype))

    def gain(self: Stream[AudioFrame], db: float) -> Stream[AudioFrame]:
        """Change the level by ``db`` decibels. See `lkframes.gain`."""
        return self.pipe(registry.stage("gain")(db))

    def denoise(self: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """LiveKit's noise suppression, offline. See `lkframes.denoise`."""
        return self.pipe(registry.stage("denoise")())

    def high_pass(self: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """LiveKit's high-pass filter. See `lkframes.high_pass`."""
        return self.pipe(registry.stage("high_pass")())

    def auto_gain(self: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """LiveKit's automatic gain control. See `lkframes.auto_gain`."""
        return self.pipe(registry.stage("auto_gain")())

    def echo_cancel(
        self: Stream[AudioFrame], reference: Stream[AudioFrame], *, delay_ms: int = 0
    ) -> Stream[AudioFrame]:
        """Remove the echo of ``reference`` (what was played). See `lkframes.echo_cancel`."""
        return self.pipe(registry.stage("echo_cancel")(reference, delay_ms=delay_ms))

    def process(
        self: Stream[AudioFrame],
        *,
        noise_suppression: bool = False,
        echo_cancellation: bool = False,
        auto_gain_control: bool = False,
        high_pass_filter: bool = False,
        reference: Stream[AudioFrame] | None = None,
        delay_ms: int = 0,
    ) -> Stream[AudioFrame]:
        """LiveKit's audio processing with any mix of features. See `lkframes.process`."""
        return self.pipe(
            registry.stage("process")(
                noise_suppression=noise_suppression,
                echo_cancellation=echo_cancellation,
                auto_gain_control=auto_gain_control,
                high_pass_filter=high_pass_filter,
                reference=reference,
                delay_ms=delay_ms,
            )
        )

    def map(
        self,
        fn: Callable[[T_co], Any],
        *,
        concurrency: int = 1,
        ordered: bool = True,
        format: AudioFormat | None = None,
    ) -> Stream[T_co]:
        """Apply ``fn`` (sync or async) to every item. See `lkframes.map`."""
        return self.pipe(
            registry.stage("map")(fn, concurrency=concurrency, ordered=ordered, format=format)
        )

    def flat_map(
        self, fn: Callable[[T_co], Any], *, format: AudioFormat | None = None
    ) -> Stream[T_co]:
        """Replace every item by the items ``fn`` returns. See `lkframes.flat_map`."""
        return self.pipe(registry.stage("flat_map")(fn, format=format))

    def filter(self, predicate: Callable[[T_co], bool | Awaitable[bool]]) -> Stream[T_co]:
        """Keep the items for which ``predicate`` is true. See `lkframes.filter`."""
        return self.pipe(registry.stage("filter")(predicate))

    def tap(self, fn: Callable[[T_co], object]) -> Stream[T_co]:
        """Call ``fn`` on every item and pass it on. See `lkframes.tap`."""
        return self.pipe(registry.stage("tap")(fn))

    def take(
        self, n: int | None = None, *, ms: float | None = None, samples: int | None = None
    ) -> Stream[T_co]:
        """The first ``n`` items, or the first ``ms``/``samples`` of audio. See `lkframes.take`."""
        return self.pipe(registry.stage("take")(n, ms=ms, samples=samples))

    def skip(
        self, n: int | None = None, *, ms: float | None = None, samples: int | None = None
    ) -> Stream[T_co]:
        """All but the first ``n`` items or ``ms``/``samples``. See `lkframes.skip`."""
        return self.pipe(registry.stage("skip")(n, ms=ms, samples=samples))

    def take_while(self, predicate: Callable[[T_co], bool | Awaitable[bool]]) -> Stream[T_co]:
        """Items while ``predicate`` holds, then stop. See `lkframes.take_while`."""
        return self.pipe(registry.stage("take_while")(predicate))

    def skip_while(self, predicate: Callable[[T_co], bool | Awaitable[bool]]) -> Stream[T_co]:
        """Drop items while ``predicate`` holds, then pass all. See `lkframes.skip_while`."""
        return self.pipe(registry.stage("skip_while")(predicate))

    def timeout(self, seconds: float) -> Stream[T_co]:
        """Fail if an item takes longer than ``seconds`` to arrive. See `lkframes.timeout`."""
        return self.pipe(registry.stage("timeout")(seconds))

    def concat(self: Stream[AudioFrame], *others: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """This stream, then each of ``others``, with continuous pts. See `lkframes.concat`."""
        result: Stream[AudioFrame] = registry.method("concat")(self, *others)
        return result

    # -- terminals -----------------------------------------------------------------

    async def collect(self) -> FrameList[T_co]:
        """Run the pipeline to its end and return every item.

        Returns:
            A `list` of the items (a `FrameList`, which also renders as an audio player
            and waveform in Jupyter).

        Raises:
            Exception: Whatever a stage raises; every stage is closed first.

        Examples:
            >>> import lkframes as lk
            >>> len(lk.run_sync(lk.silence(0.1, 8_000).chunk(ms=20).collect()))
            5
        """
        async with self.open() as frames:
            return FrameList([frame async for frame in frames])

    async def run(self) -> RunSummary:
        """Run the pipeline to its end, discarding the items, and count what went through.

        Returns:
            A `RunSummary` with the number of items and samples per channel.

        Examples:
            >>> import lkframes as lk
            >>> lk.run_sync(lk.silence(0.1, 8_000).chunk(ms=20).run()).frames
            5
        """
        count = 0
        samples = 0
        fmt = self.format
        async with self.open() as frames:
            async for frame in frames:
                count += 1
                if isinstance(frame, AudioFrame):
                    samples += frame.samples_per_channel
                    fmt = frame.format
        return RunSummary(count, samples, fmt)

    async def to_array(self: Stream[AudioFrame], *, squeeze: bool | None = None) -> NDArray[Any]:
        """Run the pipeline and return all samples as one array.

        Args:
            squeeze: Return 1-D for mono. By default, 1-D when the stream is mono and its
                source was 1-D (an array or a synthetic mono signal), else
                ``(samples, channels)``.

        Returns:
            The samples, concatenated in order.

        Raises:
            FormatError: The frames' format changed mid-stream, or the stream yielded no
                frame and has no declared format (so the shape is unknown).

        Examples:
            >>> import lkframes as lk
            >>> lk.run_sync(lk.silence(0.1, 8_000, num_channels=2).to_array()).shape
            (800, 2)
        """
        blocks: list[NDArray[Any]] = []
        guard = FormatGuard("to_array", self.format)
        async with self.open() as frames:
            async for frame in frames:
                guard(frame)
                blocks.append(frame.data)
        fmt = guard.format
        if fmt is None:
            raise FormatError(
                "cannot shape an empty stream of unknown format",
                "a declared format or at least one frame",
                "no frames",
            )
        if blocks:
            out = np.concatenate(blocks) if len(blocks) > 1 else blocks[0].copy()
        else:
            out = np.empty((0, fmt.num_channels), fmt.numpy_dtype)
        if squeeze is None:
            squeeze = self._flat
        if squeeze and fmt.num_channels == 1:
            return out.reshape(-1)
        return out

    # -- sinks: each the same as ``lkframes.<name>(self, ...)`` ----------------------

    async def to_file(
        self: Stream[AudioFrame],
        path: str | os.PathLike[str],
        *,
        subtype: str | None = None,
        format: str | None = None,
        overwrite: bool = False,
    ) -> RunSummary:
        """Write the audio to ``path`` incrementally. See `lkframes.to_file`."""
        summary: RunSummary = await registry.method("to_file")(
            self, path, subtype=subtype, format=format, overwrite=overwrite
        )
        return summary

    @overload
    async def to_source(
        self: Stream[AudioFrame],
        source: rtc.AudioSource,
        *,
        frame_ms: int = 20,
        wait_for_playout: bool = True,
    ) -> RunSummary: ...
    @overload
    async def to_source(
        self: Stream[VideoFrame], source: rtc.VideoSource, *, realtime: bool = True
    ) -> RunSummary: ...
    async def to_source(
        self: Stream[Any],
        source: rtc.AudioSource | rtc.VideoSource,
        *,
        frame_ms: int = 20,
        wait_for_playout: bool = True,
        realtime: bool = True,
    ) -> RunSummary:
        """Push into a LiveKit source in real time. See `lkframes.to_source`.

        An ``rtc.VideoSource`` takes a stream of `VideoFrame` (see
        `lkframes.to_video_source`).
        """
        from livekit import rtc as livekit_rtc

        if isinstance(source, livekit_rtc.VideoSource):
            video: RunSummary = await registry.method("to_video_source")(
                self, source, realtime=realtime
            )
            return video
        audio: RunSummary = await registry.method("to_source")(
            self, source, frame_ms=frame_ms, wait_for_playout=wait_for_playout
        )
        return audio

    async def publish(
        self: Stream[AudioFrame],
        room: rtc.Room,
        name: str,
        *,
        source: rtc.TrackSource.ValueType | None = None,
        sample_rate: int = 48_000,
        num_channels: int = 1,
        frame_ms: int = 20,
        queue_size_ms: int = 1000,
    ) -> RunSummary:
        """Publish to a room as an audio track, in real time. See `lkframes.publish`."""
        summary: RunSummary = await registry.method("publish")(
            self,
            room,
            name,
            source=source,
            sample_rate=sample_rate,
            num_channels=num_channels,
            frame_ms=frame_ms,
            queue_size_ms=queue_size_ms,
        )
        return summary
