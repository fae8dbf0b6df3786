"""The simulator's yardstick: a room played through livekit-server by real clients.

A and B (each a process of its own, this script with ``--publisher``) join one after the
other, wait until R subscribed, send `LEAD_S` of silence, talk (seeded noise) and leave
after `TAIL_S` more of silence. R reads the room with ``from_room(mix=False,
until_empty=True)``. Returns, on one monotonic clock: each publisher's talk onset (when
its first talking sample was captured) and when it began to leave; and from R: each
identity's first and last loud sample on the from_room timeline (as monotonic seconds,
from ``stats.started_at``), when the last ``participant_disconnected`` came and when the
stream ended. ``tests/livekit/test_sim_faithful.py``
plays the same script, with the times that really happened, through a `SimulatedRoom` and
compares.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np
from livekit import rtc

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, play_once_heard, run, run_part

RATE = 48_000
LEAD_S = 0.3
TAIL_S = 0.2
PUBLISHERS = {"A": (0.0, 1.2), "B": (0.8, 1.0)}  # identity: (joins at s, talks s)
LOUD = 200


def talk(identity: str, seconds: float) -> np.ndarray:
    """What ``identity`` says: loud noise (never near zero), seeded by name."""
    rng = np.random.default_rng(ord(identity))
    noise = rng.standard_normal(round(seconds * RATE)) * 4_000
    said: np.ndarray = np.clip(noise + np.sign(noise) * 1_000, -32767, 32767).astype(np.int16)
    return said


def spoken(identity: str, seconds: float) -> np.ndarray:
    """All ``identity`` sends: `LEAD_S` of silence, the talk, `TAIL_S` of silence."""
    lead, tail = np.zeros(round(LEAD_S * RATE), np.int16), np.zeros(round(TAIL_S * RATE), np.int16)
    return np.concatenate([lead, talk(identity, seconds), tail])


async def publisher(args: argparse.Namespace) -> Result:
    identity = args.publisher
    joins, seconds = PUBLISHERS[identity]
    audio = spoken(identity, seconds)
    await asyncio.sleep(max(0.0, args.zero + joins - time.monotonic()))
    frames = (
        rtc.AudioFrame(audio[i : i + 480].tobytes(), RATE, 1, 480)
        for i in range(0, audio.size, 480)
    )
    async with participant(args, identity) as room:
        first = await play_once_heard(room, frames)
        left = time.monotonic()
    return {"onset": first + LEAD_S, "left": left}


async def heard_in(room: rtc.Room) -> Result:
    """Read ``room`` with ``from_room(mix=False, until_empty=True)`` until it empties: each
    identity's first and last loud sample, when the last ``participant_disconnected`` came
    and when the stream ended, in seconds on the event loop's clock (``time.monotonic()``
    on asyncio's own loop, the virtual one under a simulated room)."""
    loop = asyncio.get_running_loop()
    stats = lk.RoomStats()
    apart: dict[str, list[np.ndarray]] = {i: [] for i in PUBLISHERS}
    starts: dict[str, int] = {}
    gone: list[float] = []
    room.on("participant_disconnected", lambda _: gone.append(loop.time()))
    async with lk.from_room(room, mix=False, until_empty=True, stats=stats).open() as items:
        async for identity, frame in items:
            starts.setdefault(identity, frame.pts)
            apart[identity].append(frame.data[:, 0])
    ended = loop.time()
    assert stats.started_at is not None
    heard = {}
    for identity, parts in apart.items():
        x = np.concatenate(parts) if parts else np.zeros(0, np.int16)
        loud = np.flatnonzero(np.abs(x.astype(np.int32)) > LOUD)
        at = stats.started_at + starts.get(identity, 0) / RATE
        heard[identity] = (
            None if loud.size == 0 else [at + loud[0] / RATE, at + (loud[-1] + 1) / RATE]
        )
    return {"heard": heard, "ended": ended, "last_gone": max(gone)}


async def main(args: argparse.Namespace) -> Result:
    async with participant(args, "R") as room_r:
        recording = asyncio.create_task(heard_in(room_r))
        zero = time.monotonic() + 0.2
        sent = await asyncio.gather(
            *(run_part(["--publisher", i, "--zero", str(zero)]) for i in PUBLISHERS)
        )
        heard = await asyncio.wait_for(recording, WAIT_S)
    return {"sent": dict(zip(PUBLISHERS, sent, strict=True))} | heard


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--publisher", help="play this participant's part")
    parser.add_argument("--zero", type=float, help="the monotonic time joins count from")


if __name__ == "__main__":
    parsed = parse_args(__doc__ or "", add_arguments)
    run(publisher if parsed.publisher else main, parsed)
