"""Headerless audio: raw PCM, μ-law and A-law, whose rate and layout are not in the file.

They are never guessed. μ-law and A-law have a standard (ITU-T G.711: 8000 Hz, mono) that
is used, with an `AssumedFormatWarning`, when the caller gives nothing; any other raw file
needs ``sample_rate=``, ``num_channels=`` and ``encoding=`` (the CLI's ``--input-rate``,
``--input-channels``, ``--input-encoding``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .._core.checks import check_choice
from .._core.errors import ParameterError
from .._core.format import MAX_CHANNELS, MAX_SAMPLE_RATE, DType

__all__ = (
    "HEADERLESS_SUFFIXES",
    "RAW_DEMUXERS",
    "RawEncoding",
    "RawLayout",
    "encoding_of_demuxer",
    "raw_layout",
)

RawEncoding = Literal[
    "s8", "u8", "s16le", "s16be", "s24le", "s24be", "s32le", "s32be",
    "f32le", "f32be", "f64le", "f64be", "mulaw", "alaw",
]  # fmt: skip
"""The sample encodings of headerless files, by FFmpeg's names (``-f s16le`` and so on).

Examples:
    >>> import typing, lkframes as lk
    >>> typing.get_args(lk.RawEncoding)[:3]
    ('s8', 'u8', 's16le')
"""

# encoding -> (libsndfile subtype, endian, the dtype lkframes reads it as, bytes a sample)
_ENCODINGS: dict[str, tuple[str, str, DType, int]] = {
    "s8": ("PCM_S8", "FILE", "int16", 1),
    "u8": ("PCM_U8", "FILE", "int16", 1),
    "s16le": ("PCM_16", "LITTLE", "int16", 2),
    "s16be": ("PCM_16", "BIG", "int16", 2),
    "s24le": ("PCM_24", "LITTLE", "float32", 3),
    "s24be": ("PCM_24", "BIG", "float32", 3),
    "s32le": ("PCM_32", "LITTLE", "float32", 4),
    "s32be": ("PCM_32", "BIG", "float32", 4),
    "f32le": ("FLOAT", "LITTLE", "float32", 4),
    "f32be": ("FLOAT", "BIG", "float32", 4),
    "f64le": ("DOUBLE", "LITTLE", "float32", 8),
    "f64be": ("DOUBLE", "BIG", "float32", 8),
    "mulaw": ("ULAW", "FILE", "int16", 1),
    "alaw": ("ALAW", "FILE", "int16", 1),
}

RAW_DEMUXERS = frozenset(_ENCODINGS) | {"sln", "u16le", "u16be", "u24le", "u24be", "u32le"}
"""FFmpeg's demuxers for headerless audio: their rate and layout are FFmpeg's guesses."""

_STANDARD = {"mulaw": "μ-law", "alaw": "A-law"}
"""Encodings with a standard layout (ITU-T G.711: 8000 Hz mono), used when none is given."""

HEADERLESS_SUFFIXES = {
    ".raw": None, ".pcm": None, ".sw": "s16le", ".sb": "s8", ".ub": "u8", ".uw": None,
    ".s8": "s8", ".u8": "u8", ".s16": "s16le", ".s24": "s24le", ".s32": "s32le",
    ".f32": "f32le", ".f64": "f64le", ".ul": "mulaw", ".ulaw": "mulaw", ".mulaw": "mulaw",
    ".al": "alaw", ".alaw": "alaw",
}  # fmt: skip
"""Extensions of headerless files, with the encoding the name implies (as sox reads them)."""


@dataclass(frozen=True, slots=True)
class RawLayout:
    """How to read a headerless file: its rate, channels and sample encoding."""

    sample_rate: int
    num_channels: int
    encoding: RawEncoding
    assumed: bool = False
    """The format's standard was used because the caller gave nothing."""

    @property
    def subtype(self) -> str:
        """libsndfile's name of the encoding."""
        return _ENCODINGS[self.encoding][0]

    @property
    def endian(self) -> str:
        """libsndfile's byte order of the encoding."""
        return _ENCODINGS[self.encoding][1]

    @property
    def dtype(self) -> DType:
        """What lkframes reads the samples as."""
        return _ENCODINGS[self.encoding][2]

    @property
    def frame_bytes(self) -> int:
        """Bytes of one sample of every channel."""
        return _ENCODINGS[self.encoding][3] * self.num_channels

    def describe(self) -> str:
        """E.g. ``8000 Hz mono μ-law``."""
        channels = {1: "mono", 2: "stereo"}.get(self.num_channels, f"{self.num_channels} ch")
        name = _STANDARD.get(self.encoding, self.encoding)
        return f"{self.sample_rate} Hz {channels} {name}"


def encoding_of_demuxer(name: str) -> RawEncoding | None:
    """The encoding FFmpeg's raw demuxer ``name`` reads (``sln`` is signed 16-bit)."""
    if name == "sln":
        return "s16le"
    return name if name in _ENCODINGS else None  # type: ignore[return-value]


def raw_layout(
    name: str,
    implied: RawEncoding | None,
    sample_rate: int | None,
    num_channels: int | None,
    encoding: str | None,
    dtype: DType | None,
) -> RawLayout:
    """The layout of headerless input ``name``: what the caller gave, else the standard of
    the encoding its name implies (μ-law, A-law), else `ParameterError` saying what to give.

    ``dtype`` stands for the encoding when none is given or implied (``int16``: s16le,
    ``float32``: f32le), as the sample type of a raw file is what it holds.
    """
    chosen = encoding or implied
    if chosen is None and dtype is not None:
        chosen = "s16le" if dtype == "int16" else "f32le"
    if chosen is not None:
        check_choice(chosen, get_args(RawEncoding), "encoding")
    if chosen in _STANDARD and (sample_rate is None or num_channels is None):
        rate, channels = sample_rate or 8_000, num_channels or 1  # G.711's: 8 kHz mono
        assumed = RawLayout(rate, channels, chosen, assumed=True)  # type: ignore[arg-type]
        _check_layout(assumed.sample_rate, assumed.num_channels)
        return assumed
    missing = [
        what
        for what, value in (
            ("sample_rate", sample_rate),
            ("num_channels", num_channels),
            ("encoding", chosen),
        )
        if value is None
    ]
    if missing:
        given = ", ".join(f"{m}=" for m in missing)
        raise ParameterError(
            f"{name} is headerless audio: its rate, channels and sample encoding are not in "
            f"the file; give {given} (e.g. from_file(..., sample_rate=16000, "
            "num_channels=1, encoding='s16le'))"
        )
    _check_layout(sample_rate, num_channels)
    return RawLayout(sample_rate, num_channels, chosen)  # type: ignore[arg-type]


def _check_layout(sample_rate: object, num_channels: object) -> None:
    for what, value, top in (
        ("sample_rate", sample_rate, MAX_SAMPLE_RATE),
        ("num_channels", num_channels, MAX_CHANNELS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise ParameterError(f"{what} must be a whole number from 1 to {top} (got {value!r})")
