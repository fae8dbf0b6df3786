"""B records A with ``lk.from_participant(...).to_file(path)`` while A publishes 1.5 s.

The recording ends by itself when A leaves. Writes ``recording.wav`` in --out.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import lkframes as lk
from room_scenario import WAIT_S, Result, parse_args, participant, run


async def main(args: argparse.Namespace) -> Result:
    path = args.out / "recording.wav"
    async with participant(args, "B") as room_b:
        recording = asyncio.create_task(
            lk.from_participant(room_b, "A").to_file(path, overwrite=True)
        )
        async with participant(args, "A") as room_a:
            sent = await lk.sine(440, 1.5).publish(room_a, "tone")
            left_at = time.monotonic()
            await room_a.disconnect()
        done, _ = await asyncio.wait({recording}, timeout=WAIT_S)
        end = round(time.monotonic() - left_at, 4) if done else None
        recording.cancel()
        written = await recording if done else None
    return {
        "sent_seconds": sent.duration,
        "end": end,
        "written_seconds": None if written is None else written.duration,
        "written_format": None if written is None else str(written.format),
        "file": str(path),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
