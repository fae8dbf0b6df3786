"""How the LiveKit sources react to room events, without a server (a stand-in room).

The SDK does not always emit ``disconnected`` when a room disconnects: when it handles the
``connection_state_changed`` event first and the room's event stream then ends, only that
one arrives (about 1 in 6 of ``await room.disconnect()`` calls against livekit-server
1.13, measured with livekit 1.2.1). ``from_participant`` must end on either, or it waits
forever for a next track; the room tests saw that hang about once in 30 runs.
"""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from livekit import rtc

import lkframes as lk

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """LiveKit's Python SDK runs on asyncio only."""
    return "asyncio"


class _Room(rtc.EventEmitter[str]):
    """What ``from_participant`` uses of an ``rtc.Room``: events, participants, state."""

    def __init__(self) -> None:
        super().__init__()
        self.remote_participants: dict[str, rtc.RemoteParticipant] = {}
        self.connected = True

    def isconnected(self) -> bool:
        return self.connected


@pytest.mark.parametrize(
    ("event", "argument"),
    [
        ("connection_state_changed", rtc.ConnectionState.CONN_DISCONNECTED),
        ("disconnected", rtc.DisconnectReason.CLIENT_INITIATED),
    ],
)
async def test_from_participant_ends_when_its_room_disconnects(event: str, argument: int) -> None:
    room = _Room()
    waiting = asyncio.create_task(lk.from_participant(cast(rtc.Room, room), "A").collect())
    await asyncio.sleep(0.01)  # it waits for A's first track
    assert not waiting.done()
    room.connected = False
    room.emit(event, argument)
    assert await asyncio.wait_for(waiting, 1.0) == []
    assert all(not handlers for handlers in room._events.values()), "handlers left behind"


async def test_from_participant_ignores_other_connection_states() -> None:
    room = _Room()
    waiting = asyncio.create_task(lk.from_participant(cast(rtc.Room, room), "A").collect())
    await asyncio.sleep(0.01)
    room.emit("connection_state_changed", rtc.ConnectionState.CONN_RECONNECTING)
    await asyncio.sleep(0.05)
    assert not waiting.done()
    room.emit("participant_disconnected", _Participant("A"))
    assert await asyncio.wait_for(waiting, 1.0) == []


class _Participant:
    def __init__(self, identity: str) -> None:
        self.identity = identity
