"""`bgr24` and `gray`: conversions equal OpenCV's ``cv2.cvtColor`` where OpenCV defines them
the same way (channel moves, BT.601 luma of packed colour), and PyAV's ``reformat`` to and
from i420/nv12; `from_video_frames` takes OpenCV's arrays; bad arrays are refused by name."""

from __future__ import annotations

import itertools
from typing import Any

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lkframes as lk

pytestmark = pytest.mark.anyio

Pixels = np.ndarray[Any, Any]  # cv2's results are typed loosely

PACKED: tuple[lk.PixelFormat, ...] = ("rgba", "bgra", "argb", "abgr", "rgb24", "bgr24")
TO_RGBA = {  # each packed layout's channels, reordered to R, G, B, A (no A: opaque)
    "rgba": [0, 1, 2, 3],
    "bgra": [2, 1, 0, 3],
    "argb": [1, 2, 3, 0],
    "abgr": [3, 2, 1, 0],
    "rgb24": [0, 1, 2],
    "bgr24": [2, 1, 0],
}
SIZES = st.tuples(st.integers(1, 41), st.integers(1, 41))  # (width, height), odd ones too
EVEN_SIZES = st.tuples(st.integers(1, 20), st.integers(1, 20)).map(lambda s: (2 * s[0], 2 * s[1]))


def _pixels(width: int, height: int, layout: str, seed: int) -> Pixels:
    rng = np.random.default_rng(seed)
    if layout == "gray":
        return rng.integers(0, 256, (height, width), dtype=np.uint8)
    return rng.integers(0, 256, (height, width, len(TO_RGBA[layout])), dtype=np.uint8)


def _as_rgba(data: Pixels, layout: str) -> Pixels:
    """The reference's own reordering: any packed layout as RGBA (opaque without alpha)."""
    if layout == "gray":
        return cv2.cvtColor(data, cv2.COLOR_GRAY2RGBA)
    rgba = data[..., TO_RGBA[layout]]
    if rgba.shape[2] == 3:
        rgba = np.concatenate([rgba, np.full((*rgba.shape[:2], 1), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(rgba)


def _cv2(data: Pixels, source: str, target: str) -> Pixels:
    """OpenCV's conversion of ``data`` from ``source`` to ``target`` (through RGBA for the
    layouts OpenCV has no code of: argb, abgr)."""
    rgba = _as_rgba(data, source)
    if target == "gray":
        return cv2.cvtColor(rgba, cv2.COLOR_RGBA2GRAY)
    if target in ("rgba", "rgb24"):
        return cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB) if target == "rgb24" else rgba
    if target == "bgr24":
        return cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)
    if target == "bgra":
        return cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA)
    order = [3, 0, 1, 2] if target == "argb" else [3, 2, 1, 0]
    return np.ascontiguousarray(rgba[..., order])


@pytest.mark.parametrize("source", PACKED)
def test_gray_of_every_colour_is_opencvs_exactly(source: str) -> None:
    """All 2**24 colours in each layout: luma equals cv2.COLOR_RGB2GRAY bit for bit."""
    v = np.arange(256, dtype=np.uint8)
    rgb = np.stack(np.meshgrid(v, v, v, indexing="ij"), -1).reshape(4096, 4096, 3)
    expected = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    full = rgb
    if len(TO_RGBA[source]) == 4:  # any alpha: luma does not depend on it
        full = np.concatenate([rgb, np.full((4096, 4096, 1), 7, np.uint8)], axis=2)
    data = full[..., np.argsort(TO_RGBA[source])]  # R, G, B(, A) into the layout's places
    frame = lk.VideoFrame(np.ascontiguousarray(data), source)  # type: ignore[arg-type]
    np.testing.assert_array_equal(frame.convert("gray").data, expected)


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations([*PACKED, "gray"], 2)))
@settings(max_examples=15, deadline=None)
@given(size=SIZES, seed=st.integers(0, 2**32 - 1))
def test_packed_and_gray_conversions_equal_opencv(
    source: lk.PixelFormat, target: lk.PixelFormat, size: tuple[int, int], seed: int
) -> None:
    data = _pixels(*size, source, seed)
    got = lk.VideoFrame(data, source).convert(target)
    assert (got.pixel_format, got.width, got.height) == (target, *size)
    np.testing.assert_array_equal(got.data, _cv2(data, source, target))


def test_opencvs_own_codes_agree_with_the_reference() -> None:
    """The reference above, checked on cv2's direct codes where cv2 has them."""
    data = _pixels(33, 17, "rgba", 5)
    bgr = cv2.cvtColor(data, cv2.COLOR_RGBA2BGR)
    cases = [
        (data, "rgba", "bgr24", bgr),
        (bgr, "bgr24", "rgb24", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)),
        (bgr, "bgr24", "gray", cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)),
        (bgr, "bgr24", "bgra", cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)),
        (bgr, "bgr24", "rgba", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA)),
    ]
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    cases += [(gray, "gray", "bgr24", cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))]
    cases += [(gray, "gray", "bgra", cv2.cvtColor(gray, cv2.COLOR_GRAY2BGRA))]
    for pixels, source, target, expected in cases:
        np.testing.assert_array_equal(_cv2(pixels, source, target), expected)
        got = lk.VideoFrame(np.ascontiguousarray(pixels), source).convert(target)  # type: ignore[arg-type]
        np.testing.assert_array_equal(got.data, expected)


def _av_planar(frame: av.VideoFrame) -> Pixels:
    """PyAV's own flat array of an even-sized yuv420p or nv12 frame."""
    return np.asarray(frame.to_ndarray()).reshape(-1)


@pytest.mark.parametrize("planar", ["i420", "nv12"])
@pytest.mark.parametrize("packed", ["bgr24", "gray"])
@settings(max_examples=20, deadline=None)
@given(size=EVEN_SIZES, seed=st.integers(0, 2**32 - 1))
def test_to_and_from_planar_equals_pyavs_reformat(
    planar: lk.PixelFormat, packed: lk.PixelFormat, size: tuple[int, int], seed: int
) -> None:
    av_name = {"i420": "yuv420p", "nv12": "nv12"}[planar]
    data = _pixels(*size, packed, seed)
    stream = lk.from_video_frames([data], pixel_format=packed).to_pixel_format(planar)
    yuv = lk.run_sync(stream.collect())
    reference = av.VideoFrame.from_ndarray(data, format=packed).reformat(format=av_name)
    np.testing.assert_array_equal(yuv[0].data, _av_planar(reference))
    back = lk.run_sync(lk.from_video_frames(yuv).to_pixel_format(packed).collect())
    expected = reference.reformat(format=packed).to_ndarray()
    np.testing.assert_array_equal(back[0].data, expected)


def _i420(width: int, height: int, seed: int) -> lk.VideoFrame:
    rng = np.random.default_rng(seed)
    size = width * height + 2 * ((width + 1) // 2) * ((height + 1) // 2)
    return lk.VideoFrame(
        rng.integers(0, 256, size, dtype=np.uint8), "i420", width=width, height=height
    )


@settings(max_examples=40, deadline=None)
@given(size=SIZES, seed=st.integers(0, 2**32 - 1))
def test_gray_and_i420_at_any_size_are_ffmpegs_range_conversion(
    size: tuple[int, int], seed: int
) -> None:
    """Gray is full range, I420's Y limited (16..235), as in FFmpeg: gray from I420 is the
    Y plane stretched, clip(round((Y - 16) * 255 / 219)) (OpenCV's COLOR_YUV2GRAY_I420
    copies Y as it is); I420 from gray is Y = round(16 + gray * 219 / 255), chroma 128.
    Checked at odd sizes too, where PyAV's to_ndarray refuses I420."""
    width, height = size
    i420 = _i420(width, height, seed)
    y = i420.data[: width * height].astype(np.float64).reshape(height, width)
    stretched = np.clip(np.floor((y - 16) * 255 / 219 + 0.5), 0, 255)
    gray = i420.convert("gray")
    np.testing.assert_array_equal(gray.data, stretched.astype(np.uint8))
    back = gray.convert("i420")
    luma = np.floor(gray.data.astype(np.float64) * 219 / 255 + 16.5).reshape(-1)
    np.testing.assert_array_equal(back.data[: width * height], luma.astype(np.uint8))
    assert set(back.data[width * height :].tolist()) == {128}


def _planes_into(frame: av.VideoFrame, data: Pixels) -> av.VideoFrame:
    """The test's own copy of a flat I420 buffer into a PyAV frame's (padded) planes."""
    at = 0
    for plane in frame.planes:
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        size = plane.width * plane.height
        rows[:, : plane.width] = data[at : at + size].reshape(plane.height, plane.width)
        at += size
    return frame


def _planes_of(frame: av.VideoFrame) -> Pixels:
    """A PyAV I420 frame's planes without their padding, one after the other."""
    return np.concatenate(
        [
            np.frombuffer(memoryview(p), np.uint8)
            .reshape(p.height, p.line_size)[:, : p.width]
            .reshape(-1)
            for p in frame.planes
        ]
    )


@settings(max_examples=30, deadline=None)
@given(size=SIZES, seed=st.integers(0, 2**32 - 1))
def test_bgr24_and_i420_at_any_size_equal_pyavs_reformat(size: tuple[int, int], seed: int) -> None:
    """At odd sizes too (where PyAV's to_ndarray and from_ndarray refuse I420)."""
    width, height = size
    i420 = _i420(width, height, seed)
    source = _planes_into(av.VideoFrame(width, height, "yuv420p"), i420.data)
    expected = source.reformat(format="bgr24").to_ndarray()
    np.testing.assert_array_equal(i420.convert("bgr24").data, expected)
    bgr = _pixels(width, height, "bgr24", seed)
    reference = av.VideoFrame.from_ndarray(bgr, format="bgr24").reformat(format="yuv420p")
    np.testing.assert_array_equal(
        lk.VideoFrame(bgr, "bgr24").convert("i420").data, _planes_of(reference)
    )


def test_i420_to_bgr24_is_close_to_opencvs_own() -> None:
    """OpenCV's COLOR_YUV2BGR_I420 uses the same BT.601 limited-range matrix with its own
    rounding and chroma placement: a smooth picture differs by a few levels at most."""
    height, width = 48, 64
    y, x = np.mgrid[0:height, 0:width]
    bgr = np.stack([x * 4, y * 5, (x + y) * 2], -1).astype(np.uint8)
    i420 = lk.VideoFrame(bgr, "bgr24").convert("i420")
    opencv = cv2.cvtColor(i420.data.reshape(height * 3 // 2, width), cv2.COLOR_YUV2BGR_I420)
    assert np.abs(i420.convert("bgr24").data.astype(int) - opencv).max() <= 3


async def test_from_video_frames_takes_opencv_arrays_timed_by_fps(anyio_backend: str) -> None:
    images = [_pixels(65, 31, "bgr24", k) for k in range(3)]
    frames = await lk.from_video_frames(images, pixel_format="bgr24", fps=25).collect()
    assert [(f.pixel_format, f.width, f.height) for f in frames] == [("bgr24", 65, 31)] * 3
    assert [f.timestamp_us for f in frames] == [0, 40_000, 80_000]
    for frame, image in zip(frames, images, strict=True):
        np.testing.assert_array_equal(frame.data, image)
    grays: list[Pixels] = [cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) for image in images]
    frames = await lk.from_video_frames(grays, pixel_format="gray").collect()
    assert [f.data.shape for f in frames] == [(31, 65)] * 3
    assert [f.timestamp_us for f in frames] == [0, 33_333, 66_667]  # the default 30 fps
    view = images[0][:, ::2]  # not contiguous: copied, not refused
    frames = await lk.from_video_frames([view], pixel_format="bgr24").collect()
    np.testing.assert_array_equal(frames[0].data, view)


@pytest.mark.parametrize(
    ("items", "kwargs", "message"),
    [
        ([np.zeros((4, 6, 3), np.uint8)], {}, r"frame 0 is a numpy array; pass pixel_format="),
        (
            [np.zeros((4, 6, 3), np.uint8)] * 2 + [np.zeros((4, 6, 4), np.uint8)],
            {"pixel_format": "bgr24"},
            r"frame 2: bgr24 data has invalid shape \(4, 6, 4\) \(expected \(height, width, 3\)",
        ),
        (
            [np.zeros((4, 6, 3), np.uint8)],
            {"pixel_format": "gray"},
            r"gray data has invalid shape \(4, 6, 3\) \(expected \(height, width\)",
        ),
        (
            [np.zeros((4, 6, 3), np.float32)],
            {"pixel_format": "bgr24"},
            r"frame 0: video data must be a uint8 array \(got float32\)",
        ),
        ([b"pixels"], {"pixel_format": "bgr24"}, "VideoFrame items or numpy arrays"),
    ],
)
async def test_bad_arrays_are_refused_by_name(
    anyio_backend: str, items: list[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(lk.InvalidVideoError, match=message):
        await lk.from_video_frames(items, **kwargs).collect()


def test_bad_from_video_frames_arguments_raise_at_once() -> None:
    with pytest.raises(lk.ParameterError, match="pixel_format='i420' is planar"):
        lk.from_video_frames([], pixel_format="i420")
    with pytest.raises(lk.ParameterError, match="pixel_format must be one of"):
        lk.from_video_frames([], pixel_format="bgr")  # type: ignore[arg-type]
    with pytest.raises(lk.ParameterError, match=r"fps must be more than 0 \(got 0\)"):
        lk.from_video_frames([], pixel_format="gray", fps=0)


@pytest.mark.parametrize(
    ("data", "layout", "message"),
    [
        (np.zeros((4, 4, 1), np.uint8), "gray", r"gray data has invalid shape \(4, 4, 1\)"),
        (np.zeros(16, np.uint8), "gray", r"invalid shape \(16,\) \(expected \(height, width\)"),
        (np.zeros((4, 4), np.uint8), "bgr24", r"\(4, 4\) \(expected \(height, width, 3\)\)$"),
        (
            np.zeros((4, 4, 3), np.uint8),
            "rgba",
            r"expected \(height, width, 4\)\); an OpenCV colour image is pixel_format='bgr24'",
        ),
        (np.zeros((4, 4), np.int16), "gray", r"must be a uint8 array \(got int16\)"),
    ],
)
def test_wrong_shape_or_dtype_for_the_layout_names_expected_and_got(
    data: Pixels, layout: lk.PixelFormat, message: str
) -> None:
    with pytest.raises(lk.InvalidVideoError, match=message):
        lk.VideoFrame(data, layout)


def test_gray_and_i420_agree_with_pyav_at_every_level() -> None:
    """lkframes maps gray <-> Y by table: every one of the 256 levels, each way, against
    PyAV's own conversion of a 16x16 ramp."""
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    i420 = np.concatenate([ramp.reshape(-1), np.full(128, 128, np.uint8)])
    from_yuv = av.VideoFrame.from_ndarray(i420.reshape(24, 16), format="yuv420p")
    gray = lk.VideoFrame(i420, "i420", width=16, height=16).convert("gray")
    np.testing.assert_array_equal(gray.data, from_yuv.reformat(format="gray").to_ndarray())
    from_gray = av.VideoFrame.from_ndarray(ramp, format="gray").reformat(format="yuv420p")
    back = lk.VideoFrame(ramp, "gray").convert("i420")
    np.testing.assert_array_equal(back.data, _av_planar(from_gray))


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(PACKED, 2)))
def test_packed_conversions_are_also_pyavs(source: str, target: str) -> None:
    """Channel moves are the same in swscale: what to_pixel_format gave before numpy."""
    data = _pixels(33, 17, source, 9)
    expected = av.VideoFrame.from_ndarray(data, format=source).reformat(format=target)
    got = lk.VideoFrame(data, source).convert(target)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got.data, expected.to_ndarray())
