"""Core benchmark: the pipeline users write, against the loops they would write by hand.

Every path takes the same int16 array, resamples it, cuts 20 ms frames, applies the same
processing step to every frame — ``quieter``, which returns a **new array** (``data //
2``, the README's own pattern) — and keeps every result in a list, as ``collect()`` does.
lkframes runs in the form users write it:

    frames = await lk.from_array(x, in_rate).resample(out_rate).chunk(ms=20).map(quieter).collect()

beside, in the same process and on the same data:

- a hand-written python-soxr loop on 20 ms chunks (``ResampleStream`` + numpy re-chunker),
- the same loop on 1 s blocks (the best hand-written streaming loop),
- one-shot ``soxr.resample`` of the whole array, then sliced (the limit; not streaming),
- the LiveKit path: ``rtc.AudioResampler`` on 20 ms ``rtc.AudioFrame``s plus the
  re-chunking logic of livekit-agents' ``AudioByteStream``,
- PyAV: ``av.AudioResampler(frame_size=…)`` on 20 ms ``av.AudioFrame``s.

Two cases: mono 48 kHz → 16 kHz (a voice agent's STT input) and stereo 44.1 kHz → 48 kHz
(a music file into a room). Speed is reported as x realtime and as ratios, printed as
markdown. Benchmarks are not tests: a slow result never fails the run; a failed correctness
check (lengths, frame sizes, pts, samples against the hand loop) exits with status 1.

    python benchmarks/bench_core.py            # 60 s of audio per case, best of 7
    python benchmarks/bench_core.py --quick    # 10 s, best of 3 (the CI smoke run)

A full run also draws the ratios into docs/figures/bench_core.svg (``--no-chart``: not).
"""

from __future__ import annotations

import asyncio
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np
import soxr
from livekit import rtc
from numpy.typing import NDArray

import _common
import lkframes as lk

R = TypeVar("R")
Array = NDArray[Any]

FRAME_MS = 20
SEED = 20_240_601
LSB_TOLERANCE = 2  # libsoxr dithers streamed int16 output (TPDF): runs differ by <= 2 LSB
TARGETS = {"vs_hand_20ms": 1.2, "vs_hand_1s": 1.0, "vs_livekit": 4.0, "vs_pyav": 2.0}
TARGET_MAP_OVERHEAD_US = 1.0
GAIN_DB = -6.02
GAIN = np.float32(10.0 ** (GAIN_DB / 20.0))
TARGET_BUFFER_FPS = 2e6


@dataclass(frozen=True)
class Case:
    name: str
    in_rate: int
    out_rate: int
    channels: int

    @property
    def in_frame(self) -> int:
        return self.in_rate * FRAME_MS // 1000

    @property
    def out_frame(self) -> int:
        return self.out_rate * FRAME_MS // 1000


CASES = (
    Case("mono 48 kHz → 16 kHz", 48_000, 16_000, 1),
    Case("stereo 44.1 kHz → 48 kHz", 44_100, 48_000, 2),
)


def quieter(data: Array) -> Array:
    """The user's processing step: -6 dB, as a new array (the README's pattern)."""
    return data // 2


def gain_by_hand(data: Array) -> Array:
    """What a user writes for ``gain(GAIN_DB)``: scale in float32, round, clip, back to int16."""
    scaled = np.multiply(data, GAIN, dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768.0, 32767.0, out=scaled)
    return scaled.astype(np.int16)


def make_signal(case: Case, seconds: float) -> Array:
    """Deterministic speech-like int16 audio, ``(samples, channels)``."""
    n = round(seconds * case.in_rate)
    t = np.arange(n) / case.in_rate
    rng = np.random.default_rng(SEED)
    pitch = 2 * np.pi * np.cumsum(140 + 25 * np.sin(2 * np.pi * 0.7 * t)) / case.in_rate
    voice = sum(np.sin(k * pitch) / k for k in range(1, 9)) * np.sin(np.pi * 4 * t) ** 2
    channels = [0.3 * voice + 0.01 * rng.standard_normal(n) for _ in range(case.channels)]
    return np.ascontiguousarray(np.stack(channels, axis=1) * 20_000, dtype=np.int16)


# -- the paths -------------------------------------------------------------------------------


class Rechunker:
    """A careful hand-written re-chunker: carry the remainder, cut views of ``size``."""

    def __init__(self, size: int, channels: int) -> None:
        self.size = size
        self.pending: Array = np.empty((0, channels), np.int16)

    def push(self, block: Array, out: list[Array]) -> None:
        if self.pending.shape[0]:
            block = np.concatenate((self.pending, block))
        full = block.shape[0] - block.shape[0] % self.size
        out.extend(quieter(block[i : i + self.size]) for i in range(0, full, self.size))
        self.pending = block[full:]

    def flush(self, out: list[Array]) -> None:
        if self.pending.shape[0]:
            out.append(quieter(self.pending))


def hand_soxr(case: Case, x: Array, block: int) -> list[Array]:
    stream = soxr.ResampleStream(case.in_rate, case.out_rate, case.channels, dtype="int16")
    chunker = Rechunker(case.out_frame, case.channels)
    out: list[Array] = []
    for start in range(0, x.shape[0], block):
        chunker.push(stream.resample_chunk(x[start : start + block]), out)
    chunker.push(stream.resample_chunk(x[:0], last=True), out)
    chunker.flush(out)
    return out


def one_shot(case: Case, x: Array) -> list[Array]:
    y = soxr.resample(x, case.in_rate, case.out_rate).reshape(-1, case.channels)
    return [quieter(y[i : i + case.out_frame]) for i in range(0, y.shape[0], case.out_frame)]


def livekit_path(case: Case, x: Array) -> list[Array]:
    """rtc.AudioResampler on 20 ms frames + livekit-agents' AudioByteStream logic."""
    resampler = rtc.AudioResampler(
        case.in_rate, case.out_rate, num_channels=case.channels,
        quality=rtc.AudioResamplerQuality.HIGH,
    )  # fmt: skip
    raw = x.reshape(-1).view(np.uint8)  # rtc.AudioFrame wraps slices of it without a copy
    step = case.in_frame * case.channels * 2
    frame_bytes = case.out_frame * case.channels * 2
    buffer = bytearray()
    out: list[Array] = []

    def emit(data: memoryview | bytes) -> None:
        nonlocal buffer
        buffer.extend(data)
        while len(buffer) >= frame_bytes:
            chunk = buffer[:frame_bytes]
            buffer = buffer[frame_bytes:]
            frame = rtc.AudioFrame(chunk, case.out_rate, case.channels, case.out_frame)
            out.append(quieter(np.frombuffer(frame.data, np.int16).reshape(-1, case.channels)))

    for start in range(0, raw.size, step):
        piece = raw[start : start + step]
        samples = piece.size // (2 * case.channels)
        for frame in resampler.push(
            rtc.AudioFrame(piece.data, case.in_rate, case.channels, samples)
        ):
            emit(frame.data.cast("B"))
    for frame in resampler.flush():
        emit(frame.data.cast("B"))
    if buffer:
        out.append(quieter(np.frombuffer(bytes(buffer), np.int16).reshape(-1, case.channels)))
    return out


def pipecat_resampler() -> Any | None:
    """pipecat's ``SOXRStreamAudioResampler`` class, if pipecat-ai is installed (not a
    dependency of lkframes: ``pip install --no-deps pipecat-ai loguru wait_for2`` is
    enough for it)."""
    try:
        from pipecat.audio.resamplers.soxr_stream_resampler import SOXRStreamAudioResampler
    except ImportError:
        return None
    return SOXRStreamAudioResampler


async def pipecat_path(case: Case, x: Array) -> list[Array]:
    """pipecat's stream resampler (mono int16 bytes in and out, soxr VHQ) on 20 ms chunks,
    re-chunked into 20 ms frames as a pipecat processor would; it has no flush, so the
    resampler's last few milliseconds never come out."""
    resampler = pipecat_resampler()()  # type: ignore[misc]
    frame_bytes = case.out_frame * 2
    buffer = bytearray()
    out: list[Array] = []
    raw = x.reshape(-1)
    for start in range(0, raw.size, case.in_frame):
        chunk = raw[start : start + case.in_frame].tobytes()
        buffer += await resampler.resample(chunk, case.in_rate, case.out_rate)
        while len(buffer) >= frame_bytes:
            out.append(quieter(np.frombuffer(bytes(buffer[:frame_bytes]), np.int16).reshape(-1, 1)))
            del buffer[:frame_bytes]
    if buffer:
        out.append(quieter(np.frombuffer(bytes(buffer), np.int16).reshape(-1, 1)))
    return out


def pyav_path(case: Case, x: Array) -> list[Array]:
    layout = "mono" if case.channels == 1 else "stereo"
    resampler = av.AudioResampler(
        format="s16", layout=layout, rate=case.out_rate, frame_size=case.out_frame
    )
    out: list[Array] = []
    base = Fraction(1, case.in_rate)
    for start in range(0, x.shape[0], case.in_frame):
        chunk = x[start : start + case.in_frame]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = case.in_rate, start, base
        out.extend(
            quieter(o.to_ndarray().reshape(-1, case.channels)) for o in resampler.resample(frame)
        )
    out.extend(quieter(o.to_ndarray().reshape(-1, case.channels)) for o in resampler.resample(None))
    return out


def lk_pipeline(case: Case, x: Array, quality: lk.Quality = "HQ") -> lk.Stream[lk.AudioFrame]:
    """The form users write: a map returning a new array, then collect()."""
    return (
        lk.from_array(x, case.in_rate)
        .resample(case.out_rate, quality)
        .chunk(ms=FRAME_MS)
        .map(lambda frame: quieter(frame.data))
    )


def lk_variant(case: Case, x: Array, how: str) -> lk.Stream[lk.AudioFrame]:
    """The same pipeline with the step declared per sample, or as gain (built in / a map)."""
    chunked = lk.from_array(x, case.in_rate).resample(case.out_rate).chunk(ms=FRAME_MS)
    if how == "per_sample":
        return chunked.map(lambda frame: quieter(frame.data), per_sample=True)
    if how == "gain":
        return chunked.gain(GAIN_DB)
    return chunked.map(lambda frame: gain_by_hand(frame.data))


def snr_db(case: Case, x: Array, make: Callable[[], Sequence[Any]]) -> float:
    """How close a path's resampling is to soxr VHQ in float64: SNR in dB, with the path's
    processing step switched off (the same step for all, it would only add its rounding)."""
    global quieter
    step, quieter = quieter, (lambda data: data)
    try:
        got = _samples([np.asarray(getattr(a, "data", a)) for a in make()]).astype(np.float64)
    finally:
        quieter = step
    ref = soxr.resample(x.astype(np.float64), case.in_rate, case.out_rate, quality="VHQ")
    n = min(got.shape[0], ref.shape[0]) - 2_000  # leave out the edges' filter ramps
    error = np.sum((got[2_000:n] - ref.reshape(-1, case.channels)[2_000:n]) ** 2)
    return float(10 * np.log10(np.sum(ref[2_000:n] ** 2) / max(error, 1e-9)))


# -- timing ------------------------------------------------------------------------------------


def _timed_together(paths: dict[str, Callable[[], Any]], repeat: int) -> dict[str, Any]:
    """Time every path ``repeat`` times, interleaved (path 1, path 2, ..., then again), after
    one warm-up each, so that a slow spell of a shared machine hits every path alike.

    Returns, per path, the list of times and the last result.
    """
    results = {key: fn() for key, fn in paths.items()}  # warm-up
    times: dict[str, list[float]] = {key: [] for key in paths}
    for _ in range(repeat):
        for key, fn in paths.items():
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                results[key] = fn()
                times[key].append(time.perf_counter() - start)
            finally:
                gc.enable()
    return {key: (times[key], results[key]) for key in paths}


def _in_loop(loop: asyncio.AbstractEventLoop, make: Callable[[], Awaitable[R]]) -> Callable[[], R]:
    """``await make()`` in an event loop that keeps running between measurements, as in an
    app (starting a loop is not counted; ``lk.run_sync`` below counts it)."""
    return lambda: loop.run_until_complete(make())  # type: ignore[arg-type]


# -- report ------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    best_s: float
    median_s: float
    frames: int
    x_realtime: float
    snr_db: float = 0.0


@dataclass
class Report:
    config: dict[str, Any]
    cases: dict[str, list[Row]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})

    def target(self, name: str, value: float, goal: float, unit: str, higher: bool = True) -> None:
        met = value >= goal if higher else value <= goal
        self.targets.append(
            {
                "target": name,
                "measured": f"{value:,.2f}{unit}",
                "goal": f"{'≥' if higher else '≤'} {goal:g}{unit}",
                "met": met,
            }
        )


def _samples(arrays: Sequence[Any]) -> Array:
    return np.concatenate([np.asarray(a) for a in arrays]) if arrays else np.empty((0, 1))


def _check_case(report: Report, case: Case, x: Array, outputs: dict[str, list[Any]]) -> None:
    want_len = lk.resampled_length(x.shape[0], case.in_rate, case.out_rate)
    reference = _samples(outputs["hand20"])
    for key, arrays in outputs.items():
        got = _samples(arrays)
        tol = 0 if key in ("hand20", "hand1s", "oneshot", "lk", "lk_mq", "lk_sync") else 64
        if key == "pipecat":  # no flush: its resampler's tail never comes out
            report.notes.append(
                f"pipecat: {case.name}: {want_len - got.shape[0]} samples short at the end "
                "(it has no flush)"
            )
            tol = case.out_rate // 10  # all of the input went through, but the last 100 ms
        report.check(
            f"{case.name}: {key} length",
            abs(got.shape[0] - want_len) <= tol,
            f"{got.shape[0]} samples, resampled_length says {want_len} (tolerance {tol})",
        )
        sizes = [np.asarray(a).shape[0] for a in arrays]
        report.check(
            f"{case.name}: {key} frame sizes",
            all(s == case.out_frame for s in sizes[:-1]) and 0 < sizes[-1] <= case.out_frame,
            f"{len(sizes)} frames of {case.out_frame} samples (last {sizes[-1]})",
        )
        if key.startswith("lk") and got.shape == reference.shape:
            diff = int(np.abs(got.astype(np.int32) - reference).max(initial=0))
            report.check(
                f"{case.name}: {key} samples vs hand loop",
                diff <= LSB_TOLERANCE,
                f"max |diff| {diff} LSB",
            )


def run_case(report: Report, case: Case, seconds: float, repeat: int) -> None:
    x = make_signal(case, seconds)
    paths: dict[str, tuple[str, Callable[[], Any]]] = {
        "oneshot": (
            "one-shot soxr.resample, sliced (the limit; not streaming)",
            lambda: one_shot(case, x),
        ),
        "hand1s": (
            "hand soxr ResampleStream, 1 s blocks + re-chunker",
            lambda: hand_soxr(case, x, case.in_rate),
        ),
        "hand20": (
            "hand soxr ResampleStream, 20 ms chunks + re-chunker",
            lambda: hand_soxr(case, x, case.in_frame),
        ),
        "livekit": (
            "LiveKit rtc.AudioResampler, 20 ms frames + AudioByteStream",
            lambda: livekit_path(case, x),
        ),
        "pyav": ("PyAV AudioResampler(frame_size=…), 20 ms frames", lambda: pyav_path(case, x)),
    }
    rows: list[Row] = []
    outputs: dict[str, list[Any]] = {}
    loop = asyncio.new_event_loop()
    pipecat: dict[str, Callable[[], Any]] = {}
    if pipecat_resampler() is None:
        report.notes.append(
            "pipecat: not installed (pip install --no-deps pipecat-ai loguru wait_for2)"
        )
    elif case.channels != 1:
        report.notes.append(f"pipecat: {case.name}: its stream resampler takes mono only")
    else:
        pipecat["pipecat"] = _in_loop(loop, lambda: pipecat_path(case, x))
    try:
        measured = _timed_together(
            {
                "lk": _in_loop(loop, lambda: lk_pipeline(case, x).collect()),
                "lk_mq": _in_loop(loop, lambda: lk_pipeline(case, x, "MQ").collect()),
                "lk_sync": lambda: lk.run_sync(lk_pipeline(case, x).collect()),
                "lk_ps": _in_loop(loop, lambda: lk_variant(case, x, "per_sample").collect()),
                "lk_gain": _in_loop(loop, lambda: lk_variant(case, x, "gain").collect()),
                "lk_gainmap": _in_loop(loop, lambda: lk_variant(case, x, "gain_map").collect()),
                **{key: fn for key, (_, fn) in paths.items()},
                **pipecat,
            },
            repeat,
        )
    finally:
        loop.close()
    labels = {
        "lk": "**lkframes** `await …map(quieter).collect()`",
        "lk_mq": 'lkframes, `resample(…, quality="MQ")` (LiveKit HIGH\'s quality)',
        "lk_sync": "lkframes, the same from sync code: `lk.run_sync(…collect())`",
        "lk_ps": "lkframes, `map(quieter, per_sample=True)` (runs before chunk, on blocks)",
        "lk_gain": f"lkframes, the built-in `.gain({GAIN_DB})` instead of the map",
        "lk_gainmap": "lkframes, a map doing what gain does (float32, round, clip)",
        "pipecat": "pipecat SOXRStreamAudioResampler (VHQ), 20 ms chunks + re-chunker",
        **{key: label for key, (label, _) in paths.items()},
    }
    quality_runs: dict[str, Callable[[], Sequence[Any]]] = {
        "lk": lambda: lk.run_sync(lk_pipeline(case, x).collect()),
        "lk_mq": lambda: lk.run_sync(lk_pipeline(case, x, "MQ").collect()),
        **{key: fn for key, (_, fn) in paths.items()},
        "pipecat": lambda: asyncio.run(pipecat_path(case, x)),
    }
    for key, (times, result) in measured.items():
        best = min(times)
        snr = snr_db(case, x, quality_runs.get(key, quality_runs["lk"]))
        rows.append(
            Row(key, labels[key], best, statistics.median(times), len(result), seconds / best, snr)
        )
        outputs[key] = [getattr(a, "data", a) for a in result]
    frames = measured["lk"][1]
    gains = ("lk_gain", "lk_gainmap")
    _check_case(report, case, x, {k: v for k, v in outputs.items() if k not in ("lk_mq", *gains)})
    built_in, by_hand = (_samples(outputs[key]) for key in gains)
    report.check(
        f"{case.name}: built-in gain equals the map doing its arithmetic",
        built_in.shape == by_hand.shape and bool((built_in == by_hand).all()),
        f"{built_in.shape} vs {by_hand.shape}",
    )
    report.cases[case.name] = rows
    _check_pts(report, case, frames)


def _check_pts(report: Report, case: Case, frames: Sequence[lk.AudioFrame]) -> None:
    pts = [f.pts for f in frames]
    ok = pts[0] == 0 and all(a.end_pts == b.pts for a, b in pairwise(frames))
    report.check(f"{case.name}: lk pts continuous", ok, f"{len(frames)} frames from pts 0")


def measure_map_overhead(report: Report, seconds: float, repeat: int) -> None:
    """Per-frame cost of map itself: (chunk + map) - chunk - the function alone."""
    case = CASES[0]
    y = soxr.resample(make_signal(case, seconds), case.in_rate, case.out_rate)
    frames = lk.run_sync(lk.from_array(y, case.out_rate).chunk(ms=FRAME_MS).collect())

    def chunked() -> lk.Stream[lk.AudioFrame]:
        return lk.from_array(y, case.out_rate).chunk(ms=FRAME_MS)

    loop = asyncio.new_event_loop()
    try:
        measured = _timed_together(
            {
                "bare": _in_loop(loop, lambda: chunked().run()),
                "mapped": _in_loop(loop, lambda: chunked().map(lambda f: quieter(f.data)).run()),
                "pure": lambda: [quieter(f.data) for f in frames],
            },
            repeat,
        )
    finally:
        loop.close()
    bare, mapped, pure = (measured[key][0] for key in ("bare", "mapped", "pure"))
    per_frame = (min(mapped) - min(bare) - min(pure)) / len(frames) * 1e6
    report.extras["map_overhead_us"] = per_frame
    report.extras["map_frames"] = len(frames)
    report.target(
        "map overhead per frame (map returning a new array)",
        per_frame,
        TARGET_MAP_OVERHEAD_US,
        " µs",
        higher=False,
    )


def measure_frame_buffer(report: Report, seconds: float, repeat: int) -> None:
    """FrameBuffer alone: irregular blocks of 1..4 800 samples cut into 960-sample frames."""
    rng = np.random.default_rng(SEED)
    x = make_signal(CASES[0], seconds)
    sizes = rng.integers(1, 4_801, size=x.shape[0] // 1_000)
    edges = np.minimum(np.cumsum(np.concatenate(([0], sizes))), x.shape[0])
    blocks = [x[a:b] for a, b in pairwise(edges) if b > a]
    fmt = lk.AudioFormat(CASES[0].in_rate, 1)

    def frames_api(blocks: list[Array] = blocks) -> int:
        buf, pts, count = lk.FrameBuffer(1, "int16"), 0, 0
        for block in blocks:
            buf.push(block)
            ready = buf.frames(960, fmt, pts)
            pts += 960 * len(ready)
            count += len(ready)
        return count

    def pop_api() -> int:
        buf, count = lk.FrameBuffer(1, "int16"), 0
        for block in blocks:
            buf.push(block)
            while buf.pop(960) is not None:
                count += 1
        return count

    def bytearray_numpy() -> int:
        """The usual hand-written accumulator, handing out numpy frames like FrameBuffer."""
        buf, count, size = bytearray(), 0, 960 * 2
        for block in blocks:
            buf += block.tobytes()
            while len(buf) >= size:
                np.frombuffer(bytes(buf[:size]), np.int16).reshape(-1, 1)
                del buf[:size]
                count += 1
        return count

    def audio_byte_stream() -> int:
        """livekit-agents' AudioByteStream idiom: extend, slice the front, keep the rest."""
        buf, count, size = bytearray(), 0, 960 * 2
        for block in blocks:
            buf.extend(block.tobytes())
            while len(buf) >= size:
                rtc.AudioFrame(buf[:size], CASES[0].in_rate, 1, 960)
                buf = buf[size:]
                count += 1
        return count

    # The same as frames_api, from the 500 ms blocks (at 48 kHz) a pipeline's sources give.
    big = [x[a : a + 24_000] for a in range(0, x.shape[0], 24_000)]

    measured = _timed_together(
        {
            "frames": frames_api,
            "frames_500ms": lambda: frames_api(big),
            "pop": pop_api,
            "bytearray_numpy": bytearray_numpy,
            "audio_byte_stream": audio_byte_stream,
        },
        repeat,
    )
    for key, (times, count) in measured.items():
        report.extras[f"buffer_{key}_fps"] = count / min(times)
    probe = lk.FrameBuffer(1, "int16")
    out_bytes = 0
    for block in blocks:
        probe.push(block)
        out_bytes += sum(f.data.nbytes for f in probe.frames(960, fmt, 0))
    report.extras["buffer_copied_per_byte"] = probe.copied_bytes / max(out_bytes, 1)
    report.target(
        "FrameBuffer.frames(): frames per second (irregular blocks of 1..4 800)",
        report.extras["buffer_frames_fps"],
        TARGET_BUFFER_FPS,
        "",
    )
    report.target(
        "FrameBuffer.frames(): frames per second (500 ms blocks)",
        report.extras["buffer_frames_500ms_fps"],
        TARGET_BUFFER_FPS,
        "",
    )


def fill_targets(report: Report) -> None:
    for case, rows in report.cases.items():
        by = {r.key: r for r in rows}
        lk_row, lk_mq = by["lk"], by["lk_mq"]
        for key, name in (
            ("hand20", "vs_hand_20ms"),
            ("livekit", "vs_livekit"),
            ("pyav", "vs_pyav"),
        ):
            report.target(
                f"{case}: lkframes (HQ) vs {by[key].label.split(',')[0]}",
                lk_row.x_realtime / by[key].x_realtime,
                TARGETS[name],
                "x",
            )
        for key, name in (("livekit", "vs_livekit"), ("pyav", "vs_pyav")):
            report.target(
                f"{case}: lkframes at LiveKit's quality (MQ, {lk_mq.snr_db:.0f} dB) vs "
                f"{by[key].label.split(',')[0]} ({by[key].snr_db:.0f} dB)",
                lk_mq.x_realtime / by[key].x_realtime,
                TARGETS[name],
                "x",
            )
        report.target(
            f"{case}: lkframes (HQ, the map as users write it) vs the hand 1 s-block loop",
            lk_row.x_realtime / by["hand1s"].x_realtime,
            TARGETS["vs_hand_1s"],
            "x",
        )
        report.target(
            f"{case}: built-in gain vs a map doing the same",
            by["lk_gain"].x_realtime / by["lk_gainmap"].x_realtime,
            1.0,
            "x",
        )
        report.extras[f"{case}: vs one-shot soxr (moonshot 1.0x)"] = (
            lk_row.x_realtime / by["oneshot"].x_realtime
        )


def render(report: Report) -> str:
    cfg = report.config
    out = [
        "# lkframes core benchmark",
        "",
        f"{cfg['seconds']:g} s of audio per case, best of {cfg['repeat']} (one warm-up), "
        f"interleaved, one process. Python {cfg['python']}, numpy {cfg['numpy']}, "
        f"soxr {cfg['soxr']}, livekit {cfg['livekit']}, av {cfg['av']}, "
        f"lkframes {cfg['lkframes']}; {cfg['machine']}.",
    ]
    for case, rows in report.cases.items():
        lk_row = next(r for r in rows if r.key == "lk")
        hand = next(r for r in rows if r.key == "hand20")
        out += ["", f"## {case}: resample → 20 ms frames → `quieter` (new array) → list", ""]
        out += [
            "| path | frames | best ms | median ms | x realtime | SNR dB | vs hand 20 ms "
            "| lkframes is |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in rows:
            vs_hand = r.x_realtime / hand.x_realtime
            lk_is = "—" if r.key.startswith("lk") else f"{lk_row.x_realtime / r.x_realtime:.2f}x"
            out.append(
                f"| {r.label} | {r.frames} | {r.best_s * 1e3:.2f} | {r.median_s * 1e3:.2f} | "
                f"{r.x_realtime:,.0f} | {r.snr_db:.1f} | {vs_hand:.2f}x | {lk_is} |"
            )
    out += ["", "## Per-frame costs", ""]
    extras = report.extras
    out += [
        f"- map overhead: {extras['map_overhead_us']:.2f} µs per frame ({extras['map_frames']} "
        "frames; (chunk + map) - chunk - the function alone)",
        f"- FrameBuffer: {extras['buffer_frames_fps']:,.0f} frames/s with `frames()` (frame "
        f"objects; {extras['buffer_frames_500ms_fps']:,.0f} from 500 ms blocks), "
        f"{extras['buffer_pop_fps']:,.0f} with `pop()` (arrays), copying "
        f"{extras['buffer_copied_per_byte']:.2f} bytes per output byte; a bytearray "
        f"accumulator handing out numpy frames {extras['buffer_bytearray_numpy_fps']:,.0f}, "
        "livekit-agents' AudioByteStream idiom (rtc frames) "
        f"{extras['buffer_audio_byte_stream_fps']:,.0f} (960-sample frames from blocks of "
        "1..4 800 samples)",
    ]
    for key, value in report.extras.items():
        if "moonshot" in key:
            out.append(f"- {key}: {value:.2f}x")
    out += [
        "",
        "## Targets (reported, not enforced)",
        "",
        "| target | measured | goal | met |",
        "| --- | ---: | ---: | :---: |",
    ]
    out += [
        f"| {t['target']} | {t['measured']} | {t['goal']} | {'yes' if t['met'] else 'no'} |"
        for t in report.targets
    ]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {note}" for note in report.notes]
    failed = [c for c in report.checks if not c["ok"]]
    out += [
        "",
        f"## Correctness: {len(report.checks) - len(failed)} of {len(report.checks)} checks passed",
    ]
    out += [f"- FAILED {c['check']}: {c['detail']}" for c in failed]
    return "\n".join(out)


def chart(report: Report, out_dir: Path) -> Path:
    """The table's "vs hand 20 ms" column as bars, one panel per case."""
    groups: dict[str, list[tuple[str, float]]] = {}
    for case, rows in report.cases.items():
        hand = next(r for r in rows if r.key == "hand20")
        groups[case] = [(r.label, r.x_realtime / hand.x_realtime) for r in rows]
    cfg = report.config
    return _common.write_chart(
        "core",
        groups,
        command=f"python benchmarks/bench_core.py: {cfg['seconds']:g} s of audio per case, "
        f"best of {cfg['repeat']}; resample, 20 ms frames, map, collect",
        xlabel="speed / the hand soxr loop on 20 ms chunks (higher is faster)",
        out_dir=out_dir,
        load=cfg["machine"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _common.parser(__doc__, quick="10 s of audio, best of 3", json=True)
    parser.add_argument("--seconds", type=float, help="seconds of audio per case (default 60)")
    parser.add_argument("--repeat", type=int, help="timed runs per path (default 7)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    repeat = args.repeat or (3 if args.quick else 7)
    report = Report(
        {
            "seconds": seconds, "repeat": repeat, "python": platform.python_version(),
            "numpy": np.__version__, "soxr": _common.version("soxr"),
            "livekit": _common.version("livekit"), "av": _common.version("av"),
            "lkframes": lk.__version__, "machine": _common.machine(),
        }
    )  # fmt: skip
    for case in CASES:
        run_case(report, case, seconds, repeat)
    measure_map_overhead(report, seconds, repeat)
    measure_frame_buffer(report, seconds, repeat)
    fill_targets(report)
    print(render(report))
    out_dir = _common.chart_dir(args)
    if out_dir is not None:
        print(f"\nchart: {chart(report, out_dir)}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(
                {**asdict(report), "ok": not any(not c["ok"] for c in report.checks)},
                file,
                indent=2,
            )
    return 1 if any(not c["ok"] for c in report.checks) else 0


if __name__ == "__main__":
    sys.exit(main())
