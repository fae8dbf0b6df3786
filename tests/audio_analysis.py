"""Measurements of received audio for the room tests: frequency, level, alignment."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Samples = NDArray[Any]


def as_float(x: Samples) -> NDArray[np.float64]:
    """Samples as float64 in [-1, 1) (int16 is divided by 32768)."""
    if x.dtype == np.int16:
        return x.astype(np.float64) / 32768.0
    return x.astype(np.float64)


def dominant_hz(x: Samples, sample_rate: int) -> float:
    """The frequency of the strongest spectral peak (Hann window, parabolic interpolation)."""
    y = as_float(x)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.shape[0])))
    k = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-300)
    offset = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c != 0 else 0.0
    return float((k + offset) * sample_rate / y.shape[0])


def band_level_db(x: Samples, sample_rate: int, hz: float, width_hz: float = 20.0) -> float:
    """Spectral magnitude (dB, relative) summed around ``hz``: is that tone there?"""
    y = as_float(x)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.shape[0])))
    freqs = np.fft.rfftfreq(y.shape[0], 1 / sample_rate)
    band = np.abs(freqs - hz) <= width_hz / 2
    total = float(np.sum(spectrum**2))
    return float(10 * np.log10(np.sum(spectrum[band] ** 2) / total + 1e-300))


def rms_dbfs(x: Samples) -> float:
    """RMS level in dB relative to full scale (a full-scale sine is -3 dBFS)."""
    y = as_float(x)
    return float(20 * np.log10(np.sqrt(np.mean(y**2)) + 1e-12))


def nonsilent(x: Samples, threshold: float = 1e-3) -> Samples:
    """``x`` from its first to its last sample above ``threshold`` of full scale."""
    loud = np.flatnonzero(np.abs(as_float(x)) > threshold)
    return x[loud[0] : loud[-1] + 1] if loud.size else x[:0]


def align(sent: Samples, received: Samples) -> tuple[int, float]:
    """Where ``sent`` starts in ``received`` and how alike they are there.

    Returns:
        ``(lag, similarity)``: the lag (samples; received[lag + i] ~ sent[i]) of the
        cross-correlation peak, and the normalised correlation (cosine similarity, 1.0 =
        identical waveform up to gain) of the overlapping parts at that lag.
    """
    s, r = as_float(sent), as_float(received)
    n = s.shape[0] + r.shape[0] - 1
    size = 1 << (n - 1).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(r, size) * np.conj(np.fft.rfft(s, size)), size)
    lags = np.concatenate([np.arange(0, r.shape[0]), np.arange(-s.shape[0] + 1, 0)])
    values = np.concatenate([xcorr[: r.shape[0]], xcorr[size - s.shape[0] + 1 :]])
    lag = int(lags[int(np.argmax(values))])
    if lag >= 0:
        a, b = s, r[lag:]
    else:
        a, b = s[-lag:], r
    m = min(a.shape[0], b.shape[0])
    a, b = a[:m], b[:m]
    similarity = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-300))
    return lag, similarity
