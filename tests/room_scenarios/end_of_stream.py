"""B's receiving streams end, promptly, however A's audio goes away.

B reads A with ``lk.from_participant`` and ``lk.from_track``. ``--case``:

- ``unpublish``: A publishes 1 s, ``publish`` unpublishes; A stays 0.5 s, then leaves.
  ``from_track`` should end on the unpublish, ``from_participant`` only when A leaves.
- ``b_disconnects``: A publishes a long tone; after 0.5 s of it B's room disconnects.
- ``a_disconnects``: A publishes a long tone; after 0.5 s of it A's room disconnects
  while ``publish`` is still running (a dropped connection, not a clean unpublish).

Latencies are seconds from the event to the end of each stream, ``null`` if it did not end
within 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import lkframes as lk
from room_scenario import WAIT_S, Receiver, Result, parse_args, participant, run, subscribed_track

CASES = ("unpublish", "b_disconnects", "a_disconnects")


async def main(args: argparse.Namespace) -> Result:
    result: Result = {"case": args.case}
    seconds = 1.0 if args.case == "unpublish" else 10.0
    async with participant(args, "B") as room_b:
        track_task = asyncio.create_task(subscribed_track(room_b, "A"))
        by_participant = Receiver(lk.from_participant(room_b, "A"))
        async with participant(args, "A") as room_a:
            publishing = asyncio.create_task(lk.sine(440, seconds).publish(room_a, "tone"))
            by_track = Receiver(lk.from_track(await track_task))
            await by_participant.wait_for_audio(0.5)
            if args.case == "unpublish":
                await publishing
                unpublished_at = time.monotonic()
                result["track_end"] = await by_track.end_latency(unpublished_at)
                await asyncio.sleep(0.5)
                result["participant_stream_open_after_unpublish"] = not by_participant.task.done()
                left_at = time.monotonic()
                await room_a.disconnect()
                result["participant_end"] = await by_participant.end_latency(left_at)
            else:
                disconnected_at = time.monotonic()
                await (room_b if args.case == "b_disconnects" else room_a).disconnect()
                result["disconnect_call"] = round(time.monotonic() - disconnected_at, 4)
                result["track_end"] = await by_track.end_latency(disconnected_at)
                result["participant_end"] = await by_participant.end_latency(disconnected_at)
                if args.case == "a_disconnects":
                    done, _ = await asyncio.wait({publishing}, timeout=WAIT_S)
                    result["publish_end"] = (
                        round(time.monotonic() - disconnected_at, 4) if done else None
                    )
                publishing.cancel()
                (outcome,) = await asyncio.gather(publishing, return_exceptions=True)
                result["publish_outcome"] = (
                    f"{type(outcome).__name__}: {outcome}"
                    if isinstance(outcome, BaseException)
                    else f"{outcome.duration:.2f} s published"
                )
    result["by_participant"] = by_participant.summary()
    result["by_track"] = by_track.summary()
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", choices=CASES, required=True)


if __name__ == "__main__":
    run(main, parse_args(__doc__ or "", add_arguments))
