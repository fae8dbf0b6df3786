"""A consumer that holds the GIL: do the SDK's own queues drop frames, and are they counted?

A (a separate process, so it keeps sending while B holds its GIL) publishes --seconds of a
microphone track (10 ms frames of a tone) and a camera track (30 fps). B reads both with
``from_participant`` and ``from_participant_video``, each with a `LiveStats` and through a
map that, at every 50th frame (``--hogs`` times), runs ``--hog-ms`` of C code that keeps
the GIL (a ``sum`` over a range: no Python bytecode runs, so no thread switch). Meanwhile
the SDK's native threads cannot hand frames over (their callback needs the GIL). After each
hold the video reader also awaits ``--video-pause`` seconds twice (a slow consumer, the loop
free): the frames that arrive meanwhile overflow ``max_queue_frames`` for certain, where the
hold alone overflows it only if the backlog comes faster than the reader takes it. Reports
both `LiveStats` and the SDK's log lines about dropped frames.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterable, Callable
from pathlib import Path
from typing import TypeVar

import lkframes as lk
from room_scenario import Result, parse_args, participant, run

T = TypeVar("T")

PUBLISHER = """
import asyncio, sys
import numpy as np
from livekit import rtc
import lkframes as lk

async def main(url, key, secret, room, seconds):
    async with lk.connect(url, room=room, identity="A", api_key=key, api_secret=secret) as r:
        camera = rtc.VideoSource(320, 240)
        track = rtc.LocalVideoTrack.create_video_track("camera", camera)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
        await r.local_participant.publish_track(track, options)
        picture = np.full((240, 320, 4), 128, np.uint8)

        async def film():
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(int(float(seconds) * 30)):
                frame = rtc.VideoFrame(320, 240, rtc.VideoBufferType.RGBA, picture.tobytes())
                camera.capture_frame(frame)
                await asyncio.sleep(max(0.0, start + (i + 1) / 30 - loop.time()))

        filming = asyncio.create_task(film())
        await lk.sine(440, float(seconds)).publish(r, "tone")
        await filming

asyncio.run(main(*sys.argv[1:]))
"""


class Lines(logging.Handler):
    """The SDK's log lines (forwarded to the "livekit" logger) that report dropped frames."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "overflow" in message or "dropped" in message:
            self.messages.append(message)


def hog(ms: float) -> None:
    """Keep the GIL about ``ms`` milliseconds (calibrated once)."""
    started = time.perf_counter()
    sum(range(1_000_000))
    per_million = time.perf_counter() - started
    sum(range(int(1_000_000 * ms / 1000 / per_million)))


def stalling(hog_ms: float, hogs: int) -> Callable[[T], T]:
    count = [0]

    def stall(frame: T) -> T:
        count[0] += 1
        if count[0] % 50 == 0 and count[0] <= 50 * hogs:
            hog(hog_ms)
        return frame

    return stall


async def slow_reader(frames: AsyncIterable[T], pauses: int, pause_s: float) -> list[T]:
    """Every frame of ``frames``, awaiting ``pause_s`` at every 20th frame, ``pauses`` times.

    Video arrives for about 2.5 s of the 4 (the first ~75 frames): at frames 20 and 40
    both pauses fall inside it, where at every 50th frame (the holds) the second did not.
    """
    got: list[T] = []
    async for frame in frames:
        got.append(frame)
        if len(got) % 20 == 0 and len(got) <= 20 * pauses:
            await asyncio.sleep(pause_s)
    return got


def counts(stats: lk.LiveStats, received: int) -> Result:
    return {
        "produced": stats.produced,
        "delivered": stats.delivered,
        "dropped": stats.dropped,
        "skipped": stats.skipped,
        "queued": stats.queued,
        "received": received,
    }


async def main(args: argparse.Namespace) -> Result:
    lines = Lines()
    logging.getLogger("livekit").addHandler(lines)
    script = Path(args.out) / "publisher.py"
    script.write_text(PUBLISHER)
    audio_stats, video_stats = lk.LiveStats(), lk.LiveStats()
    async with participant(args, "B") as room_b:
        audio = lk.from_participant(room_b, "A", stats=audio_stats)
        video = lk.from_participant_video(
            room_b, "A", stats=video_stats, max_queue_frames=args.video_queue
        )
        sounds, pictures, _ = await asyncio.gather(
            audio.map(stalling(args.hog_ms, args.hogs)).collect(),
            slow_reader(video.map(stalling(args.hog_ms, args.hogs)), args.hogs, args.video_pause),
            _publish(args, script),
        )
    return {
        "audio": counts(audio_stats, len(sounds)),
        "video": counts(video_stats, len(pictures)),
        "sdk_lines": lines.messages,
    }


async def _publish(args: argparse.Namespace, script: Path) -> None:
    """A's process, from start to end; B's streams end when it leaves."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), args.url, args.key, args.secret, args.room, str(args.seconds)
    )
    await process.wait()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--hog-ms", type=float, default=1000.0)
    parser.add_argument("--hogs", type=int, default=2, help="how many times")
    parser.add_argument("--video-queue", type=int, default=3, help="max_queue_frames")
    parser.add_argument("--video-pause", type=float, default=1.0, help="seconds, twice")


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
