"""Video stages: `resize` and `to_pixel_format` equal PyAV's reformat of the same frames;
`fps` drops and repeats frames by timestamp."""

from __future__ import annotations

from typing import Any

import av
import numpy as np
import pytest

import lkframes as lk

pytestmark = pytest.mark.anyio


def _frames(count: int, *, fps: float = 30, width: int = 64, height: int = 48) -> list[Any]:
    rng = np.random.default_rng(count)
    return [
        lk.VideoFrame(
            rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
            "rgb24",
            timestamp_us=round(i * 1e6 / fps),
        )
        for i in range(count)
    ]


def _pyav(frame: lk.VideoFrame, **kwargs: Any) -> np.ndarray[Any, Any]:
    """PyAV's own reformat of the frame's pixels, as an array."""
    picture = av.VideoFrame.from_ndarray(np.asarray(frame.data), format="rgb24")
    out = picture.reformat(**kwargs)
    if out.format.name == "yuv420p":
        return out.to_ndarray().reshape(-1)
    return out.to_ndarray()


@pytest.mark.parametrize(
    ("kwargs", "size"),
    [
        ({"width": 32}, (32, 24)),
        ({"height": 12}, (16, 12)),
        ({"width": 40, "height": 40}, (40, 40)),  # stretched
        ({"width": 40, "height": 40, "keep_aspect": True}, (40, 30)),  # fitted inside
        ({"width": 100, "height": 30, "keep_aspect": True}, (40, 30)),
    ],
)
async def test_resize_sizes(
    anyio_backend: str, kwargs: dict[str, Any], size: tuple[int, int]
) -> None:
    frames = await lk.from_video_frames(_frames(3)).resize(**kwargs).collect()
    assert [(f.width, f.height) for f in frames] == [size] * 3
    assert [f.timestamp_us for f in frames] == [0, 33_333, 66_667]
    assert {f.pixel_format for f in frames} == {"rgb24"}


@pytest.mark.parametrize(
    "interpolation", ["fast_bilinear", "bilinear", "bicubic", "area", "lanczos"]
)
async def test_resize_equals_pyavs_reformat(
    anyio_backend: str, interpolation: lk.Interpolation
) -> None:
    source = _frames(4)
    stream = lk.from_video_frames(source).resize(32, 24, interpolation=interpolation)
    frames = await stream.collect()
    for got, original in zip(frames, source, strict=True):
        expected = _pyav(
            original, width=32, height=24, format="rgb24", interpolation=interpolation.upper()
        )
        np.testing.assert_array_equal(got.data, expected)


async def test_resize_keeps_a_planar_layout(anyio_backend: str) -> None:
    frames = await lk.from_video_frames(_frames(2)).to_pixel_format("i420").resize(33, 25).collect()
    assert [(f.pixel_format, f.width, f.height, f.data.size) for f in frames] == [
        ("i420", 33, 25, 33 * 25 + 2 * 17 * 13)
    ] * 2


@pytest.mark.parametrize("layout", ["i420", "nv12", "rgba", "bgra", "argb", "abgr", "rgb24"])
async def test_to_pixel_format_equals_pyav_and_comes_back(anyio_backend: str, layout: str) -> None:
    source = _frames(3)
    converted = await lk.from_video_frames(source).to_pixel_format(layout).collect()  # type: ignore[arg-type]
    assert {f.pixel_format for f in converted} == {layout}
    if layout == "i420":
        for got, original in zip(converted, source, strict=True):
            np.testing.assert_array_equal(got.data, _pyav(original, format="yuv420p"))
    if layout in ("rgba", "bgra", "argb", "abgr"):  # lossless: the same pixels, reordered
        back = await lk.from_video_frames(converted).to_pixel_format("rgb24").collect()
        for got, original in zip(back, source, strict=True):
            np.testing.assert_array_equal(got.data, original.data)


@pytest.mark.parametrize(
    ("stamps_ms", "rate", "expected_ms", "shown"),
    [
        (  # 60 -> 30: every other frame, the later of each pair (before the half-frame)
            list(range(0, 200, 1000 // 60)),
            30,
            [0, 33, 67, 100, 133, 167, 200],
            [1, 3, 5, 7, 9, 11, 12],
        ),
        ([0, 67, 133], 30, [0, 33, 67, 100, 133, 167], [0, 0, 1, 1, 2, 2]),  # 15 -> 30: twice
        ([0, 10, 200, 210, 500], 10, [0, 100, 200, 300, 400, 500], [1, 1, 3, 3, 3, 4]),
        ([0], 30, [0], [0]),
        (  # 25 -> 10 for 2 s: 20 frames, the last at 1.9 s (the input ends at 2.0 s)
            list(range(0, 2000, 40)),
            10,
            list(range(0, 2000, 100)),
            [(100 * k + 49) // 40 for k in range(20)],
        ),
    ],
)
async def test_fps_drops_and_repeats_by_timestamp(
    anyio_backend: str,
    stamps_ms: list[int],
    rate: float,
    expected_ms: list[int],
    shown: list[int],
) -> None:
    frames = [
        lk.VideoFrame(np.full((2, 2, 3), i, np.uint8), "rgb24", timestamp_us=t * 1000)
        for i, t in enumerate(stamps_ms)
    ]
    out = await lk.from_video_frames(frames).fps(rate).collect()
    assert [round(f.timestamp_us / 1000) for f in out] == expected_ms
    assert [int(f.data[0, 0, 0]) for f in out] == shown
    assert all(np.shares_memory(f.data, frames[s].data) for f, s in zip(out, shown, strict=True))


async def test_fps_of_nothing_is_nothing(anyio_backend: str) -> None:
    assert await lk.from_video_frames([]).fps(30).collect() == []


async def test_bad_video_stage_arguments_and_items(anyio_backend: str) -> None:
    with pytest.raises(lk.ParameterError, match="resize needs width=, height= or both"):
        lk.resize()
    with pytest.raises(lk.ParameterError, match="width must be a positive int"):
        lk.resize(0, 10)
    with pytest.raises(lk.ParameterError, match="interpolation must be one of"):
        lk.resize(10, 10, interpolation="nearest")  # type: ignore[arg-type]
    with pytest.raises(lk.ParameterError, match="pixel_format must be one of"):
        lk.to_pixel_format("yuv")  # type: ignore[arg-type]
    with pytest.raises(lk.ParameterError, match="rate must be more than 0"):
        lk.fps(0)
    with pytest.raises(lk.InvalidVideoError, match="resize takes VideoFrame items"):
        await lk.sine(440, 0.1).pipe(lk.resize(10, 10)).collect()  # type: ignore[arg-type]
