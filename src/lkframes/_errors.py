"""The lkframes exception hierarchy.

One root (`LkFramesError`) so callers can catch everything lkframes raises on purpose, and
one meaning per class. Closing semantics reuse anyio's exceptions
(`anyio.ClosedResourceError`) instead of inventing twins.
"""

from __future__ import annotations

__all__ = ("FormatError", "InvalidAudioError", "LkFramesError", "ParameterError")


class LkFramesError(Exception):
    """Base class of every error lkframes raises on purpose.

    Examples:
        >>> import lkframes as lk
        >>> try:
        ...     lk.AudioFormat(0, 1, "int16")
        ... except lk.LkFramesError as exc:
        ...     print(type(exc).__name__)
        ParameterError
    """


class ParameterError(LkFramesError, ValueError):
    """A stage, source or format was given a parameter it cannot work with.

    Raised when the pipeline is built (or at the first frame when the stream format is only
    known then): non-positive rates, a chunk size that is not a whole number of samples,
    an unknown dtype or tail policy.

    Examples:
        >>> import lkframes as lk
        >>> try:
        ...     lk.sine(440, 1.0, sample_rate=-1)
        ... except lk.ParameterError as exc:
        ...     print(isinstance(exc, ValueError))
        True
    """


class FormatError(LkFramesError, ValueError):
    """Audio arrived in a format other than the one expected.

    The message always names what was expected and what was got, for example
    ``sample_rate changed mid-stream (expected 48000, got 16000)``.

    Examples:
        >>> import lkframes as lk
        >>> error = lk.FormatError("sample_rate changed mid-stream", 48_000, 16_000)
        >>> print(error)
        sample_rate changed mid-stream (expected 48000, got 16000)
        >>> error.expected, error.got
        (48000, 16000)
    """

    def __init__(self, what: str, expected: object, got: object, *, hint: str = "") -> None:
        self.what = what
        self.expected = expected
        self.got = got
        message = f"{what} (expected {expected}, got {got})"
        if hint:
            message = f"{message}; {hint}"
        super().__init__(message)


class InvalidAudioError(LkFramesError, ValueError):
    """Sample data that cannot be audio as given.

    Wrong dtype, wrong number of dimensions, a non-contiguous array, an odd byte length in a
    LiveKit frame, NaN or infinity in float samples.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> try:
        ...     lk.AudioFrame(np.zeros((2, 2, 2), np.int16), 16_000)
        ... except lk.InvalidAudioError:
        ...     print("rejected")
        rejected
    """
