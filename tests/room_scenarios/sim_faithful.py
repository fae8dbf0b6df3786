"""The simulator's yardstick: a room played through livekit-server by real clients.

A and B (each a process of its own, this script with ``--publisher``) join one after the
other, wait until R subscribed, send `LEAD_S` of silence, talk (seeded noise) and leave
after `TAIL_S` more of silence. With ``--go GOCLIENT``, G joins too: LiveKit's Go SDK
(``tests/goclient publish --wait-subscribed``) sending its talk from an Ogg Opus file, as
a client nobody here wrote does (nothing at all after its file, for the half second
before it leaves). R reads the room
with ``from_room(mix=False, until_empty=True)``. Returns, on one monotonic clock: each
publisher's talk onset (when its first talking sample was captured) and when it began to
leave; and from R: each identity's first and last loud sample on the from_room timeline
(as monotonic seconds, from ``stats.started_at``), when the last
``participant_disconnected`` came and when the stream ended.
``tests/livekit/test_sim_faithful.py`` plays the same script, with the times that really
happened, through a `SimulatedRoom` and compares.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import time
from pathlib import Path

import numpy as np
from livekit import rtc

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, play_once_heard, run, run_part

RATE = 48_000
LEAD_S = 0.3
TAIL_S = 0.2
PUBLISHERS = {"A": (0.0, 1.2), "B": (0.8, 1.0)}  # identity: (joins at s, talks s)
GO = ("G", 0.4, 1.1)  # the Go client: identity, joins at s, talks s
GO_LEAD_S = 1.0
"""G's silence before its talk: R's subscription is announced to G before the first
packets reach R (by up to ~1.2 s: G's talk began before R's first frame of it in 3 runs of
3 with no lead at all but the subscription's)."""
OPUS_DELAY_S = 312 / RATE
"""libopus' look-ahead (the Ogg file's pre-skip): WebRTC plays G's talk this much after
its place in the file, as it does for any Opus sender that is not itself."""
LOUD = 200


def talk(identity: str, seconds: float) -> np.ndarray:
    """What ``identity`` says: loud noise (never near zero), seeded by name."""
    rng = np.random.default_rng(ord(identity))
    noise = rng.standard_normal(round(seconds * RATE)) * 4_000
    said: np.ndarray = np.clip(noise + np.sign(noise) * 1_000, -32767, 32767).astype(np.int16)
    return said


def spoken(identity: str, seconds: float, lead_s: float = LEAD_S) -> np.ndarray:
    """All ``identity`` sends: ``lead_s`` of silence, the talk, `TAIL_S` of silence."""
    lead = np.zeros(round(lead_s * RATE), np.int16)
    return np.concatenate([lead, talk(identity, seconds), np.zeros(round(TAIL_S * RATE), np.int16)])


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


def go_files(folder: Path) -> tuple[Path, Path]:
    """G's Ogg Opus audio (`GO_LEAD_S` of silence, the talk, `TAIL_S` of silence) and a
    small black VP8 video (goclient publishes both), made with ffmpeg."""
    identity, _, seconds = GO
    audio = spoken(identity, seconds, GO_LEAD_S)
    ogg, ivf = folder / "g.ogg", folder / "g.ivf"
    ffmpeg = ("ffmpeg", "-nostdin", "-loglevel", "error", "-y")
    raw = ("-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-")
    opus = ("-c:a", "libopus", "-b:a", "128k", "-frame_duration", "20", str(ogg))
    subprocess.run([*ffmpeg, *raw, *opus], input=audio.tobytes(), check=True)
    length = f"{audio.size / RATE:.3f}"
    video = ("-f", "lavfi", "-i", f"color=c=black:s=64x48:r=25:d={length}")
    subprocess.run([*ffmpeg, *video, "-c:v", "libvpx", "-f", "ivf", str(ivf)], check=True)
    return ogg, ivf


async def go_publisher(args: argparse.Namespace, files: tuple[Path, Path], zero: float) -> Result:
    """G's part: goclient publishes ``files`` (`go_files`) and leaves; when its talk began
    and when it began to leave, on the monotonic clock (the one goclient reports)."""
    ogg, ivf = files
    identity, joins, _ = GO
    await asyncio.sleep(max(0.0, zero + joins - time.monotonic()))
    process = await asyncio.create_subprocess_exec(
        *(args.go, "publish", "--url", args.url, "--key", args.key, "--secret", args.secret),
        *("--room", args.room, "--identity", identity, "--opus", str(ogg), "--ivf", str(ivf)),
        "--wait-subscribed",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"goclient publish exited with {process.returncode}: {err.decode()}")
    done = json.loads(out.decode().strip().splitlines()[-1])
    return {
        "onset": done["start"] + GO_LEAD_S + OPUS_DELAY_S,
        "left": done["start"] + done["wall_seconds"],
    }


async def heard_in(room: rtc.Room) -> Result:
    """Read ``room`` with ``from_room(mix=False, until_empty=True)`` until it empties: each
    identity's first and last loud sample, when the last ``participant_disconnected`` came
    and when the stream ended, in seconds on the event loop's clock (``time.monotonic()``
    on asyncio's own loop, the virtual one under a simulated room)."""
    loop = asyncio.get_running_loop()
    stats = lk.RoomStats()
    apart: dict[str, list[np.ndarray]] = {}
    starts: dict[str, int] = {}
    gone: list[float] = []
    room.on("participant_disconnected", lambda _: gone.append(loop.time()))
    async with lk.from_room(room, mix=False, until_empty=True, stats=stats).open() as items:
        async for identity, frame in items:
            starts.setdefault(identity, frame.pts)
            apart.setdefault(identity, []).append(frame.data[:, 0])
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
    files = None if args.go is None else go_files(args.out)
    async with participant(args, "R") as room_r:
        recording = asyncio.create_task(heard_in(room_r))
        zero = time.monotonic() + 0.2
        parts = [run_part(["--publisher", i, "--zero", str(zero)]) for i in PUBLISHERS]
        who = list(PUBLISHERS)
        if files is not None:
            parts.append(go_publisher(args, files, zero))
            who.append(GO[0])
        sent = await asyncio.gather(*parts)
        heard = await asyncio.wait_for(recording, WAIT_S)
    return {"sent": dict(zip(who, sent, strict=True))} | heard


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--publisher", help="play this participant's part")
    parser.add_argument("--zero", type=float, help="the monotonic time joins count from")
    parser.add_argument("--go", help="goclient (tests/goclient): G joins too, from Go")


if __name__ == "__main__":
    parsed = parse_args(__doc__ or "", add_arguments)
    run(publisher if parsed.publisher else main, parsed)
