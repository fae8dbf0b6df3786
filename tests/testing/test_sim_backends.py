"""`SimulatedRoom` on trio as on asyncio: every room function of lkframes runs on both, and
the same scenario gives the same frames, bit for bit, and the same statistics.

trio runs the tasks woken at one moment in a random order (asyncio's virtual loop in the
order their timers were made), so each trio run is made several times: a result that
depended on that order would differ between them, or from asyncio's.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import anyio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import lkframes as lk
from lkframes.testing import (
    Network,
    RoomScenario,
    SimulatedRoom,
    VirtualTrioClock,
    check_room_consumer,
    room_scenarios,
    run_virtual,
)
from media_clips import mov_clip

trio = pytest.importorskip("trio", reason="trio is one of the tests extra; these compare with it")

RATE = 48_000
TRIO_RUNS = 3
"""Each trio result is made this many times (a random task order each time)."""

Backend = Literal["asyncio", "trio"]


def noise(seconds: float, seed: int, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (round(seconds * RATE), channels) if channels > 1 else round(seconds * RATE)
    return (rng.standard_normal(shape) * 3_000).astype(np.int16)


def camera(count: int) -> np.ndarray:
    """``count`` RGBA frames whose pixels say their index."""
    frames = np.zeros((count, 48, 64, 4), np.uint8)
    frames[..., 0] = (np.arange(count) % 256)[:, None, None]
    frames[..., 1] = 100
    frames[..., 3] = 255
    return frames


def eventful(block: float = 0.0) -> SimulatedRoom:
    """Joins, leaves, a vanish, an unpublish and a re-publish, a mute, an outage, loss,
    jitter, drift, a stereo track and a camera that is muted for a while."""
    room = SimulatedRoom(seed=3, block=block, removal_after=2.0)
    a = room.participant(
        "a", leaves=9.0, network=Network(0.05, 0.02, loss=0.03, outages=((2.5, 3.0),))
    )
    a.publish_audio(noise(8, 1), at=0.37109375).mute(at=4.0).unmute(at=4.6)
    a.publish_video(camera(150), fps=25, at=0.2).mute(at=1.0).unmute(at=1.5)
    b = room.participant("b", joins=1.0, leaves=7.5, network=Network(0.12, 0.03, drift_ppm=300))
    b.publish_audio(noise(6, 2), at=1.2)
    c = room.participant("c", vanishes=6.0, network=Network(delay=0.02, jitter=0.01))
    c.publish_audio(noise(3, 3, channels=2), at=0.5).unpublish(at=2.0)
    c.publish_audio(noise(3, 4), at=2.5)
    return room


def on_both(main: Callable[[], Awaitable[Any]]) -> Any:
    """``main``'s result on asyncio, after checking that every trio run gave the same."""
    expected = run_virtual(main)
    for _ in range(TRIO_RUNS):
        assert_same(run_virtual(main, backend="trio"), expected)
    return expected


def assert_same(got: Any, expected: Any, where: str = "result") -> None:
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), where
        assert got.dtype == expected.dtype, where
        assert got.shape == expected.shape, where
        assert np.array_equal(got, expected), f"{where}: the samples differ"
    elif isinstance(expected, dict):
        assert sorted(got) == sorted(expected), where
        for key in expected:
            assert_same(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert len(got) == len(expected), f"{where}: {len(got)} items, not {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same(g, e, f"{where}[{i}]")
    elif isinstance(expected, bytes):
        first = next(
            (i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e), None
        )
        assert got == expected, (
            f"{where}: {len(got)} bytes, not {len(expected)}; first diff {first}"
        )
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


def ended(room: SimulatedRoom) -> float:
    return round(room.clock(), 9)


@pytest.mark.parametrize("block", [0.0, 1.0])
def test_from_room_mixed_gives_the_same_samples_and_stats(block: float) -> None:
    async def main() -> tuple[np.ndarray, lk.RoomStats, float]:
        room = eventful(block)
        stats = lk.RoomStats()
        async with room:
            audio = await lk.from_room(room, until_empty=True, stats=stats).to_array()
            return audio, stats, ended(room)

    audio, _stats, end = on_both(main)
    assert audio.shape[0] > 8 * RATE
    assert audio.any()
    assert end > 8.0  # until the vanished "c" was removed and "a" left


def test_from_room_apart_and_from_participant_and_from_track() -> None:
    async def main() -> dict[str, Any]:
        room = eventful()
        kept: dict[str, list[np.ndarray]] = {}
        got: dict[str, Any] = {}

        async def apart() -> None:
            async with lk.from_room(room, mix=False, until_empty=True).open() as items:
                async for identity, frame in items:
                    kept.setdefault(identity, []).append(frame.data.copy())

        async def alice() -> None:
            stats = lk.LiveStats()
            got["a"] = await lk.from_participant(room, "a", stats=stats, on_mute="skip").to_array()
            got["a stats"] = stats

        async def first_track_of_c() -> None:
            tracks: list[Any] = []
            subscribed = anyio.Event()

            def on_subscribed(track: Any, publication: Any, participant: Any) -> None:
                if participant.identity == "c" and not tracks:
                    tracks.append(track)
                    subscribed.set()

            room.on("track_subscribed", on_subscribed)
            with anyio.fail_after(5):
                await subscribed.wait()
            got["c first"] = await lk.from_track(tracks[0], sample_rate=16_000).to_array()

        async with room, anyio.create_task_group() as group:
            group.start_soon(apart)
            group.start_soon(alice)
            group.start_soon(first_track_of_c)
        got.update({k: np.concatenate([p.reshape(-1) for p in v]) for k, v in kept.items()})
        got["ended"] = ended(room)
        return got

    got = on_both(main)
    assert sorted(k for k in got if len(k) == 1) == ["a", "b", "c"]
    assert got["c first"].shape[0] == pytest.approx(1.55 * 16_000, abs=0.1 * 16_000)


def test_from_participant_video_gives_the_same_frames_and_timestamps() -> None:
    async def main() -> tuple[list[np.ndarray], list[int], lk.LiveStats]:
        room = eventful()
        stats = lk.LiveStats()
        async with room:
            frames = await lk.from_participant_video(room, "a", stats=stats).collect()
        return [f.data for f in frames], [f.timestamp_us for f in frames], stats

    pictures, stamps, _ = on_both(main)
    assert len(pictures) > 100
    assert stamps == sorted(stamps)


def test_record_room_and_record_participant_write_the_same_files(tmp_path: Path) -> None:
    runs = iter(range(1_000))

    async def main() -> dict[str, bytes]:
        out = tmp_path / str(next(runs))
        out.mkdir()
        room = eventful()
        async with room, anyio.create_task_group() as group:
            group.start_soon(functools.partial(lk.record_room, room, out / "mix.wav"))
            group.start_soon(functools.partial(lk.record_room, room, out / "apart", mix=False))
            group.start_soon(
                functools.partial(
                    lk.record_participant, room, "a", out / "a.mkv", audio_codec="pcm_s16le"
                )
            )
        files: dict[str, Any] = {
            str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.wav"))
        }
        # A Matroska file has a random segment UID: what it holds is compared instead.
        media = lk.open_media(out / "a.mkv", dtype="int16")
        assert media.audio is not None
        assert media.video is not None
        files["a.mkv audio"] = await media.audio.to_array()
        video = await media.video.collect()
        files["a.mkv video"] = [(f.timestamp_us, f.data) for f in video]
        return files

    files = on_both(main)
    assert sorted(files) == [
        "a.mkv audio",
        "a.mkv video",
        "apart/a.wav",
        "apart/b.wav",
        "apart/c.wav",
        "mix.wav",
    ]
    assert len(files["a.mkv video"]) > 100


def test_publish_and_publish_media_send_the_same(tmp_path: Path) -> None:
    clip = mov_clip(tmp_path / "clip.mov", 1)  # PCM audio and H.264 video, 1 s

    async def main() -> dict[str, Any]:
        room = eventful()
        async with room:
            async with anyio.create_task_group() as group:
                group.start_soon(
                    functools.partial(
                        lk.from_participant(room, "b").map(lambda f: f.data // 2).publish,
                        room,
                        "echo",
                    )
                )
                group.start_soon(functools.partial(lk.publish_media, room, clip, name="clip"))
            published = room.you.published
            echo, sound, video = published["echo"], published["clip-audio"], published["clip-video"]
            return {
                "echo": echo.audio(),
                "echo started": echo.started_at,
                "clip audio": sound.audio(),
                "clip frames": [(at, frame.data) for at, frame in video.frames],
                "ended": ended(room),
            }

    sent = on_both(main)
    assert sent["echo"].size > 5 * RATE
    assert len(sent["clip frames"]) == 25


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(room_scenarios(cameras=True))
def test_any_scenario_gives_the_same_frames_on_both(scenario: RoomScenario) -> None:
    async def main() -> dict[str, Any]:
        room = scenario.room()
        audio: dict[str, list[np.ndarray]] = {}
        video: dict[str, list[tuple[int | None, np.ndarray]]] = {}

        async def listen() -> None:
            async with lk.from_room(room, mix=False, until_empty=True).open() as items:
                async for identity, frame in items:
                    audio.setdefault(identity, []).append(frame.data.copy())

        async def watch(identity: str) -> None:
            async for frame in lk.from_participant_video(room, identity):
                video.setdefault(identity, []).append((frame.timestamp_us, frame.data))

        async with room, anyio.create_task_group() as group:
            group.start_soon(listen)
            for talker in scenario.talkers:
                if talker.camera_fps is not None:
                    group.start_soon(watch, talker.identity)
        return {
            "audio": {k: np.concatenate(v) for k, v in audio.items()},
            "video": video,
            "ended": ended(room),
        }

    on_both(main)


async def everyone(room: SimulatedRoom) -> dict[str, np.ndarray]:
    """A consumer: everyone's audio, apart, until the room empties."""
    kept: dict[str, list[np.ndarray]] = {}
    async with lk.from_room(room, mix=False, until_empty=True).open() as items:
        async for identity, frame in items:
            kept.setdefault(identity, []).append(frame.data[:, 0])
    return {k: np.concatenate(v) for k, v in kept.items()}


def test_check_room_consumer_runs_on_trio_and_finds_a_lost_tail() -> None:
    check_room_consumer(everyone, max_examples=10, backend="trio")

    async def stops_at_the_leave(room: SimulatedRoom) -> dict[str, np.ndarray]:
        gone = anyio.Event()
        room.on("participant_disconnected", lambda participant: gone.set())
        kept: dict[str, list[np.ndarray]] = {}
        async with lk.from_room(room, mix=False, until_empty=True).open() as items:
            async for identity, frame in items:
                if gone.is_set():
                    break
                kept.setdefault(identity, []).append(frame.data[:, 0])
        return {k: np.concatenate(v) for k, v in kept.items()}

    with pytest.raises(AssertionError):
        check_room_consumer(stops_at_the_leave, max_examples=20, backend="trio")


def test_a_leaked_timer_is_named_on_trio() -> None:
    from lkframes._core.loops import call_later

    async def leaves_a_timer(room: SimulatedRoom) -> dict[str, np.ndarray]:
        call_later(3_600, lambda: None)
        return await everyone(room)

    with pytest.raises(AssertionError, match=r"lkframes\.call_later"):
        check_room_consumer(leaves_a_timer, max_examples=1, backend="trio")


def test_the_virtual_clocks_stand_still_while_a_thread_works() -> None:
    import time

    async def main() -> tuple[float, float]:
        before = anyio.current_time()
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.sleep, 5.0)  # a timer due while the thread works
            await anyio.to_thread.run_sync(time.sleep, 0.05)
            during = anyio.current_time() - before
        return during, anyio.current_time() - before

    assert run_virtual(main) == (0.0, 5.0)
    assert run_virtual(main, backend="trio") == (0.0, 5.0)


def test_the_clocks_land_on_each_timer_exactly_and_count_their_jumps() -> None:
    async def main() -> list[float]:
        seen = []
        for step in (0.1, 0.2, 1 / 3, 1e-9):
            await anyio.sleep(step)
            seen.append(anyio.current_time())
        return seen

    assert run_virtual(main) == run_virtual(main, backend="trio")
    clock = VirtualTrioClock()
    trio.run(main, clock=clock)
    assert clock.jumps == 4
    assert clock.current_time() == pytest.approx(0.1 + 0.2 + 1 / 3, abs=1e-8)


def test_real_rooms_still_refuse_trio_and_a_wrong_backend_is_named() -> None:
    from livekit import rtc

    loop = asyncio.new_event_loop()  # an rtc.Room is made with one, the current one
    asyncio.set_event_loop(loop)
    try:
        room = rtc.Room(loop=loop)

        async def real_room() -> None:
            await lk.from_room(room).to_array()

        with pytest.raises(lk.WrongEventLoopError, match="needs asyncio"):
            trio.run(real_room)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    with pytest.raises(lk.ParameterError, match="backend"):
        run_virtual(real_room, backend="curio")  # type: ignore[arg-type]


def test_an_action_due_when_a_drain_gives_up_runs_in_a_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The drain's timer must not run the script from its callback: a join due at that
    # very moment starts a listener, which needs a task (found in review: "b" was lost).
    from lkframes.livekit import _drain

    given_up: list[float] = []
    drained = _drain.Closer._drained

    def traced(self: Any) -> None:
        given_up.append(self._time())
        drained(self)

    monkeypatch.setattr(_drain.Closer, "_drained", traced)

    def room(join_at: float | None) -> SimulatedRoom:
        room = SimulatedRoom(seed=1)
        room.participant("a", leaves=2.0).publish_audio(noise(2, 0)).unpublish(at=1.0)
        if join_at is not None:
            room.script(join_at - 0.01, lambda: None)  # the room's own timer re-armed first
            room.participant("b", joins=join_at, leaves=2.5).publish_audio(noise(1, 2))
        return room

    async def heard(join_at: float | None) -> dict[str, int]:
        counts: dict[str, int] = {}
        scripted = room(join_at)
        async with scripted, lk.from_room(scripted, mix=False, until_empty=True).open() as items:
            async for identity, _ in items:
                counts[identity] = counts.get(identity, 0) + 1
        return counts

    run_virtual(functools.partial(heard, None))
    at = given_up[0]
    counts = on_both(functools.partial(heard, at))
    assert sorted(counts) == ["a", "b"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_leaving_the_room_under_a_cancellation_still_ends_its_streams(backend: Backend) -> None:
    async def main() -> tuple[list[str], int, float]:
        room = SimulatedRoom(seed=1)
        room.participant("a").publish_audio(np.full(20 * RATE, 1_000, np.int16))
        said: list[str] = []
        room.on("disconnected", lambda *_: said.append("disconnected"))
        heard: list[int] = []

        async def listen() -> None:  # outside the cancelled scope: ends with the room
            heard.append((await lk.from_room(room).to_array()).shape[0])

        async with anyio.create_task_group() as group:
            with anyio.move_on_after(1.0):
                async with room:
                    group.start_soon(listen)
                    await anyio.sleep(10)
        return said, heard[0], anyio.current_time()

    said, samples, ended = run_virtual(main, backend=backend)
    assert said == ["disconnected"]
    # From the start until the room was left at 1.0: the last frame came as it began to
    # play, at 1.0 (LiveKit's frames do), and holds the 10 ms after it.
    assert samples == RATE + RATE // 100
    assert ended == pytest.approx(1.05, abs=0.011)


def test_map_threads_stop_the_trio_clock_as_the_asyncio_one() -> None:
    import time

    def slow(frame: lk.AudioFrame) -> lk.AudioFrame:
        time.sleep(0.005)
        return frame

    async def main() -> float:
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.sleep, 5.0)  # a timer due while the threads work
            tone = lk.from_array(noise(0.2, 1), RATE).chunk(ms=20)
            await tone.map(slow, concurrency=2).collect()
            during = anyio.current_time()
        return during

    assert run_virtual(main) == 0.0
    assert run_virtual(main, backend="trio") == 0.0


def test_under_a_plain_trio_run_lkframes_keeps_time_by_trios_clock() -> None:
    # trio's own clock carries a random offset of 1e4-2e5 s: lkframes' live code must read
    # the same clock as the simulated room and trio's sleeps (found in review).
    from lkframes._core.clock import monotonic

    async def main() -> tuple[float, float]:
        room = SimulatedRoom()
        async with room:
            return monotonic() - trio.current_time(), room.loop_time(0.0) - monotonic()

    apart, zero = trio.run(main)
    assert apart == pytest.approx(0.0, abs=1e-3)
    assert zero == pytest.approx(0.0, abs=1e-3)
