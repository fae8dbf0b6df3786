"""How fast a `SimulatedRoom` runs: simulated seconds per real second, in one process (audio
rooms, then one camera read with `from_participant_video`).

Each case scripts N participants who each talk (noise) for the whole scenario behind a
network with 50 ms delay, 20 ms jitter and 1 % loss, and reads the room in two ways:

- ``lk.from_room(room, until_empty=True).to_array()``: what a user's test runs (every
  participant's 10 ms frames through lkframes' per-frame code, mixed on one timeline);
- the same in ``SimulatedRoom(block=1.0)``: where the script is quiet, each participant's
  audio and the timeline a second at a time (the same samples, bit for bit; checked);
- the simulator alone: the same tracks' simulated streams iterated bare (no lkframes
  pipeline), the part of the cost that is the simulation's;
- ``block=1.0`` again on trio (``run_virtual(..., backend="trio")``): the same samples as
  on asyncio, bit for bit (checked).

    python benchmarks/bench_simulated_room.py          # 1x1, 5x1 and 5x10 minutes
    python benchmarks/bench_simulated_room.py --quick  # 1x1 and 5x1 minutes

A full run also draws, per audio case, ``from_room``'s speed (with and without blocks) over
the simulator alone's into docs/figures/bench_simulated_room.svg (``--no-chart``: not).
"""

from __future__ import annotations

import asyncio
import os
import platform
import time
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np

import _common
import lkframes as lk
from lkframes.testing import Network, SimulatedRoom, run_virtual

RATE = 48_000


def script(participants: int, minutes: float, block: float = 0.0) -> SimulatedRoom:
    room = SimulatedRoom(seed=1, block=block)
    rng = np.random.default_rng(0)
    seconds = minutes * 60
    network = Network(delay=0.05, jitter=0.02, loss=0.01)
    for i in range(participants):
        talker = room.participant(f"p{i}", leaves=seconds, network=network)
        talker.publish_audio(
            (rng.standard_normal(round(RATE * (seconds - 1))) * 3000).astype(np.int16)
        )
    return room


async def with_lkframes(room: SimulatedRoom) -> np.ndarray:
    async with room:
        return await lk.from_room(room, until_empty=True).to_array()


async def bare(room: SimulatedRoom) -> int:
    """The simulated streams alone, read until each track's end."""
    samples = 0
    async with room:
        await asyncio.sleep(0.2)  # everyone subscribed
        streams = [
            track.lkframes_audio_stream(RATE, 1, 10, 0)
            for who in room.present.values()
            for track in who.track_publications.values()
        ]

        async def read(stream: object) -> int:
            got = 0
            async for event in stream:  # type: ignore[attr-defined]
                got += event.frame.samples_per_channel
                if not room.isconnected() or not room.present:
                    break
            return got

        empty = asyncio.Event()
        room.on("participant_disconnected", lambda _: room.present or empty.set())

        async def stop_when_empty() -> None:
            await empty.wait()
            for stream in streams:
                await stream.aclose()

        results = await asyncio.gather(*(read(s) for s in streams), stop_when_empty())
        samples = sum(r for r in results if r)
    return samples


def camera(minutes: float, width: int, height: int) -> SimulatedRoom:
    """One participant with a 30 fps camera (a generator: frames made as they are sent)."""
    room = SimulatedRoom(seed=1)
    seconds = minutes * 60
    talker = room.participant("cam", leaves=seconds, network=Network(0.05, 0.02, 0.01))
    frame = np.full((height, width, 4), 128, np.uint8)
    talker.publish_video((frame for _ in range(round(30 * (seconds - 1)))), fps=30)
    return room


async def watched(room: SimulatedRoom, pixel_format: lk.PixelFormat) -> int:
    """Frames `from_participant_video` hands out, in the pixel format asked for."""
    count = 0
    async with room:
        frames = lk.from_participant_video(room, "cam", pixel_format=pixel_format)
        async with frames.open() as each:
            async for _ in each:
                count += 1
    return count


def video_table(minutes: float) -> None:
    print("\n| camera, 30 fps | simulated min | frames | from_participant_video s | x real time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    layouts: list[tuple[int, int, lk.PixelFormat]] = [(640, 360, "rgba"), (640, 360, "i420")]
    for width, height, pixel_format in layouts:
        room = camera(minutes, width, height)
        took, frames = timed(lambda room=room, asked=pixel_format: watched(room, asked))
        print(
            f"| {width}x{height} {pixel_format} | {minutes:g} | {frames:.0f} | {took:.2f} | "
            f"{minutes * 60 / took:,.0f} |"
        )
        assert frames >= 30 * (minutes * 60 - 2) * 0.95, "the camera came up short"


def timed(main: Any, backend: Literal["asyncio", "trio"] = "asyncio") -> tuple[float, Any]:
    """Seconds ``main()`` took on a virtual clock, and what it returned. The CPU time
    of this process, not the wall clock: on a shared machine the wall clock also counts
    the time others had the CPU (one thread works here; worker threads are idle)."""
    started = time.process_time()
    result = run_virtual(main, backend=backend)
    return time.process_time() - started, result


Case = tuple[int, float, float, float, float]
"""participants, simulated minutes, and the CPU seconds of from_room, of from_room with
block=1.0 and of the simulator alone (the best of the rounds for from_room)."""


def main() -> None:
    parser = _common.parser(__doc__, quick="skip the 10-minute case")
    parser.add_argument("--rounds", type=int, default=1, help="time each case this often")
    args = parser.parse_args()
    cases = [(1, 1.0), (5, 1.0)] + ([] if args.quick else [(5, 10.0)])
    print("# SimulatedRoom speed\n")
    print(f"Python {platform.python_version()}, lkframes {lk.__version__}; one process; ", end="")
    print(f"CPU seconds; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.\n")
    print("| participants | simulated min | from_room s | x real time |", end="")
    print(" block=1.0 s | x real time | simulator alone s | x real time | on trio, block=1.0 s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    measured: list[Case] = []
    for participants, minutes in cases:
        seconds = minutes * 60
        took: dict[float, list[float]] = {0.0: [], 1.0: []}
        heard: dict[float, np.ndarray] = {}
        on_trio: list[float] = []
        for _ in range(args.rounds):
            for block in took:
                spent, heard[block] = timed(
                    partial(with_lkframes, script(participants, minutes, block))
                )
                took[block].append(spent)
            spent, trio_heard = timed(
                partial(with_lkframes, script(participants, minutes, 1.0)), backend="trio"
            )
            on_trio.append(spent)
            assert np.array_equal(trio_heard, heard[1.0]), "trio heard something else"
        assert np.array_equal(heard[0.0], heard[1.0]), "blocks changed what was heard"
        assert heard[0.0].shape[0] >= (seconds - 1.5) * RATE, "the room's audio came up short"
        alone_room = script(participants, minutes)
        alone, _ = timed(lambda room=alone_room: bare(room))
        frames, blocks = _span(took[0.0]), _span(took[1.0])
        print(
            f"| {participants} | {minutes:g} | {frames} | {seconds / min(took[0.0]):,.0f} | "
            f"{blocks} | {seconds / min(took[1.0]):,.0f} | {alone:.2f} | {seconds / alone:,.0f} | "
            f"{_span(on_trio)} |"
        )
        measured.append((participants, minutes, min(took[0.0]), min(took[1.0]), alone))
    video_table(0.25 if args.quick else 1.0)
    out_dir = _common.chart_dir(args)
    if out_dir is not None:
        print(f"\nchart: {chart(measured, args.rounds, out_dir)}")


def chart(cases: list[Case], rounds: int, out_dir: Path) -> Path:
    """Per case, each reader's speed over the simulator read bare (its baseline)."""
    groups: dict[str, list[tuple[str, float]]] = {}
    for participants, minutes, frames, blocks, alone in cases:
        seconds = minutes * 60
        title = f"{participants} participant{'s' * (participants > 1)}, {minutes:g} simulated min"
        groups[title] = [
            (f"lk.from_room ({seconds / frames:,.0f}x real time)", alone / frames),
            (f"lk.from_room, block=1.0 ({seconds / blocks:,.0f}x real time)", alone / blocks),
            (f"simulator alone ({seconds / alone:,.0f}x real time)", 1.0),
        ]
    return _common.write_chart(
        "simulated_room",
        groups,
        command=f"python benchmarks/bench_simulated_room.py: CPU seconds, best of {rounds} "
        "(the simulator alone: one run)",
        xlabel="speed / the simulated streams read bare, by CPU time (higher is faster)",
        out_dir=out_dir,
    )


def _span(seconds: list[float]) -> str:
    low, high = min(seconds), max(seconds)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"


if __name__ == "__main__":
    main()
