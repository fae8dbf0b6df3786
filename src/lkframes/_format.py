"""`AudioFormat`: what a stream of audio frames is, validated and immutable."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal, TypeAlias

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import ParameterError

__all__ = ("SUPPORTED_DTYPES", "AudioFormat", "DType", "positive_int", "samples_for")

DType: TypeAlias = Literal["int16", "float32"]
"""The sample types lkframes carries: LiveKit's native int16, and float32 for DSP.

Examples:
    >>> import lkframes as lk
    >>> lk.AudioFormat(16_000, 1, "float32").dtype
    'float32'
"""

SUPPORTED_DTYPES: tuple[DType, ...] = ("int16", "float32")

_MAX_SAMPLE_RATE = 1_536_000
_MAX_CHANNELS = 64


class AudioFormat(BaseModel):
    """The format of an audio stream: sample rate, channel count and sample type.

    A frozen pydantic model: validated on creation, hashable, serialisable to JSON.

    Args:
        sample_rate: Samples per second per channel, 1 to 1 536 000.
        num_channels: Interleaved channels, 1 to 64.
        dtype: ``"int16"`` (LiveKit's native format) or ``"float32"`` (full scale is ±1.0).

    Raises:
        ParameterError: A field is out of range or of the wrong type; the message names it.

    Examples:
        >>> AudioFormat(48_000, 1, "int16")
        AudioFormat(sample_rate=48000, num_channels=1, dtype='int16')
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    sample_rate: int = Field(gt=0, le=_MAX_SAMPLE_RATE)
    num_channels: int = Field(gt=0, le=_MAX_CHANNELS)
    dtype: DType = "int16"

    def __init__(
        self,
        sample_rate: int | None = None,
        num_channels: int | None = None,
        dtype: DType | None = None,
        **data: Any,
    ) -> None:
        if sample_rate is not None:
            data["sample_rate"] = sample_rate
        if num_channels is not None:
            data["num_channels"] = num_channels
        if dtype is not None:
            data["dtype"] = dtype
        for key in ("sample_rate", "num_channels"):
            value = data.get(key)
            if isinstance(value, np.integer):
                data[key] = int(value)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']} (got {err.get('input')!r})"
                for err in exc.errors()
            )
            raise ParameterError(f"invalid AudioFormat: {problems}") from None

    def __repr__(self) -> str:
        return (
            f"AudioFormat(sample_rate={self.sample_rate}, num_channels={self.num_channels}, "
            f"dtype={self.dtype!r})"
        )

    def __str__(self) -> str:
        layout = {1: "mono", 2: "stereo"}.get(self.num_channels, f"{self.num_channels} ch")
        return f"{self.sample_rate} Hz {layout} {self.dtype}"

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the samples."""
        return np.dtype(self.dtype)

    @property
    def bytes_per_frame(self) -> int:
        """Bytes of one sample instant across all channels (``num_channels * itemsize``)."""
        return self.num_channels * self.numpy_dtype.itemsize

    def samples_for(self, *, ms: float | None = None, samples: int | None = None) -> int:
        """Convert a duration to a whole number of samples per channel.

        Exactly one of ``ms`` or ``samples`` must be given.

        Args:
            ms: A duration in milliseconds; must be a whole number of samples at this rate.
            samples: A count of samples per channel, returned as is after validation.

        Returns:
            Samples per channel.

        Raises:
            ParameterError: Both or neither given, a non-positive size, or ``ms`` that is
                not a whole number of samples at this rate (e.g. 20 ms at 11 025 Hz).

        Examples:
            >>> AudioFormat(16_000, 1).samples_for(ms=20)
            320
        """
        return samples_for(self.sample_rate, ms=ms, samples=samples)

    def with_(self, **changes: Any) -> AudioFormat:
        """Return a copy with some fields changed (validated)."""
        fields = self.model_dump()
        fields.update(changes)
        return AudioFormat(**fields)


def positive_int(value: object, what: str = "sample_rate") -> int:
    """``value`` as an int if it is a positive integer, else `ParameterError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"{what} must be an int (got {type(value).__name__})")
    if value <= 0:
        raise ParameterError(f"{what} must be positive (got {value})")
    return int(value)


def samples_for(sample_rate: int, *, ms: float | None = None, samples: int | None = None) -> int:
    """Samples per channel for ``ms`` milliseconds (or ``samples``) at ``sample_rate``.

    See `AudioFormat.samples_for`.
    """
    if (ms is None) == (samples is None):
        raise ParameterError(
            f"give exactly one of ms= or samples= (got ms={ms}, samples={samples})"
        )
    if samples is not None:
        if isinstance(samples, bool) or not isinstance(samples, int | np.integer):
            raise ParameterError(f"samples must be an int (got {type(samples).__name__})")
        if samples <= 0:
            raise ParameterError(f"samples must be positive (got {samples})")
        return int(samples)
    assert ms is not None
    if not np.isfinite(ms) or ms <= 0:
        raise ParameterError(f"ms must be positive and finite (got {ms})")
    exact = Fraction(ms).limit_denominator(1_000_000) * sample_rate / 1000
    if exact.denominator != 1:
        raise ParameterError(
            f"{ms} ms at {sample_rate} Hz is {float(exact):g} samples, not a whole number; "
            f"pick a duration that divides evenly or pass samples= explicitly"
        )
    return int(exact)
