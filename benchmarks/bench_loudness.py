"""Loudness benchmark: ``Stream.loudness()`` against pyloudnorm and FFmpeg's ebur128.

Measures the integrated loudness of one 48 kHz stereo 16-bit WAV (sox synth: pink noise
and a tone, the level stepping every 5 s) with each path, each in a fresh process of its
own so its peak RSS is its own, in the same run, and prints a table of wall time, the
ratio against pyloudnorm, peak memory and the loudness found. The in-process paths time
reading the file too, not the imports; CPU time is the one compared, as it is the least
disturbed by other work on a shared machine (lkframes streams the file in blocks; pyloudnorm
needs the whole signal as one float64 array, read with soundfile); FFmpeg's time is its
whole process (about 0.05 s of start-up). Benchmarks
are not tests: slow numbers never fail the run; loudness values more than 0.1 LU apart
do (exit 1).

    python benchmarks/bench_loudness.py              # 10 minutes, best of 3
    python benchmarks/bench_loudness.py --minutes 60 --paths lkframes ffmpeg-tp  # flat memory
    python benchmarks/bench_loudness.py --quick      # 1 minute, 1 run (CI smoke)

A run without --quick also draws the ratios into docs/figures/bench_loudness.svg.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

PATHS = {
    "lkframes": "lk.from_file(x).loudness()  (with true peak)",
    "lkframes-no-tp": "lk.from_file(x).loudness(true_peak=False)",
    "pyloudnorm": "sf.read(x) + pyloudnorm.Meter.integrated_loudness",
    "ffmpeg-tp": "ffmpeg -af ebur128=peak=true (own process)",
    "ffmpeg": "ffmpeg -af ebur128 (own process)",
}


def _child(path: str, kind: str) -> None:
    """Measure in this process and print ``{"seconds": ..., "lufs": ...}``: the time from
    the file to the number, the imports done before (they are the same for every length)."""
    import scipy.signal
    import soundfile as sf

    if kind.startswith("lkframes"):
        import soxr

        import lkframes as lk

        _ = (scipy.signal, soxr, lk.loudness)  # imported, and lkframes' stages loaded
        start, cpu = time.perf_counter(), time.process_time()
        result = lk.run_sync(lk.from_file(path).loudness(true_peak=kind == "lkframes"))
        lufs = result.integrated_lufs
    else:
        import pyloudnorm

        start, cpu = time.perf_counter(), time.process_time()
        data, rate = sf.read(path, dtype="float64")
        lufs = float(pyloudnorm.Meter(rate).integrated_loudness(data))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "lufs": lufs}))


def _wait(command: list[str]) -> tuple[str, str, float, float, float]:
    """stdout, stderr, wall seconds, CPU seconds and peak RSS (MB) of one run of ``command``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode:
        raise SystemExit(f"{command[:3]} failed: {stderr.strip()[-500:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return stdout, stderr, wall, cpu, usage.ru_maxrss / 1024.0


def _one(path: Path, kind: str) -> tuple[float, float, float, float]:
    """Wall seconds, CPU seconds, LUFS and peak RSS (MB) of one run of path ``kind``."""
    if kind.startswith("ffmpeg"):
        graph = "ebur128=peak=true" if kind == "ffmpeg-tp" else "ebur128"
        command = ["ffmpeg", "-nostats", "-i", str(path), "-af", graph, "-f", "null", "-"]
        _, err, wall, cpu, rss = _wait(command)
        summary = err[err.rfind("Summary:") :]
        match = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
        if match is None:
            raise SystemExit(f"no integrated loudness in ffmpeg's output: {summary!r}")
        return wall, cpu, float(match.group(1)), rss
    out, _, _, _, rss = _wait([sys.executable, __file__, "--child", kind, str(path)])
    result = json.loads(out.strip().splitlines()[-1])
    return float(result["seconds"]), float(result["cpu"]), float(result["lufs"]), rss


def main() -> int:
    parser = _common.parser(__doc__, quick="1-minute input, one run", repeat=3, workdir=True)
    parser.add_argument("--minutes", type=float, default=10.0, help="input length (default 10)")
    parser.add_argument(
        "--paths", nargs="+", choices=list(PATHS), default=list(PATHS), help="paths to run"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[1], args.child[0])
        return 0
    if args.quick:
        args.minutes, args.repeat = 1.0, 1
    if missing := _common.missing_tools("sox", "ffmpeg"):
        print(missing)
        return 1
    load = _common.machine()
    source = _common.sox_synth(
        args.workdir / f"loudness-{args.minutes:g}min-48k-stereo.wav",
        args.minutes * 60,
        rate=48_000,
        channels=2,
        effects=["pinknoise", "sine", "440", "tremolo", "0.1", "60", "vol", "0.3"],
    )

    best: dict[str, tuple[float, float, float, float]] = {}
    for _ in range(args.repeat):  # interleaved rounds: a busy moment hits every path alike
        for kind in args.paths:
            result = _one(source, kind)
            if kind not in best or result[1] < best[kind][1]:  # the least CPU time
                best[kind] = result
    status = _report(best, args.minutes * 60, args.repeat)
    if (out_dir := _common.chart_dir(args)) is not None and "pyloudnorm" in best:
        base = best["pyloudnorm"][1]
        chart = _common.write_chart(
            "loudness",
            {
                "integrated loudness (BS.1770), CPU time": [
                    (PATHS[kind], base / best[kind][1]) for kind in PATHS if kind in best
                ]
            },
            command=f"python benchmarks/bench_loudness.py: {args.minutes:g} min of 48 kHz stereo, "
            f"best of {args.repeat}",
            xlabel="speed / pyloudnorm's, by CPU time (higher is faster)",
            out_dir=out_dir,
            load=load,
        )
        print(f"\nchart: {chart}")
    return status


def _report(best: dict[str, tuple[float, float, float, float]], audio_s: float, repeat: int) -> int:
    base = best["pyloudnorm"][1] if "pyloudnorm" in best else math.nan
    print(f"integrated loudness of {audio_s / 60:g} min of 48 kHz stereo, best of {repeat}")
    print(
        "| path | CPU s | wall s | x realtime (CPU) | vs pyloudnorm (CPU) | peak RSS | integrated |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, label in PATHS.items():
        if kind not in best:
            continue
        wall, cpu, lufs, rss = best[kind]
        print(
            f"| {label} | {cpu:.2f} | {wall:.2f} | {audio_s / cpu:.0f} | {base / cpu:.2f}x "
            f"| {rss:.0f} MB | {lufs:.2f} LUFS |"
        )
    values = [lufs for _, _, lufs, _ in best.values()]
    if max(values) - min(values) > 0.1:
        print(f"FAIL: the paths disagree by {max(values) - min(values):.3f} LU (> 0.1)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
