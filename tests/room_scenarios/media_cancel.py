"""Stopping media mid-way: a cancelled ``publish_media``, a cancelled ``record_participant``
and a participant who leaves while recorded.

A publishes --clip with ``publish_media``; B records A into ``left.mkv`` until A leaves;
C records A into ``cancelled.mp4`` and that recording is cancelled once C has received
`BEFORE_CANCEL_S` of both audio and video. A's publish is cancelled 1.5 s later (A stays),
then A leaves. Reports A's publications after the cancel, when B saw A's tracks
unpublished, both recordings' outcome, what B and C received (a plain SDK listener beside
each recording: each subscriber gets its own first key frame) in all and before the
cancel, and what lkframes still holds open at the end.

The cancel waits for what C received, not for a time: on a busy machine subscribing and
the first key frame take seconds, not the 0.8 s they take on an idle one.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import numpy as np
from livekit import rtc

import lkframes as lk
from lkframes.testing import open_resources
from room_scenario import WAIT_S, Result, parse_args, participant, run

BEFORE_CANCEL_S = 1.5
"""Audio and video C must have received before its recording is cancelled."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip", type=Path, required=True)


class Received:
    """What a room receives of A, counted by plain SDK loops: audio seconds, and the span
    of video timestamps (the clock `record_participant` places video by) from the first
    frame to the last that is not black.

    A remote video stream of lkframes holds black frames back until a picture follows and
    drops them at its end (WebRTC makes some up after an unpublish): up to 15 of the clip's
    own black frames after its last flash may go with them."""

    def __init__(self, room: rtc.Room) -> None:
        self.audio_samples = 0
        self.video_us: list[int] = []
        self.picture_us: int | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self._progress = asyncio.Event()
        room.on("track_subscribed", self._subscribed)

    def _subscribed(self, track: rtc.Track, *_: object) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            stream = rtc.AudioStream(track, sample_rate=48_000, num_channels=1)
            self.tasks.append(asyncio.create_task(self._audio(stream)))
        else:
            self.tasks.append(asyncio.create_task(self._video(rtc.VideoStream(track))))

    async def _audio(self, stream: rtc.AudioStream) -> None:
        async for event in stream:
            self.audio_samples += np.frombuffer(event.frame.data, np.int16).size
            self._progress.set()

    async def _video(self, stream: rtc.VideoStream) -> None:
        async for event in stream:
            frame = event.frame
            luma = np.frombuffer(frame.data, np.uint8)[: frame.width * frame.height]
            if float(luma.mean()) > 128:  # a flash
                self.picture_us = event.timestamp_us
            self.video_us.append(event.timestamp_us)
            self._progress.set()

    def seconds(self) -> dict[str, float]:
        """Audio seconds, video span (to the last frame) and video span to the last flash
        received so far."""
        first = self.video_us[0] if self.video_us else 0
        video = self.video_us[-1] - first if self.video_us else 0
        pictures = self.picture_us - first if self.picture_us is not None else 0
        return {
            "audio_s": round(self.audio_samples / 48_000, 3),
            "video_s": round(video / 1e6, 3),
            "to_last_flash_s": round(pictures / 1e6, 3),
        }

    async def wait_for(self, seconds: float) -> None:
        """Until both audio and video reach ``seconds`` (at most `WAIT_S`)."""
        async with asyncio.timeout(WAIT_S):
            while min(self.seconds()[kind] for kind in ("audio_s", "video_s")) < seconds:
                self._progress.clear()
                await self._progress.wait()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def main(args: argparse.Namespace) -> Result:
    unpublished: list[float] = []
    async with participant(args, "B") as room_b, participant(args, "C") as room_c:

        @room_b.on("track_unpublished")
        def on_unpublished(_: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant) -> None:
            if who.identity == "A":
                unpublished.append(time.monotonic())

        left = asyncio.create_task(lk.record_participant(room_b, "A", args.out / "left.mkv"))
        cancelled = asyncio.create_task(
            lk.record_participant(room_c, "A", args.out / "cancelled.mp4")
        )
        received_b, received = Received(room_b), Received(room_c)
        async with participant(args, "A") as room_a:
            publish_at = time.monotonic()
            publishing = asyncio.create_task(lk.publish_media(room_a, args.clip, name="clip"))
            await received.wait_for(BEFORE_CANCEL_S)
            before_cancel = received.seconds()
            recording_cancel_at = time.monotonic() - publish_at
            cancelled.cancel()
            recording_cancel = await asyncio.gather(cancelled, return_exceptions=True)
            await asyncio.sleep(1.5)
            cancel_at = time.monotonic()
            publishing.cancel()
            (publish_outcome,) = await asyncio.gather(publishing, return_exceptions=True)
            cancel_took = time.monotonic() - cancel_at
            published_after = len(room_a.local_participant.track_publications)
            await asyncio.sleep(0.5)
        done, _ = await asyncio.wait({left}, timeout=WAIT_S)
        left_outcome = (await asyncio.gather(left, return_exceptions=True))[0] if done else None
        in_all = received_b.seconds()
        await received.close()
        await received_b.close()
    await asyncio.sleep(0.1)
    return {
        "publish_outcome": type(publish_outcome).__name__,
        "cancel_took": round(cancel_took, 4),
        "published_after": published_after,
        "unpublished_after": [round(t - cancel_at, 4) for t in unpublished],
        "cancelled_recording": type(recording_cancel[0]).__name__,
        "cancelled_detail": repr(recording_cancel[0])[:2000],
        "left_recording": None if left_outcome is None else type(left_outcome).__name__,
        "left_frames": getattr(left_outcome, "video_frames", None),
        "recording_cancelled_at": round(recording_cancel_at, 3),
        "c_received_before_cancel": before_cancel,
        "b_received_in_all": in_all,
        "open_resources": open_resources(),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
