"""A publishes 2 s of blue 320x240 video at 25 fps with ``lk.publish_video``, then
leaves; B reads A with ``from_participant_video``.

Returns what ``publish_video`` said it sent, what A still had published after it returned,
and the size and mean colour of every frame B received.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import numpy as np

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, run

BLUE = (30, 30, 220)
FRAMES = 50


def blue_frames() -> list[lk.VideoFrame]:
    """2 s at 25 fps of one blue picture (RGBA)."""
    pixels = np.empty((240, 320, 4), np.uint8)
    pixels[:] = (*BLUE, 255)
    return [lk.VideoFrame(pixels, timestamp_us=k * 40_000) for k in range(FRAMES)]


async def main(args: argparse.Namespace) -> Result:
    seen: list[Any] = []
    async with participant(args, "B") as room_b:

        async def watch() -> None:
            async for frame in lk.from_participant_video(room_b, "A", pixel_format="rgb24"):
                colour = frame.data.mean(axis=(0, 1)).round().tolist()
                seen.append([frame.width, frame.height, colour])

        watcher = asyncio.create_task(watch())
        async with participant(args, "A") as room_a:
            sent = await lk.publish_video(lk.from_video_frames(blue_frames()), room_a, "cam")
            left = list(room_a.local_participant.track_publications)
            await asyncio.sleep(0.3)
        await asyncio.wait_for(watcher, WAIT_S)
    return {"sent": sent.frames, "left_published": left, "seen": seen}


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
