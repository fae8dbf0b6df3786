"""Hypothesis strategies for audio formats, sample arrays, frames and split streams."""

from __future__ import annotations

from itertools import pairwise
from typing import Any, TypeVar

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from .._core.format import SUPPORTED_DTYPES, AudioFormat, DType
from .._core.frame import AudioFrame

__all__ = ("audio_arrays", "audio_formats", "audio_frames", "frame_streams", "splits")

T = TypeVar("T")

COMMON_RATES = (8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
"""Sample rates drawn by default: the ones telephony, speech models and WebRTC use."""


def _strategy(value: T | st.SearchStrategy[T] | None, default: st.SearchStrategy[T]) -> Any:
    if value is None:
        return default
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def audio_formats(
    *,
    sample_rates: int | st.SearchStrategy[int] | None = None,
    num_channels: int | st.SearchStrategy[int] | None = None,
    dtypes: DType | st.SearchStrategy[DType] | None = None,
) -> st.SearchStrategy[AudioFormat]:
    """Valid `AudioFormat` values.

    Each argument is a fixed value or a strategy of values.

    Args:
        sample_rates: Defaults to the common rates 8 kHz to 48 kHz.
        num_channels: Defaults to 1 or 2.
        dtypes: Defaults to int16 or float32.

    Returns:
        A strategy of `AudioFormat` values.

    Raises:
        ParameterError: (when drawn) a given strategy produced an invalid rate, channel
            count or dtype.

    Examples:
        >>> from hypothesis import given
        >>> @given(audio_formats())
        ... def test(fmt): assert fmt.sample_rate > 0
    """
    return st.builds(
        AudioFormat,
        sample_rate=_strategy(sample_rates, st.sampled_from(COMMON_RATES)),
        num_channels=_strategy(num_channels, st.integers(1, 2)),
        dtype=_strategy(dtypes, st.sampled_from(SUPPORTED_DTYPES)),
    )


def _resolve(
    fmt: AudioFormat | st.SearchStrategy[AudioFormat] | None,
) -> st.SearchStrategy[AudioFormat]:
    if fmt is None:
        return audio_formats()
    if isinstance(fmt, AudioFormat):
        return st.just(fmt)
    return fmt


def _signal(kind: str, n: int, channels: int, dtype: str, seed: int) -> NDArray[Any]:
    rng = np.random.default_rng(seed)
    if kind == "zeros":
        unit = np.zeros((n, channels))
    elif kind == "extremes":
        unit = rng.choice(np.array([-1.0, 1.0, 0.0]), size=(n, channels))
    elif kind == "tone":
        t = np.arange(n)[:, None]
        unit = 0.8 * np.sin(2 * np.pi * t * rng.uniform(0.001, 0.45) + np.arange(channels))
    else:
        unit = rng.uniform(-1.0, 1.0, size=(n, channels))
    if dtype == "int16":
        return np.clip(np.rint(unit * 32768.0), -32768, 32767).astype(np.int16)
    return np.ascontiguousarray(unit, dtype=np.float32)


@st.composite
def audio_arrays(
    draw: st.DrawFn,
    fmt: AudioFormat | st.SearchStrategy[AudioFormat] | None = None,
    *,
    min_samples: int = 0,
    max_samples: int = 4_000,
) -> NDArray[Any]:
    """C-contiguous ``(samples, channels)`` arrays of the format's dtype.

    Signals are noise, a tone, silence or full-scale extremes (int16 -32768/32767, float
    ±1.0), generated from a drawn seed so long arrays stay cheap; the length shrinks.

    Args:
        fmt: A format or a strategy of formats (default: `audio_formats`).
        min_samples: Shortest length per channel.
        max_samples: Longest length per channel.

    Returns:
        A strategy of int16 or float32 arrays.

    Raises:
        hypothesis.errors.InvalidArgument: (when drawn) ``min_samples`` > ``max_samples``,
            or a negative bound.

    Examples:
        >>> import lkframes as lk
        >>> from hypothesis import given, settings
        >>> fmt = lk.AudioFormat(16_000, 2, "float32")
        >>> @settings(max_examples=10)
        ... @given(audio_arrays(fmt, max_samples=100))
        ... def test(x):
        ...     assert x.dtype == "float32" and x.shape[1] == 2 and x.flags.c_contiguous
        >>> test()
    """
    f = draw(_resolve(fmt))
    n = draw(st.integers(min_samples, max_samples))
    kind = draw(st.sampled_from(("noise", "tone", "zeros", "extremes")))
    seed = draw(st.integers(0, 2**32 - 1))
    return _signal(kind, n, f.num_channels, f.dtype, seed)


@st.composite
def audio_frames(
    draw: st.DrawFn,
    fmt: AudioFormat | st.SearchStrategy[AudioFormat] | None = None,
    *,
    min_samples: int = 0,
    max_samples: int = 4_000,
) -> AudioFrame:
    """Single `AudioFrame` values of the given format, with a non-negative pts.

    Args:
        fmt: A format or a strategy of formats (default: `audio_formats`).
        min_samples: Fewest samples per channel.
        max_samples: Most samples per channel.

    Returns:
        A strategy of `AudioFrame` values.

    Raises:
        hypothesis.errors.InvalidArgument: (when drawn) ``min_samples`` > ``max_samples``,
            or a negative bound.

    Examples:
        >>> import lkframes as lk
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10)
        ... @given(audio_frames(lk.AudioFormat(8_000, 1, "int16"), max_samples=80))
        ... def test(frame):
        ...     assert frame.sample_rate == 8_000 and frame.pts >= 0
        >>> test()
    """
    f = draw(_resolve(fmt))
    data = draw(audio_arrays(f, min_samples=min_samples, max_samples=max_samples))
    pts = draw(st.integers(0, 10 * f.sample_rate))
    return AudioFrame(data, f.sample_rate, pts=pts)


@st.composite
def splits(draw: st.DrawFn, total: int, *, max_parts: int = 40) -> list[int]:
    """Sizes that add up to ``total``: irregular, including 0 and 1, in any order.

    Args:
        total: What the sizes add up to.
        max_parts: Most cut points.

    Returns:
        A strategy of lists of non-negative sizes.

    Raises:
        hypothesis.errors.InvalidArgument: (when drawn) ``total`` or ``max_parts`` is
            negative.

    Examples:
        >>> from hypothesis import given
        >>> @given(splits(100))
        ... def test(sizes): assert sum(sizes) == 100
    """
    cuts = draw(st.lists(st.integers(0, total), max_size=max_parts))
    if total and draw(st.booleans()):
        # Make the interesting sizes likely: a 1-sample part and an empty part.
        cuts += [1, 1] if total > 1 else [0]
    edges = [0, *sorted(cuts), total]
    return [b - a for a, b in pairwise(edges)]


@st.composite
def frame_streams(
    draw: st.DrawFn,
    fmt: AudioFormat | st.SearchStrategy[AudioFormat] | None = None,
    *,
    min_samples: int = 0,
    max_samples: int = 4_000,
    max_frames: int = 40,
) -> list[AudioFrame]:
    """A signal cut at irregular places into frames with continuous ``pts`` from 0.

    Frame sizes include 0 and 1 sample. Feed the list to `lkframes.from_frames`; compare
    against ``np.concatenate([f.data for f in frames])`` (the unsplit signal).

    Args:
        fmt: A format or a strategy of formats (default: `audio_formats`).
        min_samples: Shortest total length per channel.
        max_samples: Longest total length per channel.
        max_frames: Most cut points.

    Returns:
        A strategy of lists of `AudioFrame` values.

    Raises:
        hypothesis.errors.InvalidArgument: (when drawn) ``min_samples`` > ``max_samples``,
            or a negative bound.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10)
        ... @given(frame_streams(lk.AudioFormat(16_000, 1, "int16"), max_samples=200))
        ... def test(frames):
        ...     ends = [f.pts + f.samples_per_channel for f in frames]
        ...     assert [f.pts for f in frames[1:]] == ends[:-1]
        >>> test()
    """
    f = draw(_resolve(fmt))
    data = draw(audio_arrays(f, min_samples=min_samples, max_samples=max_samples))
    sizes = draw(splits(data.shape[0], max_parts=max_frames))
    frames = []
    pts = 0
    for size in sizes:
        frames.append(AudioFrame(data[pts : pts + size], f.sample_rate, pts=pts))
        pts += size
    return frames
