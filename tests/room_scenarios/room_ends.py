"""How room recordings end, and a participant who leaves and comes back.

R records with ``record_room`` mixed and apart, both with ``until_empty=False`` (they go
on through the empty room). A (a process of its own) joins, plays a 440 Hz tone for 1 s, leaves,
joins again and plays 1 s more, leaves. R then cancels the per-participant recording and
disconnects, which ends the mixed one by itself.

Returns the tones' times, how each recording ended and how long that took, and the tasks
left running.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np
from livekit import rtc

import lkframes as lk
from lkframes.testing import open_resources
from room_scenario import WAIT_S, Result, parse_args, participant, run, run_part, task_names

RATE = 48_000


async def play_twice(args: argparse.Namespace) -> Result:
    """(``--publisher``) Join, play 1 s, leave; join again, play 1 s, leave."""
    t = np.arange(RATE) / RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    tone = np.round(fade * 0.25 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    starts: list[float] = []
    starved: list[float] = []  # per visit: how long the source may have run dry
    for _ in range(2):
        async with participant(args, "A") as room:
            source = rtc.AudioSource(RATE, 1, queue_size_ms=50)
            track = rtc.LocalAudioTrack.create_audio_track("mic", source)
            heard = asyncio.Event()
            room.on("local_track_subscribed", lambda *_, heard=heard: heard.set())
            options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            await room.local_participant.publish_track(track, options)
            await asyncio.wait_for(heard.wait(), WAIT_S)
            returns = []
            for i in range(0, RATE, 480):
                await source.capture_frame(
                    rtc.AudioFrame(tone[i : i + 480].tobytes(), RATE, 1, 480)
                )
                returns.append(time.monotonic())
            starts.append(returns[0])
            # The source holds 50 ms: only a stall of this process longer than that can
            # starve it (LiveKit then sends silence, and the tone comes out longer).
            gaps = np.diff(returns)
            starved.append(float(np.maximum(gaps - 0.05, 0.0).sum()))
            await source.wait_for_playout()
            await source.aclose()
        await asyncio.sleep(0.5)
    return {"starts": starts, "starved": starved}


async def main(args: argparse.Namespace) -> Result:
    stats = lk.RoomStats()
    async with participant(args, "R") as room_r:
        mixed = asyncio.create_task(
            lk.record_room(room_r, args.out / "room.flac", until_empty=False, stats=stats)
        )
        apart = asyncio.create_task(
            lk.record_room(room_r, args.out / "apart", mix=False, until_empty=False)
        )
        tones = await run_part(["--publisher"])
        await asyncio.sleep(0.5)
        still_mixing = not mixed.done()
        cancelled_at = time.monotonic()
        apart.cancel()
        try:
            await apart
            apart_outcome = "returned"
        except asyncio.CancelledError:
            apart_outcome = "CancelledError"
        cancel_took = time.monotonic() - cancelled_at
        disconnected_at = time.monotonic()
        await room_r.disconnect()
        done = await asyncio.wait_for(mixed, WAIT_S)
        end_took = time.monotonic() - disconnected_at
    await asyncio.sleep(0.1)
    return {
        "starts": tones["starts"],
        "starved": tones["starved"],
        "started_at": stats.started_at,
        "still_mixing_when_empty": still_mixing,
        "apart_outcome": apart_outcome,
        "cancel_took": cancel_took,
        "end_took": end_took,
        "mixed_duration": done.duration,
        "tasks": task_names(asyncio.all_tasks() - {asyncio.current_task()}),
        "open_resources": open_resources(),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--publisher", action="store_true", help="play A's part")


if __name__ == "__main__":
    arguments = parse_args(__doc__ or "", add_arguments)
    run(play_twice if arguments.publisher else main, arguments)
