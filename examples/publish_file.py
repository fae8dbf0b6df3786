"""Publish a local audio file to a LiveKit room as an audio track, in real time.

    python examples/publish_file.py speech.wav --room demo
    python examples/publish_file.py music.flac --room demo --wait-for alice --track music

Any file lkframes reads (WAV, FLAC, OGG, MP3, m4a, ...), at any rate and channel count: it
is resampled and mixed down to 48 kHz mono, WebRTC's format, on the way. The track is
unpublished when the file ends (or on Ctrl-C).

The server and credentials come from --url / --api-key / --api-secret or, as with the
LiveKit CLI, from LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET. Making a token from a
key needs ``pip install 'lkframes[room]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from livekit import rtc

import lkframes as lk


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Publish a local audio file to a LiveKit room as an audio track."
    )
    parser.add_argument("file", type=Path, help="audio file to play into the room")
    parser.add_argument("--room", required=True, help="room name")
    parser.add_argument("--identity", default="file-player", help="participant identity")
    parser.add_argument("--track", default="file", help="track name (default: file)")
    parser.add_argument(
        "--wait-for",
        metavar="IDENTITY",
        help="start playing only once this participant is in the room (the server announces"
        " a participant that publishes nothing up to 3 s after it joins)",
    )
    parser.add_argument(
        "--wait-timeout", type=float, default=60.0, help="seconds to wait for --wait-for"
    )
    parser.add_argument("--url", default=os.environ.get("LIVEKIT_URL"), help="$LIVEKIT_URL")
    parser.add_argument(
        "--api-key", default=os.environ.get("LIVEKIT_API_KEY"), help="$LIVEKIT_API_KEY"
    )
    parser.add_argument(
        "--api-secret", default=os.environ.get("LIVEKIT_API_SECRET"), help="$LIVEKIT_API_SECRET"
    )
    return parser.parse_args(argv)


async def wait_for_participant(room: rtc.Room, identity: str) -> None:
    """Return once ``identity`` is in ``room`` (at once if they already are)."""
    arrived = asyncio.Event()

    def on_connected(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == identity:
            arrived.set()

    room.on("participant_connected", on_connected)
    try:
        if any(p.identity == identity for p in room.remote_participants.values()):
            return
        await arrived.wait()
    finally:
        room.off("participant_connected", on_connected)


async def publish_file(args: argparse.Namespace) -> lk.RunSummary:
    """Connect, optionally wait for a listener, publish the file, disconnect."""
    audio = lk.from_file(args.file)  # reads the header now: a bad file fails before connecting
    async with lk.connect(
        args.url,
        room=args.room,
        identity=args.identity,
        api_key=args.api_key,
        api_secret=args.api_secret,
    ) as room:
        if args.wait_for:
            print(f"waiting for {args.wait_for} in room {args.room!r}", flush=True)
            async with asyncio.timeout(args.wait_timeout):
                await wait_for_participant(room, args.wait_for)
        print(f"publishing {args.file} ({audio.format}) as track {args.track!r}", flush=True)
        return await audio.publish(room, args.track)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        summary = asyncio.run(publish_file(args))
    except KeyboardInterrupt:
        return 130
    print(f"published {summary.duration:.2f} s to room {args.room!r}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
