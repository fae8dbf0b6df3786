"""Notebook display: the HTML that Jupyter shows for a `FrameList` and an `AudioFrame`.

The waveform is an SVG path of one vertical line per column; the player embeds the clip
as a 16-bit WAV, which is decoded here with the standard library's `wave` and compared
with the clip; a clip whose WAV is over `MAX_EMBED_BYTES` embeds a 16 kHz mono preview
(its first seconds when still over), checked against the clip resampled by sox.
"""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk
from lkframes._core.display import MAX_EMBED_BYTES, PREVIEW_RATE

WIDTH = 320  # columns of a clip with at least this many samples
HEIGHT = 56

_SVG = re.compile(r'<svg width="(\d+)" height="(\d+)" viewBox="0 0 (\d+) (\d+)"[^>]*>(.*?)</svg>')
_PATH = re.compile(r'<path d="([^"]*)"[^>]*/>')
_LINE = re.compile(r"M(\d+) (-?\d+(?:\.\d+)?)V(-?\d+(?:\.\d+)?)")
_PLAYER = re.compile(r'<audio controls[^>]* src="data:audio/wav;base64,([A-Za-z0-9+/=]+)"></audio>')


@dataclass(frozen=True)
class Column:
    """One vertical line of the waveform: ``x`` and its top and bottom in SVG units."""

    x: int
    top: float
    bottom: float


@dataclass(frozen=True)
class DecodedWav:
    sample_rate: int
    num_channels: int
    sample_width: int
    samples: NDArray[np.int16]
    """``(samples_per_channel, num_channels)``."""


def _columns(page: str) -> list[Column]:
    """The waveform's vertical lines, checking the SVG holds one path made only of them."""
    svgs = _SVG.findall(page)
    assert len(svgs) == 1, page[:300]
    width, height, view_width, view_height, body = svgs[0]
    assert (int(width), int(height)) == (int(view_width), int(view_height)) == (WIDTH, HEIGHT)
    paths = _PATH.findall(body)
    assert len(paths) == 1, body[:300]
    d = paths[0]
    lines = list(_LINE.finditer(d))
    assert "".join(m.group(0) for m in lines) == d, f"path has more than M x y V y: {d[:200]}"
    return [Column(int(m[1]), float(m[2]), float(m[3])) for m in lines]


def _player(page: str) -> DecodedWav | None:
    """The embedded WAV, decoded, or None when the page has no player."""
    players = _PLAYER.findall(page)
    assert len(players) == page.count("<audio"), "an <audio> element without a WAV data URL"
    if not players:
        return None
    assert len(players) == 1
    with wave.open(io.BytesIO(base64.b64decode(players[0], validate=True)), "rb") as wav:
        channels = wav.getnchannels()
        raw = wav.readframes(wav.getnframes())
        decoded = DecodedWav(
            sample_rate=wav.getframerate(),
            num_channels=channels,
            sample_width=wav.getsampwidth(),
            samples=np.frombuffer(raw, dtype="<i2").reshape(-1, channels),
        )
        assert decoded.samples.shape[0] == wav.getnframes()
    return decoded


def _collect(stream: lk.Stream[lk.AudioFrame]) -> lk.FrameList[lk.AudioFrame]:
    frames = lk.run_sync(stream.collect())
    assert isinstance(frames, lk.FrameList)
    return frames


def _joined(frames: lk.FrameList[lk.AudioFrame]) -> NDArray[np.int16]:
    return np.concatenate([f.data for f in frames]).astype(np.int16, copy=False)


# -- the waveform --------------------------------------------------------------------------


def test_the_documented_example_renders_a_waveform_and_a_player() -> None:
    frames = _collect(lk.sine(440, 1.0, 16_000).chunk(ms=20))
    page = frames._repr_html_()
    assert page is not None
    assert page.startswith("<div><code>50 frames, 16000 Hz mono int16, 1.000 s</code>")
    assert len(_columns(page)) == WIDTH
    assert _player(page) is not None


@pytest.mark.parametrize(
    ("samples", "columns"),
    [(1, 1), (100, 100), (319, 319), (320, 320), (321, 320), (16_000, 320), (48_000, 320)],
)
def test_one_vertical_line_per_column(samples: int, columns: int) -> None:
    frame = lk.AudioFrame(np.zeros(samples, np.int16), 16_000)
    found = _columns(frame._repr_html_())
    assert [c.x for c in found] == list(range(columns))
    for column in found:
        assert 0 <= column.top < column.bottom <= HEIGHT, column  # drawn, never zero-height


def test_the_waveform_follows_the_signal() -> None:
    """Column ``x`` spans the min..max of its slice: half scale reaches a quarter height."""
    half_scale_sine = _collect(lk.sine(440, 1.0, 16_000, amplitude=0.5))
    found = _columns(_require(half_scale_sine._repr_html_()))
    middle = HEIGHT / 2
    for column in found:  # 50 samples per column: more than one period of 440 Hz
        assert column.top == pytest.approx(middle - 0.5 * middle, abs=0.6)
        assert column.bottom == pytest.approx(middle + 0.5 * middle, abs=0.6)

    silent = _collect(lk.silence(1.0, 16_000))
    assert {(c.top, c.bottom) for c in _columns(_require(silent._repr_html_()))} == {
        (middle, middle + 0.5)
    }


def test_a_loud_then_silent_clip_draws_both_halves() -> None:
    clip = _collect(lk.concat(lk.sine(440, 0.5, 16_000), lk.silence(0.5, 16_000)))
    found = _columns(_require(clip._repr_html_()))
    heights = [c.bottom - c.top for c in found]
    assert min(heights[: WIDTH // 2 - 1]) > 20  # the tone
    assert max(heights[WIDTH // 2 + 1 :]) == 0.5  # the silence: a minimal tick


def test_stereo_is_drawn_as_the_mean_of_its_channels() -> None:
    left = np.full(3_200, 16_384, np.int16)  # +0.5 full scale
    both = lk.AudioFrame(np.stack([left, np.zeros_like(left)], axis=1), 16_000)
    found = _columns(both._repr_html_())
    level = HEIGHT / 2 - 0.25 * HEIGHT / 2  # the mean, 0.25 full scale, is constant
    assert {(c.top, c.bottom) for c in found} == {(level, level + 0.5)}


# -- the player ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample_rate", "num_channels", "seconds"),
    [(16_000, 1, 1.0), (48_000, 2, 0.5), (8_000, 1, 0.0125), (44_100, 6, 0.25)],
)
def test_the_player_holds_the_clip_as_a_wav(
    sample_rate: int, num_channels: int, seconds: float
) -> None:
    stream = lk.noise(seconds, sample_rate, num_channels=num_channels).chunk(ms=10)
    frames = _collect(stream)
    decoded = _player(_require(frames._repr_html_()))
    assert decoded is not None
    assert (decoded.sample_rate, decoded.num_channels, decoded.sample_width) == (
        sample_rate,
        num_channels,
        2,
    )
    assert decoded.samples.shape == (round(seconds * sample_rate), num_channels)
    assert np.array_equal(decoded.samples, _joined(frames))  # int16: sample for sample


def test_a_float32_clip_is_embedded_as_16_bit() -> None:
    x = np.linspace(-1.0, 1.0, 1_000, dtype=np.float32)
    frames = _collect(lk.from_array(x, 8_000).chunk(samples=250))
    decoded = _player(_require(frames._repr_html_()))
    assert decoded is not None
    assert (decoded.sample_rate, decoded.samples.shape) == (8_000, (1_000, 1))
    expected = np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)
    assert np.array_equal(decoded.samples[:, 0], expected)


def test_a_single_frame_has_a_player_too() -> None:
    frame = lk.AudioFrame(np.arange(-160, 160, dtype=np.int16), 16_000, pts=320)
    page = frame._repr_html_()
    assert f"<code>{html.escape(repr(frame))}</code>" in page
    decoded = _player(page)
    assert decoded is not None
    assert decoded.sample_rate == 16_000
    assert np.array_equal(decoded.samples[:, 0], frame.data[:, 0])


def test_a_clip_at_the_limit_is_embedded_whole() -> None:
    rate = 8_000
    at_limit = lk.AudioFrame(np.ones(MAX_EMBED_BYTES // 2, np.int16), rate)
    page = at_limit._repr_html_()
    decoded = _player(page)
    assert decoded is not None
    assert (decoded.sample_rate, decoded.samples.shape) == (rate, (MAX_EMBED_BYTES // 2, 1))
    assert "preview" not in page


def _sox_preview(tmp_path: Path, clip: NDArray[np.int16], rate: int) -> NDArray[np.int16]:
    """sox's 16 kHz mono of ``clip`` (channels averaged, then resampled)."""
    source, target = tmp_path / "clip.wav", tmp_path / "preview.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(clip.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(clip.tobytes())
    subprocess.run(
        ["sox", "-D", str(source), "-b", "16", str(target), "remix", "-", "rate", "-v", "16k"],
        check=True,
    )
    with wave.open(str(target), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2")


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
def test_a_clip_over_the_limit_embeds_a_16_khz_mono_preview(tmp_path: Path) -> None:
    rate, seconds = 48_000, 10.0  # 1.92 MB as 48 kHz stereo WAV, 0.32 MB as the preview
    clip = _joined(_collect(lk.noise(seconds, rate, num_channels=2, amplitude=0.3)))
    page = lk.AudioFrame(clip, rate)._repr_html_()
    decoded = _player(page)
    assert decoded is not None
    assert (decoded.sample_rate, decoded.num_channels) == (PREVIEW_RATE, 1)
    assert decoded.samples.shape[0] == round(seconds * PREVIEW_RATE)  # the whole clip
    reference = _sox_preview(tmp_path, clip, rate).astype(np.float64)
    assert reference.shape[0] == decoded.samples.shape[0]
    error = decoded.samples[:, 0].astype(np.float64) - reference
    inner = slice(100, -100)  # the filters' edges differ
    snr = 10 * np.log10(np.mean(reference[inner] ** 2) / np.mean(error[inner] ** 2))
    assert snr > 40, snr  # the same signal as sox's, to its resampler's precision
    note = html.unescape(page.split("</audio>")[1])
    assert "the player holds a preview: 16 kHz mono (the clip is 48 kHz, 2 channels" in note
    assert "10.000 s: 1.9 MB as WAV, over the 1.5 MB a page embeds)" in note
    assert "first" not in note


def test_a_long_clip_embeds_its_first_seconds_and_draws_all_of_it() -> None:
    rate = 48_000
    tone = _collect(lk.sine(440, 60.0, rate, num_channels=2))
    clip = tone + _collect(lk.silence(60.0, rate, num_channels=2))  # 2 minutes, stereo
    page = _require(clip._repr_html_())
    decoded = _player(page)
    assert decoded is not None
    keep = MAX_EMBED_BYTES // 2
    assert (decoded.sample_rate, decoded.samples.shape) == (PREVIEW_RATE, (keep, 1))
    level = np.sqrt(np.mean(decoded.samples[1_000:].astype(np.float64) ** 2)) / 32768
    assert level == pytest.approx(0.5 / np.sqrt(2), rel=0.01)  # the tone, both channels' mean
    assert f"its first {keep / PREVIEW_RATE:.3f} s" in page
    assert "120.000 s: 23.0 MB as WAV" in page
    assert len(page) < 2_100_000  # was 30.7 MB with the whole clip embedded
    heights = [c.bottom - c.top for c in _columns(page)]
    assert min(heights[: WIDTH // 2 - 1]) > 20  # the waveform draws the whole clip
    assert max(heights[WIDTH // 2 + 1 :]) == 0.5


def test_an_empty_clip_has_no_player_and_no_note() -> None:
    page = lk.AudioFrame(np.zeros((0, 1), np.int16), 16_000)._repr_html_()
    assert _player(page) is None
    assert "preview" not in page
    assert len(_columns(page)) == 1


# -- when there is nothing to show ------------------------------------------------------------


def test_a_mixed_format_list_is_shown_as_a_plain_list() -> None:
    mono = lk.AudioFrame(np.zeros(160, np.int16), 16_000)
    mixed = [
        lk.FrameList([mono, lk.AudioFrame(np.zeros(480, np.int16), 48_000)]),  # rate
        lk.FrameList([mono, lk.AudioFrame(np.zeros((160, 2), np.int16), 16_000)]),  # channels
        lk.FrameList([mono, lk.AudioFrame(np.zeros(160, np.float32), 16_000)]),  # dtype
    ]
    for frames in mixed:
        assert frames._repr_html_() is None
    assert lk.FrameList([mono, mono])._repr_html_() is not None


def test_lists_without_frames_are_shown_as_plain_lists() -> None:
    mono = lk.AudioFrame(np.zeros(160, np.int16), 16_000)
    assert lk.FrameList([])._repr_html_() is None
    assert lk.FrameList([1, 2, 3])._repr_html_() is None
    assert lk.FrameList([mono, "not a frame"])._repr_html_() is None


def test_a_frame_list_is_a_plain_list() -> None:
    frames = _collect(lk.silence(0.06, 16_000).chunk(ms=20))
    assert isinstance(frames, list)
    assert frames == list(frames)
    assert repr(frames).startswith("[AudioFrame(320 samples")


def _require(page: str | None) -> str:
    assert page is not None
    return page


def test_a_slice_of_a_frame_list_is_a_frame_list_that_displays() -> None:
    frames = _collect(lk.sine(440, 0.5, 16_000).chunk(ms=20))
    first = frames[:5]
    assert isinstance(first, lk.FrameList)
    assert list(first) == list(frames)[:5]
    page = _require(first._repr_html_())
    assert page.startswith("<div><code>5 frames, 16000 Hz mono int16, 0.100 s</code>")
    decoded = _player(page)
    assert decoded is not None
    assert np.array_equal(decoded.samples, _joined(first))
    assert isinstance(frames[::2], lk.FrameList)
    assert len(frames[::2]) == 13
    assert isinstance(frames[0], lk.AudioFrame)  # an index is still an item
    assert isinstance(frames.copy(), lk.FrameList)
    assert isinstance(frames[:2] + frames[3:4], lk.FrameList)


@pytest.mark.parametrize(
    ("samples", "label"),
    [(320, "plays 20 ms"), (8, "plays 0.5 ms"), (8_000, "plays 500 ms"), (40_000, "plays 2.500 s")],
)
def test_the_player_says_how_long_the_clip_is(samples: int, label: str) -> None:
    # A browser's player clock shows whole seconds: a 20 ms frame reads 0:00 / 0:00.
    page = lk.AudioFrame(np.zeros(samples, np.int16), 16_000)._repr_html_()
    assert re.search(rf"</audio> <small>{label}</small>", page), page[-200:]
