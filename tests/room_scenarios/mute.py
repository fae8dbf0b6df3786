"""A mutes for 1 s while publishing 3 s of 440 Hz; B reads A with both ``on_mute`` settings.

A publishes ``lk.sine(440, 3.0)``, mutes its track 0.8 s in and unmutes it 1.0 s later. B
reads the track with ``on_mute="silence"`` (``from_track``) and ``on_mute="skip"``
(``from_participant``) at once. Saves ``silence.npy`` and ``skip.npy`` (48 kHz) in --out.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from livekit import rtc

import lkframes as lk
from room_scenario import Receiver, Result, parse_args, participant, run, subscribed_track

MUTE_AT_S = 0.8
MUTED_S = 1.0


async def main(args: argparse.Namespace) -> Result:
    stats = {"silence": lk.LiveStats(), "skip": lk.LiveStats()}
    muted_events: list[str] = []
    async with participant(args, "B") as room_b:

        @room_b.on("track_muted")
        def on_muted(*_: object) -> None:
            muted_events.append("muted")

        @room_b.on("track_unmuted")
        def on_unmuted(*_: object) -> None:
            muted_events.append("unmuted")

        skip = Receiver(lk.from_participant(room_b, "A", on_mute="skip", stats=stats["skip"]))
        async with participant(args, "A") as room_a:
            publish_at = time.monotonic()
            publishing = asyncio.create_task(lk.sine(440, 3.0).publish(room_a, "tone"))
            track = await subscribed_track(room_b, "A")
            silence = Receiver(lk.from_track(track, on_mute="silence", stats=stats["silence"]))
            await asyncio.sleep(MUTE_AT_S)
            local = next(iter(room_a.local_participant.track_publications.values())).track
            assert isinstance(local, rtc.LocalAudioTrack)
            local.mute()
            muted_at = time.monotonic()
            await asyncio.sleep(MUTED_S)
            local.unmute()
            muted_for = time.monotonic() - muted_at
            sent = await publishing
            publish_wall = time.monotonic() - publish_at
            left_at = time.monotonic()
            await room_a.disconnect()
        silence_end = await silence.end_latency(left_at)
        skip_end = await skip.end_latency(left_at)
    return {
        "sent_seconds": sent.duration,
        "publish_wall_seconds": round(publish_wall, 4),
        "muted_for": round(muted_for, 4),
        "muted_events": muted_events,
        "silence": silence.summary() | {"end": silence_end, "skipped": stats["silence"].skipped},
        "skip": skip.summary() | {"end": skip_end, "skipped": stats["skip"].skipped},
        "silence_file": silence.save(args.out / "silence.npy"),
        "skip_file": skip.save(args.out / "skip.npy"),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
