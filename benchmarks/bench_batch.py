"""Many files: ``lkframes convert IN OUTDIR --jobs N`` against ``xargs -P N`` over ``sox``.

Makes a corpus of mixed MP3 / FLAC / WAV files (5 to 60 s each, 44.1 or 48 kHz, mono or
stereo, a speech-like signal), then converts all of it to 16 kHz mono WAV:

- ``lkframes convert corpus out --rate 16000 --channels 1 --jobs 1`` and ``--jobs 2``;
- ``find corpus -type f | xargs -P N -I{} sox {} -r 16000 -c 1 out/...wav`` for N = 1, 2
  (Debian's sox reads MP3 with libsox-fmt-mp3);
- ``examples/ray_convert.py`` (Ray Data on a local Ray with 2 CPUs, the same conversion as
  a pipeline file), when Ray is installed; its wall time includes starting Ray, which is
  also reported on its own (a cluster pays it once, not per batch).

Each command runs as a child process; wall time, CPU time (children's user + system) and
throughput (seconds of audio per wall second) are reported, best of ``--runs``.

Targets (issue 14): ``--jobs 2`` >= 1.8x ``--jobs 1``, and no slower than xargs + sox.
Exits 1 if a run fails or writes the wrong number of files.

    python benchmarks/bench_batch.py           # 200 files (~1.8 h of audio), 1 run each
    python benchmarks/bench_batch.py --quick   # 16 files of 5-10 s (the CI smoke run)

A full run also draws each command's speed over ``lkframes --jobs 1`` into
docs/figures/bench_batch.svg (``--no-chart``: not).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

import _common

failures: list[str] = []


def speech_like(seconds: float, rate: int, seed: int) -> np.ndarray:
    """Noise shaped by a syllable-rate envelope with a pitch: what speech looks like to a
    resampler and an encoder, without running a synthesiser 200 times."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)) ** 2
    voice = np.sin(2 * np.pi * rng.uniform(100, 220) * t) * 0.4 + rng.normal(0, 0.1, n)
    return (0.3 * envelope * voice).astype(np.float32)


def make_corpus(root: Path, count: int, quick: bool) -> float:
    """``count`` files under ``root`` (in two sub-folders); returns their total seconds."""
    rng = np.random.default_rng(7)
    total = 0.0
    for i in range(count):
        kind = ("mp3", "flac", "wav")[i % 3]
        rate = (44_100, 48_000)[i % 2]
        channels = 1 + (i % 4 == 0)
        seconds = float(rng.uniform(5, 10) if quick else rng.uniform(5, 60))
        x = speech_like(seconds, rate, i)
        data = np.repeat(x[:, None], channels, axis=1)
        path = root / f"part{i % 2}" / f"{i:03}.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, data, rate, format="MP3" if kind == "mp3" else None)
        total += seconds
    return total


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def timed(
    command: list[str] | str, shell: bool = False, machine: bool = False
) -> tuple[float, float, str]:
    """(wall s, CPU s, what it printed) of one command. The CPU is the children's, or with
    ``machine`` the whole machine's (for Ray, whose worker processes are not our children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = machine_busy_s()
    start = time.perf_counter()
    done = subprocess.run(command, shell=shell, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        failures.append(f"{command!r} exited {done.returncode}: {done.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, machine_busy_s() - busy if machine else cpu, done.stdout


def lkframes_command(corpus: Path, out: Path, jobs: int) -> list[str]:
    return [
        sys.executable, "-m", "lkframes", "convert", str(corpus), str(out),
        "--rate", "16000", "--channels", "1", "--jobs", str(jobs), "--quiet",
    ]  # fmt: skip


def sox_command(corpus: Path, out: Path, jobs: int) -> str:
    # Mirror the two sub-folders, then one sox per file, N at a time.
    return (
        f"cd {corpus} && find . -type d -exec mkdir -p {out}/{{}} \\; && "
        f"find . -type f | sed 's/\\.[a-z0-9]*$//' | xargs -P {jobs} -I{{}} "
        f"sh -c 'sox \"$(ls {{}}.*)\" -r 16000 -c 1 {out}/{{}}.wav'"
    )


def ray_command(corpus: Path, out: Path, pipeline: Path) -> list[str]:
    example = Path(__file__).resolve().parents[1] / "examples" / "ray_convert.py"
    return [sys.executable, str(example), str(pipeline), str(corpus), str(out), "--num-cpus", "2"]


def ray_installed() -> bool:
    try:
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


def ray_start_s(printed: str) -> float:
    """Ray's start-up seconds, as ray_convert.py prints them."""
    found = re.search(r"Ray took ([0-9.]+) s of it to start", printed)
    return float(found.group(1)) if found else float("nan")


def main() -> None:
    parser = _common.parser(__doc__, quick="16 short files")
    parser.add_argument("--files", type=int, default=None, help="corpus size (default 200)")
    parser.add_argument("--runs", type=int, default=1, help="best of this many runs")
    options = parser.parse_args()
    count = options.files or (16 if options.quick else 200)
    if shutil.which("sox") is None:
        print("cannot run: sox is not installed (apt install sox libsox-fmt-mp3)")
        sys.exit(1)
    print("# lkframes batch conversion\n")
    with tempfile.TemporaryDirectory() as workdir:
        corpus = Path(workdir) / "corpus"
        audio = make_corpus(corpus, count, options.quick)
        print(
            f"{count} files (MP3, FLAC, WAV; 44.1/48 kHz; mono and stereo), {audio:,.0f} s of "
            f"audio -> 16 kHz mono WAV; {os.cpu_count()} CPUs; best of {options.runs}.\n"
        )
        pipeline = Path(workdir) / "to16k.json"
        stages = [
            {"stage": "remix", "num_channels": 1},
            {"stage": "resample", "sample_rate": 16000},
        ]
        pipeline.write_text(json.dumps({"stages": stages}))
        commands = [("lkframes --jobs 1", 1), ("lkframes --jobs 2", 2)]
        commands += [("xargs -P 1 sox", 1), ("xargs -P 2 sox", 2)]
        if ray_installed():
            commands.append(("Ray Data, 2 CPUs", 2))
        else:
            print("(Ray Data row left out: Ray is not installed; pip install 'lkframes[ray]')\n")
        rows = []
        starts: list[float] = []
        for name, jobs in commands:
            best = (float("inf"), 0.0)
            for run in range(options.runs):
                out = Path(workdir) / f"out-{name.replace(' ', '_')}-{run}"
                if name.startswith("lkframes"):
                    wall, cpu, _ = timed(lkframes_command(corpus, out, jobs))
                elif name.startswith("Ray"):
                    wall, cpu, printed = timed(ray_command(corpus, out, pipeline), machine=True)
                    starts.append(ray_start_s(printed))
                else:
                    out.mkdir()
                    wall, cpu, _ = timed(sox_command(corpus, out, jobs), shell=True)
                written = len(list(out.rglob("*.wav")))
                if written != count:
                    failures.append(f"{name}: {written} of {count} files written")
                best = min(best, (wall, cpu))
                shutil.rmtree(out)
            rows.append((name, *best))
        base = {name: wall for name, wall, _ in rows}
        print("| command | wall s | CPU s | x realtime | vs lkframes --jobs 1 |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, wall, cpu in rows:
            ratio = base["lkframes --jobs 1"] / wall
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {audio / wall:,.0f} | {ratio:.2f}x |")
        if starts:
            print(
                f"\nRay's start, included above: {min(starts):.2f} s (best run). Ray's CPU is "
                "the whole machine's busy time during the run (its workers are not children "
                "of this process)."
            )
        scale = base["lkframes --jobs 1"] / base["lkframes --jobs 2"]
        versus = base["xargs -P 2 sox"] / base["lkframes --jobs 2"]
        print("\n## Targets (reported, not enforced)\n")
        print("| target | measured | met |")
        print("| --- | ---: | :---: |")
        print(f"| --jobs 2 >= 1.8x --jobs 1 | {scale:.2f}x | {'yes' if scale >= 1.8 else 'no'} |")
        print(
            f"| --jobs 2 no slower than xargs -P 2 sox | {versus:.2f}x sox's speed | "
            f"{'yes' if versus >= 1.0 else 'no'} |"
        )
        out_dir = _common.chart_dir(options)
        if out_dir is not None and not failures:
            print(f"\nchart: {chart(rows, count, audio, options.runs, out_dir)}")
    if failures:
        print("\nFAILED:", *failures, sep="\n- ")
        sys.exit(1)


def chart(
    rows: list[tuple[str, float, float]], count: int, audio: float, runs: int, out_dir: Path
) -> Path:
    """Each command's speed (wall time) over ``lkframes --jobs 1``'s: the table's last column."""
    base = next(wall for name, wall, _ in rows if name == "lkframes --jobs 1")
    return _common.write_chart(
        "batch",
        {
            f"{count} files ({audio:,.0f} s of audio) -> 16 kHz mono WAV": [
                (name, base / wall) for name, wall, _ in rows
            ]
        },
        command=f"python benchmarks/bench_batch.py: {count} files, best of {runs}",
        xlabel="speed / lkframes convert --jobs 1's, by wall time (higher is faster)",
        out_dir=out_dir,
    )


if __name__ == "__main__":
    main()
