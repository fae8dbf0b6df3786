"""`FrameBuffer`: exact-size frames out of irregular blocks, copying only what straddles."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import FormatError, ParameterError
from .format import SUPPORTED_DTYPES, AudioFormat, DType
from .frame import AudioFrame, trusted_frame, validate_samples

_new = object.__new__

__all__ = ("FrameBuffer",)


class FrameBuffer:
    """Accumulates blocks of samples and hands out exact-size pieces.

    A piece that lies inside one pushed block is a view of that block (no copy); a piece
    that straddles blocks is assembled in a new array (each sample copied once). Every
    piece is read-only, and the buffer never writes into memory it has handed out, so
    returned arrays stay valid forever; pushed blocks must likewise not be changed by the
    caller afterwards. `pop` hands out arrays, `frames` whole `AudioFrame`s.

    Args:
        num_channels: Channels of every block pushed.
        dtype: ``"int16"`` or ``"float32"``.

    Raises:
        ParameterError: ``num_channels`` not positive or ``dtype`` unsupported.

    Examples:
        >>> import numpy as np
        >>> buf = FrameBuffer(num_channels=1, dtype="int16")
        >>> buf.push(np.arange(5, dtype=np.int16).reshape(-1, 1))
        >>> buf.pop(2).ravel().tolist(), buf.pop(4), buf.available
        ([0, 1], None, 3)
    """

    __slots__ = ("_available", "_blocks", "_copied_bytes", "_dtype", "_num_channels", "_offset")

    def __init__(self, num_channels: int, dtype: DType = "int16") -> None:
        if isinstance(num_channels, bool) or not isinstance(num_channels, int) or num_channels <= 0:
            raise ParameterError(f"num_channels must be a positive int (got {num_channels!r})")
        if dtype not in SUPPORTED_DTYPES:
            raise ParameterError(f"dtype must be one of {SUPPORTED_DTYPES} (got {dtype!r})")
        self._num_channels = num_channels
        self._dtype = np.dtype(dtype)
        self._blocks: deque[NDArray[Any]] = deque()
        self._offset = 0  # samples of _blocks[0] already handed out
        self._available = 0
        self._copied_bytes = 0

    @property
    def available(self) -> int:
        """Samples per channel buffered and not yet popped."""
        return self._available

    @property
    def copied_bytes(self) -> int:
        """Bytes copied so far to assemble pieces that straddled blocks."""
        return self._copied_bytes

    def push(self, block: NDArray[Any]) -> None:
        """Append a ``(samples, num_channels)`` block (1-D is accepted for mono). Not copied.

        The buffer hands out views of ``block``, so it takes the block over: the block is
        made read-only (``block.flags.writeable`` is cleared on the array you pass; an array
        it views stays writable), and writing into it afterwards raises instead of changing
        frames already handed out.

        Raises:
            InvalidAudioError: ``block`` is not valid audio.
            FormatError: Its channel count or dtype differs from the buffer's.
        """
        if not (
            type(block) is np.ndarray
            and block.ndim == 2
            and block.dtype == self._dtype
            and block.shape[1] == self._num_channels
            and block.flags.c_contiguous
        ):
            block = validate_samples(block, what="block")
            if block.shape[1] != self._num_channels:
                raise FormatError(
                    "block has wrong channel count", self._num_channels, block.shape[1]
                )
            if block.dtype != self._dtype:
                raise FormatError("block has wrong dtype", self._dtype.name, block.dtype.name)
        if block.shape[0]:
            if block.flags.writeable:  # frozen here, so every piece cut from it is read-only
                block.setflags(False)  # type: ignore[call-arg]  # positional: faster
            self._blocks.append(block)
            self._available += block.shape[0]

    def frames(self, samples: int, format: AudioFormat, pts: int) -> list[AudioFrame]:
        """Remove every whole piece of ``samples`` buffered, as frames of ``format``.

        The frames have continuous pts from ``pts``. This is the fast way to cut a stream
        into frames: the blocks were checked when pushed, so the frames are not checked
        again, and every frame inside one block is a view of it.

        Args:
            samples: Samples per channel of each frame.
            format: The frames' format; its channels and dtype must be the buffer's.
            pts: The pts of the first frame.

        Returns:
            The frames, possibly none; what is left is less than ``samples``.

        Raises:
            ParameterError: ``samples`` is not positive.
            FormatError: ``format`` has another channel count or dtype than the buffer.

        Examples:
            >>> import numpy as np
            >>> from lkframes import AudioFormat
            >>> buf = FrameBuffer(num_channels=1, dtype="int16")
            >>> buf.push(np.zeros((700, 1), np.int16))
            >>> [(f.pts, f.samples_per_channel) for f in buf.frames(320, AudioFormat(16_000, 1), 0)]
            [(0, 320), (320, 320)]
            >>> buf.available
            60
        """
        if samples <= 0:
            raise ParameterError(f"samples must be positive (got {samples})")
        if format._num_channels != self._num_channels or format._numpy_dtype is not self._dtype:
            raise FormatError(
                "frames() format does not match the buffer",
                f"{self._num_channels} ch {self._dtype.name}",
                f"{format.num_channels} ch {format.dtype}",
            )
        out: list[AudioFrame] = []
        append = out.append
        blocks = self._blocks
        available, offset = self._available, self._offset
        while available >= samples:
            first = blocks[0]
            size = first.shape[0]
            whole = (size - offset) // samples
            if whole >= 4:  # many views of one block, cut by numpy in one reshape
                stop = offset + whole * samples
                for view in first[offset:stop].reshape(whole, samples, self._num_channels):
                    frame = _new(AudioFrame)
                    frame._data, frame._format, frame._pts = view, format, pts
                    append(frame)
                    pts += samples
                available -= stop - offset
                offset = stop
            elif whole:  # a few: one view at a time
                end = offset + samples
                append(trusted_frame(first[offset:end], format, pts))
                offset = end
                available -= samples
                pts += samples
            else:  # the frame straddles blocks: one copy
                self._offset = offset
                append(trusted_frame(self._assemble(samples), format, pts))
                offset = self._offset
                available -= samples
                pts += samples
                continue
            if offset == size:
                blocks.popleft()
                offset = 0
        self._available, self._offset = available, offset
        return out

    def pop(self, samples: int) -> NDArray[Any] | None:
        """Remove and return exactly ``samples`` samples, or None if fewer are buffered.

        Raises:
            ParameterError: ``samples`` is not positive.
        """
        if samples > self._available:
            return None
        if samples <= 0:
            raise ParameterError(f"samples must be positive (got {samples})")
        # The piece lies inside the first block: hand out a view (the per-frame hot path).
        self._available -= samples
        first = self._blocks[0]
        start = self._offset
        end = start + samples
        size = len(first)
        if end < size:
            self._offset = end
            return first[start:end]
        if end == size:
            self._blocks.popleft()
            self._offset = 0
            return first[start:end]
        return self._assemble(samples)

    def pop_all(self) -> NDArray[Any]:
        """Remove and return everything buffered (possibly zero samples)."""
        if not self._available:
            return np.empty((0, self._num_channels), self._dtype)
        out = self.pop(self._available)
        assert out is not None
        return out

    def clear(self) -> None:
        """Drop everything buffered."""
        self._blocks.clear()
        self._offset = 0
        self._available = 0

    def _assemble(self, samples: int) -> NDArray[Any]:
        """Copy a piece that straddles blocks into new memory (one numpy call)."""
        blocks = self._blocks
        pieces = []
        needed = samples
        offset = self._offset
        while True:
            block = blocks[0]
            left = block.shape[0] - offset
            if left > needed:
                pieces.append(block[offset : offset + needed])
                self._offset = offset + needed
                break
            pieces.append(block[offset:] if offset else block)
            blocks.popleft()
            offset = 0
            needed -= left
            if not needed:
                self._offset = 0
                break
        out = np.concatenate(pieces)
        out.setflags(False)  # type: ignore[call-arg]  # positional: half write=False's cost
        self._copied_bytes += out.nbytes
        return out
