"""End of stream: how soon a recording ends after its participant leaves or unpublishes,
beside the earliest moment a plain SDK user can know it.

In a real livekit-server (network namespace, ``tests/livekit_server.py``), one process
joins as B and, round after round, a participant A joins, publishes a tone and then either

- ``leave``: disconnects its room after 1 s of audio, or
- ``unpublish``: stops publishing after 1 s (``publish`` unpublishes) and stays.

B measures, from A's action (same process, same monotonic clock):

- the SDK's event: ``participant_disconnected`` / ``track_unsubscribed`` on B's room,
  the control (a hand-written loop can stop no sooner than this; the plain
  ``rtc.AudioStream`` itself never ends, it has to be closed by hand);
- the plain loop's last audio: when a plain ``rtc.AudioStream`` loop on the same track got
  its last frame that is not digital silence (the participant's last words);
- lkframes: the end of ``lk.from_participant(room, "A")`` (``leave``) or
  ``lk.from_track(track)`` (``unpublish``), which read on until the audio still in flight
  has arrived (at most ``DRAIN_S`` after an unpublish), so a participant's last words are
  kept.

Reports the median and the worst of each, and lkframes minus the event and minus the last
audio per round. Exits 1 only if a stream did not end within 5 s (a correctness failure).

    python benchmarks/bench_end.py            # 10 rounds per case (~40 s)
    python benchmarks/bench_end.py --quick    # 3 rounds per case

A full run also draws, per case, the medians over the SDK event's into
docs/figures/bench_end.svg (``--no-chart``: not).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common

CASES = ("leave", "unpublish")
BOUND_S = 5.0


async def one_round(url_args: argparse.Namespace, room_b: Any, case: str, n: int) -> dict[str, Any]:
    from livekit import rtc

    import lkframes as lk

    identity = f"A{n}"
    event_at: list[float] = []
    track_ready: asyncio.Future[rtc.Track] = asyncio.get_running_loop().create_future()

    def on_left(p: rtc.RemoteParticipant) -> None:
        if p.identity == identity and case == "leave":
            event_at.append(time.monotonic())

    def on_unsubscribed(_t: rtc.Track, _pub: Any, p: rtc.RemoteParticipant) -> None:
        if p.identity == identity and case == "unpublish":
            event_at.append(time.monotonic())

    def on_subscribed(t: rtc.Track, _pub: Any, p: rtc.RemoteParticipant) -> None:
        if p.identity == identity and not track_ready.done():
            track_ready.set_result(t)

    room_b.on("participant_disconnected", on_left)
    room_b.on("track_unsubscribed", on_unsubscribed)
    room_b.on("track_subscribed", on_subscribed)
    ended_at: list[float] = []
    last_audio: list[float] = []
    heard = asyncio.Event()

    async def plain(track: rtc.Track) -> None:
        import numpy as np

        stream = rtc.AudioStream(track)
        try:
            async for event in stream:
                if np.frombuffer(event.frame.data, np.int16).any():
                    last_audio[:] = [time.monotonic()]
        finally:
            await stream.aclose()

    async def read(stream: lk.Stream[lk.AudioFrame]) -> None:
        async with stream.open() as frames:
            async for _ in frames:
                heard.set()
        ended_at.append(time.monotonic())

    try:
        reader: asyncio.Task[None] | None = None
        if case == "leave":
            reader = asyncio.create_task(read(lk.from_participant(room_b, identity)))
        async with lk.connect(
            url_args.url,
            room=url_args.room,
            identity=identity,
            api_key=url_args.key,
            api_secret=url_args.secret,
        ) as room_a:
            seconds = 1.0 if case == "unpublish" else 30.0
            publishing = asyncio.create_task(lk.sine(440, seconds).publish(room_a, "tone"))
            track = await asyncio.wait_for(track_ready, BOUND_S)
            plain_reader = asyncio.create_task(plain(track))
            if reader is None:
                reader = asyncio.create_task(read(lk.from_track(track)))
            await asyncio.wait_for(heard.wait(), BOUND_S)
            if case == "unpublish":
                await publishing
                acted = time.monotonic()
                await asyncio.wait({reader}, timeout=BOUND_S)
            else:
                await asyncio.sleep(1.0)
                acted = time.monotonic()
                await room_a.disconnect()
                publishing.cancel()
                await asyncio.gather(publishing, return_exceptions=True)
        await asyncio.wait({reader}, timeout=BOUND_S)
        if not reader.done():
            reader.cancel()
        await asyncio.sleep(0.5)  # the SDK event and the plain loop's last audio
        plain_reader.cancel()
        await asyncio.gather(plain_reader, return_exceptions=True)
    finally:
        room_b.off("participant_disconnected", on_left)
        room_b.off("track_unsubscribed", on_unsubscribed)
        room_b.off("track_subscribed", on_subscribed)
    return {
        "event": event_at[0] - acted if event_at else None,
        "lkframes": ended_at[0] - acted if ended_at else None,
        "last_audio": last_audio[0] - acted if last_audio else None,
    }


async def rounds(args: argparse.Namespace) -> dict[str, Any]:
    import lkframes as lk

    out: dict[str, Any] = {}
    async with lk.connect(
        args.url, room=args.room, identity="B", api_key=args.key, api_secret=args.secret
    ) as room_b:
        for case in CASES:
            out[case] = [await one_round(args, room_b, case, i) for i in range(args.rounds)]
    return out


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} / {max(values) * 1000:.0f}"


def orchestrate(quick: bool, out_dir: Path | None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import livekit_server as lks

    count = 3 if quick else 10
    print("# lkframes: end of stream against the SDK's own event (real livekit-server)\n")
    print(f"{count} rounds per case; ms from A's action, median / worst.\n")
    print(
        "| case | SDK event (control) | last audio (plain loop) | lkframes stream ends "
        "| lkframes - event | lkframes - last audio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    failures: list[str] = []
    with (
        lks.network_namespace(f"lkf-end-{os.getpid()}") as namespace,
        tempfile.TemporaryDirectory() as workdir,
        lks.running_server(lks.server_binary(), Path(workdir), namespace) as server,
    ):
        done = server.run(
            [__file__, "--rounds", str(count), *server.credentials("end")], timeout=count * 30
        )
        lines = done.stdout.strip().splitlines()
        if not lks.finished(done.returncode) or not lines:
            print(f"\nFAILED: exited {done.returncode}: {done.stderr[-800:]}")
            sys.exit(1)
        result = json.loads(lines[-1])
    for case in CASES:
        rows = result[case]
        events = [r["event"] for r in rows if r["event"] is not None]
        ends = [r["lkframes"] for r in rows if r["lkframes"] is not None]
        lasts = [r["last_audio"] for r in rows if r["last_audio"] is not None]
        diffs = [r["lkframes"] - r["event"] for r in rows if None not in r.values()]
        after = [r["lkframes"] - r["last_audio"] for r in rows if None not in r.values()]
        if len(ends) < len(rows):
            failures.append(f"{case}: {len(rows) - len(ends)} streams did not end in 5 s")
        cells = [_ms(v) if v else "—" for v in (events, lasts, ends, diffs, after)]
        print(f"| {case} | " + " | ".join(cells) + " |")
    if failures:
        print("\nFAILED:", *failures, sep="\n- ")
        sys.exit(1)
    if out_dir is not None:
        print(f"\nchart: {chart(result, count, out_dir)}")


def chart(result: dict[str, list[dict[str, float | None]]], count: int, out_dir: Path) -> Path:
    """Per case, the median time from A's action to each end over the SDK event's median
    (the control: no ratio in the table, whose baseline this is)."""
    groups: dict[str, list[tuple[str, float]]] = {}
    for case in CASES:
        medians = {
            key: statistics.median(values)
            for key in ("event", "last_audio", "lkframes")
            if (values := [v for r in result[case] if (v := r[key]) is not None])
        }
        event = medians.get("event")
        if not event:
            continue
        names = {
            "lkframes": "lkframes stream ends",
            "last_audio": "plain loop's last audio",
            "event": "SDK event (control)",
        }
        groups[f"{case}: the SDK event after {event * 1000:.0f} ms (median)"] = [
            (f"{name} ({medians[key] * 1000:.0f} ms)", medians[key] / event)
            for key, name in names.items()
            if key in medians
        ]
    return _common.write_chart(
        "end",
        groups,
        command=f"python benchmarks/bench_end.py: {count} rounds per case, real livekit-server",
        xlabel="time from A's action, median / the SDK event's (lower is sooner)",
        out_dir=out_dir,
    )


def main() -> None:
    parser = _common.parser(__doc__, quick="3 rounds per case")
    parser.add_argument("--rounds", type=int, help=argparse.SUPPRESS)
    for name in ("--url", "--key", "--secret", "--room"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds:
        print(json.dumps(asyncio.run(rounds(args))), flush=True)
    else:
        orchestrate(args.quick, _common.chart_dir(args))


if __name__ == "__main__":
    main()
