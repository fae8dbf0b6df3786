"""AAC encoding benchmark: `to_file` to .m4a against the ffmpeg CLI and a hand PyAV loop.

Encodes a 48 kHz stereo 16-bit WAV (sox synth: a tone and pink noise) to AAC in an .m4a
file with each path, on the same file in the same run, best of ``--repeat``, and prints
wall time as x realtime and as a ratio against ``ffmpeg -i x.wav -c:a aac y.m4a``:

- ``ffmpeg`` CLI (the system's FFmpeg, its own process);
- ``lkframes convert x.wav y.m4a`` (its own process: Python start-up and imports count);
- ``to_file`` in this process: ``lk.from_file(x.wav).to_file(y.m4a)``;
- a hand PyAV loop in this process (the FFmpeg that lkframes uses): decode, encode, mux.

Benchmarks are not tests: slow numbers never fail the run. A failed correctness check does
(exit 1): the lkframes file must declare exactly the input's samples (``ffprobe``'s
``duration_ts``) and decode to them, within 1 dB of ffmpeg's SNR against the input.

    python benchmarks/bench_aac.py              # 60 s file, best of 3
    python benchmarks/bench_aac.py --quick      # 10 s, one run (CI smoke)

A run without --quick also draws the ratios into docs/figures/bench_aac.svg.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

import _common
import lkframes as lk

RATE = 48_000


def _hand_pyav(source: Path, output: Path) -> None:
    """What a careful user writes with PyAV alone (mp4 muxer, sample-exact edit list)."""
    import av

    with (
        av.open(str(source)) as reader,
        av.open(str(output), "w", format="ipod", options={"movie_timescale": str(RATE)}) as writer,
    ):
        stream = writer.add_stream("aac", rate=RATE, layout="stereo")
        for frame in reader.decode(audio=0):
            writer.mux(stream.encode(frame))
        writer.mux(stream.encode(None))


def _best(run: Callable[[], object], output: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        output.unlink(missing_ok=True)
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _duration_ts(path: Path) -> int:
    command = ["ffprobe", "-v", "error", "-show_entries", "stream=duration_ts"]
    command += ["-of", "csv=p=0", str(path)]
    return int(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def _snr(reference: np.ndarray, path: Path) -> float:
    decoded = lk.run_sync(lk.from_file(path).to_array())
    n = min(len(reference), len(decoded))
    error = np.sum((reference[:n] - decoded[:n]) ** 2)
    return float(10 * np.log10(np.sum(reference[:n] ** 2) / error))


def main() -> int:
    parser = _common.parser(__doc__, quick="10 s input, one run", repeat=3, workdir=True)
    parser.add_argument("--seconds", type=float, default=60.0, help="input length (default 60)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeat = 10.0, 1
    if missing := _common.missing_tools("sox", "ffmpeg", "ffprobe"):
        print(missing)
        return 1
    load = _common.machine()
    source = _common.sox_synth(
        args.workdir / f"input-{args.seconds:g}s-48k-stereo.wav",
        args.seconds,
        rate=RATE,
        channels=2,
        effects=["sine", "440", "pinknoise", "vol", "0.5"],
    )
    out = {name: args.workdir / f"aac-{name}.m4a" for name in ("ffmpeg", "cli", "to_file", "pyav")}
    ffmpeg = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source)]
    cli = [sys.executable, "-m", "lkframes", "convert", str(source), str(out["cli"]), "--quiet"]
    paths: dict[str, tuple[str, Callable[[], object]]] = {
        "ffmpeg": (
            "ffmpeg -i x.wav -c:a aac y.m4a",
            lambda: subprocess.run([*ffmpeg, "-c:a", "aac", str(out["ffmpeg"])], check=True),
        ),
        "cli": ("lkframes convert x.wav y.m4a", lambda: subprocess.run(cli, check=True)),
        "to_file": (
            "lk.from_file(x.wav).to_file(y.m4a)",
            lambda: lk.run_sync(lk.from_file(source).to_file(out["to_file"])),
        ),
        "pyav": ("hand PyAV loop (decode, encode, mux)", lambda: _hand_pyav(source, out["pyav"])),
    }
    walls = {name: _best(run, out[name], args.repeat) for name, (_, run) in paths.items()}
    reference = sf.read(str(source), dtype="float32")[0]
    print(f"# AAC encoding, {args.seconds:g} s 48 kHz stereo WAV -> .m4a\n")
    print(f"best of {args.repeat}; same file, same run\n")
    print("| path | wall s | x realtime | vs ffmpeg CLI | declared samples | SNR dB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    snrs = {}
    for name, (label, _) in paths.items():
        snrs[name] = _snr(reference, out[name])
        print(
            f"| {label} | {walls[name]:.2f} | {args.seconds / walls[name]:.0f} "
            f"| {walls[name] / walls['ffmpeg']:.2f}x | {_duration_ts(out[name])} "
            f"| {snrs[name]:.1f} |"
        )
    ok = True
    expected = len(reference)
    for name in ("cli", "to_file"):
        decoded = lk.file_info(out[name]).samples_per_channel
        if _duration_ts(out[name]) != expected or decoded != expected:
            print(f"CHECK FAILED: {name} declares {decoded} samples, expected {expected}")
            ok = False
        if snrs[name] < snrs["ffmpeg"] - 1:
            print(f"CHECK FAILED: {name}'s SNR {snrs[name]:.1f} dB is below ffmpeg's")
            ok = False
    if (out_dir := _common.chart_dir(args)) is not None:
        chart = _common.write_chart(
            "aac",
            {
                "WAV 48 kHz stereo -> AAC .m4a": [
                    (label, walls[name] / walls["ffmpeg"]) for name, (label, _) in paths.items()
                ]
            },
            command=f"python benchmarks/bench_aac.py: {args.seconds:g} s WAV, "
            f"best of {args.repeat}",
            xlabel="wall time / the ffmpeg CLI's (lower is faster)",
            out_dir=out_dir,
            load=load,
        )
        print(f"\nchart: {chart}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
