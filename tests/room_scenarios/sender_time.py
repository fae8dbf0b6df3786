"""What the Python SDK tells a subscriber about when received audio was sent.

A publishes 3 s of a tone with ``Stream.publish``; B reads A's track with a plain
``rtc.AudioStream`` loop, notes whether a received frame or its event carries any time,
and, every 0.2 s, reads ``track.get_stats()``: the inbound stream's
``estimated_playout_timestamp`` (the sender's NTP time of what plays out, from RTCP sender
reports) and the jitter buffer's counters (they show the stats do flow).

Egress and LiveKit's Go SDK place participants by RTP timestamps and RTCP sender reports;
``record_room`` can only do that with this information.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses

from livekit import rtc

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, run, subscribed_track

TIME_WORDS = ("time", "pts", "rtp", "ntp", "stamp")


def timing_fields(names: list[str]) -> list[str]:
    """Names that could carry a time."""
    return sorted(n for n in names if any(w in n.lower() for w in TIME_WORDS))


async def main(args: argparse.Namespace) -> Result:
    playout: list[float] = []
    emitted: list[int] = []
    frames = 0
    frame_fields: list[str] = []
    async with participant(args, "B") as room_b:
        track_task = asyncio.create_task(subscribed_track(room_b, "A"))
        async with participant(args, "A") as room_a:
            publishing = asyncio.create_task(lk.sine(440, 3.0, 48_000).publish(room_a, "tone"))
            track = await track_task
            stream = rtc.AudioStream(track)
            reader = aiter(stream)
            async with asyncio.timeout(WAIT_S):
                for _ in range(10):
                    event = await anext(reader)
                    frames += 1
                    frame_fields = timing_fields(
                        [f.name for f in dataclasses.fields(event)]
                        + [n for n in dir(event.frame) if not n.startswith("_")]
                    )
            for _ in range(10):
                await asyncio.sleep(0.2)
                for stats in await track.get_stats():
                    if stats.WhichOneof("stats") == "inbound_rtp":
                        inbound = stats.inbound_rtp.inbound
                        playout.append(inbound.estimated_playout_timestamp)
                        emitted.append(inbound.jitter_buffer_emitted_count)
            await stream.aclose()
            await publishing
    return {
        "frames": frames,
        "frame_timing_fields": frame_fields,
        "estimated_playout": sorted(set(playout)),
        "jitter_buffer_emitted": emitted,
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
