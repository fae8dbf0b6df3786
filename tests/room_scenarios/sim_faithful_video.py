"""The simulated camera's yardstick: a camera played through livekit-server by real clients.

A (a process of its own, this script with ``--publisher``) joins, publishes a 320x240
camera at `FPS` and, once R subscribed, sends `FRAMES` frames with lkframes
(``from_video_frames(...).to_source(source)``), each showing its index as a binary code
of big grey squares (`picture`, read back by `index_of`: it survives VP8), then leaves
`TAIL_S` later. R reads A with ``from_participant_video`` until the stream ends.

Returns, on the machine's monotonic clock (``CLOCK_MONOTONIC``, one for every process):
when A joined, handed its first frame to LiveKit (frame ``k`` goes ``k / FPS`` later)
and began to leave; and from R: per frame received, its index, its ``timestamp_us`` (when
WebRTC shows it) and when it reached R's code, who joined, when the last
``participant_disconnected`` came and when the stream ended.
``tests/livekit/test_sim_faithful_video.py`` plays the same script, with the times that
really happened, through a `SimulatedRoom` and compares.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np
from livekit import rtc

import lkframes as lk
from room_scenario import (
    WAIT_S,
    Result,
    parse_args,
    participant,
    publish_once_heard,
    run,
    run_part,
)

WIDTH, HEIGHT = 320, 240
FPS = 30
FRAMES = 75  # 2.5 s
TAIL_S = 0.3
SQUARE = 80  # pixels: a 4 x 3 grid of squares, one bit each (frames 0 to 4095)
DARK, LIGHT = 48, 208  # the two greys (never black: black frames are WebRTC's own)
BITRATE = 150_000  # what publish_media asks for at this size and rate


def picture(index: int) -> np.ndarray:
    """Frame ``index`` (RGBA): bit ``b`` of the index is the grey of square ``b`` (row
    by row), so VP8's loss, which blurs edges, never changes a square's middle."""
    bits = (index >> np.arange(12)) & 1
    greys = np.where(bits.reshape(3, 4) == 1, LIGHT, DARK).astype(np.uint8)
    plane = np.kron(greys, np.ones((SQUARE, SQUARE), np.uint8))
    rgba = np.empty((HEIGHT, WIDTH, 4), np.uint8)
    rgba[..., :3] = plane[..., None]
    rgba[..., 3] = 255
    return rgba


def camera() -> np.ndarray:
    """All the frames A sends, shaped (FRAMES, HEIGHT, WIDTH, 4)."""
    return np.stack([picture(k) for k in range(FRAMES)])


def index_of(frame: lk.VideoFrame) -> int | None:
    """The index an I420 frame shows, or None if a square's middle is neither grey."""
    luma = frame.data[: WIDTH * HEIGHT].reshape(HEIGHT, WIDTH).astype(np.int32)
    quarter = SQUARE // 4
    middles = luma.reshape(3, SQUARE, 4, SQUARE)[:, quarter:-quarter, :, quarter:-quarter]
    means = middles.mean(axis=(1, 3)).ravel()
    low, high = 16 + 219 * DARK / 255, 16 + 219 * LIGHT / 255  # limited-range luma
    if np.any(np.abs(means - (low + high) / 2) < (high - low) / 4):
        return None
    return int(((means > (low + high) / 2) << np.arange(12)).sum())


async def publisher(args: argparse.Namespace) -> Result:
    await asyncio.sleep(max(0.0, args.zero - time.monotonic()))
    async with participant(args, "A") as room:
        joined = time.monotonic()
        source = rtc.VideoSource(WIDTH, HEIGHT)
        track = rtc.LocalVideoTrack.create_video_track("camera", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
        options.video_encoding.max_framerate = FPS  # LiveKit's preset: 15 fps at 240p
        options.video_encoding.max_bitrate = BITRATE
        await publish_once_heard(room, track, options)
        taken: list[float] = []  # frame k+1 is taken just after frame k was handed over
        frames = (
            lk.VideoFrame(p, timestamp_us=round(k * 1e6 / FPS)) for k, p in enumerate(camera())
        )
        await (
            lk.from_video_frames(frames)
            .tap(lambda _: taken.append(time.monotonic()))
            .to_source(source)
        )
        handed = [*taken[1:], time.monotonic()]
        await asyncio.sleep(TAIL_S)
        await source.aclose()
        left = time.monotonic()
    late = [at - (taken[0] + k / FPS) for k, at in enumerate(handed)]
    return {
        "joined": joined,
        "first": taken[0],
        "left": left,
        "late_max": max(late),
        "handed": handed,
    }


async def watched(room: rtc.Room) -> Result:
    """Read A with ``from_participant_video`` until the stream ends: per frame its index,
    ``timestamp_us`` and arrival, who joined, when A left and when the stream ended, in
    seconds on the event loop's clock (``time.monotonic()`` on asyncio's own loop, the
    virtual one under a simulated room)."""
    loop = asyncio.get_running_loop()
    joined: list[str] = []
    gone: list[float] = []
    room.on("participant_connected", lambda who: joined.append(who.identity))
    room.on("participant_disconnected", lambda _: gone.append(loop.time()))
    stream = lk.from_participant_video(room, "A", pixel_format="i420")
    frames = [[index_of(f), f.timestamp_us / 1e6, loop.time()] async for f in stream]
    return {"frames": frames, "ended": loop.time(), "last_gone": max(gone), "joined": joined}


async def ticking(ticks: list[tuple[float, float]]) -> None:
    """Wake every 5 ms and note when each wake-up was due and when it came: how long this
    process's event loop was held up (a loaded machine), the control for the end's timing."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + 0.005
        await asyncio.sleep(0.005)
        ticks.append((due, loop.time()))


def held_up(ticks: list[tuple[float, float]], since: float, until: float) -> float:
    """The longest the loop was held up between ``since`` and ``until``, in seconds."""
    return max((came - due for due, came in ticks if came >= since and due <= until), default=0)


async def main(args: argparse.Namespace) -> Result:
    ticks: list[tuple[float, float]] = []
    async with participant(args, "R") as room_r:
        ticker = asyncio.create_task(ticking(ticks))
        watching = asyncio.create_task(watched(room_r))
        sent = await run_part(["--publisher", "--zero", str(time.monotonic() + 0.2)])
        seen = await asyncio.wait_for(watching, WAIT_S)
        ticker.cancel()
    lag = held_up(ticks, seen["last_gone"], seen["ended"])
    return {"sent": sent, "loop_held_up": lag} | seen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--publisher", action="store_true", help="play A's part")
    parser.add_argument("--zero", type=float, help="the monotonic time A joins at")


if __name__ == "__main__":
    parsed = parse_args(__doc__ or "", add_arguments)
    run(publisher if parsed.publisher else main, parsed)
