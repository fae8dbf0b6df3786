"""`window`: overlapping (or gapped) fixed-size windows, views of the incoming blocks."""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

from .._core.checks import FormatGuard, check_choice
from .._core.errors import ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame, trusted_frame
from .._core.params import TAILS, Tail
from .._core.registry import stage_entry
from .._core.samples import check_ms, samples_for
from .._core.stage import Stage, cutting_stage

__all__ = ("window",)


def _size(rate: int, ms: float | None, samples: int | None, names: tuple[str, str]) -> int:
    """``samples_for`` with its message in this parameter's names (``hop_ms``, ...)."""
    try:
        return samples_for(rate, ms=ms, samples=samples)
    except ParameterError as exc:
        message = _renamed(exc.message, names)
        if names[0] not in message and names[1] not in message:
            message = f"{names[0]}: {message}"
        raise ParameterError(message, hint=_renamed(exc.hint, names)) from None


def _renamed(message: str, names: tuple[str, str]) -> str:
    """``message`` about ``ms``/``samples`` as about the parameters ``names`` (the units in
    it, "20 ms at 16000 Hz is 320 samples", stay)."""
    message = re.sub(r"\bms(?= must|=)", names[0], message)
    return re.sub(r"\bsamples(?= must|=)", names[1], message)


def _check(ms: float | None, samples: int | None, names: tuple[str, str]) -> None:
    """Exactly one of the two, positive (whole samples are checked at the stream's rate)."""
    if ms is None or samples is not None:
        _size(1, ms, samples, names)
    else:
        try:
            check_ms(ms)
        except ParameterError as exc:
            raise ParameterError(_renamed(exc.message, names)) from None


@stage_entry()
def window(
    *,
    ms: float | None = None,
    hop_ms: float | None = None,
    samples: int | None = None,
    hop_samples: int | None = None,
    tail: Tail = "drop",
) -> Stage[AudioFrame, AudioFrame]:
    """Windows of ``ms`` every ``hop_ms``: overlapping frames for models and STFTs.

    Window ``k`` holds samples ``k * hop`` to ``k * hop + size`` of the stream, exactly
    ``librosa.util.frame``'s frames (``torch.stft(center=False)``'s): its ``pts`` is its
    first sample's (the first input frame's pts plus ``k * hop``; the input is taken as
    contiguous, as `chunk` takes it). A hop longer than the window is allowed and leaves
    the samples between windows out.

    The windows are `AudioFrame` objects whose ``data`` is **read-only**: a view of the
    incoming block where the window lies inside one (no copy; the block is made read-only,
    as `chunk` makes it), a new array where it straddles two. Copy a window
    (``frame.data.copy()``) to change it in place. Windows overlap in time, so a sink that
    lays frames out by pts (`to_array`, `to_file`) refuses them unless ``hop >= size``.

    Args:
        ms: Window length; a whole number of samples at the stream's rate.
        hop_ms: Distance between window starts.
        samples: Window length in samples per channel (instead of ``ms``).
        hop_samples: Distance in samples (instead of ``hop_ms``).
        tail: The end: ``"drop"`` (default, as librosa and torch) gives only whole
            windows, so the last samples may be in none; ``"pad"`` adds the first window
            that reaches past the end, padded with silence; ``"keep"`` adds it short.

    Returns:
        The stage.

    Raises:
        ParameterError: Not exactly one of ``ms``/``samples`` or of ``hop_ms``/``hop_samples``,
            a size that is not positive, an unknown ``tail``, or a duration that is not a
            whole number of samples (when the rate is known).

    Examples:
        >>> import lkframes as lk
        >>> wins = lk.run_sync(lk.silence(0.1, 16_000).window(ms=25, hop_ms=10).collect())
        >>> len(wins), wins[1].pts, wins[1].samples_per_channel, wins[1].data.flags.writeable
        (8, 160, 400, False)
    """
    _check(ms, samples, ("ms", "samples"))
    _check(hop_ms, hop_samples, ("hop_ms", "hop_samples"))
    check_choice(tail, TAILS, "tail")
    size_text = f"ms={ms}" if ms is not None else f"samples={samples}"
    hop_text = f"hop_ms={hop_ms}" if hop_ms is not None else f"hop_samples={hop_samples}"
    name = f"window({size_text}, {hop_text}, tail={tail!r})"

    def sizes(rate: int) -> tuple[int, int]:
        return (
            _size(rate, ms, samples, ("ms", "samples")),
            _size(rate, hop_ms, hop_samples, ("hop_ms", "hop_samples")),
        )

    def output_format(fmt: AudioFormat) -> AudioFormat:
        sizes(fmt.sample_rate)
        return fmt

    def cutter() -> _Windows:
        return _Windows(name, sizes, tail)

    return cutting_stage(name, cutter, output_format=output_format, pads=tail == "pad")


class _Windows:
    """The windows complete so far; samples are counted from the first pushed (``_next``
    is where the next window starts, ``_start`` where the first kept block starts)."""

    def __init__(self, name: str, sizes: Any, tail: Tail) -> None:
        self._guard = FormatGuard(name, None)
        self._sizes = sizes
        self._tail = tail
        self._blocks: deque[NDArray[Any]] = deque()
        self._fmt: AudioFormat | None = None
        self._size = self._hop = 0
        self._start = self._next = self._end = self._pts = 0

    def push(self, frame: AudioFrame) -> list[AudioFrame]:
        """Take ``frame``; return the windows now complete."""
        fmt = self._guard(frame)
        if self._fmt is None:
            self._fmt, self._pts = fmt, frame.pts
            self._size, self._hop = self._sizes(fmt.sample_rate)
        data = frame.data
        if not data.shape[0]:
            return []
        if data.flags.writeable:  # frozen, so every view handed out stays as it was
            data.setflags(write=False)
        self._blocks.append(data)
        self._end += data.shape[0]
        out: list[AudioFrame] = []
        while self._next + self._size <= self._end:
            self._drop_before_next()
            first = self._blocks[0]
            offset = self._next - self._start
            if offset + self._size <= first.shape[0]:
                self._views(first, offset, fmt, out)
            else:
                piece = self._copy(self._next + self._size)
                out.append(trusted_frame(piece, fmt, self._pts + self._next))
                self._next += self._hop
        self._drop_before_next()
        return out

    def _views(self, block: NDArray[Any], offset: int, fmt: AudioFormat, out: list[Any]) -> None:
        """Every window inside ``block`` from ``offset`` on, as views (one strided array)."""
        count = (block.shape[0] - offset - self._size) // self._hop + 1
        rows, cols = block.strides
        views = as_strided(
            block[offset:],
            shape=(count, self._size, block.shape[1]),
            strides=(self._hop * rows, rows, cols),
            writeable=False,
        )
        pts = self._pts + self._next
        for view in views:
            out.append(trusted_frame(view, fmt, pts))
            pts += self._hop
        self._next += count * self._hop

    def _copy(self, stop: int) -> NDArray[Any]:
        """Samples ``_next`` to ``stop`` (absolute) of the kept blocks, in new memory."""
        pieces, at = [], self._start
        for block in self._blocks:
            lo, hi = max(self._next - at, 0), min(stop - at, block.shape[0])
            if hi > lo:
                pieces.append(block[lo:hi])
            at += block.shape[0]
            if at >= stop:
                break
        out = np.concatenate(pieces)
        out.setflags(write=False)
        return out

    def _drop_before_next(self) -> None:
        """Forget the blocks that end before the next window starts."""
        blocks = self._blocks
        while blocks and self._start + blocks[0].shape[0] <= self._next:
            self._start += blocks.popleft().shape[0]
        if not blocks:
            self._start = self._end  # nothing kept: the next block starts at the end

    def end(self) -> list[AudioFrame]:
        """The first window past the end, padded or short as ``tail`` says."""
        fmt = self._fmt
        if fmt is None or self._tail == "drop" or self._next >= self._end:
            return []
        rest = self._copy(self._end)
        if self._tail == "pad":
            padded = np.zeros((self._size, fmt.num_channels), fmt.numpy_dtype)
            padded[: rest.shape[0]] = rest
            rest = padded
        return [AudioFrame.of(rest, fmt, self._pts + self._next)]
