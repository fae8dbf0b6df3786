"""Parameter vocabularies shared by the stages, the `Stream` methods, pipeline files and the
command line: each list of choices is written here once."""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

__all__ = ("QUALITIES", "TAILS", "Interpolation", "Partial", "Quality", "Tail")

Quality: TypeAlias = Literal["QQ", "LQ", "MQ", "HQ", "VHQ"]
"""soxr quality recipes, lowest to highest; ``"HQ"`` is the default (sox ``rate -h``).

Examples:
    >>> import lkframes as lk
    >>> stream = lk.sine(440, 0.1, 44_100).resample(16_000, quality="VHQ")
    >>> stream.format.sample_rate
    16000
"""

QUALITIES: tuple[Quality, ...] = get_args(Quality)

Tail: TypeAlias = Literal["keep", "pad", "drop"]
"""What `chunk` does with a last piece shorter than the chunk size.

Examples:
    >>> import lkframes as lk
    >>> tone = lk.sine(440, 0.05, 16_000)  # 800 samples
    >>> [f.samples_per_channel for f in lk.run_sync(tone.chunk(samples=320).collect())]
    [320, 320, 160]
    >>> [f.samples_per_channel for f in lk.run_sync(tone.chunk(samples=320, tail="pad").collect())]
    [320, 320, 320]
"""

TAILS: tuple[Tail, ...] = get_args(Tail)

Interpolation: TypeAlias = Literal["fast_bilinear", "bilinear", "bicubic", "area", "lanczos"]
"""How `resize` computes the new pixels (FFmpeg's swscale algorithms).

Examples:
    >>> import typing
    >>> import lkframes as lk
    >>> typing.get_args(lk.Interpolation)[:2]
    ('fast_bilinear', 'bilinear')
"""

Partial: TypeAlias = Literal["discard", "keep"]
"""What `to_file` leaves at its path when a run does not finish.

Nothing (``"discard"``, the default for files and arrays), or a valid file with what was
written (``"keep"``, the default for live streams).

Examples:
    >>> import typing, lkframes as lk
    >>> typing.get_args(lk.Partial)
    ('discard', 'keep')
"""
