"""`Stage[A, B]`: the one way to write a pipeline step, used by lkframes' own stages too."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, Generic, Literal, TypeVar

from .format import AudioFormat
from .opening import register_upstream
from .resources import held
from .stream import Stream

__all__ = ("OutputFormat", "Stage")

A = TypeVar("A")
A_contra = TypeVar("A_contra", contravariant=True)
B_co = TypeVar("B_co", covariant=True)
B = TypeVar("B")
C = TypeVar("C")

OutputFormat = Callable[[AudioFormat], AudioFormat | None] | AudioFormat | Literal["same"] | None
"""How a stage's output format follows from its input format.

``"same"`` (the output has the input's format), a fixed `AudioFormat`, None (unknown until
the first frame), or a function of the input format that returns the output format. The
function runs when the stage is applied to a stream whose format is known, so it is the
place to reject an input format early (raise `ParameterError` or `FormatError`).

Examples:
    >>> import lkframes as lk
    >>> mono: lk.OutputFormat = lambda fmt: fmt.with_(num_channels=1)
    >>> mono(lk.AudioFormat(48_000, 2))
    AudioFormat(sample_rate=48000, num_channels=1, dtype='int16')
"""


class Stage(Generic[A_contra, B_co]):
    """A step of a pipeline: turns a `Stream` of ``A`` into a `Stream` of ``B``.

    Every stage, lkframes' own included, is a name, a ``transform`` and an
    ``output_format``. ``transform`` is an async generator function that reads the
    upstream items and yields the stage's; lkframes closes both the transform and the
    upstream however the pipeline ends, so the transform needs no cleanup of its own for
    them. Apply a stage with ``stream | stage``, ``stream.pipe(stage)`` or ``stage(stream)``;
    compose stages with ``stage_a | stage_b``.

    Args:
        name: How the stage is shown in reprs and error notes, e.g. ``"resample(16000)"``.
        transform: ``async def transform(frames: AsyncGenerator[A, None]) -> AsyncIterator[B]``.
            Each frame carries its format, so the transform learns the input format from
            the first frame (use `FormatGuard` to refuse a change mid-stream). A transform
            that stops reading early can release the upstream at once with
            ``await lkframes.close_upstream(frames)``, as `take` does; otherwise the upstream
            is closed when the pipeline is.
        output_format: How the output format follows from the input's (see `OutputFormat`).
        tasks: The transform starts tasks in `current_task_group` (like
            ``map(concurrency=n)``); streams through it must be run with `Stream.open` or a
            terminal.

    Examples:
        A stage that keeps the left channel of stereo audio, written the way lkframes'
        own stages are:

        >>> import lkframes as lk, numpy as np
        >>> def left() -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
        ...     def output_format(fmt: lk.AudioFormat) -> lk.AudioFormat:
        ...         return fmt.with_(num_channels=1)
        ...     async def transform(frames):
        ...         async for frame in frames:
        ...             mono = np.ascontiguousarray(frame.data[:, :1])
        ...             yield lk.AudioFrame.of(mono, output_format(frame.format), frame.pts)
        ...     return lk.Stage("left", transform, output_format=output_format)
        >>> stream = lk.sine(440, 0.1, 16_000, num_channels=2) | left()
        >>> stream.format, lk.run_sync(stream.to_array()).shape
        (AudioFormat(sample_rate=16000, num_channels=1, dtype='int16'), (1600, 1))
    """

    __slots__ = ("_output_format", "_tasks", "_transform", "name")

    def __init__(
        self,
        name: str,
        transform: Callable[[AsyncGenerator[A_contra, None]], AsyncIterator[B_co]],
        *,
        output_format: OutputFormat = "same",
        tasks: bool = False,
    ) -> None:
        self.name = name
        """The stage's label."""
        self._transform = transform
        self._output_format = output_format
        self._tasks = tasks

    def __repr__(self) -> str:
        return f"Stage({self.name})"

    def output_format(self, fmt: AudioFormat | None) -> AudioFormat | None:
        """The format of the stage's output for input of format ``fmt`` (None: unknown).

        Raises:
            ParameterError: The stage cannot take ``fmt`` (e.g. ``chunk(ms=20)`` at 11 025 Hz).
            FormatError: Likewise, for a format the stage refuses.

        Examples:
            >>> import lkframes as lk
            >>> lk.resample(16_000).output_format(lk.AudioFormat(48_000, 2))
            AudioFormat(sample_rate=16000, num_channels=2, dtype='int16')
        """
        rule = self._output_format
        if rule == "same":
            return fmt
        if rule is None or isinstance(rule, AudioFormat):
            return rule
        assert callable(rule)
        return None if fmt is None else rule(fmt)

    def __call__(self, stream: Stream[A_contra]) -> Stream[B_co]:
        """Apply the stage to ``stream``."""
        out_format = self.output_format(stream.format)
        transform = self._transform

        def open() -> AsyncGenerator[B_co, None]:
            upstream = stream._open()
            if register_upstream(upstream):  # the pipeline being opened closes it
                out = transform(upstream)
                if hasattr(out, "aclose"):
                    return out  # type: ignore[return-value]
                return _wrapped(out, None)
            return _wrapped(transform(upstream), upstream)

        return Stream(
            open,
            format=out_format,
            name=f"{stream.name} | {self.name}",
            flat=stream.flat,
            tasks=stream.runs_tasks or self._tasks,
            live=stream.live,
        )

    def __or__(self, after: Stage[B_co, C]) -> Stage[A_contra, C]:
        """Compose: ``(a | b)(stream)`` is ``b(a(stream))``.

        Examples:
            >>> import lkframes as lk
            >>> to_webrtc = lk.resample(48_000) | lk.chunk(ms=20)
            >>> len(lk.run_sync(lk.sine(440, 0.1, 16_000).pipe(to_webrtc).collect()))
            5
        """
        return _Composite(self, after)


async def _wrapped(
    out: AsyncIterator[B], upstream: AsyncGenerator[Any, None] | None
) -> AsyncGenerator[B, None]:
    """A transform's output as an async generator that closes it, then its ``upstream``.

    Used where no pipeline opening takes charge of the upstream (a bare ``async for``), or
    for a transform that is not an async generator.
    """
    with held("stage"):
        try:
            async for item in out:
                yield item
        finally:
            try:
                aclose = getattr(out, "aclose", None)
                if aclose is not None:
                    await aclose()
            finally:
                if upstream is not None:
                    await upstream.aclose()


class _Composite(Stage[Any, Any]):
    """Two stages applied one after the other."""

    __slots__ = ("_first", "_second")

    def __init__(self, first: Stage[Any, Any], second: Stage[Any, Any]) -> None:
        super().__init__(f"{first.name} | {second.name}", _unused)
        self._first = first
        self._second = second

    def output_format(self, fmt: AudioFormat | None) -> AudioFormat | None:
        return self._second.output_format(self._first.output_format(fmt))

    def __call__(self, stream: Stream[Any]) -> Stream[Any]:
        return self._second(self._first(stream))


def _unused(frames: AsyncGenerator[Any, None]) -> AsyncIterator[Any]:
    raise AssertionError("a composite stage applies its parts")  # pragma: no cover
