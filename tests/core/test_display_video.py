"""Notebook display of video: a `VideoFrame` as a PNG, a list of frames as a WebM player.

The PNG and the WebM are taken out of the HTML and read back with ffmpeg/ffprobe, never
with the code that wrote them, and compared with the frames: pixels, sizes, counts, times.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk
from lkframes._core import display_video
from lkframes._core.display import MAX_EMBED_BYTES
from lkframes._core.display_video import FILMSTRIP, MAX_VIDEO_BYTES, MAX_VIDEO_FRAMES
from lkframes._core.video_av import reformat

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg and ffprobe are the reference decoders",
)

_IMG = re.compile(
    r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" width="(\d+)" height="(\d+)"'
)
_VIDEO = re.compile(
    r'<video controls preload="auto" width="(\d+)" height="(\d+)" '
    r'src="data:video/webm;base64,([A-Za-z0-9+/=]+)"></video>'
)


def _pattern(width: int, height: int, index: int = 0) -> NDArray[np.uint8]:
    """A smooth moving picture (gradients), rgb24: what a codec keeps well."""
    y, x = np.mgrid[0:height, 0:width]
    red = (x * 255 // max(1, width - 1) + 3 * index) % 256
    green = (y * 255 // max(1, height - 1)) % 256
    blue = np.full_like(x, (40 + 5 * index) % 256)
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def _clip(count: int, width: int = 160, height: int = 120, fps: float = 30.0) -> lk.FrameList[Any]:
    return lk.FrameList(
        [
            lk.VideoFrame(_pattern(width, height, i), "rgb24", timestamp_us=round(i * 1e6 / fps))
            for i in range(count)
        ]
    )


def _ffmpeg_rgb(path: Path, width: int, height: int) -> NDArray[np.uint8]:
    """Every frame of ``path`` as rgb24, decoded by ffmpeg."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def _png(page: str, tmp_path: Path) -> tuple[NDArray[np.uint8], tuple[int, int]]:
    """The page's one image, decoded by ffmpeg, and its width/height attributes."""
    found = _IMG.findall(page)
    assert len(found) == 1, page[:300]
    encoded, width, height = found[0]
    path = tmp_path / "frame.png"
    path.write_bytes(base64.b64decode(encoded, validate=True))
    pixels = _ffmpeg_rgb(path, int(width), int(height))
    assert pixels.shape[0] == 1
    return pixels[0], (int(width), int(height))


def _probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def _webm(page: str, tmp_path: Path) -> tuple[Path, tuple[int, int]]:
    found = _VIDEO.findall(page)
    assert len(found) == 1, page[:300]
    width, height, encoded = found[0]
    path = tmp_path / "player.webm"
    path.write_bytes(base64.b64decode(encoded, validate=True))
    return path, (int(width), int(height))


def _psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    error = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float(10 * np.log10(255.0**2 / max(error, 1e-12)))


def _note(page: str) -> str:
    notes = re.findall(r"<small>([^<]*)</small>", page)
    return html.unescape(" | ".join(notes))


# -- one frame --------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["rgb24", "rgba", "bgra", "argb", "abgr"])
def test_a_packed_frame_shows_as_a_png_of_its_exact_pixels(layout: str, tmp_path: Path) -> None:
    rgb = _pattern(37, 23)  # odd sizes
    alpha = np.full((23, 37, 1), 200, np.uint8)
    planes = {"r": rgb[..., :1], "g": rgb[..., 1:2], "b": rgb[..., 2:], "a": alpha}
    order = "rgb" if layout == "rgb24" else layout  # the channels, in memory order
    data = np.ascontiguousarray(np.concatenate([planes[c] for c in order], axis=-1))
    frame = lk.VideoFrame(data, layout)  # type: ignore[arg-type]
    page = frame._repr_html_()
    assert page.startswith(f"<div><code>{html.escape(repr(frame))}</code><br><img")
    pixels, size = _png(page, tmp_path)
    assert size == (37, 23)
    assert np.array_equal(pixels, rgb)  # lossless, alpha dropped


@pytest.mark.parametrize("layout", ["i420", "nv12"])
def test_a_planar_frame_shows_as_ffmpeg_converts_it(layout: str, tmp_path: Path) -> None:
    width, height = 64, 48
    rgba = lk.VideoFrame(
        np.ascontiguousarray(
            np.dstack([_pattern(width, height), np.full((height, width), 255, np.uint8)])
        )
    )
    frame = reformat(rgba, pixel_format=layout)  # type: ignore[arg-type]
    raw = tmp_path / "frame.yuv"
    raw.write_bytes(frame.data.tobytes())
    name = {"i420": "yuv420p", "nv12": "nv12"}[layout]
    reference = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            name,
            "-s",
            f"{width}x{height}",
            "-i",
            str(raw),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    expected = np.frombuffer(reference, np.uint8).reshape(height, width, 3)
    pixels, size = _png(frame._repr_html_(), tmp_path)
    assert size == (width, height)
    difference = np.abs(pixels.astype(int) - expected.astype(int))
    assert difference.max() <= 3, difference.max()  # swscale's rounding, CLI vs library


def test_the_png_repr_is_the_image_of_the_html(tmp_path: Path) -> None:
    frame = lk.VideoFrame(_pattern(20, 10), "rgb24")
    png = frame._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    bundle = frame._repr_mimebundle_()
    assert bundle["image/png"] == png
    assert base64.b64encode(png).decode() in bundle["text/html"]
    assert bundle["text/plain"] == repr(frame)
    (tmp_path / "f.png").write_bytes(png)
    assert np.array_equal(_ffmpeg_rgb(tmp_path / "f.png", 20, 10)[0], _pattern(20, 10))


def test_a_frame_over_1920x1080_is_shown_scaled_down(tmp_path: Path) -> None:
    frame = lk.VideoFrame(_pattern(3840, 2160), "rgb24")
    page = frame._repr_html_()
    pixels, size = _png(page, tmp_path)
    assert size == (1920, 1080)
    assert pixels.shape == (1080, 1920, 3)
    assert "shown scaled down to 1920x1080" in _note(page)


# -- a list of frames: the player -------------------------------------------------------------


def test_a_list_of_frames_plays_as_webm_vp8_of_those_frames(tmp_path: Path) -> None:
    frames = _clip(45, 160, 120, fps=30)
    page = frames._repr_html_()
    assert page is not None
    assert "<code>45 video frames, 160x120 rgb24, 30 fps, 1.500 s</code>" in page
    path, size = _webm(page, tmp_path)
    assert size == (160, 120)
    info = _probe(path)
    (stream,) = info["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("vp8", 160, 120)
    assert int(stream["nb_read_frames"]) == 45
    assert float(info["format"]["duration"]) == pytest.approx(1.5, abs=0.04)
    decoded = _ffmpeg_rgb(path, 160, 120)
    assert decoded.shape[0] == 45
    for index in (0, 22, 44):
        assert _psnr(decoded[index], frames[index].data) > 30  # the same pictures, lossy
    assert "<small>" not in page  # nothing left out


def test_a_collected_video_stream_displays_with_the_files_rate(tmp_path: Path) -> None:
    source = tmp_path / "clip.webm"
    pictures = [
        lk.VideoFrame(_pattern(96, 64, i), "rgb24", timestamp_us=i * 40_000) for i in range(25)
    ]
    lk.run_sync(lk.to_media_file(source, video=lk.from_video_frames(pictures)))
    media = lk.open_media(source)
    assert media.video is not None
    frames = lk.run_sync(media.video.collect())
    page = frames._repr_html_()
    assert page is not None
    assert f"<code>25 video frames, 96x64 {media._pixel_format}, 25 fps, 1.000 s</code>" in page
    path, _ = _webm(page, tmp_path)
    assert int(_probe(path)["streams"][0]["nb_read_frames"]) == 25


def test_large_frames_play_scaled_down_to_640x480_at_most(tmp_path: Path) -> None:
    frames = _clip(3, 1280, 720)
    page = frames._repr_html_()
    assert page is not None
    path, size = _webm(page, tmp_path)
    assert size == (640, 360)
    assert (_probe(path)["streams"][0]["width"], _probe(path)["streams"][0]["height"]) == (640, 360)
    assert "shown at 640x360" in _note(page)


def test_a_long_list_plays_evenly_spaced_frames_over_its_whole_length(tmp_path: Path) -> None:
    frames = _clip(3 * MAX_VIDEO_FRAMES, 32, 24, fps=30)  # 30 s
    page = frames._repr_html_()
    assert page is not None
    assert "900 video frames, 32x24 rgb24, 30 fps, 30.000 s" in page
    assert f"the player holds {MAX_VIDEO_FRAMES} of the 900 frames, evenly spaced" in _note(page)
    path, _ = _webm(page, tmp_path)
    info = _probe(path)
    assert int(info["streams"][0]["nb_read_frames"]) == MAX_VIDEO_FRAMES
    assert float(info["format"]["duration"]) == pytest.approx(30.0, abs=0.2)  # real time


def test_frames_without_increasing_times_play_at_30_fps(tmp_path: Path) -> None:
    frames = lk.FrameList([lk.VideoFrame(_pattern(32, 24, i), "rgb24") for i in range(15)])
    page = frames._repr_html_()
    assert page is not None
    assert "15 video frames, 32x24 rgb24, 30 fps, 0.500 s" in page
    assert "timestamps do not increase: played at 30 fps" in _note(page)
    path, _ = _webm(page, tmp_path)
    assert int(_probe(path)["streams"][0]["nb_read_frames"]) == 15


def test_frames_of_other_sizes_are_scaled_to_the_first(tmp_path: Path) -> None:
    frames = lk.FrameList(
        [
            lk.VideoFrame(_pattern(64, 48), "rgb24"),
            lk.VideoFrame(_pattern(32, 16), "rgb24").at(33_333),
        ]
    )
    page = frames._repr_html_()
    assert page is not None
    assert "frames of other sizes are scaled to 64x48" in _note(page)
    path, size = _webm(page, tmp_path)
    assert size == (64, 48)
    assert int(_probe(path)["streams"][0]["nb_read_frames"]) == 2


def test_over_the_byte_limit_a_filmstrip_is_shown_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(display_video, "MAX_VIDEO_BYTES", 2_000)
    frames = _clip(40, 160, 120)
    page = frames._repr_html_()
    assert page is not None
    assert "<video" not in page
    stills = re.findall(r"<figcaption><small>(frame \d+, [\d.]+ s)</small></figcaption>", page)
    assert len(stills) == FILMSTRIP
    assert stills[0] == "frame 0, 0.000 s"
    assert stills[-1] == "frame 39, 1.300 s"
    assert re.search(
        r"no player: as WebM it is [\d.]+ kB over the 0.002 MB a page embeds; 8 stills instead",
        _note(page),
    )
    first = _IMG.search(page)
    assert first is not None
    assert (first[2], first[3]) == ("160", "120")


def test_a_video_page_stays_under_the_limit_for_noise(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frames = lk.FrameList(
        [
            lk.VideoFrame(
                rng.integers(0, 256, (480, 640, 3), np.uint8), "rgb24", timestamp_us=i * 33_333
            )
            for i in range(60)
        ]
    )
    page = frames._repr_html_()
    assert page is not None
    assert len(page) < MAX_VIDEO_BYTES * 4 / 3 + 100_000  # a player or stills, never more


# -- audio and video together -----------------------------------------------------------------


def test_audio_and_video_frames_play_as_one_webm(tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    pictures = [
        lk.VideoFrame(_pattern(64, 48, i), "rgb24", timestamp_us=round(i * 1e6 / 30))
        for i in range(60)
    ]
    lk.run_sync(
        lk.to_media_file(
            source,
            audio=lk.sine(440, 2.0, 48_000, num_channels=2),
            video=lk.from_video_frames(pictures),
        )
    )
    media = lk.open_media(source)
    assert media.audio is not None
    assert media.video is not None
    both = lk.run_sync(lk.merge(media.audio, media.video).collect())
    page = both._repr_html_()
    assert page is not None
    assert "60 video frames, 64x48" in page
    assert "audio frames, 48000 Hz stereo float32; 2.000 s" in page
    path, _ = _webm(page, tmp_path)
    info = _probe(path)
    kinds = {s["codec_type"]: s for s in info["streams"]}
    assert kinds["video"]["codec_name"] == "vp8"
    assert int(kinds["video"]["nb_read_frames"]) == 60
    assert (kinds["audio"]["codec_name"], kinds["audio"]["channels"]) == ("opus", 2)
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-f", "f32le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    audio = np.frombuffer(pcm, np.float32)
    assert audio.shape[0] == pytest.approx(96_000, abs=1_000)
    spectrum = np.abs(np.fft.rfft(audio[4_800:52_800]))  # 1 s: bins of 1 Hz
    assert int(np.argmax(spectrum)) == 440


def test_a_list_of_audio_video_and_other_items_is_a_plain_list() -> None:
    audio = lk.AudioFrame(np.zeros(160, np.int16), 16_000)
    video = lk.VideoFrame(_pattern(8, 8), "rgb24")
    assert lk.FrameList([audio, video, "x"])._repr_html_() is None
    other = lk.AudioFrame(np.zeros(160, np.float32), 16_000)
    assert lk.FrameList([audio, other, video])._repr_html_() is None  # two audio formats


def test_audio_alone_over_the_limit_in_a_long_av_list_falls_back_to_stills_and_a_preview() -> None:
    seconds = 200.0  # Opus at 64 kb/s alone would be 1.6 MB
    rate = 8_000
    audio = [
        lk.AudioFrame(np.zeros(rate, np.int16), rate, pts=i * rate) for i in range(int(seconds))
    ]
    video = [
        lk.VideoFrame(_pattern(16, 16, i), "rgb24", timestamp_us=i * 1_000_000)
        for i in range(int(seconds))
    ]
    page = lk.FrameList([*audio, *video])._repr_html_()
    assert page is not None
    assert "<video" not in page
    assert "<audio" in page
    assert "no player: its audio alone is over the 1.5 MB a page embeds; 8 stills" in _note(page)
    assert len(page) < MAX_EMBED_BYTES * 4 / 3 + 200_000


def test_ipython_takes_png_and_html_from_one_encoding() -> None:
    formatters = pytest.importorskip(
        "IPython.core.formatters", reason="IPython is what Jupyter's kernel formats with"
    )
    frame = lk.VideoFrame(_pattern(20, 10), "rgb24")
    data, _ = formatters.DisplayFormatter().format(frame)
    assert set(data) == {"image/png", "text/html", "text/plain"}
    assert data["image/png"] == frame._repr_png_()
    assert data["text/plain"] == repr(frame)
    video = _clip(3, 32, 24)
    data, _ = formatters.DisplayFormatter().format(video)
    assert "data:video/webm;base64," in data["text/html"]
