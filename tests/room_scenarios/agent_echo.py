"""A real LiveKit Agents worker running ``examples/echo_agent.py`` echoes participant A.

The worker must already be running (``python examples/echo_agent.py start``, with
livekit-agents installed) against the same server. A joins, which makes the server dispatch
a job to the worker; once the agent has joined and published its ``echo`` track, A
publishes 1.5 s of 440 Hz, reads the agent back with ``lk.from_participant`` and leaves.
Saves ``agent_echo.npy`` (48 kHz) in --out.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from livekit import rtc

import lkframes as lk
from room_scenario import WAIT_S, Receiver, Result, parse_args, participant, run

AGENT_JOIN_S = 20.0
"""A job process may have to start first (``dev`` mode keeps no idle process)."""


async def agent_with_echo_track(room: rtc.Room) -> rtc.RemoteParticipant:
    """The agent participant, once it has published its ``echo`` track."""
    while True:
        for p in room.remote_participants.values():
            if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT and any(
                pub.name == "echo" for pub in p.track_publications.values()
            ):
                return p
        await asyncio.sleep(0.05)  # polling the room's state: simpler than 3 events


async def main(args: argparse.Namespace) -> Result:
    async with participant(args, "A") as room_a:
        joined = time.monotonic()
        async with asyncio.timeout(AGENT_JOIN_S):
            agent = await agent_with_echo_track(room_a)
        agent_after = time.monotonic() - joined
        heard = Receiver(lk.from_participant(room_a, agent.identity))
        sent = await lk.sine(440, 1.5).publish(room_a, "voice")
        await asyncio.sleep(0.3)  # the echo's own playout
        left_at = time.monotonic()
    heard_end = await heard.end_latency(left_at)  # A's room disconnected: ends at once
    return heard.summary() | {
        "agent_identity": agent.identity,
        "agent_joined_after": round(agent_after, 3),
        "sent_seconds": sent.duration,
        "heard_end": heard_end,
        "wait_s": WAIT_S,
        "file": heard.save(args.out / "agent_echo.npy"),
    }


if __name__ == "__main__":
    run(main, parse_args(__doc__ or ""))
