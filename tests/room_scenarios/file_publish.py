"""A publishes an audio file with ``lk.from_file(path).publish(room, "file")``; B receives.

The file may have any rate and channel count (the test uses 44.1 kHz stereo): publish
resamples and remixes it to the source's 48 kHz mono. Saves ``received.npy`` in --out.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import lkframes as lk
from room_scenario import Receiver, Result, parse_args, participant, run


async def main(args: argparse.Namespace) -> Result:
    source = lk.from_file(args.file)
    async with participant(args, "B") as room_b:
        received = Receiver(lk.from_participant(room_b, "A"))
        async with participant(args, "A") as room_a:
            started = time.monotonic()
            sent = await source.publish(room_a, "file")
            wall = time.monotonic() - started
            left_at = time.monotonic()
            await room_a.disconnect()
        end = await received.end_latency(left_at)
    return received.summary() | {
        "file_format": str(source.format),
        "published_seconds": sent.duration,
        "published_format": str(sent.format),
        "wall_seconds": round(wall, 4),
        "end": end,
        "file": received.save(args.out / "received.npy"),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", type=Path, required=True, help="audio file to publish")


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
