"""R records the room three times at once: with ``record_room`` mixed into one WAV file
and apart into a folder of one file per participant, and with ``from_room`` with B at half
level. A, B and C join one after the other, each plays a tone of its own for a while and
leaves; the recordings end when the room empties. Each publisher is a process of its own
(this script with ``--publisher``), as in a real call: R's event loop is not also running
their connections.

Returns, per publisher, when its tone started and ended (``time.monotonic()``), and each
recording's ``started_at`` (its pts 0), late samples and files. R also reads each
publisher's track with a plain ``rtc.AudioStream`` loop and saves what it received
(``plain-ID.npy``) with ``plain_start``: when its sample 0 played out, the earliest the
arrivals allow (found afterwards, from all of them: the placement `from_room` must match
while running).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import numpy as np
from livekit import rtc

import lkframes as lk
from room_scenario import (
    WAIT_S,
    Result,
    parse_args,
    participant,
    play_once_heard,
    run,
    run_part,
    subscribed_track,
)

RATE = 48_000
AMPLITUDE = 0.25
LEAD_S = 0.3
"""Silence each publisher sends before its tone, once R has subscribed."""
FADE_S = 0.01
"""Each tone fades in and out over this long."""
PUBLISHERS = {  # identity: (tone Hz, joins at s, tone s)
    "A": (400.0, 0.0, 3.0),
    "B": (700.0, 1.0, 2.5),
    "C": (1200.0, 2.0, 2.0),
}


def tone_frames(hz: float, seconds: float) -> list[rtc.AudioFrame]:
    """`LEAD_S` of silence, then the tone, as 10 ms frames."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / FADE_S)  # no splatter into other bands
    tone = np.round(fade * AMPLITUDE * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    audio = np.concatenate([np.zeros(round(LEAD_S * RATE), np.int16), tone])
    return [
        rtc.AudioFrame(audio[i : i + 480].tobytes(), RATE, 1, 480)
        for i in range(0, audio.size, 480)
    ]


async def publisher(args: argparse.Namespace) -> Result:
    """(``--publisher ID --zero T``) Join at the scheduled time, publish, wait until R
    subscribed, play, leave."""
    identity = args.publisher
    hz, join_at, seconds = PUBLISHERS[identity]
    frames = tone_frames(hz, seconds)
    await asyncio.sleep(max(0.0, args.zero + join_at - time.monotonic()))
    async with participant(args, identity) as room:
        first = await play_once_heard(room, frames)  # R subscribed: the only other one
    start = first + LEAD_S
    return {"start": start, "end": start + seconds, "hz": hz}


async def plain_loop(room: rtc.Room, identity: str, out: Path) -> float:
    """Read ``identity``'s track with the SDK alone until it goes quiet for 0.5 s; save
    the samples; return when sample 0 played out."""
    track = await subscribed_track(room, identity, within_s=3 * WAIT_S)  # C joins at 2 s
    stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1)
    chunks, start = [], float("inf")
    received = 0
    try:
        while True:
            try:
                event = await asyncio.wait_for(anext(stream), 0.5)
            except (TimeoutError, StopAsyncIteration):
                break
            data = np.frombuffer(event.frame.data, np.int16).copy()
            start = min(start, time.monotonic() - received / RATE)  # it begins as it arrives
            received += data.size
            chunks.append(data)
    finally:
        await stream.aclose()
    np.save(out / f"plain-{identity}.npy", np.concatenate(chunks))
    return start


async def main(args: argparse.Namespace) -> Result:
    mixed_stats, apart_stats = lk.RoomStats(), lk.RoomStats()
    async with participant(args, "R") as room_r:
        plain = [asyncio.create_task(plain_loop(room_r, i, args.out)) for i in PUBLISHERS]
        mixed = asyncio.create_task(
            lk.record_room(room_r, args.out / "room.wav", stats=mixed_stats)
        )
        apart = asyncio.create_task(
            lk.record_room(room_r, args.out / "apart", mix=False, stats=apart_stats)
        )
        quieter_b = lk.from_room(room_r, gains={"B": 0.5}, until_empty=True, delay=0.1)
        gained = asyncio.create_task(quieter_b.to_file(args.out / "gained.wav"))
        zero = time.monotonic() + 0.2
        tones = await asyncio.gather(
            *(run_part(["--publisher", identity, "--zero", str(zero)]) for identity in PUBLISHERS)
        )
        ended = time.monotonic()
        done_mixed, done_apart, _ = await asyncio.wait_for(
            asyncio.gather(mixed, apart, gained), WAIT_S
        )
        ended_after = time.monotonic() - ended
        plain_start = await asyncio.wait_for(asyncio.gather(*plain), WAIT_S)
    return {
        "tones": dict(zip(PUBLISHERS, tones, strict=True)),
        "plain_start": dict(zip(PUBLISHERS, plain_start, strict=True)),
        "mixed": {
            "started_at": mixed_stats.started_at,
            "late_samples": mixed_stats.late_samples,
            "duration": done_mixed.duration,
            "participants": sorted(mixed_stats.participants),
        },
        "apart": {
            "started_at": apart_stats.started_at,
            "late_samples": apart_stats.late_samples,
            "files": {k: str(v) for k, v in done_apart.files.items()},
            "duration": done_apart.duration,
        },
        "ended_after": ended_after,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--publisher", help="play this publisher's part")
    parser.add_argument("--zero", type=float, help="time.monotonic() the schedule counts from")


if __name__ == "__main__":
    arguments = parse_args(__doc__ or "", add_arguments)
    run(publisher if arguments.publisher else main, arguments)
