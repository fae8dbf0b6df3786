"""A participant that vanishes without leaving, read with and without ``stall_timeout``.

C (a separate process) publishes a 440 Hz tone; B reads C twice with ``from_participant``:
once with ``stall_timeout=1.0`` and once with the default. C is killed with SIGKILL 1 s
in, so it never says goodbye. Reports how soon each stream ended after the kill (the
default one is cancelled after --wait seconds) and saves ``bounded.npy`` in --out.
Meanwhile D publishes a track it feeds nothing: B's ``stall_timeout=1.0`` stream of D must
stay open (a quiet participant is not a vanished one).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path

from livekit import rtc

import lkframes as lk
from room_scenario import Receiver, Result, parse_args, participant, run, subscribed_track

PUBLISHER = """
import asyncio, sys
import lkframes as lk

async def main(url, key, secret, room):
    async with lk.connect(url, room=room, identity="C", api_key=key, api_secret=secret) as r:
        await lk.sine(440, 60.0).publish(r, "tone")

asyncio.run(main(*sys.argv[1:]))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=float, default=3.0, help="for the unbounded stream")


async def main(args: argparse.Namespace) -> Result:
    script = Path(args.out) / "publisher.py"
    script.write_text(PUBLISHER)
    stats = lk.LiveStats()
    async with participant(args, "B") as room_b, participant(args, "D") as room_d:
        idle_source = rtc.AudioSource(48_000, 1)
        idle_track = rtc.LocalAudioTrack.create_audio_track("idle", idle_source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await room_d.local_participant.publish_track(idle_track, options)
        idle = Receiver(lk.from_participant(room_b, "D", stall_timeout=1.0))
        bounded = Receiver(lk.from_participant(room_b, "C", stall_timeout=1.0, stats=stats))
        unbounded = Receiver(lk.from_participant(room_b, "C"))
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, str(script), args.url, args.key, args.secret, args.room
        )
        try:
            await subscribed_track(room_b, "C")
            await bounded.wait_for_audio(1.0)
        finally:
            publisher.send_signal(signal.SIGKILL)
            await publisher.wait()
        killed_at = time.monotonic()
        bounded_end = await bounded.end_latency(killed_at)
        await asyncio.sleep(max(0.0, args.wait - (time.monotonic() - killed_at)))
        unbounded_open = not unbounded.task.done()
        idle_open = not idle.task.done()
        for receiver in (unbounded, idle):
            receiver.task.cancel()
            await asyncio.gather(receiver.task, return_exceptions=True)
        await idle_source.aclose()
    return {
        "bounded": bounded.summary() | {"end": bounded_end, "stalled": stats.stalled},
        "unbounded_open_after_wait": unbounded_open,
        "idle_open_after_wait": idle_open,
        "idle_seconds": round(idle.seconds, 3),
        "bounded_file": bounded.save(args.out / "bounded.npy"),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
