"""FrameBuffer: exact pieces, views inside one block, one copy for straddlers, never reused."""

from __future__ import annotations

import gc
import weakref
from collections import deque
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from numpy.typing import NDArray

import lkframes as lk


class FrameBufferMachine(RuleBasedStateMachine):
    """push/pop/pop_all/clear against a deque-of-samples oracle."""

    def __init__(self) -> None:
        super().__init__()
        self.channels = 2
        self.buffer = lk.FrameBuffer(self.channels, "int16")
        self.oracle: deque[tuple[int, int]] = deque()
        self.next_value = 0
        self.pushed: list[NDArray[Any]] = []
        self.handed_out: list[tuple[NDArray[Any], NDArray[Any]]] = []
        self.expected_copied = 0

    @rule(size=st.integers(0, 50))
    def push(self, size: int) -> None:
        values = np.arange(self.next_value, self.next_value + size) % 30_000
        block = np.stack([values, -values], axis=1).astype(np.int16)
        block.flags.writeable = False
        self.next_value += size
        self.buffer.push(block)
        self.pushed.append(block)
        self.oracle.extend((int(a), int(b)) for a, b in block)

    @rule(size=st.integers(1, 120))
    def pop(self, size: int) -> None:
        before = self.buffer.copied_bytes
        piece = self.buffer.pop(size)
        if size > len(self.oracle):
            assert piece is None
            assert self.buffer.copied_bytes == before
            return
        assert piece is not None
        want = [self.oracle.popleft() for _ in range(size)]
        assert piece.shape == (size, self.channels)
        assert [tuple(map(int, row)) for row in piece] == want
        in_one_block = any(np.shares_memory(piece, block) for block in self.pushed)
        copied = self.buffer.copied_bytes - before
        if in_one_block:
            assert copied == 0, "a piece inside one block must be a view"
        else:
            assert copied == piece.nbytes, "a straddling piece is copied exactly once"
        self.handed_out.append((piece, piece.copy()))

    @precondition(lambda self: len(self.oracle) > 0)
    @rule()
    def pop_all(self) -> None:
        piece = self.buffer.pop_all()
        want = list(self.oracle)
        self.oracle.clear()
        assert [tuple(map(int, row)) for row in piece] == want
        self.handed_out.append((piece, piece.copy()))

    @rule()
    def clear(self) -> None:
        self.buffer.clear()
        self.oracle.clear()

    @invariant()
    def available_matches(self) -> None:
        assert self.buffer.available == len(self.oracle)

    @invariant()
    def handed_out_pieces_never_change(self) -> None:
        for piece, snapshot in self.handed_out:
            assert np.array_equal(piece, snapshot)


TestFrameBufferMachine = FrameBufferMachine.TestCase


def test_straddling_piece_is_assembled_from_many_blocks() -> None:
    buf = lk.FrameBuffer(1, "float32")
    for i in range(10):
        buf.push(np.full((1, 1), i, np.float32))
    piece = buf.pop(10)
    assert piece is not None
    assert piece.ravel().tolist() == list(range(10))
    assert buf.copied_bytes == 40
    assert buf.available == 0


def test_one_dimensional_blocks_are_mono() -> None:
    buf = lk.FrameBuffer(1, "int16")
    buf.push(np.arange(4, dtype=np.int16))
    piece = buf.pop(4)
    assert piece is not None
    assert piece.shape == (4, 1)


@pytest.mark.parametrize(
    ("block", "error", "message"),
    [
        (np.zeros((4, 2), np.int16), lk.FormatError, r"expected 1, got 2"),
        (np.zeros((4, 1), np.float32), lk.FormatError, r"expected int16, got float32"),
        (np.zeros((4, 1), np.float64), lk.InvalidAudioError, r"expected int16 or float32"),
        (np.zeros((4, 2), np.int16)[:, :1], lk.InvalidAudioError, r"not C-contiguous"),
        ([1, 2, 3], lk.InvalidAudioError, r"must be a numpy array"),
    ],
)
def test_bad_blocks_raise(block: Any, error: type[Exception], message: str) -> None:
    buf = lk.FrameBuffer(1, "int16")
    with pytest.raises(error, match=message):
        buf.push(block)
    assert buf.available == 0


def test_bad_parameters_raise() -> None:
    with pytest.raises(lk.ParameterError, match="num_channels must be a positive int"):
        lk.FrameBuffer(0)
    with pytest.raises(lk.ParameterError, match="dtype must be one of"):
        lk.FrameBuffer(1, "int8")  # type: ignore[arg-type]
    with pytest.raises(lk.ParameterError, match="samples must be positive"):
        lk.FrameBuffer(1).pop(0)


def test_released_blocks_are_not_kept_alive() -> None:
    buf = lk.FrameBuffer(1, "int16")
    block = np.zeros((100, 1), np.int16)
    ref = weakref.ref(block)
    buf.push(block)
    del block
    piece = buf.pop(100)
    assert piece is not None
    del piece
    gc.collect()
    assert ref() is None, "the buffer still holds a block it has fully handed out"
