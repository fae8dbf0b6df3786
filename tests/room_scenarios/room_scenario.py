"""What every room scenario shares: arguments, connecting participants, the JSON result.

Each scenario is a plain script run inside the test namespace by ``tests/test_rooms.py``:

    python SCENARIO.py --url ws://10.77.0.1:7880 --key K --secret S --room R --out DIR [...]

It uses lkframes only through its public API, writes received audio as ``.npy`` files
into ``--out`` and prints one JSON line of results (timings, formats, counts, file names),
which the test asserts on. A whole scenario runs under ``--timeout`` seconds, and every wait
inside it is bounded, so a hang shows up as a reported ``null`` latency, not a stuck test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc

import lkframes as lk

Result = dict[str, Any]

WAIT_S = 30.0
"""The longest any single wait for an event of a scenario lasts (a subscription, audio
arriving, a stream or task ending).

Only a guard against a hang, never a measurement: what a test judges is timed from the
event itself. An idle machine needs well under a second for each; on a busy one (two CPU
hogs beside the suite) a publisher's process took over 5 s to start, join and be
subscribed to, so the bound is generous.
"""

SCENARIO_S = 90.0
"""The default ``--timeout`` of a whole scenario (``LiveKitServer.scenario`` passes its own)."""


def parse_args(
    description: str, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """The common arguments (``--url --key --secret --room --out --timeout``) and extras."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for received audio")
    parser.add_argument("--timeout", type=float, default=SCENARIO_S, help="for the whole scenario")
    if add_arguments is not None:
        add_arguments(parser)
    return parser.parse_args()


def run(main: Callable[[argparse.Namespace], Awaitable[Result]], args: argparse.Namespace) -> None:
    """Run ``main(args)`` on asyncio within ``--timeout`` and print its result as JSON."""

    async def bounded() -> Result:
        async with asyncio.timeout(args.timeout):
            return await main(args)

    print(json.dumps(asyncio.run(bounded())), flush=True)


@asynccontextmanager
async def participant(args: argparse.Namespace, identity: str) -> AsyncIterator[rtc.Room]:
    """A participant ``identity`` connected to ``--room`` with `lkframes.connect`."""
    async with lk.connect(
        args.url, room=args.room, identity=identity, api_key=args.key, api_secret=args.secret
    ) as room:
        yield room


async def subscribed_track(
    room: rtc.Room, identity: str, within_s: float = WAIT_S
) -> rtc.RemoteAudioTrack:
    """The first audio track of ``identity`` that ``room`` subscribes to (within `WAIT_S`,
    or ``within_s``)."""
    found: asyncio.Future[rtc.RemoteAudioTrack] = asyncio.get_running_loop().create_future()

    def on_subscribed(
        track: rtc.Track, _: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant
    ) -> None:
        if (
            who.identity == identity
            and isinstance(track, rtc.RemoteAudioTrack)
            and not found.done()
        ):
            found.set_result(track)

    room.on("track_subscribed", on_subscribed)
    try:
        async with asyncio.timeout(within_s):
            return await found
    finally:
        room.off("track_subscribed", on_subscribed)


class Receiver:
    """Collects a stream's frames in a task and notes when it ends (monotonic seconds)."""

    def __init__(self, stream: lk.Stream[lk.AudioFrame]) -> None:
        self.frames: list[lk.AudioFrame] = []
        self.ended_at: float | None = None
        self.error: str | None = None
        self._stream = stream
        self._progress = asyncio.Event()
        self.task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        try:
            async with self._stream.open() as frames:
                async for frame in frames:
                    self.frames.append(frame)
                    self._progress.set()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.ended_at = time.monotonic()
            self._progress.set()

    @property
    def seconds(self) -> float:
        """Seconds of audio received so far."""
        if not self.frames:
            return 0.0
        return sum(f.samples_per_channel for f in self.frames) / self.frames[0].sample_rate

    async def wait_for_audio(self, seconds: float) -> None:
        """Wait (at most `WAIT_S`) until ``seconds`` of audio have arrived."""
        async with asyncio.timeout(WAIT_S):
            while self.seconds < seconds and not self.task.done():
                self._progress.clear()
                await self._progress.wait()

    async def end_latency(self, since: float) -> float | None:
        """Seconds from ``since`` until the stream ended, or None if it did not within
        `WAIT_S` (it is then cancelled)."""
        done, _ = await asyncio.wait({self.task}, timeout=WAIT_S)
        if not done:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            return None
        assert self.ended_at is not None
        return round(self.ended_at - since, 4)

    def summary(self) -> Result:
        """Formats, counts, pts continuity and duration of what arrived."""
        pts_ok = all(
            b.pts == a.pts + a.samples_per_channel
            for a, b in zip(self.frames, self.frames[1:], strict=False)
        )
        return {
            "formats": sorted({str(f.format) for f in self.frames}),
            "sample_rate": self.frames[0].sample_rate if self.frames else None,
            "frames": len(self.frames),
            "first_pts": self.frames[0].pts if self.frames else None,
            "pts_continuous": pts_ok,
            "seconds": round(self.seconds, 4),
            "error": self.error,
        }

    def save(self, path: Path) -> str:
        """Write the received samples (mono, int16) as ``.npy``; returns the path."""
        samples = (
            np.concatenate([f.data[:, 0] for f in self.frames])
            if self.frames
            else np.zeros(0, np.int16)
        )
        np.save(path, samples)
        return str(path)


async def publish_once_heard(
    room: rtc.Room, track: rtc.LocalTrack, options: rtc.TrackPublishOptions
) -> None:
    """Publish ``track`` and wait (at most `WAIT_S`) until another participant subscribed
    to it."""
    heard = asyncio.Event()
    room.on("local_track_subscribed", lambda *_: heard.set())
    await room.local_participant.publish_track(track, options)
    await asyncio.wait_for(heard.wait(), WAIT_S)


async def play_once_heard(room: rtc.Room, frames: Iterable[rtc.AudioFrame]) -> float:
    """Publish a 48 kHz mono microphone track, wait (at most `WAIT_S`) until another
    participant subscribed to it, capture ``frames`` in real time and wait for their
    playout; returns when the first was captured (``time.monotonic()``)."""
    source = rtc.AudioSource(48_000, 1, queue_size_ms=50)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    await publish_once_heard(room, track, options)
    first = 0.0
    for i, frame in enumerate(frames):
        await source.capture_frame(frame)
        if i == 0:
            first = time.monotonic()
    await source.wait_for_playout()
    await source.aclose()
    return first


async def run_part(args: list[str]) -> Result:
    """Run this script again with ``args`` (another participant's part, in a process of
    its own, as in a real call) and return the JSON it printed. It must exit with 0 (the
    SDK's abort at exit is avoided by lkframes, see ``livekit_server.finished``). Bounded
    by the scenario's ``--timeout``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        sys.argv[0],
        *sys.argv[1:],
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    stderr = err.decode(errors="replace")
    sys.stderr.write(stderr)
    if process.returncode != 0:
        raise RuntimeError(f"part {args} exited with {process.returncode}")
    result: Result = json.loads(out.decode().strip().splitlines()[-1])
    return result


def task_names(tasks: Iterable[asyncio.Task[Any]]) -> list[str]:
    """Names and coroutines of tasks, for reporting tasks left behind."""
    return sorted(f"{t.get_name()}: {t.get_coro()!r}" for t in tasks)
