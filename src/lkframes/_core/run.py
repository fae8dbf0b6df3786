"""`StreamBase`: what runs a stream (opening, iterating, terminals); `Stream` adds methods.

Stages are chained async generators run by the task that consumes the stream. Stages that
need concurrency (``map(concurrency=n)``, `merge`) start their tasks in the task group that
`Stream.open` holds for the whole pipeline, so no ``yield`` ever sits inside a task group.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import numpy as np
from numpy.typing import NDArray

from . import registry
from .checks import FormatGuard, PtsGuard
from .errors import FormatError, NeedsOpenError
from .format import AudioFormat
from .frame import AudioFrame
from .framelist import FrameList
from .opening import NEEDS_OPEN, running, task_group_var
from .plan import explain
from .tasks import one_error

if TYPE_CHECKING:
    from .loudness import Loudness

__all__ = ("RunSummary", "StreamBase")

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
B = TypeVar("B")


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


class StreamBase(Generic[T_co]):
    """What runs a `Stream`: its source, format, opening, iteration and terminals.

    `Stream` adds the stage and sink methods; build streams with `Stream`.

    Examples:
        >>> import lkframes as lk
        >>> isinstance(lk.silence(0.1), lk.Stream)
        True
    """

    __slots__ = (
        "_lists",
        "_live",
        "_name",
        "_open",
        "_stage",
        "_tasks",
        "_threaded",
        "_upstream",
        "format",
    )

    def __init__(
        self,
        open: Callable[[], AsyncGenerator[T_co, None]],
        *,
        format: AudioFormat | None = None,
        name: str = "stream",
        tasks: bool = False,
        live: bool = False,
    ) -> None:
        self._open = open
        self.format = format
        """The format of the frames, if known before iteration (else None)."""
        self._name = name
        self._tasks = tasks
        self._live = live
        # Set by the stage that made this stream (see plan.py): what it was applied to,
        # and an opener of the same items in lists, for stages after a `chunk`.
        self._upstream: StreamBase[Any] | None = None
        self._stage: Any = None
        self._lists: Callable[[], AsyncGenerator[list[T_co], None]] | None = None
        # What this step runs in a worker thread ahead of the pipeline (`Stream.explain`).
        self._threaded: str | None = None

    @property
    def name(self) -> str:
        """The label shown in reprs: the source and its stages."""
        return self._name

    @property
    def live(self) -> bool:
        """Whether frames come as they happen (a track, a room, a microphone), so the
        stream is read once and a file sink keeps what arrived if the run ends early."""
        return self._live

    @property
    def runs_tasks(self) -> bool:
        """Whether some stage starts tasks (then iterate through `open` or a terminal)."""
        return self._tasks

    def __repr__(self) -> str:
        fmt = f", {self.format}" if self.format is not None else ""
        return f"Stream({self._name}{fmt})"

    def __aiter__(self) -> AsyncGenerator[T_co, None]:
        if self._tasks:
            raise NeedsOpenError(NEEDS_OPEN.format(name=self._name))
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
        async with self._opening(self._open) as frames:
            yield frames

    @contextlib.asynccontextmanager
    async def _opening(self, opener: Callable[[], Any]) -> AsyncGenerator[Any, None]:
        """`open` with ``opener`` (`_open`, or `_lists` for a terminal that takes lists)."""
        if not self._tasks:
            async with running(opener) as items:
                yield items
            return
        # The stages' tasks hand their errors to the stage, never to the task group, so
        # the group holds only what the caller's own block raised: give that back as is.
        with one_error():
            async with anyio.create_task_group() as group:
                token = task_group_var.set(group)
                try:
                    async with running(opener) as items:
                        yield items
                finally:
                    task_group_var.reset(token)

    def explain(self) -> str:
        """How the pipeline will run: its steps in order, as the planner arranged them.

        Stages that work frame by frame are fused into one step, run on lists of frames
        after a `chunk`, and those that work per sample (``gain``, ``to_dtype``,
        ``remix``, ``map(fn, per_sample=True)``) move before a `chunk`, onto the
        source's blocks. The results are the same as running the stages as written.

        Returns:
            One line per step, the source first, each with the format it gives.

        Examples:
            >>> import lkframes as lk
            >>> stream = lk.sine(440, 1.0, 48_000).resample(16_000).chunk(ms=20).gain(-6)
            >>> print(stream.explain())  # doctest: +NORMALIZE_WHITESPACE
            Stream(sine(440 Hz) | resample(16000, quality='HQ') | chunk(ms=20, tail='keep')
            | gain(-6 dB), 16000 Hz mono int16), planned as:
              1. source: sine(440 Hz)  -> 48000 Hz mono int16
              2. resample(16000, quality='HQ')  -> 16000 Hz mono int16
              3. gain(-6 dB)  [per sample, item by item]  -> 16000 Hz mono int16
              4. chunk(ms=20, tail='keep')  [cuts each block into a list of frames]
                 -> 16000 Hz mono int16
        """
        return explain(self)

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
        if self._lists is not None:
            out: list[T_co] = []
            async with self._opening(self._lists) as lists:
                async for items in lists:
                    out += items
            return FrameList(out)
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

        def one(frame: object) -> None:
            nonlocal count, samples, fmt
            count += 1
            if isinstance(frame, AudioFrame):
                samples += frame.samples_per_channel
                fmt = frame.format

        await self._for_each(one)
        return RunSummary(count, samples, fmt)

    async def _for_each(self, fn: Callable[[Any], None]) -> None:
        """Call ``fn`` on every item, for a terminal: taken in lists where there are lists."""
        if self._lists is None:
            async with self.open() as frames:
                async for frame in frames:
                    fn(frame)
            return
        async with self._opening(self._lists) as lists:
            async for items in lists:
                for item in items:
                    fn(item)

    async def to_array(self: StreamBase[AudioFrame], *, squeeze: bool = True) -> NDArray[Any]:
        """Run the pipeline and return all samples as one array, laid out by their pts.

        The array starts at the first frame's pts (no silence before it). A frame that starts
        after the previous one ends leaves a gap, which becomes silence (zeros) of exactly
        that length, as `filter` leaves; a frame that starts before the previous one ends
        (the overlapping frames of `merge`, ``map(ordered=False)``, or a `flat_map` that
        repeats pts) is refused: mix such streams, or `chunk` them, which re-stamps pts.

        Args:
            squeeze: Return a mono stream as 1-D ``(samples,)``, as ``soundfile.read``
                does; the same rule for every source (an array, a file, a track). False
                gives ``(samples, channels)`` always, ``(samples, 1)`` for mono.

        Returns:
            The samples, concatenated in order, gaps filled with zeros.

        Raises:
            FormatError: The frames' format changed mid-stream, or the stream yielded no
                frame and has no declared format (so the shape is unknown).
            TimestampError: A frame starts before the previous frame ends.

        Examples:
            >>> import lkframes as lk
            >>> lk.run_sync(lk.silence(0.1, 8_000, num_channels=2).to_array()).shape
            (800, 2)
        """
        blocks: list[NDArray[Any]] = []
        guard = FormatGuard("to_array", self.format)
        timeline = PtsGuard("to_array")

        def one(frame: AudioFrame) -> None:
            guard(frame)
            gap = timeline(frame)
            if gap:
                blocks.append(np.zeros((gap, frame.num_channels), frame.data.dtype))
            blocks.append(frame.data)

        await self._for_each(one)
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
        if squeeze and fmt.num_channels == 1:
            return out.reshape(-1)
        return out

    async def loudness(self: StreamBase[AudioFrame], *, true_peak: bool = True) -> Loudness:
        """Run the pipeline and measure its loudness (BS.1770-4). See `lkframes.loudness`."""
        result: Loudness = await registry.method("loudness")(self, true_peak=true_peak)
        return result
