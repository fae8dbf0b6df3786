"""Cancelling ``publish`` mid-way unpublishes the track and leaves nothing behind.

A publishes a 10 s tone; once B has received 0.5 s of it through ``lk.from_track``, A's
publish task is cancelled (A stays in the room). Reports how long the cancellation took,
when B saw ``track_unpublished`` and its stream end, A's publications afterwards, the
asyncio tasks that outlived it and what lkframes still holds open.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from livekit import rtc

import lkframes as lk
from lkframes.testing import open_resources
from room_scenario import (
    WAIT_S,
    Receiver,
    Result,
    parse_args,
    participant,
    run,
    subscribed_track,
    task_names,
)


async def main(args: argparse.Namespace) -> Result:
    unpublished_at: list[float] = []
    unpublished = asyncio.Event()
    async with participant(args, "B") as room_b:

        @room_b.on("track_unpublished")
        def on_unpublished(_: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant) -> None:
            if who.identity == "A":
                unpublished_at.append(time.monotonic())
                unpublished.set()

        track_task = asyncio.create_task(subscribed_track(room_b, "A"))
        async with participant(args, "A") as room_a:
            await asyncio.sleep(0)  # let track_task start
            before = asyncio.all_tasks()
            publishing = asyncio.create_task(lk.sine(440, 10.0).publish(room_a, "tone"))
            received = Receiver(lk.from_track(await track_task))
            await received.wait_for_audio(0.5)
            published_while_running = len(room_a.local_participant.track_publications)
            cancelled_at = time.monotonic()
            publishing.cancel()
            (outcome,) = await asyncio.gather(publishing, return_exceptions=True)
            cancel_took = time.monotonic() - cancelled_at
            published_after = len(room_a.local_participant.track_publications)
            track_end = await received.end_latency(cancelled_at)
            async with asyncio.timeout(WAIT_S):
                await unpublished.wait()
            await asyncio.sleep(0.2)  # give anything left behind a chance to show
            left_behind = asyncio.all_tasks() - before
            a_connected = room_a.isconnected()
    return {
        "outcome": type(outcome).__name__,
        "cancel_took": round(cancel_took, 4),
        "published_while_running": published_while_running,
        "published_after": published_after,
        "a_still_connected": a_connected,
        "track_unpublished_after": round(unpublished_at[0] - cancelled_at, 4),
        "track_end": track_end,
        "received": received.summary(),
        "tasks_left": task_names(left_behind),
        "open_resources": open_resources(),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
