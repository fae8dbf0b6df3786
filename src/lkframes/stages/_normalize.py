"""`normalize`: bring a stream to a loudness target (EBU R128, podcasts), in two passes
over a file or array, or live with no added latency."""

from __future__ import annotations

import math
import warnings
from collections.abc import AsyncGenerator, Callable
from typing import Any

import anyio
import numpy as np

from .._core import samples as dsp
from .._core.checks import FormatGuard, finite_number
from .._core.errors import ParameterError
from .._core.frame import AudioFrame
from .._core.loudness import Loudness
from .._core.opening import consume
from .._core.registry import stage_entry
from .._core.stage import Stage, each_stage
from .._core.stream import Stream
from .._core.warnings import LoudnessWarning
from ._bs1770 import Meter
from ._levels import gain
from ._limiter import check_true_peak, limiter_stage
from ._loudness import loudness

__all__ = ("normalize",)

ONE_SHOT = (
    "{name} reads the stream twice (it measures the loudness, then applies the gain) and "
    "{what} can be read only once: normalise a file or an array, or pass live=True"
)

LIVE_MAX_GAIN_DB = 30.0
"""The most the live form changes the level, either way (a near-silent start is not
boosted without bound)."""


LIMIT_MAX_DB = 12.0
"""The most the two-pass form lets its limiter take off the peaks to reach the target."""
LIMIT_TOLERANCE_LU = 0.02
"""How close to the target the two-pass form's limited output is brought (by `loudness`)."""
_LIMIT_TRIALS = 5


@stage_entry(cli={"lufs": "--loudness", "true_peak": "--true-peak"})
def normalize(
    lufs: float = -23.0,
    *,
    true_peak: float | None = -1.0,
    limit: bool = True,
    live: bool = False,
) -> Stage[AudioFrame, AudioFrame]:
    """Bring the integrated loudness (BS.1770, as `loudness` measures it) to ``lufs``.

    **Two passes** (the default): the stream is read once to measure its integrated
    loudness and true peak, then again with the one gain that brings it to ``lufs``: the
    output measures ``lufs`` (within 0.1 LU by FFmpeg's ``ebur128``) and its dynamics are
    untouched. The source must be readable twice (a file, an array, a synthetic signal); a
    live or one-shot source is refused.

    **Peaks**: where that gain would bring the true peak above ``true_peak`` dBTP, the
    peaks are limited (``limit=True``, the default, as FFmpeg's ``loudnorm`` does): the
    gain goes through the look-ahead limiter of `limit`, and is raised until the limited
    output measures ``lufs`` (within 0.02 LU; each try reads the stream once more: usually
    four or five reads in all, at most seven). Speech at -16 LUFS typically loses 3-6 dB of
    its highest peaks. The limiter takes at most 12 dB off the peaks; where the target
    needs more, the output stops short of it with a `LoudnessWarning` saying where it is.
    ``limit=False`` keeps the dynamics untouched instead: the gain is lowered so the peak
    lands on ``true_peak``, and a `LoudnessWarning` says how far short of the target the
    output is. ``true_peak=None`` applies the full gain: float32 output may then exceed
    full scale, int16 output clips.

    **Live** (``live=True``): no lookahead and no added latency: each frame goes out as it
    arrives, with the gain that brings the integrated loudness measured so far (the input
    up to and with that frame) to ``lufs``, ramped sample by sample from the last frame's
    gain (no clicks), within ±30 dB, and lowered where the frame's sample peak would pass
    ``true_peak``. Until the first 400 ms gating block is complete the gain is 0 dB; on
    steady programme it settles within about a second, on speech within a few seconds
    (tests/stages/test_normalize.py: within 2.3 dB of the two-pass gain from 3 s on, 0.2
    dB in the last second), and from then on moves only as the running integrated
    loudness does. Noise before the first word is boosted until speech arrives.

    Args:
        lufs: The target integrated loudness, -70 to 0 LUFS: -23 is EBU R128 (broadcast),
            -16 common for podcasts, -14 for music streaming.
        true_peak: The highest true peak allowed in the output, in dBTP (-60 to 0); None
            (in Python) for no limit.
        limit: Reach ``lufs`` by limiting the peaks that would pass ``true_peak`` (two
            passes only); False lowers the gain instead, short of the target.
        live: Normalise as the audio arrives (for live streams) instead of in two passes.

    Returns:
        The stage.

    Raises:
        ParameterError: ``lufs`` or ``true_peak`` not a finite number in range; (when
            applied) a two-pass normalisation of a live or one-shot stream.
        MissingExtraError: (when run) scipy is not installed.

    Examples:
        >>> import lkframes as lk
        >>> quiet = lk.noise(5.0, 48_000, amplitude=0.02, seed=1, num_channels=2)
        >>> louder = quiet.to_dtype("float32").normalize(-16)
        >>> round(lk.run_sync(louder.loudness()).integrated_lufs, 2)
        -16.0
    """
    lufs = finite_number(lufs, "lufs")
    if not -70.0 <= lufs <= 0.0:
        raise ParameterError(f"lufs must be between -70 and 0 LUFS (got {lufs:g})")
    if true_peak is not None:
        true_peak = check_true_peak(true_peak)
    if not isinstance(limit, bool):
        raise ParameterError(f"limit must be True or False (got {limit!r})")
    ceiling = "" if true_peak is None else f", true_peak={true_peak:g}"
    options = f"{'' if limit else ', limit=False'}{', live=True' if live else ''}"
    name = f"normalize({lufs:g}{ceiling}{options})"
    if live:
        return _live(name, lufs, true_peak)
    return _TwoPass(name, lufs, true_peak, limit)


def _warn(name: str, message: str, lufs: float, output: float) -> None:
    warnings.warn(
        LoudnessWarning(f"{name}: {message}", target_lufs=lufs, output_lufs=output),
        stacklevel=3,
    )


def _gain_db(name: str, measured: Loudness, lufs: float, true_peak: float | None) -> float:
    """The gain that brings ``measured`` to ``lufs`` within the true-peak limit (warning
    where the limit or silence keeps the output from the target)."""
    if measured.unmeasured is not None:
        _warn(name, f"the stream is {measured.unmeasured}: left as it is", lufs, -math.inf)
        return 0.0
    db = lufs - measured.integrated_lufs
    if true_peak is not None and measured.true_peak_dbtp + db > true_peak:
        lowered = true_peak - measured.true_peak_dbtp
        output = measured.integrated_lufs + lowered
        _warn(
            name,
            f"reaching {lufs:g} LUFS needs {db:+.2f} dB, which would bring the true peak to "
            f"{measured.true_peak_dbtp + db:+.2f} dBTP; applied {lowered:+.2f} dB for a true "
            f"peak of {true_peak:g} dBTP, so the output is {output:.2f} LUFS (limit=True "
            "limits the peaks to reach the target; true_peak=None gives the full gain)",
            lufs,
            output,
        )
        return lowered
    return db


class _TwoPass(Stage[AudioFrame, AudioFrame]):
    """Measure the stream, then read it again through the gain (`normalize`)."""

    __slots__ = ("_limit", "_lufs", "_true_peak")

    def __init__(self, name: str, lufs: float, true_peak: float | None, limit: bool) -> None:
        super().__init__(name, _unused)
        self._lufs, self._true_peak, self._limit = lufs, true_peak, limit

    async def _second(self, stream: Stream[AudioFrame], measured: Loudness) -> Stream[AudioFrame]:
        """The stream through the gain (and the limiter, where its peaks need it)."""
        ceiling = self._true_peak
        db = _gain_db(self.name, measured, self._lufs, None if self._limit else ceiling)
        if ceiling is None or not self._limit or measured.true_peak_dbtp + db <= ceiling:
            return stream if db == 0 else stream.pipe(gain(db))
        db = await _limited_gain(self.name, stream, measured, self._lufs, ceiling)
        return stream.pipe(limiter_stage(self.name, ceiling, 10.0 ** (db / 20.0)))

    def __call__(self, stream: Stream[AudioFrame]) -> Stream[AudioFrame]:
        if stream.live:
            raise ParameterError(ONE_SHOT.format(name=self.name, what=f"live {stream.name}"))
        name = self.name

        async def run() -> AsyncGenerator[AudioFrame, None]:
            measured = await loudness(stream)
            started = False
            try:
                second = await self._second(stream, measured)
                async with consume(second) as frames:
                    async for frame in frames:
                        started = True
                        yield frame
            except anyio.ClosedResourceError as exc:
                if started:
                    raise
                what = f"{stream.name} (a one-shot iterator)"
                raise ParameterError(ONE_SHOT.format(name=name, what=what)) from exc

        out: Stream[AudioFrame] = Stream(
            run,
            format=stream.format,
            name=f"{stream.name} | {name}",
            tasks=stream.runs_tasks,
        )
        out._upstream, out._stage = stream, self  # for explain(); nothing to plan across
        return out


async def _limited_gain(
    name: str, stream: Stream[AudioFrame], measured: Loudness, lufs: float, true_peak: float
) -> float:
    """The gain that, through the limiter, brings the stream to ``lufs`` (by `loudness`
    of the limited output: secant steps from the plain gain, at most `LIMIT_MAX_DB` above
    the gain that needs no limiting; a warning where that is not enough)."""

    async def output_lufs(db: float) -> float:
        limited = stream.pipe(limiter_stage(name, true_peak, 10.0 ** (db / 20.0)))
        return (await loudness(limited, true_peak=False)).integrated_lufs

    most = true_peak - measured.true_peak_dbtp + LIMIT_MAX_DB
    db = min(lufs - measured.integrated_lufs, most)
    tried: list[tuple[float, float]] = []
    for _ in range(_LIMIT_TRIALS):
        tried.append((db, await output_lufs(db)))
        if abs(tried[-1][1] - lufs) <= LIMIT_TOLERANCE_LU:
            break
        slope = 1.0  # output LU per dB of gain: 1 without limiting, less with more of it
        if len(tried) > 1 and tried[-1][0] != tried[-2][0]:
            slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
        step = (lufs - tried[-1][1]) / min(max(slope, 0.1), 1.0)
        db = min(db + step, most)
        if db == tried[-1][0]:
            break
    db, output = min(tried, key=lambda trial: abs(trial[1] - lufs))
    if abs(output - lufs) > 0.1:
        why = (
            f"needs more than {LIMIT_MAX_DB:g} dB of limiting; applied {db:+.2f} dB "
            f"({LIMIT_MAX_DB:g} dB more than the peaks allow)"
            if db == most
            else f"was not found in {len(tried)} tries; applied {db:+.2f} dB, the closest"
        )
        _warn(
            name,
            f"reaching {lufs:g} LUFS with a true peak of {true_peak:g} dBTP {why} through the "
            f"limiter, so the output is {output:.2f} LUFS",
            lufs,
            output,
        )
    return db


def _unused(frames: Any) -> Any:
    raise AssertionError("normalize applies itself in __call__")  # pragma: no cover


def _live(name: str, lufs: float, true_peak: float | None) -> Stage[AudioFrame, AudioFrame]:
    """`normalize` as a frame-by-frame stage with the gain of the loudness so far."""
    ceiling = math.inf if true_peak is None else 10.0 ** (true_peak / 20.0)
    most = 10.0 ** (LIVE_MAX_GAIN_DB / 20.0)

    def each() -> Callable[[AudioFrame], AudioFrame]:
        guard = FormatGuard(name, None)
        meter: Meter | None = None
        target = level = 1.0  # the gain aimed at, and the gain the last frame ended with

        def one(frame: AudioFrame) -> AudioFrame:
            nonlocal meter, target, level
            fmt = guard(frame)
            if meter is None:
                meter = Meter(fmt.sample_rate, fmt.num_channels, true_peak=False)
            if meter.push(frame.data):
                so_far = meter.integrated()
                if so_far > -math.inf:
                    target = min(max(10.0 ** ((lufs - so_far) / 20.0), 1.0 / most), most)
            peak = meter.last_peak if frame.samples_per_channel else 0.0
            end = min(target, ceiling / peak) if peak > 0 else target
            n = frame.samples_per_channel
            if n == 0 or (end == level == 1.0):
                return frame
            if peak * level > ceiling:  # no ramp down from a gain that would pass the limit
                level = end
            ramp = np.linspace(level, end, n + 1, dtype=np.float32)[1:, None]
            level = end
            floats = dsp.convert_dtype(frame.data, "float32") * ramp
            out = floats if fmt.dtype == "float32" else dsp.convert_dtype(floats, "int16")
            return AudioFrame.of(out, fmt, frame.pts)

        return one

    return each_stage(name, each)
