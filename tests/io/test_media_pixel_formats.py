"""Files in and out in ``bgr24`` and ``gray``: reading equals PyAV's decode in that layout
(and, for gray, the ffmpeg CLI's), and writing encodes what PyAV's conversion to yuv420p
gives (checked through a lossless FFV1 file, decoded by the ffmpeg CLI)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

import lkframes as lk

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (Debian: ffmpeg)"
    ),
]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


@pytest.fixture(scope="module")
def lossless(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FFV1 at an odd size (161x91), 25 frames, made by the ffmpeg CLI."""
    path = tmp_path_factory.mktemp("pixfmt") / "ffv1.mkv"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1",
            "-vf", "scale=161:91", "-c:v", "ffv1", str(path))  # fmt: skip
    return path


def _pyav(path: Path, layout: str) -> list[np.ndarray[Any, Any]]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format=layout) for f in container.decode(video=0)]


@pytest.mark.parametrize("layout", ["bgr24", "gray"])
async def test_reading_in_bgr24_or_gray_equals_pyavs_decode(
    anyio_backend: str, lossless: Path, tmp_path: Path, layout: lk.PixelFormat
) -> None:
    frames = await lk.from_video_file(lossless, pixel_format=layout).collect()
    reference = _pyav(lossless, layout)
    assert len(frames) == len(reference) == 25
    shape = (91, 161, 3) if layout == "bgr24" else (91, 161)
    for frame, pixels in zip(frames, reference, strict=True):
        assert (frame.pixel_format, frame.data.shape) == (layout, shape)
        np.testing.assert_array_equal(frame.data, pixels)
    if layout == "gray":  # the ffmpeg CLI's gray is the same (its bgr24 interpolates chroma)
        raw = tmp_path / "gray.raw"
        _ffmpeg("-i", str(lossless), "-f", "rawvideo", "-pix_fmt", "gray", str(raw))
        cli = np.fromfile(raw, np.uint8).reshape(25, 91, 161)
        np.testing.assert_array_equal(np.stack([f.data for f in frames]), cli)


async def test_open_media_hands_out_opencv_images(anyio_backend: str, lossless: Path) -> None:
    media = lk.open_media(lossless, pixel_format="bgr24")
    assert media.video is not None
    first = (await media.video.take(1).collect())[0]
    rgb = (await lk.from_video_file(lossless, pixel_format="rgb24").take(1).collect())[0]
    gray = cv2.cvtColor(np.asarray(first.data), cv2.COLOR_BGR2GRAY)  # cv2 takes it as is
    assert gray.shape == (91, 161)
    assert np.abs(first.data.astype(int) - rgb.data[..., ::-1]).max() <= 1  # two swscale paths


@pytest.mark.parametrize("layout", ["bgr24", "gray"])
async def test_writing_bgr24_or_gray_encodes_pyavs_yuv420p_of_them(
    anyio_backend: str, tmp_path: Path, layout: str
) -> None:
    rng = np.random.default_rng(3)
    shape = (32, 48, 3) if layout == "bgr24" else (32, 48)
    images = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(6)]
    path = tmp_path / "out.mkv"
    stream = lk.from_video_frames(images, pixel_format=layout, fps=25)  # type: ignore[arg-type]
    summary = await lk.to_media_file(path, video=stream, video_codec="ffv1")
    assert (summary.video_frames, summary.video_size) == (6, (48, 32))
    raw = tmp_path / "out.yuv"
    _ffmpeg(
        "-i",
        str(path),
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        str(raw),
    )
    written = np.fromfile(raw, np.uint8).reshape(6, -1)
    for image, got in zip(images, written, strict=True):
        picture = av.VideoFrame.from_ndarray(image, format=layout).reformat(format="yuv420p")
        np.testing.assert_array_equal(got, picture.to_ndarray().reshape(-1))
