"""ITU-R BS.1770-4 loudness, streamed: K-weighting, 100 ms steps, gating and true peak.

The measurement is the standard's, done block by block so that memory stays flat:

- **K-weighting**: the two biquads of BS.1770 (a high shelf, +4 dB above ~1.7 kHz, and a
  high pass at 38 Hz), with libebur128's (and FFmpeg's ``ebur128``) design from the analog
  prototype, which gives the standard's 48 kHz coefficients exactly and the same response
  at any rate. Run by scipy's ``sosfilt`` kernel (`stages._sosfilt`) in float64 with its
  state carried across frames.
- **Energy per 100 ms**: the channel-weighted mean square of each 100 ms step (1.0 for
  L, R, C; 1.41 for surrounds; LFE left out) is the only thing kept: 8 bytes per 100 ms.
  A 400 ms gating block (75 % overlap) is the mean of 4 steps, a 3 s short-term window of
  30; loudness is ``-0.691 + 10 log10(energy)``.
- **Gating** (integrated loudness): blocks below -70 LUFS are dropped, then blocks more
  than 10 LU below the loudness of those left; the mean energy of the rest.
- **True peak** (BS.1770-4 annex 2): the signal oversampled 4x (2x at 96 kHz and above,
  as libebur128) by soxr, its largest absolute value in dB.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.errors import FormatError
from ._sosfilt import kernel, sosfilt

__all__ = ("MIN_RATE", "Meter", "channel_weights", "k_weighting", "lufs")

_ABSOLUTE_GATE = -70.0  # LUFS
_RELATIVE_GATE = -10.0  # LU below the absolutely gated loudness
_RANGE_GATE = -20.0  # LU below the absolutely gated short-term loudness (EBU Tech 3342)
_OFFSET = -0.691
MIN_RATE = 8_000


def lufs(energy: float) -> float:
    """Loudness of a channel-weighted mean square: ``-0.691 + 10 log10(energy)``."""
    return _OFFSET + 10.0 * math.log10(energy) if energy > 0 else -math.inf


def k_weighting(sample_rate: int) -> NDArray[np.float64]:
    """The K-weighting filter at ``sample_rate`` as second-order sections (scipy's sos).

    Examples:
        >>> k_weighting(48_000)[0, :3].round(8).tolist()  # BS.1770-4 table 1
        [1.53512486, -2.69169619, 1.19839281]
    """
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1.0 + k / q + k * k
    high_pass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, high_pass])


def channel_weights(num_channels: int) -> NDArray[np.float64]:
    """BS.1770's channel weights in lkframes' (WAV's and FFmpeg's) channel order.

    5.1 (FL FR FC LFE BL BR) and 7.1 (FL FR FC LFE BL BR SL SR): 1.0 for the front
    channels, 1.41 for the surrounds, the LFE left out; 5 channels in the standard's order
    (L R C Ls Rs); any other count 1.0 each.

    Examples:
        >>> channel_weights(6).tolist()
        [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]
    """
    known = {
        5: [1.0, 1.0, 1.0, 1.41, 1.41],
        6: [1.0, 1.0, 1.0, 0.0, 1.41, 1.41],
        8: [1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.41, 1.41],
    }
    return np.array(known.get(num_channels, [1.0] * num_channels))


def oversampling(sample_rate: int) -> int:
    """The true-peak oversampling factor: 4 below 96 kHz, 2 below 192 kHz, else 1."""
    return 4 if sample_rate < 96_000 else 2 if sample_rate < 192_000 else 1


class Meter:
    """The BS.1770 measurement of one stream, fed samples in order (any block sizes).

    Args:
        sample_rate: The stream's rate, 8000 Hz or more.
        num_channels: Its channels.
        true_peak: Also measure the true peak (costs a 4x oversampling).

    Raises:
        FormatError: A rate below 8000 Hz.
        MissingExtraError: scipy is not installed.
    """

    def __init__(self, sample_rate: int, num_channels: int, *, true_peak: bool = True) -> None:
        if sample_rate < MIN_RATE:
            raise FormatError(
                "loudness (BS.1770) needs the K-weighting's 1.7 kHz shelf below half the rate",
                f">= {MIN_RATE} Hz",
                f"{sample_rate} Hz",
            )
        self._kernel = kernel()  # MissingExtraError without scipy
        self._sos = k_weighting(sample_rate)
        self._state = np.zeros((2, 2, num_channels))
        self._weights = channel_weights(num_channels)
        self.step = max(1, round(sample_rate / 10))
        """Samples per channel in each 100 ms step."""
        self._partial = 0.0  # weighted sum of squares of the step being filled
        self._filled = 0  # samples in it
        self._steps = np.zeros(1024)  # the mean energy of each complete step, in [:_count]
        self._count = 0
        self.samples = 0
        """Samples per channel measured so far."""
        self.sample_peak = 0.0
        """The largest absolute sample so far (full scale 1.0)."""
        self.last_peak = 0.0
        """The largest absolute sample of the last `push`."""
        self._true_peak = 0.0
        self._oversampler: Any = None
        if true_peak and oversampling(sample_rate) > 1:
            import soxr

            factor = oversampling(sample_rate)
            self._oversampler = soxr.ResampleStream(
                sample_rate, sample_rate * factor, num_channels, dtype="float32", quality="HQ"
            )

    @property
    def steps(self) -> int:
        """Complete 100 ms steps so far."""
        return self._count

    def step_energies(self) -> NDArray[np.float64]:
        """The mean energy of every complete 100 ms step so far (a view)."""
        return self._steps[: self._count]

    def _append(self, energies: NDArray[np.float64]) -> None:
        end = self._count + energies.shape[0]
        if end > self._steps.shape[0]:  # doubling: appending stays O(1) per step
            grown = np.zeros(max(end, 2 * self._steps.shape[0]))
            grown[: self._count] = self._steps[: self._count]
            self._steps = grown
        self._steps[self._count : end] = energies
        self._count = end

    def push(self, samples: NDArray[Any]) -> int:
        """Measure ``(n, channels)`` samples (int16 or float32, full scale 1.0 or 32768).

        Returns:
            How many 100 ms steps they completed.
        """
        if not samples.shape[0]:
            return 0
        floats = samples.astype(np.float32) / 32768.0 if samples.dtype == np.int16 else samples
        self.samples += samples.shape[0]
        self.last_peak = float(np.abs(floats).max())
        self.sample_peak = max(self.sample_peak, self.last_peak)
        if self._oversampler is not None:
            up = self._oversampler.resample_chunk(np.ascontiguousarray(floats, np.float32))
            if up.size:
                self._true_peak = max(self._true_peak, float(np.abs(up).max()))
        filtered, self._state = sosfilt(self._sos, floats, self._state, self._kernel)
        power = np.square(filtered) @ self._weights
        return self._add(power)

    def _add(self, power: NDArray[np.float64]) -> int:
        """Add per-sample weighted powers to the 100 ms steps; return the steps completed."""
        step = self.step
        need = step - self._filled
        if power.shape[0] < need:
            self._partial += float(power.sum())
            self._filled += power.shape[0]
            return 0
        rest = power[need:]
        whole = int(rest.shape[0] // step)
        sums = np.empty(whole + 1)
        sums[0] = self._partial + float(power[:need].sum())
        sums[1:] = rest[: whole * step].reshape(whole, step).sum(axis=1)
        self._append(sums / step)
        tail = rest[whole * step :]
        self._partial, self._filled = float(tail.sum()), tail.shape[0]
        return whole + 1

    def finish(self) -> None:
        """The end of the stream: flush the oversampler (the last samples' true peak)."""
        if self._oversampler is not None:
            up = self._oversampler.resample_chunk(
                np.zeros((0, self._state.shape[2]), np.float32), last=True
            )
            if up.size:
                self._true_peak = max(self._true_peak, float(np.abs(up).max()))

    def window(self, steps: int, end: int | None = None) -> float:
        """Loudness of the ``steps`` 100 ms steps ending with step ``end`` (exclusive;
        default: the last complete one); steps before the start count as silence."""
        stop = self._count if end is None else end
        return lufs(float(self._steps[max(0, stop - steps) : stop].sum()) / steps)

    def momentary(self, end: int | None = None) -> float:
        """Momentary loudness: the last 400 ms."""
        return self.window(4, end)

    def short_term(self, end: int | None = None) -> float:
        """Short-term loudness: the last 3 s."""
        return self.window(30, end)

    def block_energies(self, end: int | None = None) -> NDArray[np.float64]:
        """The energy of every complete 400 ms gating block (a block every 100 ms) in the
        first ``end`` steps (default: all)."""
        steps = self.step_energies()[:end]
        if steps.shape[0] < 4:
            return np.empty(0)
        sums = np.convolve(steps, np.ones(4), mode="valid")
        return sums / 4.0

    def integrated(self, end: int | None = None) -> float:
        """Integrated (gated) loudness of the first ``end`` steps (default: everything so
        far), -inf when all is gated out."""
        blocks = self.block_energies(end)
        absolute = 10.0 ** ((_ABSOLUTE_GATE - _OFFSET) / 10.0)
        loud = blocks[blocks >= absolute]
        if not loud.shape[0]:
            return -math.inf
        relative = float(loud.mean()) * 10.0 ** (_RELATIVE_GATE / 10.0)
        kept = loud[loud > relative]
        return lufs(float(kept.mean())) if kept.shape[0] else -math.inf

    def loudness_range(self) -> float:
        """Loudness range (EBU Tech 3342), in LU, as FFmpeg's ``ebur128`` measures it.

        The complete 3 s windows, one every 100 ms; those below -70 LUFS dropped, then
        those more than 20 LU below the loudness of the rest; the spread between the 10th
        and the 95th percentile of their loudness (FFmpeg's ranks: the ``floor(0.10 n + 0.5)``-th
        and ``floor(0.95 n + 0.5)``-th smallest of ``n``). 0.0 without a window above the gates.
        """
        steps = self.step_energies()
        if steps.shape[0] < 30:
            return 0.0
        windows = np.convolve(steps, np.ones(30), mode="valid") / 30.0
        loud = windows[windows >= 10.0 ** ((_ABSOLUTE_GATE - _OFFSET) / 10.0)]
        if not loud.shape[0]:
            return 0.0
        levels = np.sort(_OFFSET + 10.0 * np.log10(loud))
        kept = levels[levels >= lufs(float(loud.mean())) + _RANGE_GATE]
        count = kept.shape[0]
        low = kept[max(math.floor(0.10 * count + 0.5), 1) - 1]
        high = kept[max(math.floor(0.95 * count + 0.5), 1) - 1]
        return float(high - low)

    @property
    def true_peak(self) -> float:
        """The largest absolute value of the oversampled signal (the sample peak where
        it is not oversampled)."""
        return max(self._true_peak, self.sample_peak)
