"""`Stream[T]`: a lazy, re-openable async pipeline of frames with its format, and its
fluent methods: one line per registered stage or sink.

Each is the same as piping into the stage of that name (``stream | lkframes.resample(...)``)
or calling the sink (``lkframes.to_file(stream, ...)``), reached through the registry;
``tests/core/test_registry.py`` proves each has its function's parameters and defaults.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING, Any, TypeVar, overload

from . import registry
from .format import AudioFormat, DType
from .frame import AudioFrame
from .loudness import LoudnessMethods
from .opening import close_upstream, consume, current_task_group
from .params import Interpolation, Partial, Quality, Tail
from .run import RunSummary, StreamBase
from .voice import SpeechMethods

if TYPE_CHECKING:
    from livekit import rtc
    from numpy.typing import ArrayLike, NDArray

    from .stage import Stage
    from .video import PixelFormat, VideoFrame

__all__ = ("RunSummary", "Stream", "close_upstream", "consume", "current_task_group")

_AudioResult = TypeVar(
    "_AudioResult", bound="AudioFrame | NDArray[Any] | Awaitable[AudioFrame | NDArray[Any]]"
)
_VideoResult = TypeVar(
    "_VideoResult", bound="VideoFrame | NDArray[Any] | Awaitable[VideoFrame | NDArray[Any]]"
)

T_co = TypeVar("T_co", covariant=True)
B = TypeVar("B")
R = TypeVar("R")


class Stream(StreamBase[T_co], SpeechMethods, LoudnessMethods):
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
        tasks: Some stage starts tasks (see `current_task_group`).
        live: The source gives frames as they happen (see `live`).

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> stream = lk.from_array(np.zeros(1_600, np.int16), 16_000).chunk(ms=20)
        >>> stream.format
        AudioFormat(sample_rate=16000, num_channels=1, dtype='int16')
        >>> len(lk.run_sync(stream.collect()))
        5
    """

    __slots__ = ()

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

    def window(
        self: Stream[AudioFrame],
        *,
        ms: float | None = None,
        hop_ms: float | None = None,
        samples: int | None = None,
        hop_samples: int | None = None,
        tail: Tail = "drop",
    ) -> Stream[AudioFrame]:
        """Windows of ``ms`` every ``hop_ms`` (may overlap). See `lkframes.window`."""
        sizes = {"ms": ms, "hop_ms": hop_ms, "samples": samples, "hop_samples": hop_samples}
        return self.pipe(registry.stage("window")(**sizes, tail=tail))

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

    # map's result type follows fn's: a frame or an array on a stream of that frame kind is
    # that frame kind (arrays become frames), anything else is passed on as it is.
    @overload
    def map(
        self: Stream[AudioFrame],
        fn: Callable[[AudioFrame], _AudioResult],
        *,
        concurrency: int = 1,
        ordered: bool = True,
        format: AudioFormat | None = None,
        per_sample: bool = False,
    ) -> Stream[AudioFrame]: ...
    @overload
    def map(
        self: Stream[VideoFrame],
        fn: Callable[[VideoFrame], _VideoResult],
        *,
        concurrency: int = 1,
        ordered: bool = True,
        format: AudioFormat | None = None,
        per_sample: bool = False,
    ) -> Stream[VideoFrame]: ...
    @overload
    def map(
        self,
        fn: Callable[[T_co], Awaitable[R]],
        *,
        concurrency: int = 1,
        ordered: bool = True,
        format: AudioFormat | None = None,
        per_sample: bool = False,
    ) -> Stream[R]: ...
    @overload
    def map(
        self,
        fn: Callable[[T_co], R],
        *,
        concurrency: int = 1,
        ordered: bool = True,
        format: AudioFormat | None = None,
        per_sample: bool = False,
    ) -> Stream[R]: ...
    def map(
        self,
        fn: Callable[[Any], Any],
        *,
        concurrency: int = 1,
        ordered: bool = True,
        format: AudioFormat | None = None,
        per_sample: bool = False,
    ) -> Stream[Any]:
        """Apply ``fn`` (sync or async) to every item. See `lkframes.map`.

        The result's item type follows ``fn``: a frame, or an array on a stream of frames
        of that kind, gives frames of that kind; anything else is passed on as it is.
        """
        return self.pipe(
            registry.stage("map")(
                fn, concurrency=concurrency, ordered=ordered, format=format, per_sample=per_sample
            )
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

    def resize(
        self: Stream[VideoFrame],
        width: int | None = None,
        height: int | None = None,
        *,
        keep_aspect: bool = False,
        interpolation: Interpolation = "bilinear",
    ) -> Stream[VideoFrame]:
        """Scale video frames. See `lkframes.resize`."""
        stage = registry.stage("resize")(
            width, height, keep_aspect=keep_aspect, interpolation=interpolation
        )
        return self.pipe(stage)

    def to_pixel_format(self: Stream[VideoFrame], pixel_format: PixelFormat) -> Stream[VideoFrame]:
        """Convert video frames to another layout. See `lkframes.to_pixel_format`."""
        return self.pipe(registry.stage("to_pixel_format")(pixel_format))

    def fps(self: Stream[VideoFrame], rate: float) -> Stream[VideoFrame]:
        """Constant-rate video by dropping or repeating frames. See `lkframes.fps`."""
        return self.pipe(registry.stage("fps")(rate))

    def timeout(self, seconds: float) -> Stream[T_co]:
        """Fail if an item takes longer than ``seconds`` to arrive. See `lkframes.timeout`."""
        return self.pipe(registry.stage("timeout")(seconds))

    def concat(self: Stream[AudioFrame], *others: Stream[AudioFrame]) -> Stream[AudioFrame]:
        """This stream, then each of ``others``, with continuous pts. See `lkframes.concat`."""
        result: Stream[AudioFrame] = registry.method("concat")(self, *others)
        return result

    # -- sinks: each the same as ``lkframes.<name>(self, ...)`` ----------------------

    async def to_file(
        self: Stream[AudioFrame],
        path: str | os.PathLike[str] | IO[bytes],
        *,
        subtype: str | None = None,
        format: str | None = None,
        overwrite: bool = False,
        partial: Partial | None = None,
    ) -> RunSummary:
        """Write the audio to ``path`` incrementally. See `lkframes.to_file`."""
        summary: RunSummary = await registry.method("to_file")(
            self, path, subtype=subtype, format=format, overwrite=overwrite, partial=partial
        )
        return summary

    async def to_speaker(
        self: Stream[AudioFrame], device: int | str | None = None, *, latency: float = 0.05
    ) -> RunSummary:
        """Play on a speaker, in real time. See `lkframes.to_speaker`."""
        summary: RunSummary = await registry.method("to_speaker")(self, device, latency=latency)
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
