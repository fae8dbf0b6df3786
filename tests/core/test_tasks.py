"""`one_error`: what a caller sees of a task group's errors."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from lkframes._core.tasks import one_error


async def _fail(error: BaseException) -> None:
    raise error


def test_a_single_error_is_raised_as_itself() -> None:
    async def main() -> None:
        with one_error():
            async with anyio.create_task_group() as group:
                group.start_soon(_fail, ValueError("bad"))
                group.start_soon(anyio.sleep, 10)

    with pytest.raises(ValueError, match="bad"):
        anyio.run(main)


def test_a_real_error_wins_over_the_cancellations_it_caused() -> None:
    with pytest.raises(KeyError), one_error():
        raise BaseExceptionGroup(
            "g", [asyncio.CancelledError(), ExceptionGroup("inner", [KeyError("k")])]
        )


def test_cancellations_alone_are_one_plain_cancellation() -> None:
    with pytest.raises(asyncio.CancelledError), one_error():
        raise BaseExceptionGroup("g", [asyncio.CancelledError(), asyncio.CancelledError()])


def test_two_real_errors_stay_a_group() -> None:
    with pytest.raises(ExceptionGroup) as caught, one_error():
        raise ExceptionGroup("g", [KeyError("a"), ValueError("b")])
    assert len(caught.value.exceptions) == 2


def test_a_cancelled_caller_sees_cancelled_error() -> None:
    async def main() -> None:
        async def inner() -> None:
            with one_error():
                async with anyio.create_task_group() as group:
                    group.start_soon(anyio.sleep, 10)
                    group.start_soon(anyio.sleep, 10)

        task = asyncio.create_task(inner())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
