"""Stopping media mid-way: a cancelled ``publish_media``, a cancelled ``record_participant``
and a participant who leaves while recorded.

A publishes --clip with ``publish_media``; B records A into ``left.mkv`` until A leaves;
C records A into ``cancelled.mp4`` and that recording is cancelled 1.5 s in. A's publish
is cancelled 2.5 s in (A stays), then A leaves. Reports A's publications after the
cancel, when B saw A's tracks unpublished, both recordings' outcome, and what lkframes
still holds open at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from livekit import rtc

import lkframes as lk
from lkframes.testing import open_resources
from room_scenario import WAIT_S, Result, parse_args, participant, run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip", type=Path, required=True)


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
        async with participant(args, "A") as room_a:
            publishing = asyncio.create_task(lk.publish_media(room_a, args.clip, name="clip"))
            await asyncio.sleep(2.5)
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
        "open_resources": open_resources(),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
