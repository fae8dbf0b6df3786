"""Cameras in the room kit: `room_scenarios(cameras=True)`, `Talker(camera_fps=)`, and
`check_room_consumer` on a consumer that returns `RoomKept(audio, video)`. A consumer that
keeps every frame that arrived passes; each planted bug fails with a message naming it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import numpy as np
import pytest
from hypothesis import find, given, settings
from livekit import rtc
from numpy.typing import NDArray

import lkframes as lk
from lkframes.testing import (
    Network,
    RoomKept,
    RoomScenario,
    SimulatedRoom,
    SimulatedVideoTrack,
    Talker,
    check_room_consumer,
    room_scenarios,
    run_virtual,
)

CAMERAS = room_scenarios(cameras=True)

Watch = Callable[[SimulatedRoom, str, list[lk.VideoFrame]], Coroutine[Any, Any, None]]


def watching(pixel_format: lk.PixelFormat = "rgba") -> Watch:
    """Every frame of their camera, until they leave, in ``pixel_format``."""

    async def watch(room: SimulatedRoom, identity: str, out: list[lk.VideoFrame]) -> None:
        stream = lk.from_participant_video(room, identity, pixel_format=pixel_format)
        async with stream.open() as frames:
            out.extend([frame async for frame in frames])

    return watch


watch_all = watching()


async def record(room: SimulatedRoom, watch: Watch = watch_all) -> RoomKept:
    """Everyone's audio (`from_room`) and camera (``watch``, one task each), until the
    room empties."""
    audio: dict[str, list[NDArray[np.int16]]] = {}
    video: dict[str, list[lk.VideoFrame]] = {}
    async with anyio.create_task_group() as tasks:

        def start(identity: str) -> None:
            if identity not in video:
                video[identity] = []
                tasks.start_soon(watch, room, identity, video[identity])

        def joined(participant: rtc.RemoteParticipant) -> None:
            start(participant.identity)

        for identity in room.remote_participants:
            start(identity)
        room.on("participant_connected", joined)
        try:
            async with lk.from_room(room, mix=False, until_empty=True).open() as items:
                async for identity, frame in items:
                    audio.setdefault(identity, []).append(frame.data[:, 0])
        finally:
            room.off("participant_connected", joined)
    return RoomKept(audio={k: np.concatenate(v) for k, v in audio.items()}, video=video)


def test_an_audio_and_video_consumer_that_keeps_everything_passes() -> None:
    check_room_consumer(record, scenarios=CAMERAS, max_examples=25)


@pytest.mark.parametrize("layout", ["bgra", "bgr24"])
def test_video_in_another_packed_layout_is_told_apart_too(layout: lk.PixelFormat) -> None:
    async def consumer(room: SimulatedRoom) -> RoomKept:
        return RoomKept(video=(await record(room, watching(layout))).video)  # video only

    check_room_consumer(consumer, scenarios=CAMERAS, max_examples=5)


def test_an_audio_only_consumer_still_passes_in_rooms_with_cameras() -> None:
    async def audio_only(room: SimulatedRoom) -> dict[str, NDArray[np.int16]]:
        kept = (await record(room)).audio
        assert kept is not None
        return dict(kept)

    check_room_consumer(audio_only, scenarios=CAMERAS, max_examples=5)


def test_dropping_the_last_video_frame_is_caught() -> None:
    async def drops_last(room: SimulatedRoom) -> RoomKept:
        kept = await record(room)
        assert kept.video is not None
        return RoomKept(kept.audio, {k: list(v)[:-1] for k, v in kept.video.items()})

    with pytest.raises(AssertionError, match=r"'p\d': 1 of the \d+ video frames that arrived"):
        check_room_consumer(drops_last, scenarios=CAMERAS, max_examples=20)


def test_keeping_a_frame_twice_is_caught() -> None:
    async def twice(room: SimulatedRoom, identity: str, out: list[lk.VideoFrame]) -> None:
        await watch_all(room, identity, out)
        if out:
            out.insert(len(out) // 2, out[len(out) // 2])

    with pytest.raises(AssertionError, match=r"'p\d': video frame \d+ was kept twice"):
        check_room_consumer(lambda room: record(room, twice), scenarios=CAMERAS, max_examples=20)


def test_a_consumer_that_stops_reading_video_early_is_caught() -> None:
    async def gives_up(room: SimulatedRoom, identity: str, out: list[lk.VideoFrame]) -> None:
        """Takes a camera that pauses 0.3 s for gone (an outage, a few frames lost)."""
        async with lk.from_participant_video(room, identity).open() as frames:
            while True:
                try:
                    with anyio.fail_after(0.3 if out else None):
                        frame = await anext(frames)
                except (TimeoutError, StopAsyncIteration):
                    return
                out.append(frame)

    with pytest.raises(AssertionError, match=r"'p\d': \d+ of the \d+ video frames .* missing"):
        check_room_consumer(lambda room: record(room, gives_up), scenarios=CAMERAS, max_examples=30)


def test_a_frame_that_is_not_theirs_is_caught() -> None:
    async def swaps(room: SimulatedRoom) -> RoomKept:
        kept = await record(room)
        assert kept.video is not None
        video = {k: list(v) for k, v in kept.video.items()}
        first = next(iter(video))
        black = lk.VideoFrame(np.zeros((24, 32, 4), np.uint8), timestamp_us=2**62)
        video[first].append(black)  # after the last, with a later timestamp
        return RoomKept(kept.audio, video)

    with pytest.raises(AssertionError, match=r"'p\d': video frame \d+ kept is not one they"):
        check_room_consumer(swaps, scenarios=CAMERAS, max_examples=20)


def test_timestamps_that_do_not_increase_are_caught() -> None:
    async def stamps_zero(room: SimulatedRoom, identity: str, out: list[lk.VideoFrame]) -> None:
        async with lk.from_participant_video(room, identity).open() as frames:
            out.extend([frame.at(0) async for frame in frames])

    with pytest.raises(AssertionError, match=r"'p\d': video timestamps do not increase"):
        check_room_consumer(
            lambda room: record(room, stamps_zero), scenarios=CAMERAS, max_examples=20
        )


@pytest.mark.parametrize("layout", ["i420", "gray"])
def test_planar_or_gray_video_is_refused_by_name(layout: lk.PixelFormat) -> None:
    with pytest.raises(AssertionError, match=f"a {layout} frame cannot be told apart"):
        check_room_consumer(
            lambda room: record(room, watching(layout)), scenarios=CAMERAS, max_examples=20
        )


def test_delivered_is_what_arrived_between_subscription_and_unsubscription() -> None:
    talker = Talker(
        "a", 0.0, 2.0, (), network=Network(delay=0.05, outages=((0.5, 1.0),)), camera_fps=10.0
    )
    scenario = RoomScenario((talker,))

    async def read() -> tuple[list[int], list[int]]:
        async with scenario.room() as room:
            frames = await lk.from_participant_video(room, "a").collect()
            (camera,) = [t for t in room._cast[0][0].scripted if isinstance(t, SimulatedVideoTrack)]
            return camera.delivered(), [int(f.data[0, 0, 0]) for f in frames]

    delivered, read_back = run_virtual(read)
    # Sent at k / 10 s until the leave at 2 s; frames 5..9 sent in the outage.
    assert delivered == [*range(5), *range(10, 20)]
    assert read_back == delivered


def test_camera_frames_name_their_talker_and_index() -> None:
    frames = Talker("b", 1.0, 2.0, (), camera_fps=30.0).camera(number=3)
    assert frames.shape == (31, 24, 32, 4)
    index = frames[:, 0, 0, 0].astype(int) + 256 * frames[:, 0, 0, 1].astype(int)
    assert index.tolist() == list(range(31))
    assert (frames[:, 0, 0, 2] == 3).all()
    assert all(frame[..., :3].any() for frame in frames)  # none black
    assert len({frame.tobytes() for frame in frames}) == 31


@settings(max_examples=40, deadline=None)
@given(room_scenarios())
def test_without_cameras_no_talker_has_one(scenario: RoomScenario) -> None:
    assert all(t.camera_fps is None for t in scenario.talkers)


def test_camera_scenarios_shrink_toward_no_camera() -> None:
    assert find(CAMERAS, lambda s: True).talkers[0].camera_fps is None
    some = find(CAMERAS, lambda s: any(t.camera_fps for t in s.talkers))
    assert [t.camera_fps for t in some.talkers] == [10.0]


def test_a_camera_scenario_builds_the_same_room_every_time() -> None:
    network = Network(0.05, 0.02, 0.2, drift_ppm=500.0)
    scenario = RoomScenario((Talker("a", 0.0, 2.0, ((0.1, 1.0),), False, network, 30.0),), 5)

    async def seen() -> list[bytes]:
        async with scenario.room() as room:
            await asyncio.sleep(0)
            return [f.data.tobytes() for f in await lk.from_participant_video(room, "a").collect()]

    first = run_virtual(seen)
    assert 20 < len(first) < 60  # a fifth lost
    assert first == run_virtual(seen)


@pytest.mark.parametrize("fps", [None, 0.0, float("nan")])
def test_a_talker_without_a_working_camera_has_no_frames(fps: float | None) -> None:
    with pytest.raises(lk.ParameterError, match=r"'c': camera_fps= must be .* > 0"):
        Talker("c", 0.0, 1.0, (), camera_fps=fps).camera(0)


def test_a_camera_too_long_to_number_its_frames_is_refused() -> None:
    with pytest.raises(lk.ParameterError, match=r"at most 65536 frames \(got 108001\)"):
        Talker("d", 0.0, 3600.0, (), camera_fps=30.0).camera(0)


def test_a_frame_of_theirs_that_never_arrived_is_caught() -> None:
    """Their next frame after the last that came (sent, but after the unsubscription or
    never), forged from the pattern: it is theirs, yet the network never delivered it."""
    pattern = Talker("p0", 0.0, 60.0, (), camera_fps=30.0).camera(number=0)

    async def forges(room: SimulatedRoom) -> RoomKept:
        kept = await record(room)
        assert kept.video is not None
        video = {k: list(v) for k, v in kept.video.items()}
        frames = video["p0"]
        if frames:
            last = int(frames[-1].data[0, 0, 0]) + 256 * int(frames[-1].data[0, 0, 1])
            later = frames[-1].timestamp_us + 1
            frames.append(lk.VideoFrame(pattern[last + 1], timestamp_us=later))
        return RoomKept(kept.audio, video)

    with pytest.raises(AssertionError, match=r"'p0': video frame \d+ was kept but never arrived"):
        check_room_consumer(forges, scenarios=CAMERAS, max_examples=20)
