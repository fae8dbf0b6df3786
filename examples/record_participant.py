"""Record a participant's microphone in a LiveKit room to an audio file.

    python examples/record_participant.py alice alice.wav --room demo
    python examples/record_participant.py alice alice.flac --room demo --seconds 30

Waits for ``alice`` to publish, then writes their audio (48 kHz mono 16-bit by default)
until they leave the room, or until --seconds of their audio are saved, or until Ctrl-C.
Follows them across re-publishes (a track unpublished and published again is one
recording; the time between is not in the file). The file is valid however the recording
ends; its format follows the extension (.wav, .flac, .ogg, ...).

The server and credentials come from --url / --api-key / --api-secret or, as with the
LiveKit CLI, from LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

import lkframes as lk


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Record a participant's audio in a LiveKit room to a file."
    )
    parser.add_argument("participant", help="identity of the participant to record")
    parser.add_argument("output", type=Path, help="file to write (.wav, .flac, ...)")
    parser.add_argument("--room", required=True, help="room name")
    parser.add_argument("--seconds", type=float, help="stop after this much of their audio")
    parser.add_argument("--sample-rate", type=int, default=48_000, help="default: 48000")
    parser.add_argument("--identity", default="recorder", help="the recorder's own identity")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.add_argument("--url", default=os.environ.get("LIVEKIT_URL"), help="$LIVEKIT_URL")
    parser.add_argument(
        "--api-key", default=os.environ.get("LIVEKIT_API_KEY"), help="$LIVEKIT_API_KEY"
    )
    parser.add_argument(
        "--api-secret", default=os.environ.get("LIVEKIT_API_SECRET"), help="$LIVEKIT_API_SECRET"
    )
    return parser.parse_args(argv)


async def record(args: argparse.Namespace) -> lk.RunSummary:
    """Record until the participant leaves or --seconds of their audio are saved."""
    async with lk.connect(
        args.url,
        room=args.room,
        identity=args.identity,
        api_key=args.api_key,
        api_secret=args.api_secret,
    ) as room:
        print(f"recording {args.participant} in room {args.room!r} to {args.output}", flush=True)
        audio = lk.from_participant(room, args.participant, sample_rate=args.sample_rate)
        if args.seconds is not None:
            audio = audio.take(samples=round(args.seconds * args.sample_rate))
        return await audio.to_file(args.output, overwrite=args.overwrite)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        summary = asyncio.run(record(args))
    except KeyboardInterrupt:
        print("stopped", flush=True)  # the file, if any audio came, is complete
        return 130
    limit = "" if args.seconds is None else f" (--seconds {args.seconds:g})"
    print(f"saved {summary.duration:.2f} s of {args.participant}{limit}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
