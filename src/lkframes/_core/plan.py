"""The planner's parts: stages that work item by item, run on lists of frames, and fused.

A pipeline is chained async generators, one per stage (DESIGN.md), and a step through one
costs about a microsecond: at 20 ms frames that is most of what a stage adds. So when a
stage is applied, `Stage.__call__` plans:

- A stage that works **item by item** (`each_stage`: `gain`, `to_dtype`, `remix`, and
  ``map`` with a sync function) is a plain function, so two in a row are **fused** into one
  generator step, and after `chunk` (which cuts each incoming block into a list of frames)
  it runs on the **lists**: one generator step per block, not per frame.
- A stage that works **per sample** (its result for a sample depends on that sample alone,
  so cutting commutes with it: the built-in ``gain``, ``to_dtype``, ``remix``, and
  ``map(fn, per_sample=True)``) moves **before** a `chunk` and so runs on the source's
  big blocks.
- Terminals (`collect`, `run`, `to_array`) take the lists as they come.

The output is the same, frame for frame, as without planning (``tests/core/test_plan.py``
builds every pipeline both ways); ``Stream.explain()`` shows the plan. Nothing waits for more
input than before, so a live stream's frames come out as soon as they did.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import StreamBase

__all__ = (
    "Each",
    "EachList",
    "Pending",
    "compose",
    "each_on_items",
    "each_on_lists",
    "explain",
    "flatten",
    "on_lists",
    "planning",
    "planning_enabled",
)

Each = Callable[[], Callable[[Any], Any]]
"""How an item-by-item stage is given: called once per opening of the pipeline, it returns
the function applied to each item (so the function may keep state for one run, such as the
format it saw first)."""

EachList = Callable[[], Callable[[list[Any]], list[Any]]]
"""The same stage as a function of a whole list (called once per opening): the results of
the item function for each item, in order, which a stage may give when it can make them
faster together (`map`); `on_lists` makes one from any `Each`."""

_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("lkframes_planning", default=True)


def planning_enabled() -> bool:
    """Whether stages applied now are planned (see `planning`)."""
    return _enabled.get()


@contextlib.contextmanager
def planning(enabled: bool) -> Iterator[None]:
    """Build streams with the planner on or off inside the block (on by default).

    For comparing a planned pipeline with the same pipeline run stage by stage, as the
    tests do; the results are the same either way.

    Examples:
        >>> import lkframes as lk
        >>> from lkframes._core.plan import planning
        >>> with planning(False):
        ...     plain = lk.sine(440, 0.1, 16_000).chunk(ms=20).gain(-6)
        >>> planned = lk.sine(440, 0.1, 16_000).chunk(ms=20).gain(-6)
        >>> a, b = (lk.run_sync(s.to_array()) for s in (plain, planned))
        >>> bool((a == b).all())
        True
    """
    token = _enabled.set(enabled)
    try:
        yield
    finally:
        _enabled.reset(token)


class Pending:
    """A result an item function could not finish without awaiting (a sync function that
    returned an awaitable), and the functions still to apply to it."""

    __slots__ = ("awaitable", "then")

    def __init__(self, awaitable: Any, then: tuple[Callable[[Any], Any], ...] = ()) -> None:
        self.awaitable = awaitable
        self.then = then

    async def result(self) -> Any:
        """Await it, then apply the rest (which may be pending again)."""
        out = await self.awaitable
        for index, fn in enumerate(self.then):
            out = fn(out)
            if type(out) is Pending:
                out.then += self.then[index + 1 :]
                return await out.result()
        return out


def compose(first: Each, second: Each) -> Each:
    """The item function of ``second`` after ``first``, for one fused generator step."""

    def make() -> Callable[[Any], Any]:
        a, b = first(), second()

        def both(item: Any) -> Any:
            out = a(item)
            if type(out) is Pending:
                out.then += (b,)
                return out
            return b(out)

        return both

    return make


async def each_on_items(make: Each, items: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
    """Apply the item function to every item: the stage's generator."""
    fn = make()
    async for item in items:
        out = fn(item)
        if type(out) is Pending:
            out = await out.result()
        yield out


def on_lists(make: Each) -> EachList:
    """The list function of an item function: the item function applied to each item."""

    def make_list() -> Callable[[list[Any]], list[Any]]:
        fn = make()
        return lambda items: [fn(item) for item in items]

    return make_list


async def each_on_lists(
    make: EachList, lists: AsyncIterator[list[Any]]
) -> AsyncGenerator[list[Any], None]:
    """Apply the list function to every list: one step per list."""
    fn = make()
    async for items in lists:
        out = fn(items)
        if Pending in map(type, out):  # rare (a sync function returned an awaitable)
            for index, result in enumerate(out):
                if type(result) is Pending:
                    out[index] = await result.result()
        yield out


async def flatten(lists: AsyncIterator[list[Any]]) -> AsyncGenerator[Any, None]:
    """The items of each list in turn."""
    async for items in lists:
        for item in items:
            yield item


def explain(stream: StreamBase[Any]) -> str:
    """The plan of ``stream``: each step as it runs, source first (see `Stream.explain`)."""
    steps: list[str] = []
    node: StreamBase[Any] | None = stream
    while node is not None:
        stage = node._stage
        fmt = f"  -> {node.format}" if node.format is not None else ""
        thread = f"  [{node._threaded}]" if node._threaded is not None else ""
        if stage is None:
            steps.append(f"source: {node.name}{thread}{fmt}")
        else:
            steps.append(f"{stage.name}{_how(stage, node)}{thread}{fmt}")
        node = node._upstream
    lines = [f"{stream!r}, planned as:"]
    lines += [f"  {n}. {step}" for n, step in enumerate(reversed(steps), 1)]
    return "\n".join(lines)


def _how(stage: Any, node: StreamBase[Any]) -> str:
    if stage._batches is not None:
        return "  [cuts each block into a list of frames]"
    if stage._each is None:
        return ""
    on = "on lists of frames" if node._lists is not None else "item by item"
    kind = "per sample" if stage._per_sample else "per frame"
    return f"  [{kind}, {on}]"
