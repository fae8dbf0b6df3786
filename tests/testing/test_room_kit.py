"""`check_room_consumer` and `room_scenarios`: a consumer that keeps everything passes; each
planted bug fails with a message naming it, on a scenario Hypothesis shrinks."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import given, settings
from numpy.typing import NDArray

import lkframes as lk
from lkframes.testing import (
    Network,
    RoomScenario,
    SimulatedRoom,
    Talker,
    check_room_consumer,
    room_scenarios,
    run_virtual,
)

Kept = Mapping[str, NDArray[np.int16]]


async def record(room: SimulatedRoom) -> Kept:
    """Everyone, apart, until the room empties: keeps all that was heard."""
    kept: dict[str, list[NDArray[np.int16]]] = {}
    async with lk.from_room(room, mix=False, until_empty=True).open() as items:
        async for identity, frame in items:
            kept.setdefault(identity, []).append(frame.data[:, 0])
    return {identity: np.concatenate(parts) for identity, parts in kept.items()}


def test_a_consumer_that_keeps_everything_passes() -> None:
    check_room_consumer(record, max_examples=25)


def test_stopping_at_the_leave_event_loses_the_last_words_and_is_caught() -> None:
    async def stops_at_leave(room: SimulatedRoom) -> Kept:
        gone = asyncio.Event()
        room.on("participant_disconnected", lambda _: gone.set())
        kept: list[NDArray[np.int16]] = []
        async with lk.from_participant(room, "p0").open() as frames:
            async for frame in frames:
                if gone.is_set():
                    break
                kept.append(frame.data[:, 0])
        return {"p0": np.concatenate(kept)}

    one_talker = room_scenarios(max_participants=1, impairments=False, vanishing=False)
    with pytest.raises(AssertionError, match=r"'p0': \d+ of the \d+ samples .* are missing"):
        check_room_consumer(stops_at_leave, scenarios=one_talker, max_examples=20)


def test_a_consumer_that_does_not_end_when_the_room_empties_is_caught() -> None:
    async def never_ends(room: SimulatedRoom) -> Kept:
        await asyncio.sleep(3600)
        return {}

    with pytest.raises(AssertionError, match=r"did not return within end_within=1\.0 s"):
        check_room_consumer(never_ends, max_examples=3)


def test_a_task_left_running_is_caught() -> None:
    async def leaks(room: SimulatedRoom) -> Kept:
        asyncio.get_running_loop().create_task(asyncio.sleep(10), name="forgotten")
        return await record(room)

    with pytest.raises(AssertionError, match="left tasks running: \\['forgotten'\\]"):
        check_room_consumer(leaks, max_examples=3)


def test_a_consumer_that_adds_sound_is_caught() -> None:
    async def adds(room: SimulatedRoom) -> Kept:
        kept = dict(await record(room))
        kept["p0"] = np.concatenate([kept["p0"], np.full(480, 7, np.int16)])
        return kept

    with pytest.raises(AssertionError, match="'p0': what was kept is not what they said"):
        check_room_consumer(adds, max_examples=5)


@settings(max_examples=50, deadline=None)
@given(room_scenarios(max_participants=3, max_seconds=6.0))
def test_scenarios_keep_the_room_occupied_until_the_last_one_goes(scenario: RoomScenario) -> None:
    talkers = sorted(scenario.talkers, key=lambda t: t.joins)
    assert 1 <= len(talkers) <= 3
    gone = talkers[0].gone
    for talker in talkers[1:]:
        assert talker.joins < gone  # someone was there when they came
        gone = max(gone, talker.gone)
    for talker in talkers:
        assert all(start >= 0 and seconds > 0 for start, seconds in talker.talks)
        assert talker.gone > talker.joins


def test_a_scenario_builds_the_same_room_every_time() -> None:
    scenario = RoomScenario(
        (Talker("a", 0.0, 2.0, ((0.1, 1.0),), network=Network(0.05, 0.02, 0.1)),), seed=5
    )

    async def heard() -> NDArray[np.int16]:
        async with scenario.room() as room:
            return await lk.from_participant(room, "a").to_array()

    assert np.array_equal(run_virtual(heard), run_virtual(heard))
