"""VideoFrame: numpy views of pixels, validation, and LiveKit conversions."""

from __future__ import annotations

import numpy as np
import pytest
from livekit import rtc

import lkframes as lk


def test_packed_frame_is_a_read_only_view() -> None:
    pixels = np.arange(48 * 64 * 4, dtype=np.uint32).astype(np.uint8).reshape(48, 64, 4)
    frame = lk.VideoFrame(pixels, "rgba", timestamp_us=40_000)
    assert (frame.width, frame.height, frame.pixel_format) == (64, 48, "rgba")
    assert np.shares_memory(frame.data, pixels)
    assert not frame.data.flags.writeable
    assert repr(frame) == "VideoFrame(64x48 rgba, t=0.040 s)"


def test_rtc_round_trip_keeps_pixels() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (10, 16, 4), dtype=np.uint8)
    frame = lk.VideoFrame(pixels, "bgra")
    back = lk.VideoFrame.from_rtc(frame.to_rtc())
    assert back.pixel_format == "bgra"
    assert np.array_equal(back.data, pixels)


def test_from_rtc_is_a_view_of_livekit_memory() -> None:
    buffer = bytearray(8 * 4 * 4)
    rtc_frame = rtc.VideoFrame(8, 4, rtc.VideoBufferType.RGBA, buffer)
    frame = lk.VideoFrame.from_rtc(rtc_frame)
    buffer[0] = 200
    assert frame.data[0, 0, 0] == 200


def test_convert_to_i420_and_back_is_close() -> None:
    pixels = np.zeros((32, 32, 4), np.uint8)
    pixels[..., 0], pixels[..., 1], pixels[..., 2], pixels[..., 3] = 200, 100, 50, 255
    i420 = lk.VideoFrame(pixels, "rgba").convert("i420")
    assert i420.pixel_format == "i420"
    assert i420.data.shape == (32 * 32 * 3 // 2,)
    rgba = i420.convert("rgba")
    assert np.abs(rgba.data[..., :3].astype(int) - pixels[..., :3]).max() <= 4
    assert not np.shares_memory(rgba.data, pixels)  # a new buffer, however it was read
    assert not np.shares_memory(i420.data, rgba.data)


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (np.zeros((4, 4, 4), np.float32), {}, "must be a uint8 array"),
        (np.zeros((4, 4, 3), np.uint8), {}, r"invalid shape \(4, 4, 3\)"),
        (np.zeros((4, 8, 4), np.uint8)[:, ::2], {}, "not C-contiguous"),
        (np.zeros(10, np.uint8), {"pixel_format": "i420"}, "needs width= and height="),
        (
            np.zeros(10, np.uint8),
            {"pixel_format": "i420", "width": 4, "height": 4},
            r"has 10 bytes \(expected 24 for 4x4\)",
        ),
    ],
)
def test_bad_pixels_raise(data: object, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(lk.InvalidVideoError, match=message):
        lk.VideoFrame(data, **kwargs)  # type: ignore[arg-type]


def test_unknown_pixel_format_raises() -> None:
    with pytest.raises(lk.ParameterError, match="pixel_format must be one of"):
        lk.VideoFrame(np.zeros((2, 2, 4), np.uint8), "yuv9")  # type: ignore[arg-type]


def test_bgr24_and_gray_go_to_livekit_as_opaque_bgra() -> None:
    """LiveKit has no bgr24 or gray buffer: they are handed over as BGRA, the same
    colours (gray as R = G = B), as OpenCV's COLOR_BGR2BGRA / COLOR_GRAY2BGRA make them."""
    import cv2

    bgr = np.random.default_rng(1).integers(0, 256, (9, 15, 3), dtype=np.uint8)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    for data, layout, code in (
        (bgr, "bgr24", cv2.COLOR_BGR2BGRA),
        (gray, "gray", cv2.COLOR_GRAY2BGRA),
    ):
        frame = lk.VideoFrame(data, layout)  # type: ignore[arg-type]
        for made in (frame.to_rtc(), frame._to_rtc_shared()):
            assert made.type == rtc.VideoBufferType.BGRA
            sent = np.frombuffer(made.data, np.uint8).reshape(9, 15, 4)
            np.testing.assert_array_equal(sent, cv2.cvtColor(data, code))
    with pytest.raises(lk.ParameterError, match="LiveKit has no bgr24 buffer type"):
        lk._core.video.buffer_type("bgr24")


def test_from_rtc_makes_bgr24_and_gray_from_the_frames_own_layout() -> None:
    import cv2

    rgba = np.random.default_rng(2).integers(0, 256, (10, 16, 4), dtype=np.uint8)
    packed = rtc.VideoFrame(16, 10, rtc.VideoBufferType.RGBA, bytearray(rgba))
    bgr = lk.VideoFrame.from_rtc(packed, pixel_format="bgr24", timestamp_us=5)
    assert (bgr.pixel_format, bgr.timestamp_us) == ("bgr24", 5)
    np.testing.assert_array_equal(bgr.data, cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR))
    gray = lk.VideoFrame.from_rtc(packed, pixel_format="gray")
    np.testing.assert_array_equal(gray.data, cv2.cvtColor(rgba, cv2.COLOR_RGBA2GRAY))
    i420 = packed.convert(rtc.VideoBufferType.I420)  # what a remote track delivers
    own = lk.VideoFrame.from_rtc(i420)
    for layout in ("bgr24", "gray"):
        got = lk.VideoFrame.from_rtc(i420, pixel_format=layout)
        wanted = lk.run_sync(lk.from_video_frames([own]).to_pixel_format(layout).collect())
        np.testing.assert_array_equal(got.data, wanted[0].data)
