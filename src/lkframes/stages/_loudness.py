"""Loudness (ITU-R BS.1770-4 / EBU R128): `loudness` measures a whole stream, and
`meter_loudness` reports momentary and short-term loudness while a stream runs."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.checks import FormatGuard
from .._core.errors import ParameterError
from .._core.frame import AudioFrame
from .._core.loudness import Loudness, LoudnessReading
from .._core.registry import method_entry, stage_entry
from .._core.stage import Stage, each_stage
from .._core.stream import Stream
from ._bs1770 import Meter, lufs

__all__ = ("loudness", "meter_loudness")


def _db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


def _max_window(energies: Any, steps: int) -> float:
    """The loudest window of ``steps`` 100 ms steps (those before the start silent)."""
    if not energies.shape[0]:
        return -math.inf
    sums = np.convolve(energies, np.ones(steps))[: energies.shape[0]]
    return lufs(float(sums.max()) / steps)


@method_entry
async def loudness(stream: Stream[AudioFrame], *, true_peak: bool = True) -> Loudness:
    """Measure the stream's loudness: integrated, momentary, short-term, range, true peak.

    ITU-R BS.1770-4 as EBU R128 uses it, streamed: memory stays flat (8 bytes per 100 ms
    of audio are kept for the gating), where ``pyloudnorm`` needs the whole signal as a
    float64 array. Within 0.05 LU of FFmpeg's ``ebur128`` and of ``pyloudnorm`` on speech,
    noise and tones (tests/stages/test_loudness.py); see `_bs1770` for the method.

    Args:
        stream: The audio (any rate, 1 to 8 channels: 5.1 and 7.1 weigh the surrounds by
            1.41 and leave the LFE out, as BS.1770 says).
        true_peak: Also measure the true peak (4x oversampling with soxr, the costliest
            part); False reports the sample peak in ``true_peak_dbtp``.

    Returns:
        The measurement.

    Raises:
        MissingExtraError: scipy is not installed (``pip install 'lkframes[loudness]'``).
        FormatError: The frames' format changes mid-stream, or its rate is below 8000 Hz
            (BS.1770's filter has its shelf at 1.7 kHz).

    Examples:
        >>> import lkframes as lk
        >>> quiet = lk.noise(3.0, 48_000, amplitude=0.05, seed=1)
        >>> round(lk.run_sync(quiet.loudness()).integrated_lufs)
        -28
    """
    guard = FormatGuard("loudness", stream.format)
    meter: Meter | None = None
    async with stream.open() as frames:  # a task group for stages that run tasks
        async for frame in frames:
            fmt = guard(frame)
            if meter is None:
                meter = Meter(fmt.sample_rate, fmt.num_channels, true_peak=true_peak)
            meter.push(frame.data)
    if meter is None:
        silent = -math.inf
        return Loudness(silent, silent, silent, silent, silent, 0, guard.format)
    meter.finish()
    energies = meter.step_energies()
    return Loudness(
        integrated_lufs=meter.integrated(),
        true_peak_dbtp=_db(meter.true_peak),
        sample_peak_dbfs=_db(meter.sample_peak),
        max_momentary_lufs=_max_window(energies, 4),
        max_short_term_lufs=_max_window(energies, 30),
        samples_per_channel=meter.samples,
        format=guard.format,
        loudness_range_lu=meter.loudness_range(),
    )


@stage_entry(spec=False)
def meter_loudness(
    on_reading: Callable[[LoudnessReading], object], *, every_ms: int = 100
) -> Stage[AudioFrame, AudioFrame]:
    """Report momentary, short-term and integrated loudness as the stream runs.

    The frames pass on untouched; every ``every_ms`` of audio, ``on_reading`` is called
    with a `LoudnessReading`, from inside the frame that completes it (so a live stream is
    not delayed: a reading comes as soon as its audio has arrived). Readings are those of
    EBU R128's live meters (FFmpeg's ``ebur128`` prints the same every 100 ms).

    Args:
        on_reading: Called with each reading; what it returns is ignored.
        every_ms: How often, in ms of audio: a positive multiple of 100.

    Returns:
        The stage.

    Raises:
        ParameterError: ``every_ms`` is not a positive multiple of 100.
        MissingExtraError: (at the first frame) scipy is not installed.

    Examples:
        >>> import lkframes as lk
        >>> readings = []
        >>> tone = lk.sine(997, 4.0, 48_000, amplitude=0.5).meter_loudness(readings.append)
        >>> summary = lk.run_sync(tone.run())
        >>> len(readings), readings[-1].pts, round(readings[-1].short_term_lufs, 1)
        (40, 192000, -9.0)
    """
    if isinstance(every_ms, bool) or not isinstance(every_ms, int) or every_ms <= 0:
        raise ParameterError(f"every_ms must be a positive int (got {every_ms!r})")
    if every_ms % 100:
        raise ParameterError(f"every_ms must be a multiple of 100 (got {every_ms})")
    every = every_ms // 100
    name = f"meter_loudness(every_ms={every_ms})"

    def each() -> Callable[[AudioFrame], AudioFrame]:
        guard = FormatGuard(name, None)
        meter: Meter | None = None
        start = 0

        def one(frame: AudioFrame) -> AudioFrame:
            nonlocal meter, start
            fmt = guard(frame)
            if meter is None:
                meter = Meter(fmt.sample_rate, fmt.num_channels, true_peak=False)
                start = frame.pts
            done = meter.push(frame.data)
            for end in range(meter.steps - done + 1, meter.steps + 1):
                if end % every == 0:
                    on_reading(_reading(meter, start, end))
            return frame

        return one

    return each_stage(name, each)


def _reading(meter: Meter, start: int, end: int) -> LoudnessReading:
    """The reading at the end of 100 ms step ``end`` (counted from 1)."""
    return LoudnessReading(
        pts=start + end * meter.step,
        momentary_lufs=meter.momentary(end),
        short_term_lufs=meter.short_term(end),
        integrated_lufs=meter.integrated(end),
    )
