"""APM benchmark: lkframes denoise / process / echo_cancel vs hand-written SDK loops, offline.

Every row runs LiveKit's ``rtc.AudioProcessingModule`` over the same deterministic
speech-like signal, once through lkframes (``lk.from_array(x, rate) | lk.denoise()``) and
once through the baseline: a hand-written loop that calls ``process_stream`` on 10 ms
``rtc.AudioFrame``s wrapping slices of one writable copy of the array (the SDK's best
case: no copy per frame). Both run in one process, interleaved, on the same data; speed
is reported as x realtime and as the ratio lkframes / baseline, as markdown on stdout.

Benchmarks are not tests: slow numbers never fail the run. A failed correctness check
does (exit status 1): an output length that differs from the input's, pts that are not
continuous, output that is not bit-identical to the SDK loop, or an input array that the
pipeline changed.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_apm.py            # 10 min of audio, best of 3
    PYTHONPATH=src python benchmarks/bench_apm.py --quick    # 30 s of audio, best of 3 (CI)

Rows (each lkframes row is ``await (lk.from_array(x, rate) | stage).run()``, timed inside
one running event loop, building the pipeline included):

- ``denoise 48 kHz``: ``lk.denoise()`` vs the loop with ``noise_suppression=True``; the
  issue's target is >= 200x realtime for this row (reported, never enforced).
- ``NS + HPF + AGC 48 kHz``: ``lk.process(noise_suppression=True, high_pass_filter=True,
  auto_gain_control=True)`` vs the loop with the same three features.
- ``echo_cancel 48 kHz``: the near-end is the signal delayed by 50 ms, halved, plus a little
  noise; ``lk.echo_cancel(lk.from_array(far, rate))`` vs the loop calling
  ``process_reverse_stream`` before each ``process_stream``.
- ``denoise 16 kHz``: as the first row, on the same recipe generated at 16 kHz.
- diagnostic, ``block_ms=20``: the first row with 20 ms input frames (live-like framing),
  compared with the first row's loop: the cost of the pipeline's per-frame overhead.

After timing, untimed passes collect each lkframes output and check the length, the pts,
bit-equality with the SDK loop and that the input arrays are unchanged; they also report
what the DSP did (level changes in dB, for information) and run one input whose length
is not a whole number of 10 ms.

A full run also draws each row's lkframes / SDK loop speed into docs/figures/bench_apm.svg
(``--no-chart``: not).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

import _common

if TYPE_CHECKING:
    import lkframes

RATE = 48_000
SPEECH_RATE_16K = 16_000
ECHO_DELAY_MS = 50  # echo path of the echo-cancellation row
ECHO_GAIN = 0.5
TARGET_DENOISE_X_REALTIME = 200.0  # from the issue (reported, never enforced)
TAIL_CHECK_SAMPLES = 48_000 + 123  # a length that is not a whole number of 10 ms
SEED = 20_240_601

Int16Array = NDArray[np.int16]


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------


def make_signal(seconds: float, sample_rate: int, seed: int) -> Int16Array:
    """Deterministic speech-like mono int16 signal: voiced harmonics, syllable envelope, noise.

    The same recipe as bench_core.py, so numbers are comparable across the benchmarks.
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    t = np.arange(n, dtype=np.float64) / sample_rate
    f0 = 140.0 + 25.0 * np.sin(2 * np.pi * 0.7 * t) + 10.0 * np.sin(2 * np.pi * 2.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 9))
    envelope = np.clip(np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, np.pi)), 0.0, None) ** 2
    noise = rng.standard_normal(n)
    signal = 0.35 * voiced * envelope + 0.02 * noise
    peak = float(np.max(np.abs(signal))) or 1.0
    return np.ascontiguousarray(np.round(signal / peak * 20_000).astype(np.int16))


def make_echo(far: Int16Array, sample_rate: int, seed: int) -> Int16Array:
    """The near-end of the echo row: ``far`` delayed by ECHO_DELAY_MS, halved, plus noise."""
    delay = sample_rate * ECHO_DELAY_MS // 1000
    rng = np.random.default_rng(seed + 7)
    echo = np.zeros(far.size, np.float64)
    echo[delay:] = far[: far.size - delay] * ECHO_GAIN
    echo += rng.standard_normal(far.size) * 30.0
    return np.clip(np.round(echo), -32768, 32767).astype(np.int16)


def digest(x: NDArray[Any]) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:16]


def level_db(x: NDArray[Any]) -> float:
    return float(10 * np.log10(np.mean(np.square(x.astype(np.float64))) + 1e-12))


# --------------------------------------------------------------------------------------
# the baseline: hand-written SDK loops on 10 ms rtc frames
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Features:
    noise_suppression: bool = False
    echo_cancellation: bool = False
    auto_gain_control: bool = False
    high_pass_filter: bool = False

    def kwargs(self) -> dict[str, bool]:
        return asdict(self)


def sdk_loop(
    x: Int16Array, rate: int, features: Features, far: Int16Array | None = None
) -> Int16Array:
    """One APM; ``process_stream`` (after ``process_reverse_stream``) per 10 ms frame.

    Processes the whole 10 ms frames of ``x`` (the benchmark signals are whole 10 ms), in a
    writable copy; each rtc.AudioFrame wraps a numpy slice of it without copying.
    """
    apm = rtc.AudioProcessingModule(**features.kwargs())
    if features.echo_cancellation:
        apm.set_stream_delay_ms(0)
    spc = rate // 100
    step = spc * 2  # bytes per 10 ms, mono int16
    out = x[: x.size // spc * spc].copy()
    near = out.view(np.uint8)
    if far is None:
        for start in range(0, near.size, step):
            apm.process_stream(rtc.AudioFrame(near[start : start + step].data, rate, 1, spc))
        return out
    reverse = far[: out.size].copy().view(np.uint8)
    for start in range(0, near.size, step):
        apm.process_reverse_stream(rtc.AudioFrame(reverse[start : start + step].data, rate, 1, spc))
        apm.process_stream(rtc.AudioFrame(near[start : start + step].data, rate, 1, spc))
    return out


# --------------------------------------------------------------------------------------
# lkframes
# --------------------------------------------------------------------------------------


def lkframes_unavailable() -> str | None:
    """None if lkframes' APM stages can be benchmarked, else why not (baselines still run)."""
    try:
        import lkframes as lk
    except Exception as exc:  # any import failure is reported, not raised
        return f"import lkframes failed: {type(exc).__name__}: {exc}"
    missing = [n for n in ("from_array", "denoise", "process", "echo_cancel") if not hasattr(lk, n)]
    if missing:
        return f"lkframes has no {', '.join(missing)}"
    return None


def lk_stage(
    features: Features, far: Int16Array | None, rate: int
) -> lkframes.Stage[lkframes.AudioFrame, lkframes.AudioFrame]:
    import lkframes as lk

    if features == Features(noise_suppression=True):
        return lk.denoise()
    if features == Features(echo_cancellation=True) and far is not None:
        return lk.echo_cancel(lk.from_array(far, rate))
    reference = lk.from_array(far, rate) if far is not None else None
    return lk.process(**features.kwargs(), reference=reference)


def lk_stream(
    x: Int16Array,
    rate: int,
    features: Features,
    far: Int16Array | None,
    block_ms: float | None,
) -> lkframes.Stream[lkframes.AudioFrame]:
    import lkframes as lk

    source = (
        lk.from_array(x, rate) if block_ms is None else lk.from_array(x, rate, block_ms=block_ms)
    )
    return source | lk_stage(features, far, rate)


# --------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_gc() -> Iterator[None]:
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _timed(fn: Callable[[], object | Awaitable[object]]) -> float:
    with _quiet_gc():
        t0 = time.perf_counter()
        result = fn()
        if isinstance(result, Awaitable):
            await result
        return time.perf_counter() - t0


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------


@dataclass
class Result:
    row: str
    path: str  # "sdk" or "lkframes"
    label: str
    audio_s: float
    times_s: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def best_s(self) -> float | None:
        return min(self.times_s) if self.times_s else None

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.times_s) if self.times_s else None

    @property
    def x_realtime(self) -> float | None:
        best = self.best_s
        return self.audio_s / best if best else None


@dataclass
class Report:
    config: dict[str, Any]
    results: list[Result] = field(default_factory=list)
    measured: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["ok"]]

    def result(self, row: str, path: str) -> Result | None:
        return next((r for r in self.results if r.row == row and r.path == path), None)


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def render(report: Report) -> str:
    cfg = report.config
    lines = [
        "# lkframes APM benchmark",
        "",
        f"{cfg['audio_seconds']:g} s of speech-like mono int16 per row; best of {cfg['repeat']} "
        f"(plus one warm-up), lkframes and SDK loop interleaved, one process, same data. "
        f"Python {cfg['python']}, numpy {cfg['numpy']}, livekit {cfg['livekit']}, "
        f"lkframes {cfg['lkframes']}; {cfg['cpus']} CPUs ({cfg['machine']}).",
        "",
        "| row | path | best s | median s | x realtime | lkframes / SDK loop |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in report.results:
        if r.best_s is None:
            lines.append(f"| {r.row} | {r.label} | — | — | — | — ({r.note}) |")
            continue
        ratio = "—"
        if r.path == "lkframes":
            base = report.result(r.row, "sdk")
            if base is not None and base.x_realtime and r.x_realtime:
                ratio = f"{r.x_realtime / base.x_realtime:.2f}x"
        lines.append(
            f"| {r.row} | {r.label} | {r.best_s:.3f} | {_fmt(r.median_s, '.3f')} | "
            f"{_fmt(r.x_realtime, ',.0f')} | {ratio} |"
        )
    if report.measured:
        lines += ["", "## What the DSP did (information)", "", "| measure | value |"]
        lines.append("| --- | ---: |")
        lines += [f"| {m['measure']} | {m['value']} |" for m in report.measured]
    lines += ["", "## Targets (reported, not enforced)", "", "| target | measured | met |"]
    lines.append("| --- | ---: | :---: |")
    for t in report.targets:
        met = "—" if t["met"] is None else ("yes" if t["met"] else "no")
        lines.append(f"| {t['target']} | {t['measured']} | {met} |")
    lines += ["", "## Correctness checks", "", "| check | ok | detail |", "| --- | :---: | --- |"]
    for chk in report.checks:
        lines.append(f"| {chk['check']} | {'yes' if chk['ok'] else 'FAIL'} | {chk['detail']} |")
    return "\n".join(lines)


def _lkframes_version() -> str:
    import lkframes

    version = getattr(lkframes, "__version__", None)
    return str(version) if version else _common.version("lkframes")


# --------------------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: str
    features: Features
    rate: int
    echo: bool = False
    block_ms: float | None = None  # None: from_array's default block size
    diagnostic: bool = False  # no SDK loop of its own; compared with the row named in sdk_row
    sdk_row: str | None = None


ROWS = [
    Row("denoise 48 kHz", Features(noise_suppression=True), RATE),
    Row(
        "NS + HPF + AGC 48 kHz",
        Features(noise_suppression=True, high_pass_filter=True, auto_gain_control=True),
        RATE,
    ),
    Row("echo_cancel 48 kHz", Features(echo_cancellation=True), RATE, echo=True),
    Row("denoise 16 kHz", Features(noise_suppression=True), SPEECH_RATE_16K),
    Row(
        "denoise 48 kHz, 20 ms input frames",
        Features(noise_suppression=True),
        RATE,
        block_ms=20,
        diagnostic=True,
        sdk_row="denoise 48 kHz",
    ),
]


async def measure(
    report: Report, lk_reason: str | None, seconds: float, repeat: int
) -> dict[str, tuple[Int16Array, Int16Array | None]]:
    """Time every row (interleaved with its SDK loop); returns the inputs by row."""
    signals: dict[int, Int16Array] = {}
    inputs: dict[str, tuple[Int16Array, Int16Array | None]] = {}
    for row in ROWS:
        if row.rate not in signals:
            signals[row.rate] = make_signal(seconds, row.rate, SEED)
        speech = signals[row.rate]
        far = speech if row.echo else None
        near = make_echo(speech, row.rate, SEED) if row.echo else speech
        inputs[row.key] = (near, far)
        audio_s = near.size / row.rate

        sdk: Result | None = None
        if not row.diagnostic:
            sdk = Result(row.key, "sdk", "SDK loop, 10 ms rtc frames (baseline)", audio_s)
            report.results.append(sdk)
        block = "default blocks" if row.block_ms is None else f"block_ms={row.block_ms:g}"
        lk_result = Result(row.key, "lkframes", f"lkframes ({block})", audio_s)
        report.results.append(lk_result)
        if lk_reason is not None:
            lk_result.note = lk_reason
        if row.diagnostic:
            lk_result.row = row.sdk_row or row.key
            lk_result.label = f"diagnostic: lkframes ({block})"

        def run_sdk(row: Row = row, near: Int16Array = near, far: Int16Array | None = far) -> None:
            sdk_loop(near, row.rate, row.features, far)

        async def run_lk(
            row: Row = row, near: Int16Array = near, far: Int16Array | None = far
        ) -> None:
            await lk_stream(near, row.rate, row.features, far, row.block_ms).run()

        # one warm-up each, then interleaved timed runs
        if sdk is not None:
            await _timed(run_sdk)
        if lk_reason is None:
            await _timed(run_lk)
        for _ in range(repeat):
            if sdk is not None:
                sdk.times_s.append(await _timed(run_sdk))
            if lk_reason is None:
                lk_result.times_s.append(await _timed(run_lk))
    # Diagnostic rows print after their own rows only: move them to the end.
    report.results.sort(key=lambda r: r.label.startswith("diagnostic"))
    return inputs


async def verify(report: Report, inputs: dict[str, tuple[Int16Array, Int16Array | None]]) -> None:
    """Untimed passes that keep the output: lengths, pts, SDK equality, untouched inputs."""
    import lkframes as lk

    for row in ROWS:
        near, far = inputs[row.key]
        before = (digest(near), None if far is None else digest(far))
        frames = await lk_stream(near, row.rate, row.features, far, row.block_ms).collect()
        n_out = sum(f.samples_per_channel for f in frames)
        report.check(
            f"{row.key}: output length",
            n_out == near.size,
            f"{n_out} samples out for {near.size} in",
        )
        continuous = all(a.end_pts == b.pts for a, b in pairwise(frames))
        report.check(
            f"{row.key}: pts",
            bool(frames) and frames[0].pts == 0 and continuous,
            f"{len(frames)} frames, first pts {frames[0].pts if frames else '—'}, "
            f"continuous: {continuous}",
        )
        y = np.concatenate([f.data for f in frames]).reshape(-1)
        expected = sdk_loop(near, row.rate, row.features, far)
        same = y.shape == expected.shape and bool(np.array_equal(y, expected))
        diff = (
            int(np.abs(y.astype(np.int32) - expected.astype(np.int32)).max())
            if y.shape == expected.shape
            else "shape differs"
        )
        report.check(
            f"{row.key}: equals the SDK loop",
            same,
            f"bit-identical: {same} (largest difference {diff} LSB)",
        )
        after = (digest(near), None if far is None else digest(far))
        report.check(f"{row.key}: inputs unchanged", before == after, f"sha256 {before[0]}…")
        if row.key == "denoise 48 kHz":
            rest = slice(row.rate // 2, None)  # after 0.5 s of adaptation
            report.measured.append(
                {
                    "measure": "denoise 48 kHz: level change on the speech-like signal",
                    "value": f"{level_db(y[rest]) - level_db(near[rest]):+.1f} dB",
                }
            )
        if row.echo:
            rest = slice(min(near.size // 2, 10 * row.rate), None)
            report.measured.append(
                {
                    "measure": f"echo_cancel: echo level after convergence "
                    f"({ECHO_DELAY_MS} ms echo path)",
                    "value": f"{level_db(y[rest]) - level_db(near[rest]):+.1f} dB",
                }
            )

    # A length that is not a whole number of 10 ms: the tail is processed and trimmed.
    x = make_signal(TAIL_CHECK_SAMPLES / RATE, RATE, SEED + 1)
    y = await (lk.from_array(x, RATE, block_ms=70) | lk.denoise()).to_array()
    report.check(
        "denoise: partial last 10 ms",
        y.shape == x.shape,
        f"{y.shape[0]} samples out for {x.shape[0]} in",
    )
    noise = np.random.default_rng(SEED).standard_normal(3 * RATE) * 1000
    white = np.round(noise).astype(np.int16)
    quiet = await (lk.from_array(white, RATE) | lk.denoise()).to_array()
    rest = slice(RATE // 2, None)
    report.measured.append(
        {
            "measure": "denoise 48 kHz: white noise after 0.5 s",
            "value": f"{level_db(quiet[rest]) - level_db(white[rest]):+.1f} dB",
        }
    )


def fill_targets(report: Report) -> None:
    lk_result = report.result("denoise 48 kHz", "lkframes")
    x = lk_result.x_realtime if lk_result else None
    report.targets.append(
        {
            "target": f"denoise() offline, 48 kHz mono >= {TARGET_DENOISE_X_REALTIME:g}x realtime",
            "measured": f"{_fmt(x, ',.0f')}x",
            "value": x,
            "met": None if x is None else x >= TARGET_DENOISE_X_REALTIME,
        }
    )


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _common.parser(__doc__, quick="30 s of audio instead of 10 min", repeat=3, json=True)
    parser.add_argument("--seconds", type=float, default=None, help="seconds of audio per row")
    parser.add_argument(
        "--baselines-only", action="store_true", help="skip lkframes (for debugging baselines)"
    )
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 30.0 if args.quick else 600.0
    if args.repeat < 1 or args.seconds < 1:
        parser.error("--repeat must be >= 1 and --seconds >= 1")
    return args


async def run(args: argparse.Namespace) -> Report:
    lk_reason = "skipped (--baselines-only)" if args.baselines_only else lkframes_unavailable()
    report = Report(
        config={
            "audio_seconds": round(args.seconds * RATE) / RATE,
            "repeat": args.repeat,
            "quick": args.quick,
            "seed": SEED,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "livekit": _common.version("livekit"),
            "lkframes": _lkframes_version() if lk_reason is None else "not run",
            "cpus": os.cpu_count(),
            "machine": f"{platform.system()} {platform.machine()}",
        }
    )
    inputs = await measure(report, lk_reason, args.seconds, args.repeat)
    if lk_reason is None:
        await verify(report, inputs)
    else:
        report.check("lkframes importable", args.baselines_only, lk_reason)
    fill_targets(report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    print(render(report))
    failed = report.failed
    if args.json is not None:
        payload = {
            "config": report.config,
            "results": [
                {**asdict(r), "best_s": r.best_s, "x_realtime": r.x_realtime}
                for r in report.results
            ],
            "measured": report.measured,
            "targets": report.targets,
            "checks": report.checks,
            "ok": not failed,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    if failed:
        print(f"\n{len(failed)} correctness check(s) failed.", file=sys.stderr)
        return 1
    out_dir = _common.chart_dir(args)
    if out_dir is not None and not args.baselines_only:
        print(f"\nchart: {chart(report, out_dir)}")
    return 0


def chart(report: Report, out_dir: Path) -> Path:
    """Each row's lkframes speed over its hand SDK loop's (the table's last column)."""
    rows = []
    for r in report.results:
        base = report.result(r.row, "sdk")
        if r.path == "lkframes" and base and base.x_realtime and r.x_realtime:
            framing = ", 20 ms input frames" if r.label.startswith("diagnostic") else ""
            rows.append((f"lkframes {r.row}{framing}", r.x_realtime / base.x_realtime))
    cfg = report.config
    return _common.write_chart(
        "apm",
        {"LiveKit's APM offline, lkframes against the hand SDK loop (10 ms rtc frames)": rows},
        command=f"python benchmarks/bench_apm.py: {cfg['audio_seconds']:g} s per row, "
        f"best of {cfg['repeat']}",
        xlabel="lkframes' speed / the hand SDK loop's (higher is faster)",
        out_dir=out_dir,
    )


if __name__ == "__main__":
    sys.exit(main())
