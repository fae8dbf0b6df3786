"""A LiveKit Agents worker that echoes a participant back into the room through lkframes.

    pip install livekit-agents 'lkframes[room]'
    export LIVEKIT_URL=... LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=...
    python examples/echo_agent.py dev      # or: start (production), console, ...

For each room it is dispatched to, the agent joins, waits for the first participant and
publishes their microphone back as a track named ``echo``, 6 dB quieter, until they leave.

The echo itself (`echo`) is a plain function of a connected ``rtc.Room``: it needs nothing
from the agents framework, so it runs (and is tested) with ``lkframes.connect`` as well.
``livekit-agents`` is imported only by the worker (`entrypoint`, `main`). Tried with
livekit-agents 1.8.9, whose ``dev`` prints that it is deprecated in favour of the LiveKit
CLI's ``lk agent dev``; it still runs the worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lkframes as lk

if TYPE_CHECKING:
    from livekit import rtc
    from livekit.agents import JobContext

ECHO_TRACK = "echo"
ECHO_GAIN_DB = -6.0


async def echo(room: rtc.Room, identity: str, *, gain_db: float = ECHO_GAIN_DB) -> lk.RunSummary:
    """Publish ``identity``'s microphone back into ``room`` as track ``echo``.

    Waits for their audio, follows them across re-publishes, and returns (unpublishing the
    echo) when they leave.

    Args:
        room: A connected room.
        identity: Whom to echo.
        gain_db: Level change of the echo.

    Returns:
        What was echoed.

    Raises:
        anyio.BrokenResourceError: ``room`` disconnected while echoing.
    """
    heard = lk.from_participant(room, identity)
    return await heard.gain(gain_db).publish(room, ECHO_TRACK)


async def entrypoint(ctx: JobContext) -> None:
    """The agents job: connect, echo the first participant, leave when they do."""
    from livekit.agents import AutoSubscribe

    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    participant = await ctx.wait_for_participant()
    summary = await echo(ctx.room, participant.identity)
    ctx.shutdown(reason=f"{participant.identity} left after {summary.duration:.1f} s")


def main() -> None:
    """Run the worker; ``livekit-agents``' command line (dev, start, ...) parses argv."""
    try:
        from livekit.agents import WorkerOptions, cli
    except ImportError:
        raise SystemExit("the worker needs livekit-agents: pip install livekit-agents") from None
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))


if __name__ == "__main__":
    main()
