"""What loudness measurements return: `Loudness` (a whole stream, `Stream.loudness`) and
`LoudnessReading` (one of `meter_loudness`'s live readings), and `Stream`'s loudness
stages (`LoudnessMethods`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from . import registry
from .format import AudioFormat
from .frame import AudioFrame

if TYPE_CHECKING:
    from .stream import Stream

__all__ = ("GATING_BLOCK_S", "Loudness", "LoudnessMethods", "LoudnessReading")

GATING_BLOCK_S = 0.4
"""BS.1770's gating block: integrated loudness needs at least one."""


@dataclass(frozen=True, slots=True)
class Loudness:
    """A stream's loudness, as ``ffmpeg -af ebur128=peak=true`` reports it (BS.1770-4).

    Silence gives ``-inf`` (no gating block above -70 LUFS, or no sample above zero).

    Examples:
        >>> import lkframes as lk
        >>> result = lk.run_sync(lk.sine(997, 5.0, 48_000, amplitude=0.5).loudness())
        >>> round(result.integrated_lufs, 1), round(result.true_peak_dbtp, 1)
        (-9.0, -6.0)
    """

    integrated_lufs: float
    """Integrated (gated) loudness in LUFS: what R128 normalises (-23 LUFS) and podcasts
    aim at (-16 LUFS)."""
    true_peak_dbtp: float
    """The largest value of the signal oversampled 4x, in dB of full scale (dBTP)."""
    sample_peak_dbfs: float
    """The largest absolute sample, in dBFS."""
    max_momentary_lufs: float
    """The loudest 400 ms window (a window every 100 ms)."""
    max_short_term_lufs: float
    """The loudest 3 s window (a window every 100 ms)."""
    samples_per_channel: int
    """Samples per channel measured."""
    format: AudioFormat | None
    """The measured audio's format (None for an empty stream of unknown format)."""
    loudness_range_lu: float = 0.0
    """Loudness range (LRA, EBU Tech 3342) in LU: how far apart the quiet and the loud
    parts are, from the 10th to the 95th percentile of the 3 s windows' loudness (a window
    every 100 ms, gated at -70 LUFS and 20 LU below their mean), as FFmpeg's ``ebur128``
    reports it (within 0.1 LU). Speech read evenly is 3-8 LU; 0 below 3 s of audio."""

    @property
    def duration(self) -> float:
        """Seconds measured (0.0 without a format)."""
        return 0.0 if self.format is None else self.samples_per_channel / self.format.sample_rate

    @property
    def unmeasured(self) -> str | None:
        """Why ``integrated_lufs`` is -inf (None when it is not): the audio is shorter than
        one 400 ms gating block, or silent (nothing above -70 LUFS)."""
        if self.integrated_lufs != float("-inf"):
            return None
        if self.duration < GATING_BLOCK_S:
            needs = f"loudness needs {GATING_BLOCK_S:g} s"
            return f"too short to measure ({self.duration:.3f} s; {needs})"
        return "silent (nothing above -70 LUFS)"


@dataclass(frozen=True, slots=True)
class LoudnessReading:
    """What `meter_loudness` reports every ``every_ms`` of audio.

    Windows that reach back before the stream's start count that time as silence, as
    FFmpeg's ``ebur128`` filter does, so the first readings are low.

    Examples:
        >>> import lkframes as lk
        >>> readings = []
        >>> tone = lk.sine(997, 1.0, 16_000, amplitude=0.5).meter_loudness(readings.append)
        >>> summary = lk.run_sync(tone.run())
        >>> first, last = readings[0], readings[-1]
        >>> first.pts, round(first.momentary_lufs, 1), last.pts, round(last.momentary_lufs, 1)
        (1600, -15.0, 16000, -9.0)
    """

    pts: int
    """Where the measured audio ends (exclusive), in samples at the stream's rate, counted
    like the frames' pts."""
    momentary_lufs: float
    """Loudness of the last 400 ms."""
    short_term_lufs: float
    """Loudness of the last 3 s."""
    integrated_lufs: float
    """Integrated (gated) loudness of everything so far."""


class LoudnessMethods:
    """`Stream`'s loudness stages: each the same as ``stream | lkframes.<name>(...)``.

    A base of `Stream` (it keeps stream.py within its size); they take audio streams.
    """

    __slots__ = ()

    def normalize(
        self,
        lufs: float = -23.0,
        *,
        true_peak: float | None = -1.0,
        limit: bool = True,
        live: bool = False,
    ) -> Stream[AudioFrame]:
        """Bring the loudness to ``lufs`` LUFS. See `lkframes.normalize`."""
        stage = registry.stage("normalize")(lufs, true_peak=true_peak, limit=limit, live=live)
        return cast("Stream[AudioFrame]", self).pipe(stage)

    def limit(self, true_peak: float = -1.0) -> Stream[AudioFrame]:
        """Limit the true peak to ``true_peak`` dBTP. See `lkframes.limit`."""
        return cast("Stream[AudioFrame]", self).pipe(registry.stage("limit")(true_peak))

    def meter_loudness(
        self, on_reading: Callable[[LoudnessReading], object], *, every_ms: int = 100
    ) -> Stream[AudioFrame]:
        """Report loudness while running. See `lkframes.meter_loudness`."""
        stage = registry.stage("meter_loudness")(on_reading, every_ms=every_ms)
        return cast("Stream[AudioFrame]", self).pipe(stage)
