"""Opening and closing a pipeline: every stage's upstream is closed, last to first, however
the pipeline ends; and the task group stages that run tasks share.

While `Stream.open` (or `consume`) opens a pipeline, each stage registers its upstream and
returns its transform's own generator, so frames pass from stage to stage with no wrapper
in between; the opening closes them all on exit.
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from typing import Any, TypeVar

from anyio.abc import TaskGroup

from .errors import NeedsOpenError
from .resources import acquire, held, release

__all__ = (
    "NEEDS_OPEN",
    "close_upstream",
    "consume",
    "current_task_group",
    "register_upstream",
    "running",
    "task_group_var",
)

T = TypeVar("T")

task_group_var: contextvars.ContextVar[TaskGroup | None] = contextvars.ContextVar(
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
        NeedsOpenError: No pipeline with tasks is being run in this context.

    Examples:
        >>> import lkframes as lk
        >>> try:
        ...     lk.current_task_group()
        ... except lk.NeedsOpenError:
        ...     print("not inside a pipeline")
        not inside a pipeline
    """
    group = task_group_var.get()
    if group is None:
        raise NeedsOpenError(
            "no pipeline task group here: a stage that starts tasks must be declared with "
            "Stage(..., tasks=True) and run inside Stream.open() or a terminal"
        )
    return group


class _Opened:
    """The upstreams a pipeline's stages registered while it was opened, first to last.

    Each is a stage's input: closing entry ``k`` and every entry before it closes the whole
    chain upstream of stage ``k + 1``.
    """

    __slots__ = ("__weakref__", "items", "open")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.open: list[bool] = []

    def add(self, iterator: Any) -> None:
        acquire("stage")
        self.items.append(iterator)
        self.open.append(True)
        _chains[iterator] = (weakref.ref(self), len(self.items) - 1)

    async def close_from(self, index: int) -> None:
        """Close entry ``index`` and every entry before it, last to first (each once)."""
        if index < 0:
            return
        try:
            if self.open[index]:
                self.open[index] = False
                iterator = self.items[index]
                _chains.pop(iterator, None)
                try:
                    await iterator.aclose()
                finally:
                    release("stage")
        finally:
            await self.close_from(index - 1)


_opened: contextvars.ContextVar[_Opened | None] = contextvars.ContextVar(
    "lkframes_opened", default=None
)
# A registered upstream -> its pipeline and place in it (weakly: a closed pipeline goes).
_chains: weakref.WeakKeyDictionary[Any, tuple[weakref.ref[_Opened], int]] = (
    weakref.WeakKeyDictionary()
)


def register_upstream(iterator: Any) -> bool:
    """Hand ``iterator`` (a stage's upstream) to the pipeline being opened, which closes it.

    While `Stream.open` (or `consume`) opens a pipeline, each stage registers its upstream
    here and returns its transform's own generator: no wrapper sits between the stages, so
    a frame passes from one to the next with no extra generator step. The pipeline closes
    the stages from the last to the first when it is closed. Outside such an opening
    (a bare ``async for``) this returns False and the stage wraps itself instead.
    """
    opened = _opened.get()
    if opened is None:
        return False
    opened.add(iterator)
    return True


async def close_upstream(frames: AsyncGenerator[Any, None]) -> None:
    """Close a stage's input, and everything before it in the pipeline, now.

    For a stage that stops reading before its input ends (like `take`): it releases a live
    source at once, before the stage yields its last items, instead of when the pipeline is
    closed. Closing twice is harmless.

    Args:
        frames: The input the stage's transform was given.

    Raises:
        Exception: Whatever closing the upstream stages raises.

    Examples:
        >>> import lkframes as lk
        >>> async def first_only(frames):
        ...     first = await anext(frames)
        ...     await lk.close_upstream(frames)  # the endless source stops here
        ...     yield first
        >>> endless = lk.sine(440, None, 16_000)
        >>> len(lk.run_sync((endless | lk.Stage("first", first_only)).collect()))
        1
    """
    chain = _chains.get(frames)
    opened = chain[0]() if chain is not None else None
    if chain is None or opened is None:
        await frames.aclose()  # a wrapped stage closes its own upstream with it
        return
    await opened.close_from(chain[1])


@contextlib.asynccontextmanager
async def running(opener: Callable[[], Any]) -> AsyncGenerator[Any, None]:
    """Open a pipeline with ``opener`` and close every stage, last to first, on exit."""
    opened = _Opened()
    token = _opened.set(opened)
    try:
        top = opener()
    finally:
        _opened.reset(token)
    try:
        yield top
    finally:
        try:
            aclose = getattr(top, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            await opened.close_from(len(opened.items) - 1)


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
    with held("stage"):
        if hasattr(items, "_open"):
            async with running(items._open) as frames:
                yield frames
            return
        iterator: Any = aiter(items)
        try:
            yield iterator
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
