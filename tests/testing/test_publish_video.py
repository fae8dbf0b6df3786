"""`lk.publish_video` against a `SimulatedRoom` on a virtual clock: what was sent, when,
and that the track is unpublished and the source closed however the run ends. (The same
function through a real livekit-server: tests/livekit/test_media_rooms.py.)"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import anyio
import numpy as np
import pytest

import lkframes as lk
from lkframes.testing import SimulatedRoom, open_resources, run_virtual

W, H = 64, 48


def pictures(count: int, fps: float = 25.0) -> list[lk.VideoFrame]:
    """``count`` RGBA frames whose red channel says their index."""
    out = []
    for k in range(count):
        pixels = np.full((H, W, 4), 200, np.uint8)
        pixels[..., 0] = k
        out.append(lk.VideoFrame(pixels, timestamp_us=round(k * 1e6 / fps)))
    return out


def test_sends_every_frame_at_its_time_and_unpublishes() -> None:
    frames = pictures(20)

    async def main() -> tuple[lk.RunSummary, Any, list[str], float]:
        async with SimulatedRoom() as room:
            summary = await lk.publish_video(lk.from_video_frames(frames), room, "cam")
            left = list(room.local_participant.track_publications)
            return summary, room.you.published["cam"], left, room.clock()

    summary, published, left, ended = run_virtual(main)
    assert summary.frames == len(published.frames) == 20
    assert [at for at, _ in published.frames] == pytest.approx(
        [k / 25 for k in range(20)], abs=1e-9
    )  # paced by timestamp_us on the room's clock
    assert [int(f.data[0, 0, 0]) for _, f in published.frames] == list(range(20))
    assert all(
        np.array_equal(f.data, g.data) for (_, f), g in zip(published.frames, frames, strict=True)
    )
    assert left == []
    assert ended == pytest.approx(19 / 25, abs=1e-6)
    assert not any(open_resources().values())


def test_without_realtime_the_frames_go_at_once() -> None:
    async def main() -> list[float]:
        async with SimulatedRoom() as room:
            await lk.publish_video(lk.from_video_frames(pictures(10)), room, "cam", realtime=False)
            return [at for at, _ in room.you.published["cam"].frames]

    assert run_virtual(main) == [0.0] * 10


def test_an_empty_stream_publishes_nothing() -> None:
    async def main() -> tuple[int, dict[str, Any]]:
        async with SimulatedRoom() as room:
            summary = await lk.publish_video(lk.from_video_frames([]), room, "cam")
            return summary.frames, dict(room.you.published)

    assert run_virtual(main) == (0, {})


def test_a_wrong_item_is_refused_and_the_track_unpublished() -> None:
    async def items() -> AsyncGenerator[Any, None]:
        yield pictures(1)[0]
        yield np.zeros((H, W, 4), np.uint8)  # an array, not a VideoFrame

    async def main() -> list[str]:
        async with SimulatedRoom() as room:
            with pytest.raises(lk.InvalidVideoError, match="got ndarray"):
                await lk.publish_video(lk.Stream(items), room, "cam")
            return list(room.local_participant.track_publications)

    assert run_virtual(main) == []
    assert not any(open_resources().values())


def test_cancelled_midway_it_unpublishes() -> None:
    async def main() -> tuple[int, list[str]]:
        async with SimulatedRoom() as room:
            with anyio.move_on_after(0.5):
                await lk.publish_video(lk.from_video_frames(pictures(100)), room, "cam")
            return len(room.you.published["cam"].frames), list(
                room.local_participant.track_publications
            )

    sent, left = run_virtual(main)
    assert sent == 13  # frames 0..12 are due at 0, 0.04, ..., 0.48 s
    assert left == []
    assert not any(open_resources().values())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fps": 0}, lk.ParameterError, r"fps must be positive \(got 0\)"),
        ({"max_bitrate": -1}, lk.ParameterError, r"max_bitrate must be positive \(got -1\)"),
    ],
)
def test_bad_parameters_are_named(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    async def main() -> None:
        async with SimulatedRoom() as room:
            await lk.publish_video(lk.from_video_frames(pictures(1)), room, "cam", **kwargs)

    with pytest.raises(error, match=message):
        run_virtual(main)


def test_a_disconnected_room_is_refused() -> None:
    async def main() -> None:
        await lk.publish_video(lk.from_video_frames(pictures(1)), SimulatedRoom(), "cam")

    with pytest.raises(lk.NotConnectedError, match="publish_video needs a connected room"):
        run_virtual(main)
