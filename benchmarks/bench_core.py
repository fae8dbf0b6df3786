"""Core benchmark: lkframes resample + chunk pipeline and FrameBuffer vs hand-written baselines.

Everything runs in one process on the same deterministic signal, and speed is reported as
ratios against the baselines, printed as markdown tables on stdout. Benchmarks are not
tests: slow numbers never fail the run, but a failed correctness check (sample counts that
differ between paths, frames of the wrong size, output that does not match the soxr
baseline) exits with status 1.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_core.py            # 60 s of audio, best of 5
    PYTHONPATH=src python benchmarks/bench_core.py --quick    # 10 s of audio, best of 3

See benchmarks/README.md for what each row measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import inspect
import json
import math
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import soxr
from livekit import rtc
from numpy.typing import NDArray

if TYPE_CHECKING:
    import lkframes

IN_RATE = 48_000
OUT_RATE = 16_000
FRAME_MS = 20
IN_FRAME = IN_RATE * FRAME_MS // 1000  # 960 samples: one 20 ms frame at 48 kHz
OUT_FRAME = OUT_RATE * FRAME_MS // 1000  # 320 samples: one 20 ms frame at 16 kHz
BYTES_PER_SAMPLE = 2  # int16 mono

# Chunker section: irregular blocks of 1..MAX_BLOCK samples, popped as IN_FRAME frames.
MAX_BLOCK = 4_800
CHUNKER_MIN_MEASURE_S = 0.05  # each chunker measurement loops the blocks for at least this

# Correctness tolerances.
SAMPLE_TOLERANCE = 2  # output samples per channel may differ by this between paths
LSB_TOLERANCE = 8  # max |difference| in int16 steps between lkframes and soxr-loop output

# Targets from the issue (reported, never enforced).
TARGET_VS_SOXR = 1.0
TARGET_VS_LIVEKIT = 3.0
TARGET_CHUNKER_FPS = 1.3e6
TARGET_COPY_RATIO = 1.0

SEED = 20_240_601

R = TypeVar("R")
Int16Array = NDArray[np.int16]


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------


def make_signal(seconds: float, sample_rate: int, seed: int) -> Int16Array:
    """Deterministic speech-like mono int16 signal: voiced harmonics, syllable envelope, noise."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    t = np.arange(n, dtype=np.float64) / sample_rate
    # Pitch wandering around 140 Hz, a few harmonics with falling amplitude.
    f0 = 140.0 + 25.0 * np.sin(2 * np.pi * 0.7 * t) + 10.0 * np.sin(2 * np.pi * 2.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 9))
    # ~4 syllables per second, with pauses.
    envelope = np.clip(np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, np.pi)), 0.0, None) ** 2
    noise = rng.standard_normal(n)
    signal = 0.35 * voiced * envelope + 0.02 * noise
    peak = float(np.max(np.abs(signal))) or 1.0
    return np.ascontiguousarray(np.round(signal / peak * 20_000).astype(np.int16))


def make_blocks(x: Int16Array, max_block: int, seed: int) -> list[Int16Array]:
    """Cut ``x`` into consecutive ``(k, 1)`` views of seeded random sizes in 1..max_block."""
    rng = np.random.default_rng(seed + 1)
    x2 = x.reshape(-1, 1)
    sizes = rng.integers(1, max_block + 1, size=2 * x.size // max_block + 16)
    bounds = np.cumsum(sizes)
    bounds = bounds[bounds < x.size]
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), x.size]
    return [x2[a:b] for a, b in zip(starts, ends, strict=True)]


def expected_out_samples(n_in: int) -> int:
    return round(n_in * OUT_RATE / IN_RATE)


def identity(frame: R) -> R:
    return frame


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


def time_sync(fn: Callable[[], R], repeat: int) -> tuple[list[float], R]:
    """Run ``fn`` once to warm up, then ``repeat`` timed times; return all times and a result."""
    result = fn()
    times: list[float] = []
    for _ in range(repeat):
        with _quiet_gc():
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
    return times, result


async def time_async(fn: Callable[[], Awaitable[R]], repeat: int) -> tuple[list[float], R]:
    """Async counterpart of `time_sync`, timed inside one running event loop."""
    result = await fn()
    times: list[float] = []
    for _ in range(repeat):
        with _quiet_gc():
            t0 = time.perf_counter()
            result = await fn()
            times.append(time.perf_counter() - t0)
    return times, result


# --------------------------------------------------------------------------------------
# full paths: 48 kHz array -> 16 kHz -> 20 ms frames -> identity
# --------------------------------------------------------------------------------------


@dataclass
class PathOutput:
    frames: int
    samples: int
    kept: list[Int16Array] | None = None  # frame samples, only when asked to keep them


class NumpyRechunker:
    """Hand-written re-chunker for baseline (a): carry a remainder, cut views of ``size``."""

    __slots__ = ("_pending", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._pending: Int16Array = np.empty(0, np.int16)

    def push(self, block: Int16Array) -> list[Int16Array]:
        if self._pending.size:
            block = np.concatenate((self._pending, block))
        size = self._size
        full = block.size - block.size % size
        self._pending = block[full:]
        return [block[i : i + size] for i in range(0, full, size)]

    def flush(self) -> list[Int16Array]:
        tail, self._pending = self._pending, np.empty(0, np.int16)
        return [tail] if tail.size else []


def baseline_soxr_loop(x: Int16Array, *, keep: bool = False) -> PathOutput:
    """(a) soxr.ResampleStream on 20 ms chunks + hand-written numpy re-chunker + identity."""
    stream = soxr.ResampleStream(IN_RATE, OUT_RATE, 1, dtype="int16", quality="HQ")
    chunker = NumpyRechunker(OUT_FRAME)
    kept: list[Int16Array] | None = [] if keep else None
    frames = 0
    samples = 0

    def emit(pieces: list[Int16Array]) -> None:
        nonlocal frames, samples
        for piece in pieces:
            out = identity(piece)
            frames += 1
            samples += out.shape[0]
            if kept is not None:
                kept.append(out)

    for start in range(0, x.size, IN_FRAME):
        emit(chunker.push(stream.resample_chunk(x[start : start + IN_FRAME])))
    emit(chunker.push(stream.resample_chunk(x[:0], last=True)))
    emit(chunker.flush())
    return PathOutput(frames, samples, kept)


class AudioByteStreamLike:
    """The re-chunking logic of livekit-agents' ``AudioByteStream`` (bytearray accumulator)."""

    __slots__ = ("_buf", "_bytes_per_frame", "_num_channels", "_sample_rate")

    def __init__(self, sample_rate: int, num_channels: int, samples_per_channel: int) -> None:
        self._sample_rate = sample_rate
        self._num_channels = num_channels
        self._bytes_per_frame = num_channels * samples_per_channel * BYTES_PER_SAMPLE
        self._buf = bytearray()

    def push(self, data: bytes | bytearray | memoryview) -> list[rtc.AudioFrame]:
        self._buf.extend(data)
        frames: list[rtc.AudioFrame] = []
        bpf = self._bytes_per_frame
        while len(self._buf) >= bpf:
            frame_data = self._buf[:bpf]
            self._buf = self._buf[bpf:]
            frames.append(
                rtc.AudioFrame(
                    data=frame_data,
                    sample_rate=self._sample_rate,
                    num_channels=self._num_channels,
                    samples_per_channel=len(frame_data) // (BYTES_PER_SAMPLE * self._num_channels),
                )
            )
        return frames

    def flush(self) -> list[rtc.AudioFrame]:
        if not self._buf:
            return []
        buf, self._buf = self._buf, bytearray()
        return [
            rtc.AudioFrame(
                data=buf,
                sample_rate=self._sample_rate,
                num_channels=self._num_channels,
                samples_per_channel=len(buf) // (BYTES_PER_SAMPLE * self._num_channels),
            )
        ]


def baseline_livekit(x: Int16Array, *, keep: bool = False) -> PathOutput:
    """(b) rtc.AudioResampler on 20 ms rtc.AudioFrames + AudioByteStream-style re-chunker."""
    resampler = rtc.AudioResampler(
        IN_RATE, OUT_RATE, num_channels=1, quality=rtc.AudioResamplerQuality.HIGH
    )
    chunker = AudioByteStreamLike(OUT_RATE, 1, OUT_FRAME)
    raw = x.view(np.uint8)  # whole-buffer uint8 views let rtc.AudioFrame wrap without copying
    kept: list[Int16Array] | None = [] if keep else None
    frames = 0
    samples = 0

    def emit(pieces: list[rtc.AudioFrame]) -> None:
        nonlocal frames, samples
        for piece in pieces:
            out = identity(piece)
            frames += 1
            samples += out.samples_per_channel
            if kept is not None:
                kept.append(np.frombuffer(out.data, np.int16).copy())

    step = IN_FRAME * BYTES_PER_SAMPLE
    for start in range(0, raw.size, step):
        piece = raw[start : start + step]
        frame = rtc.AudioFrame(piece.data, IN_RATE, 1, piece.size // BYTES_PER_SAMPLE)
        for out in resampler.push(frame):
            emit(chunker.push(out.data))
    for out in resampler.flush():
        emit(chunker.push(out.data))
    emit(chunker.flush())
    return PathOutput(frames, samples, kept)


def reference_soxr_one_call(x: Int16Array) -> PathOutput:
    """Ceiling for reference: the whole array resampled in one soxr call, then sliced."""
    y = soxr.resample(x, IN_RATE, OUT_RATE, quality="HQ")
    frames = 0
    samples = 0
    for i in range(0, y.size, OUT_FRAME):
        out = identity(y[i : i + OUT_FRAME])
        frames += 1
        samples += out.shape[0]
    return PathOutput(frames, samples)


# --------------------------------------------------------------------------------------
# lkframes
# --------------------------------------------------------------------------------------


def lkframes_unavailable() -> str | None:
    """None if lkframes can be benchmarked, else why not (the baselines still run)."""
    try:
        import lkframes as lk
    except Exception as exc:  # any import failure is reported, not raised
        return f"import lkframes failed: {type(exc).__name__}: {exc}"
    missing = [name for name in ("from_array", "FrameBuffer") if not hasattr(lk, name)]
    if missing:  # e.g. a namespace package: src/lkframes/ without __init__.py
        where = getattr(lk, "__file__", None) or list(getattr(lk, "__path__", []))
        return f"lkframes ({where}) has no {', '.join(missing)}"
    return None


def lk_pipeline(x: Int16Array, block_ms: int | None) -> lkframes.Stream[lkframes.AudioFrame]:
    """The issue's pipeline; ``block_ms=None`` keeps from_array's default block size."""
    import lkframes as lk

    source = (
        lk.from_array(x, sample_rate=IN_RATE)
        if block_ms is None
        else lk.from_array(x, sample_rate=IN_RATE, block_ms=block_ms)
    )
    return source.resample(OUT_RATE).chunk(ms=FRAME_MS).map(identity)


def lk_default_block_ms() -> str | None:
    """from_array's default block_ms as declared in its signature (shown in the table)."""
    import lkframes as lk

    param = inspect.signature(lk.from_array).parameters.get("block_ms")
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return f"{param.default:g}" if isinstance(param.default, int | float) else str(param.default)


async def lk_run(x: Int16Array, block_ms: int | None) -> PathOutput:
    summary = await lk_pipeline(x, block_ms).run()
    return PathOutput(summary.frames, summary.samples_per_channel)


async def lk_collect(x: Int16Array, block_ms: int | None) -> list[lkframes.AudioFrame]:
    return await lk_pipeline(x, block_ms).collect()


# --------------------------------------------------------------------------------------
# chunker alone
# --------------------------------------------------------------------------------------


@dataclass
class ChunkerOutput:
    frames: int
    copied_bytes: int | None  # None: not measured for this path


def chunker_lkframes(blocks: Sequence[Int16Array], passes: int) -> ChunkerOutput:
    """``FrameBuffer.push`` each block, then ``pop`` 960-sample frames until it returns None."""
    import lkframes as lk

    buf = lk.FrameBuffer(num_channels=1, dtype="int16")
    push = buf.push
    pop = buf.pop
    frames = 0
    for _ in range(passes):
        for block in blocks:
            push(block)
            while pop(IN_FRAME) is not None:
                frames += 1
    return ChunkerOutput(frames, buf.copied_bytes)


def chunker_bytearray(blocks: Sequence[Int16Array], passes: int) -> ChunkerOutput:
    """Accumulator as in the issue: ``buf += block.tobytes()``, ``del buf[:n]``."""
    bpf = IN_FRAME * BYTES_PER_SAMPLE
    buf = bytearray()
    frames = 0
    for _ in range(passes):
        for block in blocks:
            buf += block.tobytes()
            while len(buf) >= bpf:
                _frame = bytes(buf[:bpf])
                del buf[:bpf]
                frames += 1
    return ChunkerOutput(frames, None)


def chunker_bytearray_numpy(blocks: Sequence[Int16Array], passes: int) -> ChunkerOutput:
    """The issue's accumulator, but yielding ``(n, 1)`` int16 arrays like FrameBuffer does."""
    bpf = IN_FRAME * BYTES_PER_SAMPLE
    buf = bytearray()
    frames = 0
    for _ in range(passes):
        for block in blocks:
            buf += block.tobytes()
            while len(buf) >= bpf:
                _frame = np.frombuffer(bytes(buf[:bpf]), np.int16).reshape(-1, 1)
                del buf[:bpf]
                frames += 1
    return ChunkerOutput(frames, None)


def chunker_audiobytestream(blocks: Sequence[Int16Array], passes: int) -> ChunkerOutput:
    """livekit-agents' idiom: ``buf.extend``, ``frame = buf[:n]``, ``buf = buf[n:]``."""
    bpf = IN_FRAME * BYTES_PER_SAMPLE
    buf = bytearray()
    frames = 0
    for _ in range(passes):
        for block in blocks:
            buf.extend(block.tobytes())
            while len(buf) >= bpf:
                _frame = buf[:bpf]
                buf = buf[bpf:]
                frames += 1
    return ChunkerOutput(frames, None)


def autorange_passes(fn: Callable[[int], object], min_seconds: float) -> int:
    """Passes over the blocks needed for one measurement to last at least ``min_seconds``."""
    t0 = time.perf_counter()
    fn(1)
    one = max(time.perf_counter() - t0, 1e-6)
    return max(1, math.ceil(min_seconds / one))


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------


@dataclass
class PathResult:
    key: str
    label: str
    best_s: float | None = None
    median_s: float | None = None
    frames: int | None = None
    samples: int | None = None
    x_realtime: float | None = None
    note: str = ""


@dataclass
class ChunkerResult:
    key: str
    label: str
    best_s: float | None = None
    frames: int | None = None
    passes: int = 1
    frames_per_s: float | None = None
    copied_per_output_byte: float | None = None
    note: str = ""


@dataclass
class Report:
    config: dict[str, Any]
    paths: list[PathResult] = field(default_factory=list)
    chunker: list[ChunkerResult] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["ok"]]


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def render(report: Report) -> str:
    cfg = report.config
    lines = [
        "# lkframes core benchmark",
        "",
        f"{cfg['audio_seconds']:g} s of {IN_RATE} Hz mono int16 → {OUT_RATE} Hz, "
        f"{FRAME_MS} ms frames; best of {cfg['repeat']} (plus one warm-up), one process, "
        f"same data. Python {cfg['python']}, numpy {cfg['numpy']}, soxr {cfg['soxr']}, "
        f"livekit {cfg['livekit']}, lkframes {cfg['lkframes']}; {cfg['cpus']} CPUs "
        f"({cfg['machine']}).",
        "",
        "## Full path: from array → resample → 20 ms frames → identity",
        "",
        "| path | frames | samples out | best ms | median ms | x realtime | vs (a) | vs (b) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_key = {p.key: p for p in report.paths}
    base_a = by_key.get("a")
    base_b = by_key.get("b")
    for p in report.paths:
        if p.best_s is None:
            lines.append(f"| {p.label} | — | — | — | — | — | — | — ({p.note}) |")
            continue
        vs_a = _ratio(p.x_realtime, base_a.x_realtime if base_a else None)
        vs_b = _ratio(p.x_realtime, base_b.x_realtime if base_b else None)
        lines.append(
            f"| {p.label} | {p.frames} | {p.samples} | {p.best_s * 1e3:.2f} | "
            f"{_fmt(p.median_s and p.median_s * 1e3, '.2f')} | {_fmt(p.x_realtime, ',.0f')} | "
            f"{_fmt(vs_a, '.2f')}x | {_fmt(vs_b, '.2f')}x |"
        )
    lines += [
        "",
        f"## Chunker alone: irregular blocks (1..{MAX_BLOCK} samples) → {IN_FRAME}-sample frames",
        "",
        "| chunker | frames | passes | best ms | frames/s | vs bytearray | "
        "copied bytes / output byte |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    base_c = next((c for c in report.chunker if c.key == "bytearray"), None)
    for c in report.chunker:
        if c.best_s is None:
            lines.append(f"| {c.label} | — | — | — | — | — | — ({c.note}) |")
            continue
        vs = _ratio(c.frames_per_s, base_c.frames_per_s if base_c else None)
        copied = _fmt(c.copied_per_output_byte, ".3f")
        if c.note:
            copied = f"{copied} ({c.note})"
        lines.append(
            f"| {c.label} | {c.frames} | {c.passes} | {c.best_s * 1e3:.2f} | "
            f"{_fmt(c.frames_per_s, ',.0f')} | {_fmt(vs, '.2f')}x | {copied} |"
        )
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
    return str(version) if version else _version("lkframes")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="10 s of audio and 3 repeats (CI smoke run)"
    )
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per path (best of)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds of audio")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write JSON")
    parser.add_argument(
        "--baselines-only", action="store_true", help="skip lkframes (for debugging baselines)"
    )
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 10.0 if args.quick else 60.0
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    if args.repeat < 1 or args.seconds <= 0:
        parser.error("--repeat must be >= 1 and --seconds > 0")
    return args


def _count_checks(report: Report, key: str, out: PathOutput, expected: int, exact: bool) -> None:
    tol = 0 if exact else SAMPLE_TOLERANCE
    report.check(
        f"{key}: samples out",
        abs(out.samples - expected) <= tol,
        f"{out.samples} vs expected {expected} (tolerance {tol})",
    )
    frames_expected = math.ceil(out.samples / OUT_FRAME)
    report.check(
        f"{key}: frame count",
        out.frames == frames_expected,
        f"{out.frames} frames for {out.samples} samples (expected {frames_expected})",
    )


def run_full_paths(report: Report, lk_reason: str | None, x: Int16Array, repeat: int) -> None:
    seconds = x.size / IN_RATE
    expected = expected_out_samples(x.size)

    def record(key: str, label: str, times: list[float], out: PathOutput) -> PathResult:
        best = min(times)
        result = PathResult(
            key,
            label,
            best_s=best,
            median_s=float(np.median(times)),
            frames=out.frames,
            samples=out.samples,
            x_realtime=seconds / best,
        )
        report.paths.append(result)
        return result

    times, out = time_sync(lambda: reference_soxr_one_call(x), repeat)
    record("ref", "ref: soxr.resample whole array, one call, then sliced", times, out)
    _count_checks(report, "ref", out, expected, exact=True)

    times, out_a = time_sync(lambda: baseline_soxr_loop(x), repeat)
    record("a", "(a) soxr.ResampleStream, 20 ms chunks, numpy re-chunk", times, out_a)
    _count_checks(report, "(a)", out_a, expected, exact=True)

    times, out_b = time_sync(lambda: baseline_livekit(x), repeat)
    record("b", "(b) rtc.AudioResampler, 20 ms rtc frames, AudioByteStream", times, out_b)
    _count_checks(report, "(b)", out_b, expected, exact=False)

    # Output content: (a) is the reference for the lkframes paths; (b) is informational.
    kept_a = baseline_soxr_loop(x, keep=True).kept or []
    ref_a = np.concatenate(kept_a) if kept_a else np.empty(0, np.int16)
    kept_b = baseline_livekit(x, keep=True).kept or []
    ref_b = np.concatenate(kept_b) if kept_b else np.empty(0, np.int16)
    n = min(ref_a.size, ref_b.size)
    diff_b = int(np.max(np.abs(ref_a[:n].astype(np.int32) - ref_b[:n]))) if n else 0
    report.check(
        "(b) vs (a): output content (informational)",
        True,
        f"max |diff| {diff_b} LSB over {n} samples (different resampler build, not checked)",
    )

    default = lk_default_block_ms() if lk_reason is None else None
    variants: list[tuple[str, str, int | None]] = [
        ("lk", f"lkframes from_array() (default block_ms={default or '?'})", None),
        *(
            (f"lk{ms}", f"lkframes from_array(block_ms={ms})", ms)
            for ms in (20, 100, 1000)
            if default is None or float(default) != ms
        ),
    ]
    if lk_reason is not None:
        for key, label, _ in variants:
            report.paths.append(PathResult(key, label, note=lk_reason))
        report.check("lkframes importable", False, lk_reason)
        return

    async def measure_all() -> None:
        for key, label, block_ms in variants:
            try:
                times, out = await time_async(functools.partial(lk_run, x, block_ms), repeat)
            except Exception as exc:  # keep the baselines' report if lkframes breaks
                note = f"{type(exc).__name__}: {exc}"
                report.paths.append(PathResult(key, label, note=note))
                report.check(f"{label}: runs", False, note)
                continue
            record(key, label, times, out)
            _count_checks(report, label, out, expected, exact=False)
            report.check(
                f"{label}: same samples as (a)",
                abs(out.samples - out_a.samples) <= SAMPLE_TOLERANCE,
                f"{out.samples} vs {out_a.samples} (tolerance {SAMPLE_TOLERANCE})",
            )
            try:
                frames = await lk_collect(x, block_ms)
                verify_lk_frames(report, label, frames, ref_a)
            except Exception as exc:
                report.check(f"{label}: collect()", False, f"{type(exc).__name__}: {exc}")

    asyncio.run(measure_all())


def verify_lk_frames(
    report: Report, label: str, frames: list[lkframes.AudioFrame], ref_a: Int16Array
) -> None:
    """Frame sizes, pts continuity, format, and sample content against baseline (a)."""
    sizes = [f.samples_per_channel for f in frames]
    bad_size = [i for i, s in enumerate(sizes[:-1]) if s != OUT_FRAME]
    last_ok = not sizes or 0 < sizes[-1] <= OUT_FRAME
    report.check(
        f"{label}: frame sizes",
        not bad_size and last_ok,
        f"{len(frames)} frames, all {OUT_FRAME} samples but the last ({sizes[-1] if sizes else 0})"
        if not bad_size
        else f"{len(bad_size)} frames not {OUT_FRAME} samples (first at index {bad_size[0]})",
    )
    pts = [f.pts for f in frames]
    starts = [0, *np.cumsum(sizes[:-1]).tolist()] if sizes else []
    bad_pts = [i for i, (got, want) in enumerate(zip(pts, starts, strict=True)) if got != want]
    report.check(
        f"{label}: pts continuous",
        not bad_pts,
        f"first mismatch at frame {bad_pts[0]}: pts {pts[bad_pts[0]]}, expected "
        f"{starts[bad_pts[0]]}"
        if bad_pts
        else "pts == running sample count from 0",
    )
    shapes_ok = all(f.data.ndim == 2 and f.data.shape[1] == 1 for f in frames)
    dtype_ok = all(f.data.dtype == np.int16 for f in frames)
    rate_ok = all(f.sample_rate == OUT_RATE for f in frames)
    report.check(
        f"{label}: frame format",
        shapes_ok and dtype_ok and rate_ok,
        f"data (n, 1): {shapes_ok}, int16: {dtype_ok}, sample_rate {OUT_RATE}: {rate_ok}",
    )
    y = np.concatenate([f.data.reshape(-1) for f in frames]) if frames else np.empty(0, np.int16)
    n = min(y.size, ref_a.size)
    diff = int(np.max(np.abs(y[:n].astype(np.int32) - ref_a[:n]))) if n else 0
    report.check(
        f"{label}: content vs (a)",
        diff <= LSB_TOLERANCE and n > 0,
        f"max |diff| {diff} LSB over {n} samples (tolerance {LSB_TOLERANCE})",
    )


def run_chunker(report: Report, lk_reason: str | None, x: Int16Array, repeat: int) -> None:
    blocks = make_blocks(x, MAX_BLOCK, SEED)
    total = sum(b.shape[0] for b in blocks)
    report.config["chunker_blocks"] = len(blocks)
    report.check(
        "chunker: blocks cover the signal",
        total == x.size and all(1 <= b.shape[0] <= MAX_BLOCK for b in blocks),
        f"{len(blocks)} blocks, {total} samples, sizes 1..{MAX_BLOCK}",
    )
    per_pass = total // IN_FRAME

    def measure(key: str, label: str, fn: Callable[[int], ChunkerOutput]) -> ChunkerResult | None:
        try:
            passes = autorange_passes(fn, CHUNKER_MIN_MEASURE_S)
            times, out = time_sync(lambda: fn(passes), repeat)
        except Exception as exc:
            note = f"{type(exc).__name__}: {exc}"
            report.chunker.append(ChunkerResult(key, label, note=note))
            report.check(f"chunker {label}: runs", False, note)
            return None
        best = min(times)
        out_bytes = out.frames * IN_FRAME * BYTES_PER_SAMPLE
        result = ChunkerResult(
            key,
            label,
            best_s=best,
            frames=out.frames,
            passes=passes,
            frames_per_s=out.frames / best,
            copied_per_output_byte=None
            if out.copied_bytes is None
            else out.copied_bytes / out_bytes,
        )
        report.chunker.append(result)
        # A pass leaves total % IN_FRAME behind, so later passes can emit one extra frame.
        lo, hi = per_pass * passes, (total * passes) // IN_FRAME
        report.check(
            f"chunker {label}: frame count",
            lo <= out.frames <= hi and (passes > 1 or out.frames == per_pass),
            f"{out.frames} frames in {passes} pass(es) (expected {lo}..{hi})",
        )
        return result

    if lk_reason is None:
        res = measure(
            "lk", "lkframes FrameBuffer (push / pop)", lambda p: chunker_lkframes(blocks, p)
        )
        if res is not None:
            verify_frame_buffer(report, blocks, x)
        # Diagnostic: the same samples in 4800-sample blocks, so every frame is a view.
        aligned = [x.reshape(-1, 1)[i : i + 5 * IN_FRAME] for i in range(0, x.size, 5 * IN_FRAME)]
        measure(
            "lk_aligned",
            "diagnostic: FrameBuffer, 4800-sample blocks (views only)",
            lambda p: chunker_lkframes(aligned, p),
        )
    else:
        report.chunker.append(ChunkerResult("lk", "lkframes FrameBuffer", note=lk_reason))
    ba = measure(
        "bytearray",
        "bytearray: += tobytes(), bytes(buf[:n]), del",
        lambda p: chunker_bytearray(blocks, p),
    )
    if ba is not None:
        # tobytes + append copy each input byte twice; slice + bytes() copy each output byte twice.
        ba.copied_per_output_byte = 4.0
        ba.note = "by construction"
    ban = measure(
        "bytearray_np",
        "bytearray as above, frames as np.frombuffer (n, 1) arrays",
        lambda p: chunker_bytearray_numpy(blocks, p),
    )
    if ban is not None:
        ban.copied_per_output_byte = 4.0
        ban.note = "by construction"
    abs_ = measure(
        "abs",
        "AudioByteStream idiom: extend, buf[:n], buf = buf[n:]",
        lambda p: chunker_audiobytestream(blocks, p),
    )
    if abs_ is not None:
        abs_.note = "n/a: remainder re-copied per frame"


def verify_frame_buffer(report: Report, blocks: Sequence[Int16Array], x: Int16Array) -> None:
    """One untimed pass that keeps the frames: sizes, content, views vs copies, leftovers."""
    import lkframes as lk

    buf = lk.FrameBuffer(num_channels=1, dtype="int16")
    out: list[Int16Array] = []
    for block in blocks:
        buf.push(block)
        while (frame := buf.pop(IN_FRAME)) is not None:
            out.append(frame)
    sizes_ok = all(f.shape == (IN_FRAME, 1) for f in out)
    joined = np.concatenate(out).reshape(-1) if out else np.empty(0, np.int16)
    content_ok = bool(np.array_equal(joined, x[: joined.size]))
    left = buf.available
    report.check(
        "chunker FrameBuffer: frames and content",
        sizes_ok and content_ok and len(out) == x.size // IN_FRAME and left == x.size % IN_FRAME,
        f"{len(out)} frames of ({IN_FRAME}, 1): {sizes_ok}; equal to input: {content_ok}; "
        f"{left} samples left",
    )
    # Straddling frames are the only copies: count them independently of copied_bytes.
    views = sum(1 for f in out if np.shares_memory(f, x))
    copies = len(out) - views
    expected_copied = copies * IN_FRAME * BYTES_PER_SAMPLE
    report.check(
        "chunker FrameBuffer: copied_bytes",
        buf.copied_bytes == expected_copied,
        f"{buf.copied_bytes} bytes reported; {copies} copied frames x {IN_FRAME * 2} B = "
        f"{expected_copied} ({views} views)",
    )


def fill_targets(report: Report) -> None:
    paths = {p.key: p for p in report.paths}
    lk_p, a, b = paths.get("lk"), paths.get("a"), paths.get("b")
    lk_x = lk_p.x_realtime if lk_p else None
    for name, base, target in (
        ("(a)", a, TARGET_VS_SOXR),
        ("(b)", b, TARGET_VS_LIVEKIT),
    ):
        ratio = _ratio(lk_x, base.x_realtime if base else None)
        report.targets.append(
            {
                "target": f"lkframes (default block_ms) / {name} >= {target:g}x",
                "measured": f"{_fmt(ratio, '.2f')}x",
                "value": ratio,
                "met": None if ratio is None else ratio >= target,
            }
        )
    chunk = next((c for c in report.chunker if c.key == "lk"), None)
    fps = chunk.frames_per_s if chunk else None
    report.targets.append(
        {
            "target": f"FrameBuffer >= {TARGET_CHUNKER_FPS / 1e6:g} M frames/s of {IN_FRAME}",
            "measured": f"{_fmt(fps and fps / 1e6, '.2f')} M/s",
            "value": fps,
            "met": None if fps is None else fps >= TARGET_CHUNKER_FPS,
        }
    )
    copied = chunk.copied_per_output_byte if chunk else None
    report.targets.append(
        {
            "target": f"FrameBuffer <= {TARGET_COPY_RATIO:g} byte copied per output byte",
            "measured": _fmt(copied, ".3f"),
            "value": copied,
            "met": None if copied is None else copied <= TARGET_COPY_RATIO,
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    lk_reason = "skipped (--baselines-only)" if args.baselines_only else lkframes_unavailable()
    x = make_signal(args.seconds, IN_RATE, SEED)
    report = Report(
        config={
            "audio_seconds": x.size / IN_RATE,
            "in_rate": IN_RATE,
            "out_rate": OUT_RATE,
            "frame_ms": FRAME_MS,
            "repeat": args.repeat,
            "quick": args.quick,
            "seed": SEED,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "soxr": _version("soxr"),
            "livekit": _version("livekit"),
            "lkframes": _lkframes_version() if lk_reason is None else "not run",
            "cpus": os.cpu_count(),
            "machine": f"{platform.system()} {platform.machine()}",
        }
    )
    run_full_paths(report, lk_reason, x, args.repeat)
    run_chunker(report, lk_reason, x, args.repeat)
    fill_targets(report)
    if args.baselines_only:
        report.checks = [c for c in report.checks if c["check"] != "lkframes importable"]

    print(render(report))
    failed = report.failed
    if args.json is not None:
        payload = {**asdict(report), "ok": not failed}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    if failed:
        print(f"\n{len(failed)} correctness check(s) failed.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
