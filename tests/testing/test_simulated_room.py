"""`SimulatedRoom`: lkframes' room functions, unchanged, against a scripted room on a virtual
clock. Each test checks the audio against the script (what was published, when, and what
the network did), bit for bit where nothing was lost."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lkframes as lk
from lkframes.livekit._drain import IN_FLIGHT_S, SILENT_WAIT_S
from lkframes.testing import Network, SimulatedRoom, open_resources, run_virtual

RATE = 48_000
T = TypeVar("T")


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    """Loud random samples: any misplaced or lost sample shows."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * RATE)) * 4_000).astype(np.int16)


def virtual(main: Callable[[], Awaitable[T]]) -> T:
    return run_virtual(main)


def where(heard: np.ndarray, said: np.ndarray, at: int = 9_600) -> int:
    """The sample of ``heard`` where ``said`` begins (found by its 480 samples from ``at``;
    may be negative when its beginning was played before the subscription)."""
    mark = said[at : at + 480]
    for start in np.flatnonzero(heard == mark[0]):
        if np.array_equal(heard[start : start + 480], mark):
            return int(start) - at
    raise AssertionError("what was said is not in what was heard")


def heard_alone(
    said: np.ndarray, network: Network, *, leaves: float, seed: int = 0, at: float = 0.0
) -> np.ndarray:
    """What `from_participant` reads of "a", alone in the room, who publishes ``said`` from
    ``at`` behind ``network`` and leaves at ``leaves``."""

    async def main() -> np.ndarray:
        room = SimulatedRoom(seed=seed)
        room.participant("a", leaves=leaves, network=network).publish_audio(said, at=at)
        async with room:
            return await lk.from_participant(room, "a").to_array()

    heard: np.ndarray = virtual(main)
    return heard


def test_a_participant_is_heard_sample_for_sample_from_subscription_to_leave() -> None:
    said = noise(2.0)

    async def main() -> tuple[np.ndarray, list[int], float]:
        room = SimulatedRoom()
        alice = room.participant("alice", joins=0.5, leaves=3.0, network=Network(delay=0.05))
        alice.publish_audio(said, at=0.6)
        async with room:
            frames = await lk.from_participant(room, "alice").collect()
            return (
                np.concatenate([f.data[:, 0] for f in frames]),
                [f.pts for f in frames],
                room.clock(),
            )

    heard, pts, ended = virtual(main)
    assert pts == list(range(0, 480 * len(pts), 480))  # 10 ms frames, continuous pts
    # Subscribed at 0.6 + 0.05 (delay) + 0.05 (subscribe); played from 0.6 + 0.07 (the
    # buffer: delay + a packet): its first 30 ms played before the subscription.
    start = where(heard, said)
    assert start == -round(0.03 * RATE)
    assert np.array_equal(heard[: start + said.size], said[-start:])
    assert not heard[start + said.size :].any()  # then silence until the leave
    # Left at 3.0, heard 0.05 s later; the stream reads 60 ms on (what may be in flight).
    assert ended == pytest.approx(3.05 + IN_FLIGHT_S, abs=1e-6)


def test_from_track_reads_a_subscribed_track_until_it_is_unpublished() -> None:
    said = noise(1.0)

    async def main() -> tuple[np.ndarray, float]:
        room = SimulatedRoom()
        alice = room.participant("a", leaves=5.0, network=Network(delay=0.05))
        alice.publish_audio(said, at=1.0).unpublish(at=3.0)
        subscribed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        room.on("track_subscribed", lambda track, *_: subscribed.set_result(track))
        async with room:
            track = await subscribed
            heard = await lk.from_track(track, sample_rate=16_000).to_array()
            return heard, room.clock()

    heard, ended = virtual(main)
    assert ended == pytest.approx(3.05 + IN_FLIGHT_S, abs=1e-6)  # the unpublish, heard
    loud = np.flatnonzero(heard)
    assert (loud[-1] - loud[0]) / 16_000 == pytest.approx(1.0 - 0.03, abs=0.002)


def test_the_last_words_before_a_leave_are_kept() -> None:
    # Speaking until the moment they leave: 20-50 ms of it is still in flight (the jitter
    # buffer) when the leave arrives; the stream reads it before it ends.
    said = noise(3.0)

    heard = heard_alone(said, Network(delay=0.06, jitter=0.03), leaves=2.0, seed=2)
    start = where(heard, said)
    assert np.array_equal(heard[start + RATE : start + 2 * RATE], said[RATE : 2 * RATE])
    assert not heard[start + 2 * RATE :].any()  # nothing after the leave but silence


@settings(max_examples=25, deadline=None)
@given(
    first=st.floats(0.3, 1.5),
    pause=st.floats(0.0, 1.0),
    second=st.floats(0.3, 1.0),
    delay=st.floats(0.0, 0.2),
)
def test_from_participant_follows_a_republish_and_streams_no_pause(
    first: float, pause: float, second: float, delay: float
) -> None:
    # One track for `first` s, unpublished; a pause; a second track until the leave.
    a, b = noise(2.0, seed=1), noise(2.0, seed=2)

    async def main() -> list[lk.AudioFrame]:
        room = SimulatedRoom()
        alice = room.participant("a", leaves=first + pause + second, network=Network(delay))
        alice.publish_audio(a).unpublish(at=first)
        alice.publish_audio(b, at=first + pause)
        async with room:
            return await lk.from_participant(room, "a").collect()

    frames = virtual(main)
    heard = np.concatenate([f.data[:, 0] for f in frames])
    assert [f.pts for f in frames] == list(range(0, 480 * len(frames), 480))
    # Samples sent: those before the unpublish, before the leave (in the script's floats).
    said_a = math.ceil(first * RATE)
    said_b = math.ceil((first + pause + second - (first + pause)) * RATE)
    start_a, start_b = where(heard, a), where(heard, b)
    end_a = start_a + said_a
    # The first track played to its unpublish, sample for sample ...
    assert np.array_equal(heard[start_a + 9_600 : end_a], a[9_600:said_a])
    # ... then the drain's silence (what it read to be sure the track had ended), and the
    # second track from its subscription to the leave: the pause between is not streamed.
    resumes = end_a + int(np.flatnonzero(heard[end_a:])[0])
    assert resumes - end_a <= round(SILENT_WAIT_S * RATE) + 480
    assert np.array_equal(heard[resumes : start_b + said_b], b[resumes - start_b : said_b])
    assert not heard[start_b + said_b :].any()


def test_the_same_seed_gives_the_same_frames_and_another_seed_other_losses() -> None:
    said = noise(3.0)

    def heard(seed: int) -> np.ndarray:
        network = Network(delay=0.08, jitter=0.03, loss=0.1)
        return heard_alone(said, network, leaves=3.5, seed=seed, at=0.1)

    first, again, other = heard(7), heard(7), heard(8)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_lost_packets_are_silence_of_20_ms_and_the_rest_arrives_intact() -> None:
    said = noise(10.0)

    heard = heard_alone(said, Network(delay=0.05, loss=0.05), leaves=10.5, seed=3)
    start = where(heard, said, at=4 * RATE)
    begin = max(0, (-start + 959) // 960 * 960)  # from the first whole 20 ms packet heard
    n = min(said.size - begin, heard.size - start - begin) // 960 * 960
    got = heard[start + begin : start + begin + n].reshape(-1, 960)
    want = said[begin : begin + n].reshape(-1, 960)
    lost = ~got.any(axis=1)
    assert np.array_equal(got[~lost], want[~lost])
    assert 0.02 < lost.mean() < 0.09  # 5 % asked, over 500 packets


@pytest.mark.parametrize("ppm", [1_000.0, -1_000.0])
def test_a_drifting_clock_is_heard_faster_or_slower_by_its_ppm(ppm: float) -> None:
    said = noise(60.0)

    heard = heard_alone(said, Network(delay=0.05, drift_ppm=ppm), leaves=61.0)
    voiced = np.flatnonzero(heard)
    span = (voiced[-1] + 1 - voiced[0]) / RATE
    speed = 1 + ppm / 1e6
    # 60 s of their audio in 60 / speed s of the room's (60 ms less or more).
    assert span == pytest.approx(60.0 / speed, abs=0.001)
    # Sample i of what is heard is sample floor(i * speed) of what they said.
    start = voiced[0]  # all of it was heard: the buffer (70 ms) outlasts the subscription
    index = np.floor(np.arange(1_000, 2_000_000, 997) * speed).astype(np.int64)
    assert np.array_equal(heard[start + np.arange(1_000, 2_000_000, 997)], said[index])


def test_an_outage_is_silence_of_its_length_on_a_timeline_that_keeps_the_gap() -> None:
    said = noise(6.0)

    heard = heard_alone(said, Network(delay=0.05, outages=((2.0, 3.0),)), leaves=6.5)
    start = where(heard, said, at=4 * RATE)
    got = heard[start + RATE : start + said.size]  # from 1 s in: subscribed by then
    silent = ~got.reshape(-1, 960).any(axis=1)
    assert silent.sum() == 50  # 1 s of 20 ms packets
    assert np.array_equal(got[2 * RATE :], said[3 * RATE :])
    assert np.array_equal(got[:RATE], said[RATE : 2 * RATE])


def test_a_mute_is_digital_silence_that_on_mute_skip_leaves_out() -> None:
    said = noise(4.0)

    async def main() -> tuple[np.ndarray, np.ndarray, list[str]]:
        room = SimulatedRoom()
        alice = room.participant("a", leaves=4.5, network=Network(delay=0.05))
        alice.publish_audio(said).mute(at=1.0).unmute(at=2.0)
        events: list[str] = []
        room.on("track_muted", lambda *_: events.append(f"muted {room.clock():.2f}"))
        room.on("track_unmuted", lambda *_: events.append(f"unmuted {room.clock():.2f}"))
        async with room:
            kept, skipped = await asyncio.gather(
                lk.from_participant(room, "a").to_array(),
                lk.from_participant(room, "a", on_mute="skip").to_array(),
            )
            return kept, skipped, events

    kept, skipped, events = virtual(main)
    assert events == ["muted 1.05", "unmuted 2.05"]
    assert kept.size - skipped.size == RATE  # the muted second, left out
    start = where(kept, said, at=3 * RATE)
    assert not kept[start + RATE : start + 2 * RATE].any()
    assert np.array_equal(kept[start + 2 * RATE : start + 3 * RATE], said[2 * RATE : 3 * RATE])


def test_from_room_places_each_participant_where_they_spoke_and_ends_when_all_left() -> None:
    a, b = noise(1.0, seed=1), noise(1.0, seed=2)

    async def main() -> tuple[dict[str, np.ndarray], float, lk.RoomStats]:
        room = SimulatedRoom()
        room.participant("a", leaves=3.0, network=Network(delay=0.02)).publish_audio(a, at=0.5)
        late = room.participant("b", joins=1.0, leaves=4.0, network=Network(delay=0.1))
        late.publish_audio(b, at=2.0)
        stats = lk.RoomStats()
        apart = {"a": np.zeros(5 * RATE, np.int16), "b": np.zeros(5 * RATE, np.int16)}
        async with room:
            async with lk.from_room(room, until_empty=True, mix=False, stats=stats).open() as items:
                async for identity, frame in items:  # placed by pts, on one timeline
                    apart[identity][frame.pts : frame.end_pts] = frame.data[:, 0]
            return apart, room.clock(), stats

    apart, ended, stats = virtual(main)
    assert stats.participants == {"a", "b"}
    # b speaks 1.5 s after a on the sender's clock, heard 1.5 + (0.12 - 0.04) s after.
    gap = (where(apart["b"], b) - where(apart["a"], a)) / RATE
    assert gap == pytest.approx(1.5 + 0.08, abs=0.011)
    # b's leave heard at 4.1, b's stream read 60 ms on, then from_room's delay (50 ms)
    # less what of it had passed, to the end of a 10 ms block.
    assert 4.1 + IN_FLIGHT_S <= ended <= 4.1 + IN_FLIGHT_S + 0.05 + 0.01


def test_a_vanished_participant_is_removed_by_the_servers_timeout_and_marked_stalled() -> None:
    async def main() -> tuple[lk.LiveStats, float, int | None]:
        room = SimulatedRoom()
        who = room.participant("a", vanishes=2.0, network=Network(delay=0.05))
        who.publish_audio(noise(10.0))
        stats = lk.LiveStats()
        async with room:
            await lk.from_participant(room, "a", stats=stats, stall_timeout=1.0).to_array()
            return stats, room.clock(), who.disconnect_reason

    stats, ended, reason = virtual(main)
    from livekit import rtc

    assert reason == rtc.DisconnectReason.CONNECTION_TIMEOUT
    assert stats.stalled is True
    # Removed 20 s after (in virtual time), and 60 ms read on.
    assert ended == pytest.approx(22.0 + IN_FLIGHT_S, abs=1e-6)


def test_a_slow_reader_loses_only_what_its_queue_bound_drops_and_counts_it() -> None:
    async def main() -> lk.LiveStats:
        room = SimulatedRoom()
        room.participant("a", leaves=3.0).publish_audio(noise(2.0))
        stats = lk.LiveStats()
        async with room:
            stream = lk.from_participant(
                room, "a", overflow="drop_oldest", max_queue_ms=100, stats=stats
            )
            async with stream.open() as frames:
                async for _ in frames:
                    await asyncio.sleep(0.02)  # reads at half the rate frames come
        return stats

    stats = virtual(main)
    assert stats.dropped > 50
    assert stats.produced == stats.delivered + stats.dropped + stats.skipped + stats.queued


def test_ten_simulated_minutes_pass_in_virtual_time_and_leave_nothing_open() -> None:
    # Ten talks of 4 s, a minute apart: the clock jumps over the silences between them.
    # (How fast, against real time: benchmarks/bench_simulated_room.py.)
    said = noise(1.0)

    async def main() -> tuple[float, int]:
        room = SimulatedRoom()
        talker = room.participant("a", leaves=600.0)
        for minute in range(10):
            talker.publish_audio(said, at=60.0 * minute + 1).unpublish(at=60.0 * minute + 5)
        async with room:
            heard = await lk.from_participant(room, "a").to_array()
            return room.clock(), int(np.count_nonzero(heard))

    ended, loud = virtual(main)
    assert ended == pytest.approx(600.0, abs=1e-6)
    # Every talk, from its subscription on: 50 ms after the publication, when the first
    # 30 ms had already played (a 20 ms buffer on a network without delay).
    assert loud == 10 * np.count_nonzero(said[1_440:])
    assert not any(open_resources().values())


def test_a_source_that_stops_taking_audio_ends_publish_with_a_typed_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # LiveKit's buffered capture_frame can wait forever once the source's drain stalls
    # (livekit/rust-sdks#1289), the room still connected. publish gives up after
    # CAPTURE_STALL_S to twice that (in virtual time here), unpublishes, and says why.
    from lkframes.livekit._sink import CAPTURE_STALL_S
    from lkframes.testing._sim_local import SimulatedAudioSource

    taken: list[int] = []
    cleared: list[float] = []
    capture, clear = SimulatedAudioSource.capture_frame, SimulatedAudioSource.clear_queue

    async def stalling(self: SimulatedAudioSource, frame: Any) -> None:
        if len(taken) == 10:
            await asyncio.Event().wait()  # never returns
        taken.append(frame.samples_per_channel)
        await capture(self, frame)

    def clearing(self: SimulatedAudioSource) -> None:
        cleared.append(self._room.clock())
        clear(self)

    monkeypatch.setattr(SimulatedAudioSource, "capture_frame", stalling)
    monkeypatch.setattr(SimulatedAudioSource, "clear_queue", clearing)

    async def main() -> tuple[str, float]:
        room = SimulatedRoom()
        async with room:
            with pytest.raises(lk.StreamTimeoutError) as raised:
                await lk.sine(440, 5.0).publish(room, "tone")
            assert not room.you.track_publications  # unpublished
            return str(raised.value), room.clock()

    message, ended = virtual(main)
    assert f"capture_frame did not return within {CAPTURE_STALL_S:g} s" in message
    assert "rust-sdks#1289" in message
    assert taken == [960] * 10  # 20 ms frames at 48 kHz, before the stall
    assert len(cleared) == 1  # the stall, stopped: found within one to two periods
    assert CAPTURE_STALL_S < cleared[0] <= 2 * CAPTURE_STALL_S
    assert cleared[0] <= ended < cleared[0] + 1


def test_an_echo_agent_publishes_back_what_it_heard_in_real_time() -> None:
    # An Agents-style entrypoint: subscribe to alice, halve her, publish it back.
    said = noise(2.0)

    async def main() -> tuple[np.ndarray, np.ndarray, float | None, float]:
        room = SimulatedRoom()
        room.participant("a", leaves=2.5, network=Network(delay=0.05)).publish_audio(said)
        async with room:
            heard, summary = await asyncio.gather(
                lk.from_participant(room, "a").to_array(),
                lk.from_participant(room, "a").map(lambda f: f.data // 2).publish(room, "echo"),
            )
            echo = room.you.published["echo"]
            assert summary.samples_per_channel == echo.audio().shape[0]
            assert not room.you.track_publications  # unpublished at the end
            return heard, echo.audio(), echo.started_at, room.clock()

    heard, echoed, started, ended = virtual(main)
    assert np.array_equal(echoed[: heard.size], heard // 2)
    assert started == pytest.approx(0.06, abs=0.011)  # its first frame, as it came
    assert ended >= 0.06 + echoed.size / RATE - 0.02  # played in real time, not at once


def test_a_bad_network_names_the_parameter() -> None:
    with pytest.raises(lk.ParameterError, match="loss="):
        Network(loss=1.5)
    with pytest.raises(lk.ParameterError, match="delay="):
        Network(delay=-0.1)
    with pytest.raises(lk.ParameterError, match="outages="):
        Network(outages=((3.0, 2.0),))


def test_record_participant_writes_what_was_heard_in_virtual_time(tmp_path: Path) -> None:
    said = noise(2.0)
    out = tmp_path / "alice.mkv"

    async def main() -> lk.MediaSummary:
        room = SimulatedRoom()
        room.participant("a", leaves=3.0, network=Network(delay=0.05)).publish_audio(said)
        async with room:
            return await lk.record_participant(room, "a", out, audio_codec="pcm_s16le")

    audio = virtual(main).audio
    assert audio is not None
    # From about the subscription (0.05 s; the recorder starts its stream a frame or two
    # later) to the leave heard (3.05 s), every sample as heard.
    assert audio.samples_per_channel == pytest.approx(3 * RATE, abs=0.05 * RATE)
    recorded = np.concatenate([f.data[:, 0] for f in lk.run_sync(lk.from_file(out).collect())])
    assert recorded.size == audio.samples_per_channel
    start = where(recorded, said)
    lo = max(start, 0)  # the recording's timeline may begin before her first sample
    assert np.array_equal(recorded[lo : start + said.size], said[lo - start :])
    assert not recorded[:lo].any()
    assert not recorded[start + said.size :].any()
