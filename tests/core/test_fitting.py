"""`fitted_all` (lkframes/_core/fitting.py): the frames `fitted` gives one by one, checked in
bulk, or None whenever one array or item would not pass `fitted`'s checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk
from lkframes._core.fitting import fitted_all
from lkframes._core.frame import fitted

MONO = lk.AudioFormat(16_000, 1)
STEREO = lk.AudioFormat(16_000, 2)


def _items(count: int, fmt: lk.AudioFormat = MONO, size: int = 4) -> list[lk.AudioFrame]:
    zeros = np.zeros((size, fmt.num_channels), fmt.numpy_dtype)
    return [lk.AudioFrame.of(zeros, fmt, pts=size * i) for i in range(count)]


def _read_only(array: NDArray[Any]) -> NDArray[Any]:
    array.setflags(write=False)
    return array


def _same(got: list[lk.AudioFrame], want: list[lk.AudioFrame | None]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert b is not None
        assert (a.pts, a.format, a.data.shape, a.data.tobytes()) == (
            b.pts,
            b.format,
            b.data.shape,
            b.data.tobytes(),
        )
        assert not a.data.flags.writeable
        assert (a.data.base is None) == (b.data.base is None)


@pytest.mark.parametrize("fmt", [MONO, STEREO, lk.AudioFormat(16_000, 2, "float32")])
@pytest.mark.parametrize("writable", ["all", "none", "some"])
def test_the_frames_are_those_fitted_gives_one_by_one(fmt: lk.AudioFormat, writable: str) -> None:
    items = _items(5, fmt)
    arrays = [np.full((4, fmt.num_channels), i, fmt.numpy_dtype) for i in range(5)]
    if writable != "all":
        arrays = [_read_only(a) if writable == "none" or i % 2 else a for i, a in enumerate(arrays)]
    got = fitted_all(arrays, items, None)
    assert got is not None
    _same(got, [fitted(a, fmt, item.pts) for a, item in zip(arrays, items, strict=True)])
    for array, frame in zip(arrays, got, strict=True):
        # A read-only array is the frame's own; a writable one stays writable for its owner.
        assert (frame.data is array) == (not array.flags.writeable)


def test_a_declared_format_is_used_instead_of_the_items() -> None:
    items = _items(3, MONO)
    arrays = [np.zeros((4, 2), np.int16) for _ in items]
    got = fitted_all(arrays, items, STEREO)
    assert got is not None
    assert [f.format for f in got] == [STEREO] * 3
    assert [f.pts for f in got] == [0, 4, 8]


def test_an_empty_list_gives_no_frames() -> None:
    assert fitted_all([], [], None) == []
    assert fitted_all([], [], MONO) == []


class _Sub(np.ndarray):
    pass


@pytest.mark.parametrize(
    "wrong",
    [
        np.zeros(4, np.int16),  # 1-D: AudioFrame.of accepts it, fitted does not
        np.zeros((4, 2), np.int16),  # another channel count
        np.zeros((4, 1), np.float32),  # another dtype
        np.zeros((4, 1), np.dtype(">i2")),  # int16, not native
        np.zeros((8, 1), np.int16)[::2],  # not contiguous
        np.zeros((4, 1), np.int16).view(_Sub),  # a subclass
        [[0], [0], [0], [0]],  # not an array
    ],
)
def test_none_when_one_array_would_not_pass_fitted(wrong: Any) -> None:
    items = _items(3)
    arrays: list[Any] = [np.zeros((4, 1), np.int16) for _ in items]
    arrays[1] = wrong
    assert fitted(wrong, MONO, 0) is None
    assert fitted_all(arrays, items, None) is None


def test_none_when_the_items_are_not_frames_of_one_format() -> None:
    arrays = [np.zeros((4, 1), np.int16) for _ in range(2)]
    mixed = [_items(1)[0], _items(1, lk.AudioFormat(8_000, 1))[0]]
    assert fitted_all(arrays, mixed, None) is None
    assert fitted_all(arrays, [_items(1)[0], "not a frame"], None) is None
    assert fitted_all(arrays, [_items(1)[0], "not a frame"], MONO) is None
