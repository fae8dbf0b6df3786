"""`map`'s one contract for audio and video: a frame of the item's kind is passed on, an array
becomes a frame of the item's kind at the item's time (O(1) checks; a wrong array fails at
the frame that returned it, naming the stage), anything else is passed on as a plain item.
tests/test_typing.py pins the same contract for the type checker."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk

pytestmark = pytest.mark.anyio

RATE = 8_000
WIDTH, HEIGHT = 6, 4
WINDOWS = [1, 3]  # the in-order path and the windowed one (concurrency > 1)


def _audio(frames: int = 3) -> lk.Stream[lk.AudioFrame]:
    return lk.from_array(np.arange(frames * 80, dtype=np.int16), RATE, block_ms=10)


def _video_frames(count: int = 3) -> list[lk.VideoFrame]:
    rng = np.random.default_rng(7)
    return [
        lk.VideoFrame(
            rng.integers(0, 256, (HEIGHT, WIDTH, 4), dtype=np.uint8), timestamp_us=33_333 * i
        )
        for i in range(count)
    ]


def _video(frames: list[lk.VideoFrame]) -> lk.Stream[lk.VideoFrame]:
    return lk.from_video_frames(frames)


@pytest.mark.parametrize("concurrency", WINDOWS)
async def test_audio_array_becomes_a_frame_at_the_items_pts(
    anyio_backend: str, concurrency: int
) -> None:
    out = await _audio().map(lambda f: f.data * 2, concurrency=concurrency).collect()
    assert [(type(f), f.pts, f.format) for f in out] == [
        (lk.AudioFrame, pts, lk.AudioFormat(RATE, 1)) for pts in (0, 80, 160)
    ]
    np.testing.assert_array_equal(np.concatenate([f.data for f in out])[:, 0], np.arange(240) * 2)


@pytest.mark.parametrize("concurrency", WINDOWS)
async def test_video_array_becomes_a_frame_with_the_items_layout_and_time(
    anyio_backend: str, concurrency: int
) -> None:
    frames = _video_frames()

    def invert(frame: lk.VideoFrame) -> NDArray[np.uint8]:
        return 255 - frame.data

    out = await _video(frames).map(invert, concurrency=concurrency).collect()
    assert [type(f) for f in out] == [lk.VideoFrame] * 3
    for got, given in zip(out, frames, strict=True):
        assert (got.pixel_format, got.width, got.height, got.timestamp_us) == (
            "rgba",
            WIDTH,
            HEIGHT,
            given.timestamp_us,
        )
        np.testing.assert_array_equal(got.data, 255 - given.data)
        assert not got.data.flags.writeable


async def test_video_array_keeps_a_planar_layout(anyio_backend: str) -> None:
    frames = await _video(_video_frames(2)).to_pixel_format("i420").collect()
    out = await _video(frames).map(lambda f: f.data // 2).collect()
    assert [(f.pixel_format, f.width, f.height, f.timestamp_us) for f in out] == [
        ("i420", WIDTH, HEIGHT, f.timestamp_us) for f in frames
    ]
    np.testing.assert_array_equal(out[1].data, frames[1].data // 2)


async def test_a_frame_of_another_size_is_passed_on(anyio_backend: str) -> None:
    small = lk.VideoFrame(np.zeros((2, 2, 3), np.uint8), "rgb24", timestamp_us=5)
    out = await _video(_video_frames(2)).map(lambda f: small).collect()
    assert list(out) == [small, small]


@pytest.mark.parametrize("concurrency", WINDOWS)
@pytest.mark.parametrize("kind", ["audio", "video"])
async def test_anything_else_is_passed_on_as_a_plain_item(
    anyio_backend: str, concurrency: int, kind: str
) -> None:
    stream: lk.Stream[Any] = _audio() if kind == "audio" else _video(_video_frames())
    levels = await stream.map(lambda f: float(f.data.mean()), concurrency=concurrency).collect()
    frames = await stream.collect()
    assert list(levels) == [float(f.data.mean()) for f in frames]
    assert await stream.map(lambda f: None).collect() == [None, None, None]


async def test_a_plain_item_reaches_a_sink_that_refuses_it(anyio_backend: str) -> None:
    nothing = _audio().map(lambda f: None)  # a Stream[None]: mypy refuses it for to_array
    with pytest.raises(lk.InvalidAudioError, match=r"AudioFrame items \(got NoneType\)"):
        await nothing.to_array()  # type: ignore[misc]


async def test_items_that_are_not_frames_pass_arrays_on(anyio_backend: str) -> None:
    pairs = lk.zip(_audio(), _audio())
    out = await pairs.map(lambda pair: pair[0].data + pair[1].data).collect()
    assert [type(a) for a in out] == [np.ndarray] * 3
    np.testing.assert_array_equal(out[2][:, 0], 2 * np.arange(160, 240))


@pytest.mark.parametrize("concurrency", WINDOWS)
@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (
            lambda f: f.data.astype(np.float32),
            r"is not uint8 pixels \(expected uint8, got "
            r"float32\)",
        ),
        (
            lambda f: f.data[:2],
            r"is not the input frame's shape \(expected "
            r"\(4, 6, 4\) for 6x4 rgba, got \(2, 6, 4\)\); return a VideoFrame to change the "
            r"size or layout",
        ),
        (
            lambda f: f.data[:, ::-1],
            r"is not C-contiguous \(expected C-contiguous, "
            r"got strides \(24, -4, 1\)\); pass np.ascontiguousarray",
        ),
    ],
    ids=["dtype", "shape", "contiguity"],
)
async def test_a_wrong_video_array_fails_at_the_frame_that_returned_it(
    anyio_backend: str, concurrency: int, fn: Any, message: str
) -> None:
    frames = _video_frames()

    def wrong_at_the_second(frame: lk.VideoFrame) -> Any:
        return fn(frame) if frame.timestamp_us == 33_333 else frame.data

    seen: list[lk.VideoFrame] = []
    stream = _video(frames).map(wrong_at_the_second, concurrency=concurrency).tap(seen.append)
    with pytest.raises(lk.InvalidVideoError, match=message) as info:
        await stream.collect()
    stage = f"map({wrong_at_the_second.__qualname__})"
    assert str(info.value).startswith(f"the array {stage} returned is not")
    assert info.value.__notes__ == [f"raised in lkframes stage {stage} at timestamp_us=33333"]
    assert [f.timestamp_us for f in seen] == [0]


async def test_a_wrong_audio_array_fails_naming_the_stage_and_pts(anyio_backend: str) -> None:
    def wrong_at_the_second(frame: lk.AudioFrame) -> NDArray[Any]:
        return frame.data.astype(np.float64) if frame.pts == 80 else frame.data

    stage = f"map({wrong_at_the_second.__qualname__})"
    with pytest.raises(lk.InvalidAudioError) as info:
        await _audio().map(wrong_at_the_second).collect()
    assert str(info.value).startswith(
        f"the array {stage} returned has unsupported dtype (expected int16 or float32, got float64)"
    )
    assert info.value.__notes__ == [f"raised in lkframes stage {stage} at pts=80"]
