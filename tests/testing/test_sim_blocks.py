"""`SimulatedRoom(block=...)`: `from_room` takes each participant's audio, and hands out its
timeline, a quiet stretch at a time. The samples and the statistics must be those of the
frame-by-frame room, bit for bit; the work (the virtual clock's jumps, the streams'
hand-outs) must shrink by the block's length."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import lkframes as lk
from lkframes._core.errors import ParameterError
from lkframes.testing import Network, RoomScenario, SimulatedRoom, room_scenarios, run_virtual
from lkframes.testing._sim_audio import Playout
from lkframes.testing._sim_stream import SimulatedAudioStream

RATE = 48_000


def noise(seconds: float, seed: int, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (round(seconds * RATE), channels) if channels > 1 else round(seconds * RATE)
    return (rng.standard_normal(shape) * 3_000).astype(np.int16)


def eventful(block: float) -> SimulatedRoom:
    """Joins, leaves, a vanish, an unpublish and a re-publish, a mute, an outage, loss,
    jitter, clock drift, a track published off the sample grid, a stereo track."""
    room = SimulatedRoom(seed=3, block=block)
    a = room.participant(
        "a", leaves=70.0, network=Network(0.05, 0.02, loss=0.03, outages=((25.0, 26.5),))
    )
    a.publish_audio(noise(60, 1), at=1.37109375).mute(at=40.0).unmute(at=44.0)
    b = room.participant("b", joins=3.0, leaves=65.0, network=Network(0.12, 0.03, drift_ppm=300))
    b.publish_audio(noise(55, 2), at=4.0)
    c = room.participant("c", vanishes=50.0, network=Network(delay=0.02))
    c.publish_audio(noise(30, 3, channels=2), at=0.5).unpublish(at=12.0)
    c.publish_audio(noise(30, 4), at=13.0)
    return room


def talkers(block: float, participants: int = 5, seconds: int = 120) -> SimulatedRoom:
    """The benchmark's room: everyone talks all along behind 50 ms delay, 20 ms jitter, 1 %
    loss, and leaves at the end."""
    room = SimulatedRoom(seed=1, block=block)
    for i in range(participants):
        who = room.participant(f"p{i}", leaves=seconds, network=Network(0.05, 0.02, 0.01))
        who.publish_audio(noise(seconds - 1, 10 + i))
    return room


def mixed(room: SimulatedRoom, **options: Any) -> tuple[np.ndarray, lk.RoomStats, int, list[int]]:
    """`from_room`'s output, its statistics, the clock's jumps, and how many times each
    stream handed out frames."""

    async def main() -> tuple[np.ndarray, lk.RoomStats, int, list[int]]:
        stats = lk.RoomStats()
        async with room:
            audio = await lk.from_room(room, until_empty=True, stats=stats, **options).to_array()
        jumps: int = asyncio.get_running_loop().jumps  # type: ignore[attr-defined]
        return audio, stats, jumps, handed_out(room)

    return run_virtual(main)


def handed_out(room: SimulatedRoom) -> list[int]:
    streams = [s for who, _ in room._cast for t in who.scripted for s in t._streams]
    return [s.handed_out for s in streams if isinstance(s, SimulatedAudioStream)]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"sample_rate": 16_000, "num_channels": 2},
        {"duration": 33.333, "gains": {"a": 0.5, "b": 1.7}, "delay": 0.2},
    ],
)
def test_an_eventful_room_in_blocks_is_the_same_samples_and_stats(options: Any) -> None:
    audio, stats, jumps, _ = mixed(eventful(0.0), **options)
    in_blocks, block_stats, block_jumps, _ = mixed(eventful(1.0), **options)
    seconds = options.get("duration", 70)
    assert audio.shape[0] >= math.floor(seconds * options.get("sample_rate", RATE))
    assert np.array_equal(in_blocks, audio)
    assert block_stats == stats
    assert stats.late_samples == 0
    assert set(stats.placed) == {"a", "b", "c"}
    assert block_jumps < jumps / 2, "the quiet stretches between the events went in blocks"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(room_scenarios(max_participants=3, max_seconds=15.0))
def test_any_scenario_in_blocks_is_the_same_samples_and_stats(scenario: RoomScenario) -> None:
    audio, stats, _, _ = mixed(scenario.room())
    in_blocks, block_stats, _, _ = mixed(scenario.room(block=0.5))
    assert np.array_equal(in_blocks, audio)
    assert block_stats == stats


def test_five_talkers_for_two_minutes_the_same_samples_for_a_twentieth_of_the_work() -> None:
    audio, stats, jumps, outs = mixed(talkers(0.0))
    in_blocks, block_stats, block_jumps, block_outs = mixed(talkers(1.0))
    assert np.array_equal(in_blocks, audio)
    assert block_stats == stats
    assert audio.shape[0] >= 119.5 * RATE
    # Frame by frame: a wake-up per 10 ms, a hand-out per 10 ms from each track.
    assert jumps >= 12_000
    assert min(outs) >= 11_900
    # In blocks: per simulated second, one hand-out per track and one jump per cell, but
    # for the few seconds around the joins and the leaves, which go frame by frame.
    assert block_jumps * 20 < jumps
    assert max(block_outs) * 20 < min(outs)
    assert max(block_outs) <= 120 + 5 * 100


def test_record_room_in_blocks_writes_the_same_file(tmp_path: Path) -> None:
    async def record(block: float) -> bytes:
        room = talkers(block, participants=2, seconds=30)
        async with room:
            await lk.record_room(room, tmp_path / f"{block}.wav", until_empty=True)
        return (tmp_path / f"{block}.wav").read_bytes()

    frame_by_frame = run_virtual(lambda: record(0.0))
    assert len(frame_by_frame) > 30 * RATE * 2
    assert run_virtual(lambda: record(1.0)) == frame_by_frame


def test_other_readers_get_livekits_10_ms_frames_in_a_room_with_a_block() -> None:
    async def main() -> tuple[set[int], set[int]]:
        room = talkers(1.0, participants=2, seconds=10)
        async with room:
            alone = lk.from_participant(room, "p0")
            apart = lk.from_room(room, mix=False, until_empty=True)
            sizes, apart_sizes = set(), set()
            async with asyncio.TaskGroup() as group:

                async def read_alone() -> None:
                    async for frame in alone:
                        sizes.add(frame.samples_per_channel)

                group.create_task(read_alone())
                async with apart.open() as items:
                    async for _, frame in items:
                        apart_sizes.add(frame.samples_per_channel)
        return sizes, apart_sizes

    assert run_virtual(main) == ({480}, {480})


@pytest.mark.parametrize(
    ("published_at", "rate", "channels", "drift_ppm"),
    [(0.0, 48_000, 1, 0.0), (1.37109375, 48_000, 1, 0.0), (0.333, 16_000, 2, 250.0)],
)
def test_a_playouts_frames_at_once_are_its_frames_one_by_one(
    published_at: float, rate: int, channels: int, drift_ppm: float
) -> None:
    network = Network(0.05, 0.02, loss=0.05, outages=((2.0, 2.5),), drift_ppm=drift_ppm)
    playout = Playout(
        np.asarray(noise(6, 7, channels=2)), published_at, network, np.random.default_rng(1)
    )
    playout.muted.append((3.0, 3.4))
    samples = rate // 100
    for start in (0.0, 0.1234567, published_at + network.buffer, 1.0000001):
        starts = start + np.arange(700) * 0.01
        one_by_one = [playout.frame(float(s), rate, channels, samples) for s in starts]
        assert np.array_equal(
            playout.frames(starts, rate, channels, samples), np.concatenate(one_by_one)
        )


@pytest.mark.parametrize("block", [-1.0, math.nan, math.inf, "1"])
def test_a_bad_block_names_the_parameter(block: Any) -> None:
    with pytest.raises(ParameterError, match="block="):
        SimulatedRoom(block=block)
