"""`AudioFormat`: what a stream of audio frames is, validated once, shared by every frame."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, get_args

import numpy as np

from .errors import ParameterError
from .samples import samples_for

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = ("MAX_CHANNELS", "MAX_SAMPLE_RATE", "SUPPORTED_DTYPES", "AudioFormat", "DType")

DType: TypeAlias = Literal["int16", "float32"]
"""The sample types lkframes carries: LiveKit's native int16, and float32 for DSP.

Examples:
    >>> import lkframes as lk
    >>> lk.AudioFormat(16_000, 1, "float32").dtype
    'float32'
"""

SUPPORTED_DTYPES: tuple[DType, ...] = get_args(DType)

MAX_SAMPLE_RATE = 1_536_000
MAX_CHANNELS = 64

_NUMPY_DTYPES = {name: np.dtype(name) for name in SUPPORTED_DTYPES}


INVALID_FIELD = "invalid AudioFormat: {name}: {problem} (got {value!r})"


def _field(value: object, name: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        problem = f"must be an int, not {type(value).__name__}"
        raise ParameterError(INVALID_FIELD.format(name=name, problem=problem, value=value))
    if not 0 < value <= maximum:
        problem = f"must be within 1 to {maximum}"
        raise ParameterError(INVALID_FIELD.format(name=name, problem=problem, value=int(value)))
    return int(value)


class AudioFormat:
    """The format of an audio stream: sample rate, channel count and sample type.

    Immutable and hashable. Formats are interned: building the same format twice gives the
    same object, so frames share one format and comparing formats is an identity check.

    Args:
        sample_rate: Samples per second per channel, 1 to 1 536 000.
        num_channels: Interleaved channels, 1 to 64.
        dtype: ``"int16"`` (LiveKit's native format) or ``"float32"`` (full scale is ±1.0).

    Raises:
        ParameterError: A field is out of range or of the wrong type; the message names it.

    Examples:
        >>> AudioFormat(48_000, 1, "int16")
        AudioFormat(sample_rate=48000, num_channels=1, dtype='int16')
        >>> AudioFormat(48_000, 1) is AudioFormat(sample_rate=48_000, num_channels=1)
        True
    """

    __slots__ = ("_dtype", "_num_channels", "_numpy_dtype", "_row", "_sample_rate")

    _interned: ClassVar[dict[tuple[int, int, str], AudioFormat]] = {}

    _sample_rate: int
    _num_channels: int
    _dtype: DType
    _numpy_dtype: np.dtype[Any]
    _row: tuple[int]  # the shape of one sample instant: (num_channels,)

    def __new__(cls, sample_rate: int, num_channels: int, dtype: DType = "int16") -> AudioFormat:
        if type(sample_rate) is int and type(num_channels) is int:
            known = cls._interned.get((sample_rate, num_channels, dtype))
            if known is not None:
                return known
        rate = _field(sample_rate, "sample_rate", MAX_SAMPLE_RATE)
        channels = _field(num_channels, "num_channels", MAX_CHANNELS)
        if dtype not in _NUMPY_DTYPES:
            problem = f"must be one of {SUPPORTED_DTYPES}"
            raise ParameterError(INVALID_FIELD.format(name="dtype", problem=problem, value=dtype))
        key = (rate, channels, dtype)
        known = cls._interned.get(key)
        if known is None:
            known = object.__new__(cls)
            object.__setattr__(known, "_sample_rate", rate)
            object.__setattr__(known, "_num_channels", channels)
            object.__setattr__(known, "_dtype", dtype)
            object.__setattr__(known, "_numpy_dtype", _NUMPY_DTYPES[dtype])
            object.__setattr__(known, "_row", (channels,))
            known = cls._interned.setdefault(key, known)
        return known

    def __init__(self, sample_rate: int, num_channels: int, dtype: DType = "int16") -> None:
        """Validated and interned in ``__new__``; nothing is left to do here."""

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"AudioFormat is immutable (cannot set {name}); use with_()")

    def __reduce__(self) -> tuple[type[AudioFormat], tuple[int, int, str]]:
        return (AudioFormat, (self._sample_rate, self._num_channels, self._dtype))

    def __copy__(self) -> AudioFormat:
        return self

    def __deepcopy__(self, memo: object) -> AudioFormat:
        return self

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, AudioFormat):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[int, int, str]:
        return (self._sample_rate, self._num_channels, self._dtype)

    def __repr__(self) -> str:
        return (
            f"AudioFormat(sample_rate={self._sample_rate}, num_channels={self._num_channels}, "
            f"dtype={self._dtype!r})"
        )

    def __str__(self) -> str:
        layout = {1: "mono", 2: "stereo"}.get(self._num_channels, f"{self._num_channels} ch")
        return f"{self._sample_rate} Hz {layout} {self._dtype}"

    @property
    def sample_rate(self) -> int:
        """Samples per second per channel."""
        return self._sample_rate

    @property
    def num_channels(self) -> int:
        """Interleaved channels."""
        return self._num_channels

    @property
    def dtype(self) -> DType:
        """``"int16"`` or ``"float32"``."""
        return self._dtype

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the samples."""
        return self._numpy_dtype

    @property
    def bytes_per_frame(self) -> int:
        """Bytes of one sample instant across all channels (``num_channels * itemsize``)."""
        return self._num_channels * self._numpy_dtype.itemsize

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
        return samples_for(self._sample_rate, ms=ms, samples=samples)

    def with_(
        self,
        *,
        sample_rate: int | None = None,
        num_channels: int | None = None,
        dtype: DType | None = None,
    ) -> AudioFormat:
        """The same format with some fields changed (validated).

        Raises:
            ParameterError: A new field is invalid.

        Examples:
            >>> AudioFormat(48_000, 2).with_(sample_rate=16_000)
            AudioFormat(sample_rate=16000, num_channels=2, dtype='int16')
        """
        return AudioFormat(
            self._sample_rate if sample_rate is None else sample_rate,
            self._num_channels if num_channels is None else num_channels,
            self._dtype if dtype is None else dtype,
        )

    # -- JSON ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """``{"sample_rate": ..., "num_channels": ..., "dtype": ...}``, ready for JSON.

        Examples:
            >>> AudioFormat(16_000, 1).to_dict()
            {'sample_rate': 16000, 'num_channels': 1, 'dtype': 'int16'}
        """
        return {
            "sample_rate": self._sample_rate,
            "num_channels": self._num_channels,
            "dtype": self._dtype,
        }

    def to_json(self) -> str:
        """`to_dict` as compact JSON text.

        Examples:
            >>> AudioFormat(16_000, 1).to_json()
            '{"sample_rate":16000,"num_channels":1,"dtype":"int16"}'
        """
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: object) -> AudioFormat:
        """The format a `to_dict` mapping (or decoded JSON) describes.

        ``dtype`` may be left out (int16). Unknown keys are refused.

        Raises:
            ParameterError: Not a mapping, a missing or unknown key, or an invalid field.

        Examples:
            >>> AudioFormat.from_dict({"sample_rate": 16_000, "num_channels": 2})
            AudioFormat(sample_rate=16000, num_channels=2, dtype='int16')
        """
        if not isinstance(data, dict):
            raise ParameterError(
                f"invalid AudioFormat: expected a mapping (got {type(data).__name__})"
            )
        unknown = sorted(set(data) - {"sample_rate", "num_channels", "dtype"})
        missing = [key for key in ("sample_rate", "num_channels") if key not in data]
        if unknown or missing:
            problems = [f"unknown key {key!r}" for key in unknown]
            problems += [f"missing key {key!r}" for key in missing]
            raise ParameterError(f"invalid AudioFormat: {'; '.join(problems)}")
        return cls(data["sample_rate"], data["num_channels"], data.get("dtype", "int16"))

    @classmethod
    def from_json(cls, text: str | bytes) -> AudioFormat:
        """The format `to_json` text describes.

        Raises:
            ParameterError: Not JSON, or not a valid format.

        Examples:
            >>> AudioFormat.from_json('{"sample_rate": 8000, "num_channels": 1}')
            AudioFormat(sample_rate=8000, num_channels=1, dtype='int16')
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"invalid AudioFormat: not JSON ({exc.msg})") from None
        return cls.from_dict(data)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Lets an `AudioFormat` be a field of a pydantic model (validated from a mapping)."""
        from pydantic_core import core_schema

        def validate(value: object) -> AudioFormat:
            if isinstance(value, AudioFormat):
                return value
            try:
                return cls.from_dict(value)
            except ParameterError as exc:
                raise ValueError(str(exc)) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(cls.to_dict),
        )
