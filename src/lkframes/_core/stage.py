"""`Stage[A, B]`: the one way to write a pipeline step, used by lkframes' own stages too."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, Generic, Literal, Protocol, TypeVar, cast

from .format import AudioFormat
from .opening import register_upstream
from .plan import (
    Each,
    EachList,
    compose,
    each_on_items,
    each_on_lists,
    flatten,
    on_lists,
    planning_enabled,
)
from .resources import held
from .stream import Stream

__all__ = ("Cutter", "OutputFormat", "Stage", "cutting_stage", "each_stage")

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
        (AudioFormat(sample_rate=16000, num_channels=1, dtype='int16'), (1600,))
    """

    __slots__ = (
        "_batches",
        "_each",
        "_each_list",
        "_keeps_silence",
        "_output_format",
        "_pads",
        "_per_sample",
        "_tasks",
        "_transform",
        "name",
    )

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
        # For the planner (plan.py; set by `each_stage` and `cutting_stage`):
        self._each: Each | None = None  # the stage as a function of one item
        self._each_list: EachList | None = None  # ... and of a list, if it gives one
        self._per_sample = False  # ... of each sample alone: it commutes with cutting
        self._keeps_silence = False  # ... and keeps zeros zeros (so it may precede a pad)
        self._batches: Callable[[Any], AsyncIterator[list[Any]]] | None = None  # cuts lists
        self._pads = False  # the cutting pads its last frame with zeros

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
        return self._plan(stream, f"{stream.name} | {self.name}")

    def _plan(self, stream: Stream[Any], name: str) -> Stream[Any]:
        """Apply, fusing with the stage before or moving before a cutting (plan.py)."""
        before = stream._stage
        if self._each is None or before is None or not planning_enabled():
            return self._apply(stream, name)
        upstream = cast("Stream[Any]", stream._upstream)
        moves = self._per_sample and (self._keeps_silence or not before._pads)
        if before._batches is not None and moves:
            inside = self._plan(upstream, f"{upstream.name} | {self.name}")
            return before._apply(inside, name)  # type: ignore[no-any-return]
        if before._each is not None:
            return _fused(before, self)._plan(upstream, name)
        return self._apply(stream, name)

    def _apply(self, stream: Stream[Any], name: str) -> Stream[Any]:
        """The stream of this stage's output over ``stream``, as written."""
        transform = self._transform
        lists = self._lists_over(stream)
        if lists is not None and self._each is not None:

            def open() -> AsyncGenerator[Any, None]:
                return _chain(lists(), flatten)  # one step per list, then per item

        else:

            def open() -> AsyncGenerator[Any, None]:
                return _chain(stream._open(), transform)

        out: Stream[Any] = Stream(
            open,
            format=self.output_format(stream.format),
            name=name,
            tasks=stream.runs_tasks or self._tasks,
            live=stream.live,
        )
        out._upstream, out._stage, out._lists = stream, self, lists
        return out

    def _lists_over(
        self, stream: Stream[Any]
    ) -> Callable[[], AsyncGenerator[list[Any], None]] | None:
        """An opener of this stage's output in lists, if the stage or its input cuts lists."""
        batches, each, upstream_lists = self._batches, self._each, stream._lists
        if batches is not None:
            return lambda: _chain(stream._open(), batches)
        if each is not None and upstream_lists is not None:
            on_list = self._each_list or on_lists(each)
            return lambda: _chain(upstream_lists(), lambda lists: each_on_lists(on_list, lists))
        return None

    def __or__(self, after: Stage[B_co, C]) -> Stage[A_contra, C]:
        """Compose: ``(a | b)(stream)`` is ``b(a(stream))``.

        Examples:
            >>> import lkframes as lk
            >>> to_webrtc = lk.resample(48_000) | lk.chunk(ms=20)
            >>> len(lk.run_sync(lk.sine(440, 0.1, 16_000).pipe(to_webrtc).collect()))
            5
        """
        return _Composite(self, after)


def each_stage(
    name: str,
    each: Each,
    *,
    output_format: OutputFormat = "same",
    per_sample: bool = False,
    keeps_silence: bool = False,
    each_list: EachList | None = None,
) -> Stage[Any, Any]:
    """A stage that applies a function to each item, which the planner may fuse or move.

    Args:
        name: The stage's label.
        each: Called once per opening; returns the function applied to each item (which
            may return a `plan.Pending` for a result it must await).
        output_format: As for `Stage`.
        per_sample: The function's result for each sample depends on that sample alone
            and the format, so it may run on blocks of any size (before a `chunk`).
        keeps_silence: It also maps zeros to zeros, so it may run before a `chunk`
            that pads its last frame with zeros.
        each_list: The same as a function of a whole list, for lists after a `chunk`
            (`plan.EachList`), when the stage makes its results faster together. A stage
            fused with another uses ``each`` alone.
    """
    stage: Stage[Any, Any] = Stage(
        name, lambda items: each_on_items(each, items), output_format=output_format
    )
    stage._each = each
    stage._each_list = each_list
    stage._per_sample = per_sample
    stage._keeps_silence = per_sample and keeps_silence
    return stage


class Cutter(Protocol):
    """What a cutting stage keeps between input items: ``push`` takes one and returns the
    frames now complete (possibly none), ``end`` returns the rest after the last."""

    def push(self, item: Any, /) -> list[Any]:
        """The frames complete after ``item``."""
        ...

    def end(self) -> list[Any]:
        """The frames left after the last item."""
        ...


def cutting_stage(
    name: str,
    cutter: Callable[[], Cutter],
    *,
    output_format: OutputFormat = "same",
    pads: bool = False,
) -> Stage[Any, Any]:
    """A stage that cuts its input into frames (`chunk`, `window`), given only its cutter.

    Each run makes a new cutter. Run item by item, the stage yields the cutter's frames
    one by one; the planner runs it on lists instead (one list per input item that
    completed any, so stages after it work on the lists).

    Args:
        name: The stage's label.
        cutter: Makes the state of one run.
        output_format: As for `Stage`.
        pads: The last frame is padded with zeros.
    """

    async def transform(items: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        cut = cutter()
        async for item in items:
            for out in cut.push(item):
                yield out
        for out in cut.end():
            yield out

    async def batches(items: AsyncIterator[Any]) -> AsyncGenerator[list[Any], None]:
        cut = cutter()
        async for item in items:
            ready = cut.push(item)
            if ready:
                yield ready
        last = cut.end()
        if last:
            yield last

    stage: Stage[Any, Any] = Stage(name, transform, output_format=output_format)
    stage._batches = batches
    stage._pads = pads
    return stage


def _fused(first: Stage[Any, Any], second: Stage[Any, Any]) -> Stage[Any, Any]:
    """One item stage doing ``first`` then ``second``."""
    assert first._each is not None
    assert second._each is not None
    rule: OutputFormat
    if isinstance(second._output_format, AudioFormat):
        rule = second._output_format
    elif isinstance(first._output_format, AudioFormat):
        rule = second.output_format(first._output_format)
    else:

        def rule(fmt: AudioFormat) -> AudioFormat | None:
            return second.output_format(first.output_format(fmt))

    return each_stage(
        f"{first.name} + {second.name}",
        compose(first._each, second._each),
        output_format=rule,
        per_sample=first._per_sample and second._per_sample,
        keeps_silence=first._keeps_silence and second._keeps_silence,
    )


def _chain(
    upstream: AsyncGenerator[Any, None], transform: Callable[[Any], AsyncIterator[Any]]
) -> AsyncGenerator[Any, None]:
    """``transform`` over ``upstream``; the pipeline being opened closes ``upstream``."""
    if register_upstream(upstream):  # the pipeline being opened closes it
        out = transform(upstream)
        if hasattr(out, "aclose"):
            return out  # type: ignore[return-value]
        return _wrapped(out, None)
    return _wrapped(transform(upstream), upstream)


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
