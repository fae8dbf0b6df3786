"""`limit`: a look-ahead true-peak limiter, streamed, with its delay compensated.

How the gain is found, for each input sample ``n`` (all channels share one gain, so the
stereo image does not move):

- **Peak** ``p[n]``: the largest absolute value, over the channels, of the sample and of
  the signal oversampled 4x (2x at 96 kHz and above) between the samples before and after
  it, by two interpolations (`_PeaksBetween`: soxr, as `loudness` measures the true peak,
  and a near-ideal sinc, close to FFmpeg's).
- **Attenuation** ``a[n]``: how far ``p[n]`` is above the ceiling (less `MARGIN_DB`), in
  dB (0 below it).
- **Hold**: the largest ``a`` over the look-ahead (``L`` samples, 5 ms) before and at
  ``n``, then a **release** of at most `RELEASE_DB_PER_S` (the gain comes back up slowly
  after a peak; it goes down at once).
- **Attack**: the gain is the mean of those gains over the next ``L + 1`` samples, so it
  ramps down linearly over 5 ms before a peak. Every gain in that mean is at most the one
  sample ``n`` needs, so the output stays under the ceiling; the ramp spreads the gain
  change over the look-ahead, with no click.

Attenuations are kept as integers (1/2^20 dB) and gains as integers (1/2^40) in the two
sums, so the output is the same however the input is split. The output is delayed by
the look-ahead and the interpolation (5.3 ms at 48 kHz, soxr's 6 ms beside it) inside
the limiter, and given back the input's pts.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import numpy as np
import soxr
from numpy.typing import NDArray

from .._core import samples as dsp
from .._core.checks import FormatGuard, finite_number
from .._core.errors import ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.registry import stage_entry
from .._core.stage import Stage
from ._bs1770 import oversampling

__all__ = (
    "LOOKAHEAD_MS",
    "MARGIN_DB",
    "RELEASE_DB_PER_S",
    "TruePeakLimiter",
    "check_true_peak",
    "limit",
    "limiter_stage",
)

LOOKAHEAD_MS = 5.0
"""How long before a peak the gain starts to go down (and how long the ramp is)."""
RELEASE_DB_PER_S = 60.0
"""How fast the gain comes back after a peak (3 dB in 50 ms)."""

MARGIN_DB = 0.05
"""How far under the ceiling the limiter aims (so rounding keeps the peak under it)."""

_DB = 1 << 20  # attenuation units per dB
_UNITY = 1 << 40  # gain units per 1.0
_HALF_TAPS = 16  # input samples each side of an interpolated value
_KAISER_BETA = 8.0


def _trailing_max(values: NDArray[np.int64], size: int) -> NDArray[np.int64]:
    """The max of every ``size`` consecutive values (``len - size + 1`` of them), by
    doubling spans: exact, and O(n log size)."""
    spans, span = values, 1
    while 2 * span <= size:
        spans = np.maximum(spans[:-span], spans[span:])  # spans[i]: max of values[i : i+2span]
        span *= 2
    count = values.shape[0] - size + 1
    return np.maximum(spans[:count], spans[size - span : size - span + count])


def _phases(factor: int) -> list[NDArray[np.float64]]:
    """The interpolation filter's phases between samples (1/factor to (factor-1)/factor):
    a Kaiser-windowed sinc over 2 x `_HALF_TAPS` samples, flat to 23 kHz at 48 kHz (soxr's
    HQ, which `loudness` uses, and FFmpeg's swr see nearly the same peaks)."""
    taps = np.arange(-factor * _HALF_TAPS, factor * _HALF_TAPS + 1) / factor
    kernel = np.sinc(taps) * np.kaiser(taps.shape[0], _KAISER_BETA)
    return [kernel[phase::factor][: 2 * _HALF_TAPS] for phase in range(1, factor)]


def _row_max(values: NDArray[np.float32]) -> NDArray[np.float32]:
    """The largest absolute value of each row (a loop over the few columns: numpy's
    ``max(axis=1)`` over 2 to 8 columns is several times slower)."""
    out = np.abs(values[:, 0])
    for column in range(1, values.shape[1]):
        np.maximum(out, np.abs(values[:, column]), out=out)
    return out


class _PeaksBetween:
    """The peak of the signal between each sample and the next, by two interpolations.

    soxr's HQ 4x (what `loudness` and `_bs1770.Meter` measure) band-limits at about 22
    kHz (at 48 kHz); a near-ideal windowed sinc (`_phases`) reconstructs up to 23 kHz, as
    FFmpeg's swr nearly does. Where the limiter holds many peaks at the ceiling (dense,
    full-band audio), each one's largest value can be 0.6 dB above the other's, so the
    limiter takes the larger of the two.
    """

    def __init__(self, sample_rate: int, num_channels: int) -> None:
        factor = oversampling(sample_rate)
        self._phases = _phases(factor)
        self._history = np.zeros((2 * _HALF_TAPS - 1, num_channels), np.float32)
        self._factor = factor
        self._soxr: Any = None
        if factor > 1:
            self._soxr = soxr.ResampleStream(
                sample_rate, sample_rate * factor, num_channels, dtype="float32", quality="HQ"
            )
        self._sinc = np.empty(0, np.float32)  # peaks by the sinc not yet given
        # The sinc's first outputs describe the gaps before sample 0 (its window is centred
        # _HALF_TAPS samples back, in the zeros of the history): dropped once, so that
        # value n is the peak between samples n and n + 1, as soxr's.
        self._sinc_skip = _HALF_TAPS
        self._oversampled = np.empty(0, np.float32)  # soxr's values not yet in a peak

    def push(self, floats: NDArray[np.float32]) -> NDArray[np.float32]:
        """Take samples; return the peaks between samples now known (in order)."""
        self._add_sinc(floats)
        if self._soxr is not None:
            self._oversampled = np.concatenate(
                [self._oversampled, _row_max(self._soxr.resample_chunk(floats))]
            )
        return self._known()

    def finish(self) -> NDArray[np.float32]:
        """The end: the rest of the peaks (one for each sample pushed)."""
        self._add_sinc(np.zeros((_HALF_TAPS, self._history.shape[1]), np.float32))
        if self._soxr is not None:
            tail = self._soxr.resample_chunk(self._history[:0], last=True)
            self._oversampled = np.concatenate([self._oversampled, _row_max(tail)])
        return self._known()

    def _add_sinc(self, floats: NDArray[np.float32]) -> None:
        signal = np.concatenate([self._history, floats])
        if not floats.shape[0]:  # (np.convolve would swap a signal shorter than the kernel)
            return
        self._history = signal[signal.shape[0] - self._history.shape[0] :]
        between = np.zeros(signal.shape[0] - self._history.shape[0], np.float32)
        for channel in range(signal.shape[1]):
            for kernel in self._phases:
                values = np.abs(np.convolve(signal[:, channel], kernel, mode="valid"))
                np.maximum(between, values, out=between, casting="unsafe")
        skip = min(self._sinc_skip, between.shape[0])
        self._sinc_skip -= skip
        self._sinc = np.concatenate([self._sinc, between[skip:]])

    def _known(self) -> NDArray[np.float32]:
        """The peaks both interpolations have given."""
        if self._soxr is None:
            known, self._sinc = self._sinc, self._sinc[:0]
            return known
        factor = self._factor
        count = min(self._sinc.shape[0], self._oversampled.shape[0] // factor)
        known = self._sinc[:count]
        for phase in range(factor):
            np.maximum(known, self._oversampled[phase : count * factor : factor], out=known)
        self._sinc = self._sinc[count:]
        self._oversampled = self._oversampled[count * factor :]
        return known


class TruePeakLimiter:
    """Limit the true peak of one stream to ``ceiling_dbtp``, fed samples in order.

    Args:
        sample_rate: The stream's rate.
        num_channels: Its channels (one gain for all of them).
        ceiling_dbtp: The highest true peak let through, in dBTP.
        gain: A linear gain applied (in float) before limiting.
    """

    def __init__(
        self, sample_rate: int, num_channels: int, ceiling_dbtp: float, *, gain: float = 1.0
    ) -> None:
        self.lookahead = max(1, round(sample_rate * LOOKAHEAD_MS / 1000))
        """Samples of look-ahead (the ramp's length)."""
        self._ceiling_db = ceiling_dbtp - MARGIN_DB
        self._gain = np.float32(gain)
        self._between = _PeaksBetween(sample_rate, num_channels)
        self._release = max(1, round(RELEASE_DB_PER_S / sample_rate * _DB))
        self._pending = np.empty((0, num_channels), np.float32)  # input not yet out
        self._last_between = np.float32(0)  # the peak between the last known sample and the next
        self._held = np.zeros(self.lookahead, np.int64)  # the last L attenuations
        self._released = 0  # the attenuation after release of the last known sample
        self._gains = np.empty(0, np.int64)  # gains from the first pending sample on
        self.reduction_db = 0.0
        """The largest gain reduction applied so far, in dB."""

    def push(self, samples: NDArray[Any]) -> NDArray[np.float32]:
        """Take ``(n, channels)`` samples; return the limited samples now ready (float32)."""
        floats = dsp.convert_dtype(samples, "float32") * self._gain
        self._pending = np.concatenate([self._pending, floats])
        self._known_peaks(self._between.push(floats))
        return self._ready(self._gains.shape[0] - self.lookahead)

    def finish(self) -> NDArray[np.float32]:
        """The end of the stream: the rest of the limited samples."""
        self._known_peaks(self._between.finish())
        self._attenuate(np.zeros(self.lookahead, np.int64))  # silence after the end
        return self._ready(self._pending.shape[0])

    def _known_peaks(self, between: NDArray[np.float32]) -> None:
        """The oversampled peak of each next interval (sample n to n+1) is known."""
        count = min(between.shape[0], self._pending.shape[0] - self._gains.shape[0])
        if count <= 0:
            return
        start = self._gains.shape[0]
        here = _row_max(self._pending[start : start + count])
        before = np.concatenate([[self._last_between], between[: count - 1]])
        peaks = np.maximum(np.maximum(before, between[:count]), here).astype(np.float64)
        self._last_between = between[count - 1]
        with np.errstate(divide="ignore"):
            over = 20.0 * np.log10(peaks) - self._ceiling_db
        self._attenuate(np.ceil(np.maximum(over, 0.0) * _DB).astype(np.int64))

    def _attenuate(self, needed: NDArray[np.int64]) -> None:
        """Hold each attenuation over the look-ahead, release slowly, to gains."""
        held = _trailing_max(np.concatenate([self._held, needed]), self.lookahead + 1)
        self._held = np.concatenate([self._held, needed])[-self.lookahead :]
        ramp = self._release * np.arange(held.shape[0], dtype=np.int64)
        rising = np.maximum.accumulate(np.maximum(held + ramp, self._released - self._release))
        released = rising - ramp  # max(held[n], released[n-1] - release)
        self._released = int(released[-1])
        self.reduction_db = max(self.reduction_db, float(released.max()) / _DB)
        linear = np.floor(np.power(10.0, released / (-20.0 * _DB)) * _UNITY).astype(np.int64)
        self._gains = np.concatenate([self._gains, linear])

    def _ready(self, count: int) -> NDArray[np.float32]:
        """Apply the gains to the first ``count`` pending samples and let them go."""
        count = min(count, self._pending.shape[0])
        if count <= 0:
            return self._pending[:0]
        sums = np.cumsum(self._gains[: count + self.lookahead], dtype=np.int64)
        window = sums[self.lookahead :] - np.concatenate([[0], sums[: count - 1]])
        gains = window / float((self.lookahead + 1) * _UNITY)
        out: NDArray[np.float32] = (self._pending[:count] * gains[:, None]).astype(np.float32)
        self._pending, self._gains = self._pending[count:], self._gains[count:]
        return out


def check_true_peak(true_peak: object) -> float:
    """``true_peak`` as a float in -60 to 0 dBTP, else `ParameterError`."""
    ceiling = finite_number(true_peak, "true_peak")
    if not -60.0 <= ceiling <= 0.0:
        raise ParameterError(f"true_peak must be between -60 and 0 dBTP (got {ceiling:g})")
    return ceiling


@stage_entry(cli={"true_peak": "--limit"})
def limit(true_peak: float = -1.0) -> Stage[AudioFrame, AudioFrame]:
    """Limit the true peak to ``true_peak`` dBTP with a 5 ms look-ahead limiter.

    Where the signal oversampled 4x (BS.1770-4's true peak, as `loudness` measures it)
    would pass the ceiling, the gain ramps down over the 5 ms before the peak and comes
    back at 60 dB/s after it; elsewhere the audio is untouched. One gain for all channels.
    The output's true peak is at most ``true_peak`` by `loudness` and by FFmpeg's
    ``ebur128=peak=true`` (tests/stages/test_limit.py), and it has the input's length and
    pts: the look-ahead is compensated, so the stage holds back audio, what a live stream
    waits: 5 ms of look-ahead and the two oversamplers' delays, and soxr's hands out its
    output in blocks, so up to 25 ms at 44.1 and 48 kHz and 63 ms at 16 kHz, in frames of
    uneven sizes (follow it with `chunk` for even ones). Use it after a gain, or let
    `normalize` use it to reach a loudness target.

    Args:
        true_peak: The ceiling, -60 to 0 dBTP: -1 is EBU R128's and most podcast
            platforms' limit, -2 leaves room for lossy encoders.

    Returns:
        The stage. Its output has the input's format (int16 is rounded from float).

    Raises:
        ParameterError: ``true_peak`` not a finite number from -60 to 0.
        FormatError: (while running) the input format changes mid-stream.

    Examples:
        >>> import lkframes as lk
        >>> loud = lk.sine(997, 2.0, 48_000, amplitude=0.25).to_dtype("float32").gain(12)
        >>> limited = loud.limit(-1.0)
        >>> peak = lk.run_sync(limited.loudness()).true_peak_dbtp
        >>> round(peak, 1), lk.run_sync(limited.to_array()).shape
        (-1.0, (96000,))
    """
    ceiling = check_true_peak(true_peak)
    return limiter_stage(f"limit({ceiling:g})", ceiling)


def limiter_stage(
    name: str, ceiling_dbtp: float, gain: float = 1.0
) -> Stage[AudioFrame, AudioFrame]:
    """The limiter as a stage named ``name``, after a linear ``gain`` (for `normalize`)."""

    async def transform(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[AudioFrame, None]:
        guard = FormatGuard(name, None)
        limiter: TruePeakLimiter | None = None
        fmt: AudioFormat | None = None
        pts = 0
        async for frame in frames:
            fmt = guard(frame)
            if limiter is None:
                limiter = TruePeakLimiter(
                    fmt.sample_rate, fmt.num_channels, ceiling_dbtp, gain=gain
                )
                pts = frame.pts
            out = limiter.push(frame.data)
            if out.shape[0]:
                yield AudioFrame.of(dsp.convert_dtype(out, fmt.dtype), fmt, pts)
                pts += out.shape[0]
        if limiter is not None and fmt is not None:
            out = limiter.finish()
            if out.shape[0]:
                yield AudioFrame.of(dsp.convert_dtype(out, fmt.dtype), fmt, pts)

    return Stage(name, transform)
