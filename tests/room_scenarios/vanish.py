"""Participants who go quiet, freeze or vanish, read with ``stall_timeout=1.0``.

B reads each of them with ``from_participant(..., stall_timeout=1.0)``:

- G (LiveKit's Go SDK, ``--go-publisher``) sends packets for 1 s, then (told on its stdin
  once the others are signalled) none at all for ``--silent`` seconds while staying in
  the room, then leaves. Its stream must last until it leaves: ``presence`` is from B's
  first frame of G to the wall-clock time G printed just before leaving.
- C (a Python process publishing a 440 Hz tone) is killed with SIGKILL 1 s in, F (the
  same) stopped with SIGSTOP: neither ever says goodbye. C is also read without
  ``stall_timeout`` (``unbounded``), which only the server ends.
- D publishes a track it feeds nothing (the Python SDK then sends a few packets a second).

Reports when each stream ended (seconds after C's and F's signal, after G's leaving line)
and whether ``stats.stalled`` was set, when the server reported C's and F's connection LOST
and removed them (seconds after the signal, or None), and saves ``bounded.npy`` (C's
stream) in --out.
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
from room_scenario import Receiver, Result, parse_args, participant, run

PUBLISHER = """
import asyncio, sys
import lkframes as lk

async def main(url, key, secret, room, identity):
    async with lk.connect(url, room=room, identity=identity, api_key=key, api_secret=secret) as r:
        await lk.sine(440, 60.0).publish(r, "tone")

asyncio.run(main(*sys.argv[1:]))
"""

START_S = 20.0
"""How long a publisher process may take to start, join and be heard (a busy machine)."""
SERVER_TIMEOUT_S = 30.0
"""Longer than livekit-server's ~20 s before it removes a participant whose connection died."""


class Watched:
    """A participant read with ``stall_timeout=1.0``, and its `LiveStats`."""

    def __init__(self, room: rtc.Room, identity: str) -> None:
        self.stats = lk.LiveStats()
        self.receiver = Receiver(
            lk.from_participant(room, identity, stall_timeout=1.0, stats=self.stats)
        )
        self.first_at: float | None = None
        """When the first frame arrived (wall clock, comparable with another process's)."""

    async def wait_for_audio(self, seconds: float) -> None:
        """Wait (at most `START_S`) until ``seconds`` of audio arrived; note when it began."""
        async with asyncio.timeout(START_S):
            while self.receiver.seconds < seconds and not self.receiver.task.done():
                await asyncio.sleep(0.01)
                if self.first_at is None and self.receiver.frames:
                    self.first_at = time.time() - self.receiver.seconds

    async def end(self, since: float, within_s: float) -> Result:
        done, _ = await asyncio.wait({self.receiver.task}, timeout=within_s)
        if not done:
            self.receiver.task.cancel()
            await asyncio.gather(self.receiver.task, return_exceptions=True)
        ended = self.receiver.ended_at
        return self.receiver.summary() | {
            "end": round(ended - since, 3) if done and ended is not None else None,
            "stalled": self.stats.stalled,
        }


class ServerReports:
    """When the server reported each participant's connection LOST, and removed them
    (seconds after ``since``, set once the publishers are signalled)."""

    def __init__(self, room: rtc.Room) -> None:
        self.since: float | None = None
        self.lost_at: dict[str, float] = {}
        self.removed_at: dict[str, float] = {}
        room.on("connection_quality_changed", self._quality)
        room.on("participant_disconnected", self._removed)

    def _now(self) -> float | None:
        return None if self.since is None else round(time.monotonic() - self.since, 3)

    def _quality(self, participant: rtc.Participant, quality: rtc.ConnectionQuality) -> None:
        now = self._now()
        if quality == rtc.ConnectionQuality.QUALITY_LOST and now is not None:
            self.lost_at.setdefault(participant.identity, now)

    def _removed(self, participant: rtc.RemoteParticipant) -> None:
        now = self._now()
        if now is not None:
            self.removed_at.setdefault(participant.identity, now)


async def python_publisher(args: argparse.Namespace, identity: str) -> asyncio.subprocess.Process:
    script = Path(args.out) / "publisher.py"
    script.write_text(PUBLISHER)
    return await asyncio.create_subprocess_exec(
        sys.executable, str(script), args.url, args.key, args.secret, args.room, identity
    )


async def go_publisher(args: argparse.Namespace) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        args.go_publisher,
        *("-url", args.url, "-key", args.key, "-secret", args.secret, "-room", args.room),
        *("-identity", "G", "-talk", "1s", "-silent", f"{args.silent}s"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


async def read_until(process: asyncio.subprocess.Process, word: bytes) -> list[bytes]:
    """Read ``process``'s lines until one starts with ``word``; that line's words."""
    assert process.stdout is not None
    while line := await process.stdout.readline():
        if line.split()[:1] == [word]:
            return line.split()
    raise RuntimeError(f"the Go publisher ended without printing {word!r}")


async def main(args: argparse.Namespace) -> Result:
    async with participant(args, "B") as room_b, participant(args, "D") as room_d:
        idle_source = rtc.AudioSource(48_000, 1)
        idle_track = rtc.LocalAudioTrack.create_audio_track("idle", idle_source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await room_d.local_participant.publish_track(idle_track, options)
        server = ServerReports(room_b)
        watched = {who: Watched(room_b, who) for who in "CFGD"}
        unbounded = Receiver(lk.from_participant(room_b, "C"))
        killed, stopped = await python_publisher(args, "C"), await python_publisher(args, "F")
        silent = await go_publisher(args)
        try:
            await asyncio.gather(
                watched["C"].wait_for_audio(1.0),
                watched["F"].wait_for_audio(1.0),
                watched["G"].wait_for_audio(0.5),
            )
            await read_until(silent, b"talked")
            killed.send_signal(signal.SIGKILL)
            stopped.send_signal(signal.SIGSTOP)
            signalled_at = time.monotonic()
            assert silent.stdin is not None
            silent.stdin.write(b"go\n")  # G's silence starts now
            left_ns = int((await read_until(silent, b"leaving"))[1])
            left_at = time.monotonic() - (time.time() - left_ns / 1e9)  # on this clock
            g = await watched["G"].end(left_at, 5.0)
            assert watched["G"].first_at is not None
            g["presence"] = round(left_ns / 1e9 - watched["G"].first_at, 3)
            server.since = signalled_at
            c, f = await asyncio.gather(
                watched["C"].end(signalled_at, SERVER_TIMEOUT_S),
                watched["F"].end(signalled_at, SERVER_TIMEOUT_S),
            )
            unbounded_end = await unbounded.end_latency(signalled_at)
        finally:
            for process in (killed, stopped, silent):
                if process.returncode is None:
                    process.send_signal(signal.SIGCONT)
                    process.kill()
                await process.wait()
        idle = watched["D"]
        idle_open = not idle.receiver.task.done()
        idle.receiver.task.cancel()
        await asyncio.gather(idle.receiver.task, return_exceptions=True)
        await idle_source.aclose()
    for identity, result in (("C", c), ("F", f)):
        result["lost_at"] = server.lost_at.get(identity)
        result["removed_at"] = server.removed_at.get(identity)
    return {
        "silent": g,
        "killed": c,
        "stopped": f,
        "unbounded_end_after_killed": unbounded_end,
        "unbounded_seconds": round(unbounded.seconds, 3),
        "idle_open": idle_open,
        "idle_seconds": round(idle.receiver.seconds, 3),
        "bounded_file": watched["C"].receiver.save(args.out / "bounded.npy"),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--go-publisher", required=True, help="tests/silent_publisher binary")
    parser.add_argument("--silent", type=float, default=6.0, help="G's silence, seconds")


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
