"""A publishes 2 s of blue 320x240 video, unpublishes it, waits, publishes 2 s of red and
leaves; B reads A with ``from_participant_video`` in two pixel formats.

When a video track is unpublished, the subscriber's WebRTC delivers a few frames of pure
black that A never sent; they must not reach B's stream. Returns the mean colour and the
time of every frame B received.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import numpy as np
from livekit import rtc

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, run

BLUE = (30, 30, 220)
RED = (220, 30, 30)


async def send(room: rtc.Room, colour: tuple[int, int, int], frames: int) -> None:
    """Publish a camera track of one colour for ``frames`` frames at 25 fps, unpublish."""
    source = rtc.VideoSource(320, 240)
    track = rtc.LocalVideoTrack.create_video_track("cam", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
    publication = await room.local_participant.publish_track(track, options)
    pixels = np.empty((240, 320, 4), np.uint8)
    pixels[:] = (*colour, 255)
    frame = rtc.VideoFrame(320, 240, rtc.VideoBufferType.RGBA, pixels.tobytes())
    for _ in range(frames):
        source.capture_frame(frame)
        await asyncio.sleep(0.04)
    await room.local_participant.unpublish_track(publication.sid)
    await source.aclose()


async def main(args: argparse.Namespace) -> Result:
    seen: dict[str, list[Any]] = {"rgb24": [], "i420": []}
    async with participant(args, "B") as room_b:

        async def watch(pixel_format: Any) -> None:
            frames = lk.from_participant_video(room_b, "A", pixel_format=pixel_format)
            async for frame in frames:
                rgb = frame if pixel_format == "rgb24" else frame.convert("rgb24")
                colour = rgb.data.mean(axis=(0, 1)).round().tolist()
                seen[pixel_format].append([frame.timestamp_us, colour])

        watchers = [asyncio.create_task(watch(p)) for p in seen]
        async with participant(args, "A") as room_a:
            await send(room_a, BLUE, 50)
            await asyncio.sleep(0.5)
            await send(room_a, RED, 50)
            await asyncio.sleep(0.3)
        await asyncio.wait_for(asyncio.gather(*watchers), WAIT_S)
    return {"seen": seen}


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
