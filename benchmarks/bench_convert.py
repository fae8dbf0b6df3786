"""File conversion benchmark: ``lkframes convert`` against sox and ffmpeg, and peak memory.

Converts a 44.1 kHz stereo 16-bit FLAC to a 16 kHz mono WAV with each tool, on the same
file in the same run, and prints wall time as a ratio against sox plus each process's peak
RSS. The FLAC is generated once (sox synth: tones and pink noise) and cached in
``--workdir``. Benchmarks are not tests: slow numbers never fail the run; a failed
correctness check (output lengths that differ, an lkframes output far from sox's) exits 1.

    python benchmarks/bench_convert.py               # 10-minute file, best of 3
    python benchmarks/bench_convert.py --minutes 60  # memory stays flat with length
    python benchmarks/bench_convert.py --quick       # 1-minute file, 1 run (CI smoke)

A run without --quick also draws the ratios into docs/figures/bench_convert.svg.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

import _common

TARGET_RATIO = 1.0  # lkframes wall time / sox wall time (issue 22; 1.5 before it)
TARGET_RSS_MB = 150.0


@dataclass
class Result:
    tool: str
    command: str
    best_s: float
    peak_rss_mb: float
    output_frames: int


def _run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if status != 0:
        raise SystemExit(f"{command[0]} failed ({status}): {stderr.strip()}")
    return wall, usage.ru_maxrss / 1024.0


def main() -> int:
    parser = _common.parser(
        __doc__, quick="1-minute input, one run", repeat=3, workdir=True, json=True
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="input length (default 10)")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.repeat = 1.0, 1
    if missing := _common.missing_tools("sox", "ffmpeg"):
        print(missing)
        return 1
    load = _common.machine()
    source = _common.sox_synth(
        args.workdir / f"input-{args.minutes:g}min-44k1-stereo.flac",
        args.minutes * 60,
        rate=44_100,
        channels=2,
        effects=["sine", "440", "pinknoise", "vol", "0.5"],
    )
    outputs = {name: args.workdir / f"out-{name}.wav" for name in ("lkframes", "sox", "ffmpeg")}
    lkframes = [sys.executable, "-m", "lkframes", "convert", str(source), str(outputs["lkframes"])]
    commands = {
        "lkframes": [*lkframes, "--rate", "16000", "--channels", "1", "--overwrite", "--quiet"],
        "sox": ["sox", str(source), "-r", "16000", "-c", "1", str(outputs["sox"])],
        "ffmpeg": [
            *("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source)),
            *("-ar", "16000", "-ac", "1", str(outputs["ffmpeg"])),
        ],
    }
    results: list[Result] = []
    for name, command in commands.items():
        runs = []
        for _ in range(args.repeat):
            outputs[name].unlink(missing_ok=True)
            runs.append(_run(command))
        best = min(wall for wall, _ in runs)
        rss = max(peak for _, peak in runs)
        frames = sf.info(str(outputs[name])).frames
        results.append(Result(name, " ".join(Path(c).name for c in command), best, rss, frames))

    by_name = {r.tool: r for r in results}
    sox = by_name["sox"]
    print(f"# lkframes convert vs sox vs ffmpeg ({args.minutes:g} min 44.1 kHz stereo FLAC)\n")
    print(f"best of {args.repeat}; same file, same run; {os.cpu_count()} CPUs\n")
    print("| tool | wall s | vs sox | x realtime | peak RSS MB | output frames |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        realtime = args.minutes * 60 / r.best_s
        print(
            f"| {r.tool} | {r.best_s:.2f} | {r.best_s / sox.best_s:.2f}x | {realtime:,.0f} "
            f"| {r.peak_rss_mb:.0f} | {r.output_frames} |"
        )
    ratio = by_name["lkframes"].best_s / sox.best_s
    rss = by_name["lkframes"].peak_rss_mb
    print("\n| target | measured | met |\n| --- | ---: | :---: |")
    met_ratio = "yes" if ratio <= TARGET_RATIO else "no"
    met_rss = "yes" if rss < TARGET_RSS_MB else "no"
    print(f"| lkframes <= {TARGET_RATIO}x sox wall time | {ratio:.2f}x | {met_ratio} |")
    print(f"| lkframes peak RSS < {TARGET_RSS_MB:g} MB | {rss:.0f} MB | {met_rss} |")

    # Correctness: same length as sox (both round n * 16000 / 44100), and close in content.
    expected = round(args.minutes * 60 * 16_000)
    ok = True
    for r in results:
        if abs(r.output_frames - expected) > 2:
            print(f"CHECK FAILED: {r.tool} wrote {r.output_frames} frames, expected ~{expected}")
            ok = False
    a, _ = sf.read(str(outputs["lkframes"]), frames=160_000, dtype="float32")
    b, _ = sf.read(str(outputs["sox"]), frames=160_000, dtype="float32")
    n = min(len(a), len(b))
    lag = int(np.argmax(np.correlate(a[1000:9000], b[1000 - 64 : 9000 + 64], "valid"))) - 64
    aligned_a, aligned_b = (a[: n - abs(lag)], b[lag:n]) if lag >= 0 else (a[-lag:n], b[: n + lag])
    snr = 10 * np.log10(np.sum(aligned_b**2) / max(np.sum((aligned_a - aligned_b) ** 2), 1e-20))
    print(f"\nlkframes vs sox output, first 10 s: SNR {snr:.1f} dB at lag {lag} samples")
    if snr < 40:
        print("CHECK FAILED: lkframes' output is far from sox's")
        ok = False
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    if (out_dir := _common.chart_dir(args)) is not None:
        chart = _common.write_chart(
            "convert",
            {
                "FLAC 44.1 kHz stereo -> WAV 16 kHz mono": [
                    (r.tool, r.best_s / sox.best_s) for r in results
                ]
            },
            command=f"python benchmarks/bench_convert.py: {args.minutes:g} min FLAC, best of "
            f"{args.repeat}, each tool its own process",
            xlabel="wall time / sox's (lower is faster)",
            out_dir=out_dir,
            load=load,
        )
        print(f"\nchart: {chart}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
