"""`speech_like`: vowel-like sound that Silero VAD takes for speech, made from numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .._core.errors import ParameterError

__all__ = ("speech_like",)

# Formants (Hz) and bandwidths of /a/, /i/ and /o/: the syllables cycle through them.
_VOWELS = (
    ((700, 110), (1220, 120), (2600, 160)),
    ((300, 60), (2300, 100), (3000, 120)),
    ((500, 80), (900, 90), (2500, 120)),
)
_SYLLABLE_S = 0.25


def _syllable(samples: int, sample_rate: int, vowel: int) -> NDArray[np.float64]:
    """Glottal pulses at ~125 Hz through three formant resonators, swelling and fading."""
    t = np.arange(samples) / sample_rate
    pitch = (120 + 5 * vowel) * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))
    pulses = np.diff(np.floor(np.cumsum(pitch / sample_rate)), prepend=0)
    ir_t = np.arange(int(0.02 * sample_rate)) / sample_rate
    response = np.zeros_like(ir_t)
    for formant, bandwidth in _VOWELS[vowel % len(_VOWELS)]:
        response += np.exp(-np.pi * bandwidth * ir_t) * np.sin(2 * np.pi * formant * ir_t)
    voiced = np.convolve(pulses, response)[:samples]
    swell = np.sin(np.pi * t / (samples / sample_rate)) ** 0.5
    return np.asarray(voiced * swell * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)))


def speech_like(
    parts: Sequence[float], sample_rate: int = 16_000, *, amplitude: float = 0.3
) -> NDArray[np.int16]:
    """Silence and vowel-like "speech" in turn, for testing voice activity detection.

    The speech is glottal pulses through the formants of /a/, /i/ and /o/, a syllable
    every 250 ms: Silero VAD gives it probabilities near 1, and near 0 to the silence
    between (tests/voice). No recording needed, so docs and tests run anywhere.

    Args:
        parts: Durations in seconds, silence first: ``[0.5, 1.0, 0.3]`` is 0.5 s of
            silence, 1 s of speech, 0.3 s of silence.
        sample_rate: The rate of the result.
        amplitude: The speech's peak, as a fraction of full scale.

    Returns:
        Mono int16 samples.

    Raises:
        ParameterError: A negative duration, or an amplitude outside (0, 1].

    Examples:
        >>> from lkframes.testing import speech_like
        >>> speech_like([0.5, 1.0, 0.5]).shape
        (32000,)
    """
    if any(not np.isfinite(p) or p < 0 for p in parts):
        raise ParameterError(f"parts must be durations >= 0 in seconds (got {list(parts)!r})")
    if not 0 < amplitude <= 1:
        raise ParameterError(f"amplitude must be in (0, 1] (got {amplitude!r})")
    out: list[NDArray[np.float64]] = []
    for i, seconds in enumerate(parts):
        samples = round(seconds * sample_rate)
        if i % 2 == 0:
            out.append(np.zeros(samples))
            continue
        syllable = round(_SYLLABLE_S * sample_rate)
        pieces = [
            _syllable(min(syllable, samples - at), sample_rate, n)
            for n, at in enumerate(range(0, samples, syllable))
        ]
        voiced = np.concatenate(pieces) if pieces else np.zeros(0)
        peak = np.abs(voiced).max() if voiced.size else 1.0
        out.append(voiced / peak * amplitude)
    joined = np.concatenate(out) if out else np.zeros(0)
    return np.round(joined * 32767).astype(np.int16)
