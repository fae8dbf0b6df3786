"""Live latency: what `resample` and `chunk` hold back, and what lkframes adds on a live track.

Two tables, in one process, no server:

- hold-back: audio fed in 20 ms blocks, as a live track delivers it, through
  ``resample(rate, quality=Q)``; after each block, how much input time has gone in and not
  come out yet (input seconds - output seconds). soxr works in blocks of its own, so this
  swings between a minimum and a maximum; the mean is the resampler's latency.
- end to end: a click every 250 ms pushed into an ``rtc.AudioSource`` in real time,
  read back from its local track at once by a plain ``rtc.AudioStream`` loop (10 ms
  frames, nothing done) and by ``lk.from_track(track).resample(16_000, quality=Q)
  .chunk(ms=20)``; each click's arrival time (``time.monotonic()`` when the frame holding
  it is handed over) is compared. The difference is what the lkframes path adds.

The same clicks also go through ``.gain(-3).map(…)`` after the chunk, planned (issue 22: gain
moves before chunk, the map runs on chunk's lists) and as written: planning must add no
delay to a live stream.

Target (issue 13): lkframes adds no more than one output frame (20 ms) plus the
resampler's hold-back (its most, 48 kHz to 16 kHz) over the plain loop, at the median.
Exits 1 only if a check fails (a click not found, or frames that are not 20 ms).

    python benchmarks/bench_latency.py           # 5 s of live audio per quality (~30 s)
    python benchmarks/bench_latency.py --quick   # 2 s, two qualities (the CI smoke run)

A full run also draws what each lkframes path adds (median) over its bound into
docs/figures/bench_latency.svg (``--no-chart``: not).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc

import _common
import lkframes as lk
from lkframes._core.plan import planning

RATE = 48_000
CLICK_EVERY = 0.25
failures: list[str] = []


def check(ok: bool, what: str) -> None:
    if not ok:
        failures.append(what)
        print(f"CHECK FAILED: {what}", file=sys.stderr)


def hold_back(in_rate: int, out_rate: int, quality: Any, seconds: float) -> list[float]:
    """Input time not yet out, in ms, after each 20 ms block (steady state)."""
    fed = [0]
    out = [0]
    held: list[float] = []

    def went_in(frame: lk.AudioFrame) -> None:
        fed[0] += frame.samples_per_channel

    def came_out(frame: lk.AudioFrame) -> None:
        out[0] += frame.samples_per_channel
        held.append((fed[0] / in_rate - out[0] / out_rate) * 1000)

    x = np.zeros(round(in_rate * seconds), np.int16)
    stream = lk.from_array(x, in_rate, block_ms=20).tap(went_in)
    lk.run_sync(stream.resample(out_rate, quality=quality).tap(came_out).run())
    return held[len(held) // 4 : -2]  # past the start, before the final flush


PATHS = ("chunk", "planned", "as written")
"""The lkframes paths timed against the plain loop: ``resample().chunk()``, then the same
with ``.gain(-3).map(a new array)`` after it, planned (gain moved before chunk, the map
on chunk's lists) and as written (each stage a generator step per frame)."""


def live_pipeline(track: rtc.LocalAudioTrack, quality: Any, path: str) -> lk.Stream[Any]:
    live = lk.from_track(track, sample_rate=RATE, frame_size_ms=10)
    chunked = live.resample(16_000, quality=quality).chunk(ms=20)
    if path == "chunk":
        return chunked
    if path == "planned":
        return chunked.gain(-3).map(lambda f: f.data.copy())
    with planning(False):
        return chunked.gain(-3).map(lambda f: f.data.copy())


async def end_to_end(quality: Any, seconds: float) -> dict[str, list[float]]:
    """Per path, per click: ms by which its arrival trails the plain loop's."""
    source = rtc.AudioSource(RATE, 1, queue_size_ms=100)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    plain: list[float] = []
    arrivals: dict[str, list[float]] = {path: [] for path in PATHS}
    clicks = int(seconds / CLICK_EVERY)

    async def read_plain() -> None:
        stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1, frame_size_ms=10)
        async for event in stream:
            if np.abs(np.frombuffer(event.frame.data, np.int16)).max() > 10_000:
                plain.append(time.monotonic())
                if len(plain) == clicks:
                    break
        await stream.aclose()

    async def read_lkframes(path: str) -> None:
        ours = arrivals[path]
        async with live_pipeline(track, quality, path).open() as frames:
            async for frame in frames:
                check(frame.samples_per_channel == 320, "20 ms frames at 16 kHz")
                if np.abs(frame.data).max() > 5_000:
                    ours.append(time.monotonic())
                    if len(ours) == clicks:
                        break

    async def play() -> None:
        block = np.zeros(480, np.int16)
        click = block.copy()
        click[100:110] = 30_000
        per_click = round(CLICK_EVERY * 100)  # 10 ms blocks between clicks
        for n in range((clicks + 2) * per_click):
            data = click if n % per_click == per_click // 2 else block
            await source.capture_frame(rtc.AudioFrame(data.tobytes(), RATE, 1, 480))

    readers = [asyncio.create_task(read_plain())]
    readers += [asyncio.create_task(read_lkframes(path)) for path in PATHS]
    await asyncio.sleep(0.1)
    player = asyncio.create_task(play())
    await asyncio.wait_for(asyncio.gather(*readers, player), timeout=seconds + 10)
    await source.wait_for_playout()
    await source.aclose()
    found = [len(plain)] + [len(ours) for ours in arrivals.values()]
    check(all(n == clicks for n in found), f"clicks found: {found} of {clicks}")
    return {
        path: [(b - a) * 1000 for a, b in zip(plain, ours, strict=False)]
        for path, ours in arrivals.items()
    }


def main() -> int:
    parser = _common.parser(__doc__, quick="2 s of live audio, 2 qualities")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    qualities: list[Any] = ["HQ", "LQ"] if args.quick else ["VHQ", "HQ", "MQ", "LQ", "QQ"]

    print("# lkframes live latency (no server; one process)\n")
    print("## what resample holds back, fed 20 ms blocks (ms of input not yet out)\n")
    pairs = [(48_000, 16_000), (16_000, 48_000), (24_000, 48_000), (44_100, 48_000)]
    print("| quality | " + " | ".join(f"{a / 1000:g}k → {b / 1000:g}k" for a, b in pairs) + " |")
    print("| --- |" + " ---: |" * len(pairs))
    worst: dict[str, float] = {}
    for quality in qualities:
        cells = []
        for in_rate, out_rate in pairs:
            held = hold_back(in_rate, out_rate, quality, seconds)
            mean = statistics.fmean(held)
            if (in_rate, out_rate) == (48_000, 16_000):
                worst[quality] = max(held)
            cells.append(f"{mean:.1f} ({min(held):.1f} to {max(held):.1f})")
        print(f"| {quality} | " + " | ".join(cells) + " |")
    print("\nmean (min to max) over a run")

    print("\n## end to end on a local track: from_track → resample(16k) → chunk(20 ms)\n")
    print(
        "Added over a plain AudioStream loop, median (max); then the same with "
        "`.gain(-3).map(…)` after chunk,\nplanned and as written, read side by side.\n"
    )
    print("| quality | chunk | + gain + map, planned | + gain + map, as written | bound: 20 ms + "
          "resampler's most | within |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | :---: |")
    measured: dict[str, tuple[dict[str, float], float]] = {}
    for quality in qualities:
        added = asyncio.run(end_to_end(quality, seconds))
        if not all(added.values()):
            continue
        medians = {path: statistics.median(values) for path, values in added.items()}
        bound = 20 + worst[quality]
        measured[quality] = (medians, bound)
        ok = "yes" if max(medians.values()) <= bound else "**no**"
        cells = " | ".join(f"{medians[path]:.1f} ms ({max(added[path]):.1f})" for path in PATHS)
        print(f"| {quality} | {cells} | {bound:.1f} ms | {ok} |")
    if failures:
        print(f"\n{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    out_dir = _common.chart_dir(args)
    if out_dir is not None:
        print(f"\nchart: {chart(measured, seconds, out_dir)}")
    return 0


def chart(measured: dict[str, tuple[dict[str, float], float]], seconds: float, out: Path) -> Path:
    """Per quality, what each lkframes path adds (median ms) over its bound: one 20 ms frame
    plus the resampler's most (no ratio in the table: its baseline is the plain loop)."""
    names = {
        "chunk": "lkframes resample().chunk()",
        "planned": "lkframes + gain + map, planned",
        "as written": "lkframes + gain + map, as written",
    }
    return _common.write_chart(
        "latency",
        {
            f"{quality}: bound {bound:.1f} ms (20 ms + the resampler's most)": [
                (f"{names[path]} ({median:.1f} ms)", median / bound)
                for path, median in medians.items()
            ]
            for quality, (medians, bound) in measured.items()
        },
        command=f"python benchmarks/bench_latency.py: {seconds:g} s of live clicks per quality, "
        "from_track -> resample(16k) -> chunk(20 ms)",
        xlabel="added over a plain AudioStream loop (median) / the bound (at most 1.0x is within)",
        out_dir=out,
    )


if __name__ == "__main__":
    sys.exit(main())
