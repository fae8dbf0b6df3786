"""A publishes the flash-and-beep clip with ``publish_media``; B records A with
``record_participant``; C listens with plain SDK loops (``rtc.AudioStream`` and
``rtc.VideoStream``, no lkframes) and notes when each beep and flash arrives.

--clip is the MP4 to publish (made by the test); the recording is ``recording.EXT`` in
--out (--ext). C's arrival times are returned in seconds on its monotonic clock.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc

import lkframes as lk
from lkframes.testing import open_resources
from room_scenario import WAIT_S, Result, parse_args, participant, run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip", type=Path, required=True)
    parser.add_argument("--ext", default="mkv")


class PlainListener:
    """C: the SDK's own streams, read in plain loops, as a LiveKit user writes them."""

    def __init__(self, room: rtc.Room) -> None:
        self.beeps: list[float] = []
        self.flashes: list[float] = []
        self.video_sizes: set[tuple[int, int]] = set()
        self.video_frames = 0
        self.tasks: list[asyncio.Task[None]] = []
        room.on("track_subscribed", self._subscribed)

    def _subscribed(self, track: rtc.Track, *_: Any) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            self.tasks.append(asyncio.create_task(self._audio(rtc.AudioStream(track))))
        else:
            self.tasks.append(asyncio.create_task(self._video(rtc.VideoStream(track))))

    async def _audio(self, stream: rtc.AudioStream) -> None:
        loud_before = False
        async for event in stream:
            arrived = time.monotonic()
            samples = np.frombuffer(event.frame.data, np.int16)
            loud = np.flatnonzero(np.abs(samples) > 3_000)
            if loud.size and not loud_before:  # the first loud sample of a beep
                rate = event.frame.sample_rate
                self.beeps.append(arrived - (samples.size - loud[0]) / rate)
            loud_before = bool(loud.size)

    async def _video(self, stream: rtc.VideoStream) -> None:
        bright_before = False
        async for event in stream:
            frame = event.frame
            self.video_sizes.add((frame.width, frame.height))
            self.video_frames += 1
            luma = np.frombuffer(frame.data, np.uint8)[: frame.width * frame.height]
            bright = float(luma.mean()) > 128
            if bright and not bright_before:
                self.flashes.append(event.timestamp_us / 1e6)
            bright_before = bright

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def main(args: argparse.Namespace) -> Result:
    path = args.out / f"recording.{args.ext}"
    async with participant(args, "B") as room_b, participant(args, "C") as room_c:
        listener = PlainListener(room_c)
        recording = asyncio.create_task(lk.record_participant(room_b, "A", path))
        async with participant(args, "A") as room_a:
            started = time.monotonic()
            sent = await lk.publish_media(room_a, args.clip, name="clip")
            wall = time.monotonic() - started
            await asyncio.sleep(0.5)  # the last packets reach C
        done, _ = await asyncio.wait({recording}, timeout=WAIT_S)
        recorded = await recording if done else None
        await listener.close()
    await asyncio.sleep(0.1)  # the rooms' own tasks wind down
    return {
        "sent": {
            "audio_seconds": sent.audio.duration if sent.audio else None,
            "video_frames": sent.video_frames,
            "video_size": sent.video_size,
            "wall_seconds": round(wall, 3),
        },
        "recorded": None
        if recorded is None
        else {"video_frames": recorded.video_frames, "video_size": recorded.video_size},
        "file": str(path),
        "open_resources": open_resources(),
        "plain": {
            "beeps": listener.beeps,
            "flashes": listener.flashes,
            "video_sizes": sorted(listener.video_sizes),
            "video_frames": listener.video_frames,
        },
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
