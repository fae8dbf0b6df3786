"""Voice activity: lkframes' Silero VAD against livekit-plugins-silero's, same model file.

60 s of 48 kHz mono int16 speech-like audio (lkframes.testing.speech_like: syllables and
pauses, in light noise) goes through:

- lkframes: ``await lk.from_array(x, 48_000).chunk(ms=20).vad().collect()`` (resampled to
  16 kHz with soxr inside, the onnx session created per run, included in the time); also
  ``utterances()`` (the same, plus Silero's segment rules and each utterance's audio);
- livekit-plugins-silero 1.8.9: ``VAD.load()`` once (outside the time), then per run a
  ``VADStream`` fed 20 ms ``rtc.AudioFrame``s and read to its end, as an agent does. It runs
  in the Python that LKFRAMES_AGENTS_PYTHON names (livekit-agents pins an older livekit
  than lkframes uses, so it has a venv of its own); that process times itself;
- pipecat's ``SileroVADAnalyzer`` (pipecat-ai, if ``--pipecat-python`` names a Python that
  has it): 20 ms frames resampled to 16 kHz by pipecat's ``SOXRStreamAudioResampler``, as
  its input transport does, then ``analyze_audio`` on each.

All three run the same model (sha256 1a153a22…: Silero VAD v6) with onnxruntime on one
thread. WebRTC's VAD (webrtcvad-wheels, mode 3) runs twice more: lkframes'
``vad(model="webrtc")`` (30 ms windows at 48 kHz, from 20 ms frames) and a hand loop calling
``webrtcvad.Vad(3).is_speech`` on each 30 ms slice of the int16 array; the line under
the table gives lkframes' time over the loop's, from the same run. The other Pythons stay
up and run on request, so the paths run in turn, round after round (round 0 warms up:
imports, the model session); the table shows the best and the median.
Ratios are the plugin's time over each row's. Correctness: every Silero path must score
the same number of windows (1875 for 60 s), both WebRTC paths 2000 and the same
decisions, else the script exits with status 1.

    python benchmarks/bench_vad.py                     # 60 s, 5 runs each
    python benchmarks/bench_vad.py --quick             # 10 s, 2 runs (the CI smoke run)
    python benchmarks/bench_vad.py --pipecat-python /tmp/pcv/bin/python

A full run also draws the speeds into docs/figures/bench_vad.svg (``--no-chart``: not).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import soundfile as sf
import webrtcvad

import _common
import lkframes as lk
from lkframes.testing import speech_like

RATE = 48_000
PLUGIN = """
import asyncio, json, sys, time
import soundfile as sf
from livekit import rtc
from livekit.agents import vad as agents_vad
from livekit.plugins import silero

async def once(vad, data, rate):
    stream = vad.stream()
    step = rate // 50
    async def push():
        for i in range(0, len(data) - step + 1, step):
            stream.push_frame(rtc.AudioFrame(data[i : i + step].tobytes(), rate, 1, step))
        stream.end_input()
    started = time.perf_counter()
    task = asyncio.create_task(push())
    windows = 0
    async for event in stream:
        windows += event.type == agents_vad.VADEventType.INFERENCE_DONE
    await task
    took = time.perf_counter() - started
    await stream.aclose()
    return took, windows

async def main(path):
    data, rate = sf.read(path, dtype="int16")
    vad = silero.VAD.load()
    print("ready", flush=True)
    for _ in sys.stdin:  # one run per line: the caller interleaves them with its own
        print(json.dumps(await once(vad, data, rate)), flush=True)

asyncio.run(main(sys.argv[1]))
"""
PIPECAT = """
import asyncio, json, sys, time
import soundfile as sf
from pipecat.audio.resamplers.soxr_stream_resampler import SOXRStreamAudioResampler
from pipecat.audio.vad.silero import SileroVADAnalyzer

async def once(data, rate):
    analyzer = SileroVADAnalyzer(sample_rate=16_000)
    analyzer.set_sample_rate(16_000)  # what pipecat's transport calls when it starts
    resampler = SOXRStreamAudioResampler()
    step = rate // 50
    started = time.perf_counter()
    for i in range(0, len(data) - step + 1, step):
        chunk = await resampler.resample(data[i : i + step].tobytes(), rate, 16_000)
        await analyzer.analyze_audio(chunk)
    return time.perf_counter() - started, None

async def main(path):
    data, rate = sf.read(path, dtype="int16")
    print("ready", flush=True)
    for _ in sys.stdin:
        print(json.dumps(await once(data, rate)), flush=True)

asyncio.run(main(sys.argv[1]))
"""

Run = Callable[[], tuple[float, int | None]]
"""One timed run of a path: seconds, and the number of windows it scored (None: unknown)."""


def audio(seconds: float) -> np.ndarray:
    """Syllables and pauses of 0.3 to 1.2 s, in noise 40 dB under the speech's peak."""
    rng = np.random.default_rng(7)
    parts: list[float] = []
    while sum(parts) < seconds:
        parts += [float(rng.uniform(0.3, 1.2)), float(rng.uniform(0.5, 2.5))]
    x = speech_like(parts, RATE)[: int(seconds * RATE)].astype(np.float64)
    x += rng.normal(0, 0.003 * 32767, x.shape)
    return np.clip(x, -32768, 32767).astype(np.int16)


class Outside:
    """A path run by another Python: started once, then one run per request."""

    def __init__(self, python: str, script: str, wav: Path) -> None:
        self.process = subprocess.Popen(
            [python, "-c", script, str(wav)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ready = self._pipe(self.process.stdout).readline().strip() == "ready"
        if not self.ready:
            self.process.kill()
            _, err = self.process.communicate()
            print(f"{python} failed, its row is left out:\n{err[-1500:]}", file=sys.stderr)

    @staticmethod
    def _pipe(pipe: TextIO | None) -> TextIO:
        assert pipe is not None
        return pipe

    def run(self) -> tuple[float, int | None]:
        self._pipe(self.process.stdin).write("run\n")
        self._pipe(self.process.stdin).flush()
        took, windows = json.loads(self._pipe(self.process.stdout).readline())
        return float(took), windows

    def close(self) -> None:
        self._pipe(self.process.stdin).close()
        self.process.wait(timeout=60)


def ours(x: np.ndarray, what: str) -> Run:
    """lkframes' ``vad()`` or ``utterances()`` on ``x``, from 20 ms frames, as a `Run`."""

    async def windows() -> int:
        return len(await lk.from_array(x, RATE).chunk(ms=20).vad().collect())

    async def utterances() -> int | None:
        await lk.from_array(x, RATE).chunk(ms=20).utterances().collect()
        return None

    def run() -> tuple[float, int | None]:
        started = time.perf_counter()
        count = asyncio.run(windows() if what == "vad" else utterances())
        return time.perf_counter() - started, count

    return run


def webrtc(x: np.ndarray, decisions: list[list[bool]], by_hand: bool) -> Run:
    """WebRTC's VAD (mode 3) on ``x``: lkframes' ``vad(model="webrtc")`` from 20 ms
    frames, or a hand loop over its 30 ms slices; each run's decisions go to ``decisions``."""

    async def ours() -> list[bool]:
        stream = lk.from_array(x, RATE).chunk(ms=20).vad(model="webrtc", aggressiveness=3)
        return [w.probability == 1.0 for w in await stream.collect()]

    def loop() -> list[bool]:
        vad, step = webrtcvad.Vad(3), RATE * 30 // 1000
        return [vad.is_speech(x[i : i + step].tobytes(), RATE) for i in range(0, len(x), step)]

    def run() -> tuple[float, int | None]:
        started = time.perf_counter()
        found = loop() if by_hand else asyncio.run(ours())
        took = time.perf_counter() - started
        decisions.append(found)
        return took, len(found)

    return run


def measure(paths: dict[str, Run], runs: int) -> dict[str, dict[str, Any]]:
    """Every path in turn, round after round; round 0 warms up and is not counted."""
    rows: dict[str, dict[str, Any]] = {name: {"times": [], "windows": None} for name in paths}
    for round_ in range(runs + 1):
        for name, path in paths.items():
            took, count = path()
            if round_:
                rows[name]["times"].append(took)
                rows[name]["windows"] = count
    return rows


def main() -> int:
    parser = _common.parser(__doc__, quick="10 s, 2 runs", json=True)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument(
        "--agents-python",
        default=os.environ.get("LKFRAMES_AGENTS_PYTHON", ""),
        help="a Python with livekit-plugins-silero (default: $LKFRAMES_AGENTS_PYTHON)",
    )
    parser.add_argument("--pipecat-python", default="", help="a Python with pipecat-ai")
    args = parser.parse_args()
    seconds = 10.0 if args.quick else 60.0
    runs = args.runs or (2 if args.quick else 5)
    x = audio(seconds)
    windows = int(np.ceil(len(x) / 3 / 512))
    paths = {"lkframes vad()": ours(x, "vad"), "lkframes utterances()": ours(x, "utterances")}
    decisions: list[list[bool]] = []  # every WebRTC run's: all must be the same
    paths |= {
        "lkframes vad(model='webrtc')": webrtc(x, decisions, by_hand=False),
        "webrtcvad hand loop, 30 ms": webrtc(x, decisions, by_hand=True),
    }
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        sf.write(str(wav), x, RATE, subtype="PCM_16")
        outside = {
            "livekit-plugins-silero VADStream": (args.agents_python, PLUGIN),
            "pipecat SileroVADAnalyzer": (args.pipecat_python, PIPECAT),
        }
        started = [(n, Outside(py, script, wav)) for n, (py, script) in outside.items() if py]
        paths |= {name: path.run for name, path in started if path.ready}
        try:
            rows = measure(paths, runs)
        finally:
            for _, path in started:
                if path.ready:
                    path.close()
    if any(d != decisions[0] for d in decisions):
        print("lkframes' WebRTC decisions differ from the hand loop's", file=sys.stderr)
        return 1
    failed = report(rows, seconds, windows, args.json)
    out_dir = _common.chart_dir(args)
    if out_dir is not None and not failed:
        print(f"\nchart: {chart(rows, seconds, runs, out_dir)}")
    return failed


def chart(rows: dict[str, dict[str, Any]], seconds: float, runs: int, out_dir: Path) -> Path:
    """Speeds as bars: Silero's paths against the plugin's (or lkframes' own without it),
    WebRTC's against the hand loop's."""

    def against(base: str, names: list[str]) -> list[tuple[str, float]]:
        best = {name: min(rows[name]["times"]) for name in names if name in rows}
        return [(name, best[base] / time) for name, time in best.items()]

    plugin = "livekit-plugins-silero VADStream"
    silero = ["lkframes vad()", "lkframes utterances()", "pipecat SileroVADAnalyzer", plugin]
    base = plugin if plugin in rows else "lkframes vad()"
    webrtc = ["lkframes vad(model='webrtc')", "webrtcvad hand loop, 30 ms"]
    return _common.write_chart(
        "vad",
        {
            f"Silero VAD v6, the same model (against {base})": against(base, silero),
            "WebRTC VAD (against the hand loop)": against(webrtc[1], webrtc),
        },
        command=f"python benchmarks/bench_vad.py: {seconds:g} s of 48 kHz speech, best of {runs}",
        xlabel="speed / the panel's reference (higher is faster)",
        out_dir=out_dir,
    )


def report(rows: dict[str, dict[str, Any]], seconds: float, windows: int, out: Path | None) -> int:
    """Print the table; 1 if a path scored another number of windows, else 0."""
    plugin = rows.get("livekit-plugins-silero VADStream")
    base = min(plugin["times"]) if plugin else None
    machine = platform.processor() or platform.machine()
    print(
        f"\n{seconds:g} s of {RATE} Hz mono int16, {windows} model windows; {machine}, "
        f"Python {platform.python_version()}\n"
    )
    print("| path | best s | median s | x realtime | plugin time / this |")
    print("| --- | ---: | ---: | ---: | ---: |")
    failed = False
    for name, row in rows.items():
        best, median = min(row["times"]), statistics.median(row["times"])
        ratio = f"{base / best:.2f}x" if base else "-"
        print(f"| {name} | {best:.3f} | {median:.3f} | {seconds / best:.0f} | {ratio} |")
        # the plugin scores only full windows; Silero's rules also the last, partial one
        expected = (windows, windows - 1)
        if "webrtc" in name:
            expected = (-(-int(seconds * RATE) // (RATE * 30 // 1000)),)
        if row["windows"] is not None and row["windows"] not in expected:
            print(f"{name}: {row['windows']} windows, expected {expected[0]}", file=sys.stderr)
            failed = True
    ours_, loop = rows["lkframes vad(model='webrtc')"], rows["webrtcvad hand loop, 30 ms"]
    print(
        f"\nWebRTC: lkframes / hand loop = {min(ours_['times']) / min(loop['times']):.2f}x best, "
        f"{statistics.median(ours_['times']) / statistics.median(loop['times']):.2f}x median"
    )
    if out is not None:
        out.write_text(json.dumps({"seconds": seconds, "rows": rows}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
