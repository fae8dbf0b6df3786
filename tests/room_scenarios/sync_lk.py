"""The lkframes side of the A/V sync runs against the Go SDK (tests/sync_rounds.py).

--mode record: B and C record --from (the Go publisher) with ``record_participant``, to
``record.mp4`` and ``record.webm`` in --out. Prints ``{"event": "ready"}`` once both have
joined (the Go publisher is started then); ends when the publisher has left.

--mode publish: R records --from to ``lk.mp4`` with ``record_participant`` (lkframes ->
lkframes), then --from joins and publishes --clip with ``publish_media``. The Go subscriber
already in the room receives the same publishing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=["record", "publish"], required=True)
    parser.add_argument("--from", dest="publisher", required=True)
    parser.add_argument("--clip", type=Path)


async def _finish(recordings: dict[str, asyncio.Task[lk.MediaSummary]]) -> dict[str, str]:
    done, _ = await asyncio.wait(recordings.values(), timeout=WAIT_S)
    outcome = {}
    for name, task in recordings.items():
        if task not in done:
            task.cancel()
        result = await asyncio.gather(task, return_exceptions=True)
        outcome[name] = type(result[0]).__name__
    return outcome


async def record(args: argparse.Namespace) -> Result:
    paths = {ext: args.out / f"record.{ext}" for ext in ("mp4", "webm")}
    async with participant(args, "lk-rec-mp4") as room_b, participant(args, "lk-rec-webm") as c:
        recordings = {
            ext: asyncio.create_task(lk.record_participant(room, args.publisher, path))
            for (ext, path), room in zip(paths.items(), (room_b, c), strict=True)
        }
        left = asyncio.Event()
        room_b.on(
            "participant_disconnected",
            lambda who: left.set() if who.identity == args.publisher else None,
        )
        print('{"event": "ready"}', flush=True)
        await left.wait()  # the Go publisher has left (the recordings end by themselves)
        outcome = await _finish(recordings)
    return {"files": {ext: str(path) for ext, path in paths.items()}, "outcome": outcome}


async def publish(args: argparse.Namespace) -> Result:
    path = args.out / "lk.mp4"
    async with participant(args, "lk-rec") as room_r:
        recordings = {
            "mp4": asyncio.create_task(lk.record_participant(room_r, args.publisher, path))
        }
        async with participant(args, args.publisher) as room_a:
            started = time.monotonic()
            sent = await lk.publish_media(room_a, args.clip, name="clip")
            ended = time.monotonic()
            await asyncio.sleep(0.5)  # the last packets reach the subscribers
        outcome = await _finish(recordings)
    return {
        "files": {"mp4": str(path)},
        "outcome": outcome,
        "publish_started": started,
        "publish_ended": ended,
        "video_frames": sent.video_frames,
    }


async def main(args: argparse.Namespace) -> Result:
    return await (record(args) if args.mode == "record" else publish(args))


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
