"""`map`'s hot path (lkframes/stages/_calling.py): on a list of frames, the results and the
first error in frame order are those of calling on one frame at a time."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lkframes as lk
from lkframes._core.plan import Pending
from lkframes.stages._calling import calling
from lkframes.stages._results import map_result

FMT = lk.AudioFormat(8_000, 1)
FLOAT = lk.AudioFormat(8_000, 1, "float32")
NAME = "map(f)"


class Refused(Exception):
    pass


def _frames(count: int, fmt: lk.AudioFormat = FMT) -> list[lk.AudioFrame]:
    data = np.arange(4 * count, dtype=fmt.numpy_dtype).reshape(-1, 4, 1)
    return [lk.AudioFrame.of(block, fmt, pts=4 * i) for i, block in enumerate(data)]


RESULTS: dict[str, Callable[[lk.AudioFrame], Any]] = {
    "half": lambda f: f.data // 2 if f.dtype == "int16" else f.data * np.float32(0.5),
    "own": lambda f: f.data,
    "frame": lambda f: f,
    "float": lambda f: float(f.data.sum()),
    "none": lambda f: None,
    "1-D": lambda f: f.data.ravel().copy(),
    "stereo": lambda f: np.repeat(f.data, 2, axis=1),
    "float64": lambda f: f.data.astype(np.float64),
    "strided": lambda f: np.repeat(f.data, 2, axis=0)[::2],
    "nan": lambda f: np.full_like(f.data, np.nan) if f.dtype == "float32" else f.data,
    "raises": lambda f: (_ for _ in ()).throw(Refused(f"at {f.pts}")),
}


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        out = call()
    except Exception as exc:
        return "error", (type(exc), str(exc), getattr(exc, "__notes__", []))
    items = out if isinstance(out, list) else [out]
    assert not any(isinstance(item, Pending) for item in items)
    return "ok", [
        (f.pts, f.format, f.data.tobytes(), f.data.flags.writeable)
        if isinstance(f, lk.AudioFrame)
        else f
        for f in items
    ]


def _functions(kinds: list[str]) -> Callable[[lk.AudioFrame], Any]:
    def fn(frame: lk.AudioFrame) -> Any:
        return RESULTS[kinds[frame.pts // 4 % len(kinds)]](frame)

    return fn


@settings(max_examples=200, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(sorted(RESULTS)), min_size=1, max_size=4),
    count=st.integers(0, 6),
    fmt=st.sampled_from([FMT, FLOAT]),
    declared=st.booleans(),
)
def test_a_list_gives_what_one_frame_at_a_time_gives(
    kinds: list[str], count: int, fmt: lk.AudioFormat, declared: bool
) -> None:
    fn = _functions(kinds)
    format = fmt if declared else None

    def result(out: Any, item: Any) -> Any:
        return map_result(out, item, format, NAME)

    one, many = calling(fn, NAME, format, result)
    items = _frames(count, fmt)
    want = _outcome(lambda: [one(item) for item in items])
    assert _outcome(lambda: many(items)) == want


def test_an_earlier_frames_wrong_array_is_the_error_not_a_later_call() -> None:
    calls: list[int] = []

    def fn(frame: lk.AudioFrame) -> Any:
        calls.append(frame.pts)
        if frame.pts == 8:
            raise Refused("the third")
        return np.zeros((4, 2), np.int16) if frame.pts == 4 else frame.data

    one, many = calling(fn, NAME, None, lambda out, item: map_result(out, item, None, NAME))
    with pytest.raises(lk.FormatError) as one_at_a_time:
        [one(item) for item in _frames(4)]
    assert calls == [0, 4]
    calls.clear()
    with pytest.raises(lk.FormatError) as caught:
        many(_frames(4))
    assert str(caught.value) == str(one_at_a_time.value)
    assert NAME in str(caught.value)
    assert type(caught.value.__context__) is type(one_at_a_time.value.__context__)  # not Refused
    assert calls == [0, 4, 8]  # on a list, the calls come first


def test_a_failed_list_leaves_no_coroutine_unawaited() -> None:
    # A sync function that returns a coroutine for the first frames, then raises: the
    # list's error comes out, and the coroutines that will never run are closed (Python
    # warned "coroutine ... was never awaited" at exit).
    made: list[Any] = []

    async def later(frame: lk.AudioFrame) -> Any:
        return frame.data

    def fn(frame: lk.AudioFrame) -> Any:
        if frame.pts == 8:
            raise Refused("the third")
        made.append(later(frame))
        return made[-1]

    _, many = calling(fn, NAME, None, lambda out, item: map_result(out, item, None, NAME))
    with pytest.raises(Refused):
        many(_frames(4))
    assert len(made) == 2
    assert all(inspect.getcoroutinestate(c) == "CORO_CLOSED" for c in made)
