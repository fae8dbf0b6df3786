"""A publishes 2 s (a 440 Hz tone, then a chirp) with ``Stream.publish``; B receives it.

B reads A's audio twice at 16 kHz: with ``lk.from_participant`` (open before A joins) and
with ``lk.from_track`` on the subscribed track. Then A unpublishes (``publish`` returns)
and leaves; the result has how long ``publish`` took and how long each stream took to end.

Saves ``sent.npy`` (48 kHz), ``by_participant.npy`` and ``by_track.npy`` (16 kHz) in --out.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

import lkframes as lk
from room_scenario import Receiver, Result, parse_args, participant, run, subscribed_track

RATE = 48_000


def chirp(seconds: float, start_hz: float, stop_hz: float, amplitude: float) -> np.ndarray:
    """A linear sweep, float32, as a known signal with one sharp correlation peak."""
    t = np.arange(round(seconds * RATE)) / RATE
    phase = 2 * np.pi * (start_hz * t + (stop_hz - start_hz) * t**2 / (2 * seconds))
    return (amplitude * np.sin(phase)).astype(np.float32)


async def main(args: argparse.Namespace) -> Result:
    signal = lk.sine(440, 1.0, RATE).concat(
        lk.from_array(chirp(1.0, 300, 3_000, 0.5), RATE).to_dtype("int16")
    )
    np.save(args.out / "sent.npy", await signal.to_array())
    async with participant(args, "B") as room_b:
        track_task = asyncio.create_task(subscribed_track(room_b, "A"))
        by_participant = Receiver(lk.from_participant(room_b, "A", sample_rate=16_000))
        async with participant(args, "A") as room_a:
            started = time.monotonic()
            publishing = asyncio.create_task(signal.publish(room_a, "tone"))
            by_track = Receiver(lk.from_track(await track_task, sample_rate=16_000))
            sent = await publishing
            unpublished_at = time.monotonic()
        left_at = time.monotonic()
        track_end = await by_track.end_latency(unpublished_at)
        participant_end = await by_participant.end_latency(left_at)
    return {
        "published": {
            "seconds": sent.duration,
            "format": str(sent.format),
            "wall_seconds": round(unpublished_at - started, 4),
        },
        "by_participant": by_participant.summary()
        | {"file": by_participant.save(args.out / "by_participant.npy"), "end": participant_end},
        "by_track": by_track.summary()
        | {"file": by_track.save(args.out / "by_track.npy"), "end": track_end},
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
