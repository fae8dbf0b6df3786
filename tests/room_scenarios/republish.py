"""``lk.from_participant`` follows a participant across a re-publish.

A publishes 0.6 s of 440 Hz as one track, pauses 0.3 s, publishes 0.6 s of 880 Hz as a
second track, and leaves. B reads A with one ``from_participant`` stream throughout.
Saves ``received.npy`` (48 kHz) in --out.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from livekit import rtc

import lkframes as lk
from room_scenario import Receiver, Result, parse_args, participant, run


async def main(args: argparse.Namespace) -> Result:
    subscribed: list[str] = []
    async with participant(args, "B") as room_b:

        @room_b.on("track_subscribed")
        def on_subscribed(track: rtc.Track, *_: object) -> None:
            subscribed.append(track.name)

        received = Receiver(lk.from_participant(room_b, "A"))
        async with participant(args, "A") as room_a:
            await lk.sine(440, 0.6).publish(room_a, "first")
            await asyncio.sleep(0.3)
            open_between = not received.task.done()
            await lk.sine(880, 0.6).publish(room_a, "second")
            left_at = time.monotonic()
            await room_a.disconnect()
        end = await received.end_latency(left_at)
    return received.summary() | {
        "subscribed": subscribed,
        "open_between_tracks": open_between,
        "end": end,
        "file": received.save(args.out / "received.npy"),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
