"""The checks that repeat across layers, written once: a stream keeps one format, and a
parameter is one of a fixed set of choices."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from .errors import FormatError, InvalidAudioError, ParameterError
from .format import AudioFormat
from .frame import AudioFrame

__all__ = ("FormatGuard", "check_choice", "finite_number")

T = TypeVar("T")

FORMAT_CHANGED = "{where}: frame format changed mid-stream"
NOT_A_FRAME = "{where} takes lkframes.AudioFrame items (got {got})"


class FormatGuard:
    """Checks, per frame, that a stream keeps one audio format.

    The format is the one declared, else the first frame's. The fast path is one identity
    test (formats are interned), so a stage can afford it on every frame.

    Args:
        where: Names the stage or sink in error messages.
        declared: The format the stream declared, if any.

    Examples:
        >>> import numpy as np
        >>> guard = FormatGuard("my_stage", None)
        >>> guard(AudioFrame(np.zeros(10, np.int16), 8_000))
        AudioFormat(sample_rate=8000, num_channels=1, dtype='int16')
        >>> try:
        ...     guard(AudioFrame(np.zeros(10, np.int16), 16_000))
        ... except FormatError as exc:
        ...     print(exc.what)
        my_stage: frame format changed mid-stream
    """

    __slots__ = ("format", "where")

    def __init__(self, where: str, declared: AudioFormat | None) -> None:
        self.where = where
        self.format = declared
        """The format every frame must have (None until the first frame without a declaration)."""

    def __call__(self, frame: AudioFrame) -> AudioFormat:
        """The frame's format, after checking it is the stream's.

        Raises:
            FormatError: The frame has another format.
            InvalidAudioError: The item is not an `AudioFrame`.
        """
        if type(frame) is AudioFrame and frame.format is self.format:
            return frame.format
        if not isinstance(frame, AudioFrame):
            raise InvalidAudioError(NOT_A_FRAME.format(where=self.where, got=type(frame).__name__))
        fmt = frame.format
        if self.format is None:
            self.format = fmt
        elif fmt != self.format:
            raise FormatError(FORMAT_CHANGED.format(where=self.where), self.format, fmt)
        return fmt


def check_choice(value: T, choices: Sequence[T], what: str) -> T:
    """``value`` if it is one of ``choices``, else `ParameterError` naming them.

    Examples:
        >>> check_choice("HQ", ("LQ", "HQ"), "quality")
        'HQ'
    """
    if value not in choices:
        raise ParameterError(f"{what} must be one of {tuple(choices)} (got {value!r})")
    return value


def finite_number(value: object, what: str) -> float:
    """``value`` as a float if it is a finite real number (not a bool), else `ParameterError`.

    Examples:
        >>> finite_number(-6, "db")
        -6.0
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(f"{what} must be a number (got {type(value).__name__})")
    number = float(value)
    if not math.isfinite(number):
        raise ParameterError(f"{what} must be finite (got {value})")
    return number
