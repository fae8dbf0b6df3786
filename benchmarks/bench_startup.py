"""Start-up benchmark: ``import lkframes``, ``lkframes --version``/``--help`` and
``lkframes info FILE`` against the interpreter's own start, ``import numpy`` and soxi.

Each row is a fresh process, timed wall-clock from this script; the rows run interleaved,
round after round (one warm-up round first), so a slow spell of a shared machine hits them
alike, and the table shows the best and the median of the rounds. The WAV that ``info``
and soxi read is made with sox in a temporary folder. Benchmarks are not tests: slow
numbers never fail the run; a failed correctness check (a command that fails, a version
that is not the installed one, ``lkframes info`` disagreeing with soxi) exits 1.

    python benchmarks/bench_startup.py            # 10 rounds
    python benchmarks/bench_startup.py --quick    # 3 rounds (the CI smoke run)
    PYTHONPATH=src python benchmarks/bench_startup.py   # a source tree, not the install

A full run also draws each row's best time over ``python -c pass``'s into
docs/figures/bench_startup.svg (``--no-chart``: not).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import _common

TARGETS_MS = {"import lkframes": 200.0, "lkframes --version": 250.0, "lkframes --help": 250.0}
"""The start-up targets (issue 22), for an idle machine."""


def _lkframes() -> list[str]:
    """The ``lkframes`` console script beside this interpreter (what users run), or
    ``python -m lkframes`` where there is none."""
    script = Path(sys.executable).with_name("lkframes")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "lkframes"]


def _rows(wav: Path) -> dict[str, list[str]]:
    python = sys.executable
    lkframes = _lkframes()
    return {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import numpy'": [python, "-c", "import numpy"],
        "import lkframes": [python, "-c", "import lkframes"],
        "lkframes --version": [*lkframes, "--version"],
        "lkframes --help": [*lkframes, "--help"],
        "lkframes convert --help": [*lkframes, "convert", "--help"],
        "lkframes info FILE": [*lkframes, "info", str(wav)],
        "soxi FILE": ["soxi", str(wav)],
    }


def _time(command: list[str]) -> float:
    """Wall seconds of one run of ``command``, which must succeed."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr!r}")
    return wall


def _checks(rows: dict[str, list[str]], wav: Path) -> list[str]:
    """What the commands print is right: the version, and info's length is soxi's."""
    failed = []
    version = subprocess.run(rows["lkframes --version"], capture_output=True, text=True)
    wanted = f"lkframes {metadata.version('lkframes')}"
    if version.stdout.strip() != wanted:
        failed.append(f"--version printed {version.stdout.strip()!r}, expected {wanted!r}")
    info = subprocess.run([*rows["lkframes info FILE"], "--json"], capture_output=True, text=True)
    ours = json.loads(info.stdout)
    got = (ours["format"]["sample_rate"], ours["samples_per_channel"])
    soxi = tuple(
        int(subprocess.run(["soxi", flag, str(wav)], capture_output=True, text=True).stdout)
        for flag in ("-r", "-s")
    )
    if got != soxi:
        failed.append(f"lkframes info: {got[0]} Hz, {got[1]} samples; soxi: {soxi[0]} Hz, "
                      f"{soxi[1]} samples")  # fmt: skip
    return failed


def main() -> int:
    parser = _common.parser(__doc__, quick="3 rounds", json=True)
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds (default 10)")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 3
    if shutil.which("sox") is None or shutil.which("soxi") is None:
        print("cannot compare: sox/soxi not installed (apt-get install sox)")
        return 1

    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "tone-3s-48k-mono.wav"
        synth = ["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(wav), "synth", "3"]
        subprocess.run([*synth, "sine", "440", "vol", "0.5"], check=True)
        rows = _rows(wav)
        times: dict[str, list[float]] = {name: [] for name in rows}
        for round_ in range(args.rounds + 1):
            for name, command in rows.items():
                wall = _time(command)
                if round_:  # round 0 warms the file cache
                    times[name].append(wall)
        failed = _checks(rows, wav)

    base = min(times["python -c pass"])
    print(f"# start-up: {args.rounds} rounds, interleaved; {os.cpu_count()} CPUs\n")
    print(f"python {sys.version.split()[0]}; lkframes as: {' '.join(_lkframes())}\n")
    print("| what | min ms | median ms | min over `python -c pass` |")
    print("| --- | ---: | ---: | ---: |")
    for name, walls in times.items():
        best, median = min(walls) * 1e3, statistics.median(walls) * 1e3
        print(f"| `{name}` | {best:.0f} | {median:.0f} | {best - base * 1e3:+.0f} |")
    print("\n| target (idle machine) | min | met |\n| --- | ---: | :---: |")
    for name, target in TARGETS_MS.items():
        best = min(times[name]) * 1e3
        print(
            f"| `{name}` <= {target:.0f} ms | {best:.0f} ms | {'yes' if best <= target else 'no'} |"
        )
    for problem in failed:
        print(f"CHECK FAILED: {problem}")
    if args.json:
        args.json.write_text(json.dumps(times, indent=2))
    out_dir = _common.chart_dir(args)
    if out_dir is not None and not failed:
        print(f"\nchart: {chart(times, args.rounds, out_dir)}")
    return 1 if failed else 0


OURS = {"import lkframes": "lkframes: python -c 'import lkframes'"}
"""Chart labels of lkframes' rows that do not start with its name (drawn in its colour)."""


def chart(times: dict[str, list[float]], rounds: int, out_dir: Path) -> Path:
    """Each row's best wall time over ``python -c pass``'s (the interpreter's own start)."""
    base = min(times["python -c pass"])
    return _common.write_chart(
        "startup",
        {
            "fresh processes, best of the rounds": [
                (OURS.get(name, name), min(walls) / base) for name, walls in times.items()
            ]
        },
        command=f"python benchmarks/bench_startup.py: {rounds} rounds, interleaved",
        xlabel="wall time / python -c pass's (lower is faster)",
        out_dir=out_dir,
    )


if __name__ == "__main__":
    raise SystemExit(main())
