"""Live latency through the server: A plays a click every 250 ms; B reads A's track at
once with a plain ``rtc.AudioStream`` loop and with ``from_track → resample(16k,
quality=Q) → chunk(20 ms)`` for several qualities, and notes when each click comes out.

Returns, per quality, how many ms each click trails the plain loop's arrival.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import numpy as np
from livekit import rtc

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, run, subscribed_track

RATE = 48_000
CLICKS = 12
EVERY_S = 0.25
QUALITIES = ("VHQ", "HQ", "LQ", "QQ")
SUBSCRIBED = "subscribed at 16k"
"""``from_track(track, sample_rate=16_000).chunk(ms=20)``: LiveKit resamples, not soxr."""


async def play_clicks(room: rtc.Room) -> None:
    """A track of silence with a 10-sample click every `EVERY_S`, in 10 ms frames."""
    source = rtc.AudioSource(RATE, 1, queue_size_ms=100)
    track = rtc.LocalAudioTrack.create_audio_track("clicks", source)
    await room.local_participant.publish_track(
        track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    )
    silence = np.zeros(480, np.int16)
    click = silence.copy()
    click[100:110] = 30_000
    per_click = round(EVERY_S * 100)
    await asyncio.sleep(1.0)  # the subscriber is reading before the first click
    for n in range((CLICKS + 3) * per_click):
        data = click if n % per_click == per_click // 2 else silence
        await source.capture_frame(rtc.AudioFrame(data.tobytes(), RATE, 1, 480))
    await source.wait_for_playout()
    await source.aclose()


async def main(args: argparse.Namespace) -> Result:
    arrivals: dict[str, list[float]] = {"plain": [], SUBSCRIBED: [], **{q: [] for q in QUALITIES}}
    async with participant(args, "B") as room_b, participant(args, "A") as room_a:
        playing = asyncio.create_task(play_clicks(room_a))
        track = await subscribed_track(room_b, "A")

        async def plain() -> None:
            stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1)
            async for event in stream:
                if np.abs(np.frombuffer(event.frame.data, np.int16)).max() > 8_000:
                    arrivals["plain"].append(time.monotonic())
                    if len(arrivals["plain"]) == CLICKS:
                        break
            await stream.aclose()

        async def pipeline(quality: Any) -> None:
            if quality == SUBSCRIBED:
                frames = lk.from_track(track, sample_rate=16_000).chunk(ms=20)
            else:
                frames = lk.from_track(track).resample(16_000, quality=quality).chunk(ms=20)
            async with frames.open() as items:
                async for frame in items:
                    if np.abs(frame.data).max() > 4_000:
                        arrivals[quality].append(time.monotonic())
                        if len(arrivals[quality]) == CLICKS:
                            break

        readers = [plain(), pipeline(SUBSCRIBED), *(pipeline(q) for q in QUALITIES)]
        await asyncio.wait_for(asyncio.gather(*readers), WAIT_S + CLICKS * EVERY_S)
        await playing
    plain_at = arrivals["plain"]
    return {
        "clicks": {k: len(v) for k, v in arrivals.items()},
        "added_ms": {q: _added(plain_at, arrivals[q]) for q in (*QUALITIES, SUBSCRIBED)},
    }


def _added(plain: list[float], ours: list[float]) -> list[float]:
    """ms from each click's plain arrival to this path's: paired by nearness (clicks are
    250 ms apart), so a path that started reading a click later is not off by one."""
    return [round((b - min(plain, key=lambda a: abs(b - a))) * 1000, 2) for b in ours]


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
