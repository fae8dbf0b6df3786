"""`Stream[T]` and `Stage[A, B]`: the pipeline's two shapes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import numpy as np
from numpy.typing import NDArray

from ._display import FrameList
from ._errors import FormatError
from ._format import AudioFormat, DType
from ._frame import AudioFrame
from ._resources import held

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from livekit import rtc
    from numpy.typing import ArrayLike

    from ._video import VideoFrame

__all__ = ("Quality", "RunSummary", "Stage", "Stream", "Tail", "consume")

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
A_contra = TypeVar("A_contra", contravariant=True)
B_co = TypeVar("B_co", covariant=True)
B = TypeVar("B")

Quality = Literal["QQ", "LQ", "MQ", "HQ", "VHQ"]
"""soxr quality recipes, lowest to highest; ``"HQ"`` is the default (sox ``rate -h``).

Examples:
    >>> import lkframes as lk
    >>> stream = lk.sine(440, 0.1, 44_100).resample(16_000, quality="VHQ")
    >>> stream.format.sample_rate
    16000
"""
Tail = Literal["keep", "pad", "drop"]
"""What `chunk` does with a last piece shorter than the chunk size.

Examples:
    >>> import lkframes as lk
    >>> tone = lk.sine(440, 0.05, 16_000)  # 800 samples
    >>> [f.samples_per_channel for f in lk.run_sync(tone.chunk(samples=320).collect())]
    [320, 320, 160]
    >>> [f.samples_per_channel for f in lk.run_sync(tone.chunk(samples=320, tail="pad").collect())]
    [320, 320, 320]
"""


@contextlib.asynccontextmanager
async def consume(frames: AsyncIterable[T]) -> AsyncGenerator[AsyncIterator[T], None]:
    """Iterate ``frames`` and close its iterator on exit, however the block is left.

    Every stage reads its upstream through this, so closing the last stage of a pipeline
    (``break`` inside `Stream.open`, cancellation, an exception) closes all the stages
    before it, in order, without waiting for the garbage collector.
    """
    iterator = aiter(frames)
    with held("stage"):
        try:
            yield iterator
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What `Stream.run` saw: counts of frames and samples that went through.

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


class Stage(Generic[A_contra, B_co]):
    """A step of a pipeline: turns a `Stream` of ``A`` into a `Stream` of ``B``.

    Built by the stage functions (`lkframes.resample`, `lkframes.chunk`, ...) with their
    parameters validated up front, and applied with ``stream | stage`` or ``stage(stream)``.

    Args:
        name: How the stage is shown in reprs and error notes, e.g. ``"resample(16000)"``.
        apply: Builds the output stream from the input stream.

    Examples:
        >>> import lkframes as lk
        >>> stage = lk.resample(16_000)
        >>> stage
        Stage(resample(16000, quality='HQ'))
    """

    __slots__ = ("_apply", "name")

    def __init__(self, name: str, apply: Callable[[Stream[A_contra]], Stream[B_co]]) -> None:
        self.name = name
        self._apply = apply

    def __call__(self, stream: Stream[A_contra]) -> Stream[B_co]:
        """Apply the stage to ``stream``."""
        return self._apply(stream)

    def __repr__(self) -> str:
        return f"Stage({self.name})"

    def __or__(self, after: Stage[B_co, B]) -> Stage[A_contra, B]:
        """Compose: ``(a | b)(stream)`` is ``b(a(stream))``.

        Examples:
            >>> import lkframes as lk
            >>> to_webrtc = lk.resample(48_000) | lk.chunk(ms=20)
            >>> len(lk.run_sync(lk.sine(440, 0.1, 16_000).pipe(to_webrtc).collect()))
            5
        """
        first = self

        def apply(stream: Stream[A_contra]) -> Stream[B]:
            return after(first(stream))

        return Stage(f"{self.name} | {after.name}", apply)

    @classmethod
    def from_function(
        cls,
        function: Callable[[AsyncIterable[A_contra]], AsyncIterator[B_co]],
        *,
        name: str | None = None,
        format: AudioFormat | None = None,
    ) -> Stage[A_contra, B_co]:
        """Make a stage from a plain function ``AsyncIterable[A] -> AsyncIterator[B]``.

        Args:
            function: Typically an async generator function over frames.
            name: Shown in reprs; defaults to the function's name.
            format: The format of the frames it yields, if known.

        Returns:
            A stage usable with ``|`` and `lkframes.testing.check_stage`.
        """
        label: str = name or str(getattr(function, "__name__", "stage"))

        def apply(stream: Stream[A_contra]) -> Stream[B_co]:
            async def run() -> AsyncGenerator[B_co, None]:
                upstream = _ClosingView(stream)
                try:
                    async with consume(_Once(function(upstream))) as items:
                        async for item in items:
                            yield item
                finally:
                    await upstream.aclose()

            return Stream(run, format=format, name=label, flat=stream._flat)

        return cls(label, apply)


class _Once(Generic[T]):
    """An async iterable over an existing iterator, so `consume` can close it."""

    __slots__ = ("_iterator",)

    def __init__(self, iterator: AsyncIterator[T]) -> None:
        self._iterator = iterator

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterator


class _ClosingView(Generic[T]):
    """Hands a user's stage function the upstream, and closes what it opened afterwards.

    A plain ``async for frame in frames`` inside an async generator does not close
    ``frames`` when the generator is closed; this does it for the function.
    """

    __slots__ = ("_opened", "_stream")

    def __init__(self, stream: Stream[T]) -> None:
        self._stream = stream
        self._opened: list[AsyncGenerator[T, None]] = []

    def __aiter__(self) -> AsyncGenerator[T, None]:
        iterator = self._stream.__aiter__()
        self._opened.append(iterator)
        return iterator

    async def aclose(self) -> None:
        while self._opened:
            await self._opened.pop().aclose()


class Stream(Generic[T_co]):
    """An async-iterable pipeline of frames with its format, where known.

    Streams are lazy: nothing runs until the stream is iterated or a terminal method
    (`collect`, `to_array`, `run`) is awaited. Each iteration opens the pipeline anew from
    its source, so streams over arrays and synthetic signals can be consumed more than once;
    streams over one-shot iterators (a live track, a generator) cannot.

    Fluent methods (`resample`, `chunk`, `map`, ...) return new streams and leave this one
    unchanged; ``stream | lk.resample(16_000)`` is the same as ``stream.resample(16_000)``.

    Use ``async with stream.open() as frames:`` to iterate with a guaranteed close of every
    stage when the block exits (``break``, exception or cancellation); a bare
    ``async for`` leaves closing an abandoned pipeline to the event loop's async-generator
    finaliser.

    Args:
        open: Returns a fresh async generator of frames each time it is called.
        format: The `AudioFormat` of the frames, if known before the first frame.
        name: A label shown in reprs.
        flat: The source was 1-D, so `to_array` returns 1-D for mono output.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> stream = lk.from_array(np.zeros(1_600, np.int16), 16_000).chunk(ms=20)
        >>> stream.format
        AudioFormat(sample_rate=16000, num_channels=1, dtype='int16')
        >>> len(lk.run_sync(stream.collect()))
        5
    """

    __slots__ = ("_flat", "_name", "_open", "format")

    def __init__(
        self,
        open: Callable[[], AsyncGenerator[T_co, None]],
        *,
        format: AudioFormat | None = None,
        name: str = "stream",
        flat: bool = False,
    ) -> None:
        self._open = open
        self.format = format
        """The format of the frames, if known before iteration (else None)."""
        self._name = name
        self._flat = flat

    def __repr__(self) -> str:
        fmt = f", {self.format}" if self.format is not None else ""
        return f"Stream({self._name}{fmt})"

    def __aiter__(self) -> AsyncGenerator[T_co, None]:
        return self._open()

    def open(self) -> contextlib.aclosing[AsyncGenerator[T_co, None]]:
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
        return contextlib.aclosing(self._open())

    def __or__(self, stage: Stage[T_co, B]) -> Stream[B]:
        return stage(self)

    def pipe(self, stage: Stage[T_co, B]) -> Stream[B]:
        """Apply ``stage`` (the same as ``self | stage``)."""
        return stage(self)

    def _derive(
        self,
        name: str,
        generator: Callable[[Stream[T_co]], AsyncGenerator[B, None]],
        format: AudioFormat | None,
        *,
        flat: bool | None = None,
    ) -> Stream[B]:
        return Stream(
            lambda: generator(self),
            format=format,
            name=f"{self._name} | {name}",
            flat=self._flat if flat is None else flat,
        )

    # -- stages (each the same as ``self | lkframes.<name>(...)``) -------------------

    def resample(
        self: Stream[AudioFrame], sample_rate: int, quality: Quality = "HQ"
    ) -> Stream[AudioFrame]:
        """Resample to ``sample_rate`` with soxr. See `lkframes.resample`."""
        from ._stages import resample

        return resample(sample_rate, quality)(self)

    def chunk(
        self: Stream[AudioFrame],
        *,
        ms: float | None = None,
        samples: int | None = None,
        tail: Tail = "keep",
    ) -> Stream[AudioFrame]:
        """Cut into frames of exactly ``ms`` or ``samples``. See `lkframes.chunk`."""
        from ._stages import chunk

        return chunk(ms=ms, samples=samples, tail=tail)(self)

    def remix(
        self: Stream[AudioFrame], num_channels: int, *, matrix: ArrayLike | None = None
    ) -> Stream[AudioFrame]:
        """Change the channel count. See `lkframes.remix`."""
        from ._stages import remix

        return remix(num_channels, matrix=matrix)(self)

    def to_dtype(self: Stream[AudioFrame], dtype: DType) -> Stream[AudioFrame]:
        """Convert samples to ``dtype``, scaled and clipped. See `lkframes.to_dtype`."""
        from ._stages import to_dtype

        return to_dtype(dtype)(self)

    def gain(self: Stream[AudioFrame], db: float) -> Stream[AudioFrame]:
        """Change the level by ``db`` decibels. See `lkframes.gain`."""
        from ._stages import gain

        return gain(db)(self)

    def denoise(self: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """LiveKit's noise suppression, offline. See `lkframes.denoise`."""
        from ._apm import denoise

        return denoise()(self)

    def high_pass(self: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """LiveKit's high-pass filter. See `lkframes.high_pass`."""
        from ._apm import high_pass

        return high_pass()(self)

    def auto_gain(self: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """LiveKit's automatic gain control. See `lkframes.auto_gain`."""
        from ._apm import auto_gain

        return auto_gain()(self)

    def echo_cancel(
        self: Stream[AudioFrame], reference: Stream[AudioFrame], *, delay_ms: int = 0
    ) -> Stream[AudioFrame]:
        """Remove the echo of ``reference`` (what was played). See `lkframes.echo_cancel`."""
        from ._apm import echo_cancel

        return echo_cancel(reference, delay_ms=delay_ms)(self)

    def map(
        self: Stream[AudioFrame],
        fn: Callable[
            [AudioFrame], AudioFrame | NDArray[Any] | Awaitable[AudioFrame | NDArray[Any]]
        ],
        *,
        concurrency: int = 1,
        format: AudioFormat | None = None,
    ) -> Stream[AudioFrame]:
        """Apply ``fn`` to every frame. See `lkframes.map`."""
        from ._stages import map

        return map(fn, concurrency=concurrency, format=format)(self)

    def filter(self, predicate: Callable[[T_co], bool | Awaitable[bool]]) -> Stream[T_co]:
        """Keep the frames for which ``predicate`` is true. See `lkframes.filter`."""
        from ._stages import filter

        return filter(predicate)(self)

    def tap(self, fn: Callable[[T_co], object]) -> Stream[T_co]:
        """Call ``fn`` on every frame and pass the frame on. See `lkframes.tap`."""
        from ._stages import tap

        return tap(fn)(self)

    def take(
        self, n: int | None = None, *, ms: float | None = None, samples: int | None = None
    ) -> Stream[T_co]:
        """The first ``n`` frames, or the first ``ms``/``samples`` of audio. See `lkframes.take`."""
        from ._stages import take

        stage: Stage[T_co, T_co] = take(n, ms=ms, samples=samples)
        return stage(self)

    def skip(
        self, n: int | None = None, *, ms: float | None = None, samples: int | None = None
    ) -> Stream[T_co]:
        """All but the first ``n`` frames or ``ms``/``samples``. See `lkframes.skip`."""
        from ._stages import skip

        stage: Stage[T_co, T_co] = skip(n, ms=ms, samples=samples)
        return stage(self)

    def concat(self: Stream[AudioFrame], *others: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """This stream, then each of ``others``, with continuous pts. See `lkframes.concat`."""
        from ._sources import concat

        return concat(self, *others)

    # -- terminals -----------------------------------------------------------------

    async def collect(self) -> FrameList[T_co]:
        """Run the pipeline to its end and return every frame.

        Returns:
            A `list` of the frames (a `FrameList`, which also renders as an audio player
            and waveform in Jupyter).

        Raises:
            Exception: Whatever a stage raises; every stage is closed first.
        """
        async with self.open() as frames:
            return FrameList([frame async for frame in frames])

    async def run(self) -> RunSummary:
        """Run the pipeline to its end, discarding the frames, and count what went through.

        Returns:
            A `RunSummary` with the number of frames and samples per channel.
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

    async def to_file(
        self: Stream[AudioFrame],
        path: str | os.PathLike[str],
        *,
        subtype: str | None = None,
        format: str | None = None,
        overwrite: bool = False,
    ) -> RunSummary:
        """Run the pipeline and write its audio to ``path`` incrementally.

        Writes in blocks of about 0.5 s from a worker thread. The file is closed (its
        header finalised) however the pipeline ends, so a cancelled or failed run leaves
        a valid file holding everything written so far.

        Args:
            path: Output file; the format follows the extension (``.wav`` default
                choice, ``.flac``, ``.ogg``, ``.opus``, ``.mp3``, ...).
            subtype: libsndfile subtype, e.g. ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``.
                By default PCM_16 for int16 streams and FLOAT (WAV) / PCM_24 (FLAC) for
                float32 streams, VORBIS for .ogg and OPUS for .opus.
            format: Container name (``"WAV"``, ``"FLAC"``, ...) when the extension does
                not say.
            overwrite: Replace an existing file (otherwise `OutputExistsError`).

        Returns:
            A `RunSummary` of what was written.

        Raises:
            OutputExistsError: ``path`` exists and ``overwrite`` is false.
            AudioFileError: The file cannot be created or written (permissions, disk full).
            ParameterError: The extension names no known format and ``format`` is unset.
            FormatError: The frames' format changes mid-stream.

        Examples:
            >>> import lkframes as lk, tempfile, os
            >>> path = os.path.join(tempfile.mkdtemp(), "out.wav")
            >>> lk.run_sync(lk.sine(440, 2.0, 48_000).chunk(ms=20).to_file(path)).frames
            100
        """
        from ._files import write_file

        return await write_file(self, path, subtype=subtype, format=format, overwrite=overwrite)

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
            from ._video import to_video_source

            return await to_video_source(self, source, realtime=realtime)
        from ._livekit import to_source

        return await to_source(self, source, frame_ms=frame_ms, wait_for_playout=wait_for_playout)

    async def publish(
        self: Stream[AudioFrame],
        room: rtc.Room,
        name: str,
        *,
        source: rtc.TrackSource.ValueType | None = None,
        sample_rate: int = 48_000,
        num_channels: int = 1,
        frame_ms: int = 20,
    ) -> RunSummary:
        """Publish to a room as an audio track, in real time. See `lkframes.publish`."""
        from ._livekit import publish

        return await publish(
            self,
            room,
            name,
            source=source,
            sample_rate=sample_rate,
            num_channels=num_channels,
            frame_ms=frame_ms,
        )

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
        """
        blocks: list[NDArray[Any]] = []
        fmt = self.format
        async with self.open() as frames:
            async for frame in frames:
                if fmt is None:
                    fmt = frame.format
                elif frame.format is not fmt and frame.format != fmt:
                    raise FormatError("frame format changed mid-stream", fmt, frame.format)
                blocks.append(frame.data)
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
