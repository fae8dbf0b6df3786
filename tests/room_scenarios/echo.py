"""The echo logic of ``examples/echo_agent.py`` (``echo(room, identity)``) against a server.

Participant E runs ``echo(room_e, "A")``; A publishes 1.5 s of 440 Hz and leaves; B reads
E's echo track with ``lk.from_participant(room_b, "E")``. Saves ``echo.npy`` (48 kHz).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import lkframes as lk
from room_scenario import WAIT_S, Receiver, Result, parse_args, participant, run, subscribed_track

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from echo_agent import ECHO_TRACK, echo


async def main(args: argparse.Namespace) -> Result:
    async with participant(args, "E") as room_e, participant(args, "B") as room_b:
        echo_track = asyncio.create_task(subscribed_track(room_b, "E"))
        echoing = asyncio.create_task(echo(room_e, "A"))
        heard = Receiver(lk.from_participant(room_b, "E"))
        async with participant(args, "A") as room_a:
            sent = await lk.sine(440, 1.5).publish(room_a, "voice")
            left_at = time.monotonic()
            await room_a.disconnect()
        done, _ = await asyncio.wait({echoing}, timeout=WAIT_S)
        echo_end = round(time.monotonic() - left_at, 4) if done else None
        echoing.cancel()
        (echoed,) = await asyncio.gather(echoing, return_exceptions=True)
        track_name = (await echo_track).name
        await room_e.disconnect()  # E leaves: B's stream of E ends
        heard_end = await heard.end_latency(left_at)
    return heard.summary() | {
        "sent_seconds": sent.duration,
        "echo_track": track_name,
        "expected_track": ECHO_TRACK,
        "echoed": f"{type(echoed).__name__}: {echoed}"
        if isinstance(echoed, BaseException)
        else echoed.duration,
        "echo_end": echo_end,
        "heard_end": heard_end,
        "file": heard.save(args.out / "echo.npy"),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
