"""Media files with video: `open_media`, `from_video_file` and `to_media_file`.

Decoding is compared with PyAV's own decode of the same file, frame for frame (pixels
exact for a lossless codec); writing is checked with ffprobe; sync with the flash-and-beep
clip of ``media_clips``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import av
import numpy as np
import pytest
from processes import rss_mib

import lkframes as lk
from lkframes.io import _demux, _media
from media_clips import beep_onsets, flash_frames, flash_times, pair_offsets, sync_clip

pytestmark = pytest.mark.anyio

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None or FFPROBE is None, reason="ffmpeg/ffprobe are not installed (Debian: ffmpeg)"
)


def _ffmpeg(*args: str) -> None:
    assert FFMPEG is not None
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *args], check=True)


def _probe(path: Path) -> dict[str, Any]:
    """ffprobe's view: each stream's codec, size, counted frames, and the duration."""
    assert FFPROBE is not None
    entries = "stream=codec_type,codec_name,width,height,nb_read_frames:format=duration"
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-show_entries", entries, "-of", "json", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Made by the ffmpeg CLI: lossless FFV1 (odd size, 25 fps) with PCM; H.264 + AAC;
    VP8 + Opus; and an MP4 whose audio starts 0.5 s after its video."""
    if FFMPEG is None:
        pytest.skip("the ffmpeg binary is not on PATH (apt-get install ffmpeg)")
    folder = tmp_path_factory.mktemp("media")
    video = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=2"]
    audio = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2"]
    files = {n: folder / n for n in ("ffv1.mkv", "h264.mp4", "vp8.webm", "late.mp4")}
    _ffmpeg(*video, *audio, "-vf", "scale=161:91", "-c:v", "ffv1", "-c:a", "pcm_s16le",
            str(files["ffv1.mkv"]))  # fmt: skip
    _ffmpeg(*video, *audio, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
            str(files["h264.mp4"]))  # fmt: skip
    _ffmpeg(*video, *audio, "-c:v", "libvpx", "-c:a", "libopus", str(files["vp8.webm"]))
    _ffmpeg(*video, "-itsoffset", "0.5", *audio, "-c:v", "libx264", "-c:a", "aac",
            str(files["late.mp4"]))  # fmt: skip
    return files


def _pyav_frames(path: Path, pixel_format: str) -> list[tuple[int, np.ndarray[Any, Any]]]:
    """PyAV's own decode: (timestamp in µs, pixels) of every video frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            (round(f.time * 1_000_000), f.to_ndarray(format=pixel_format))
            for f in container.decode(stream)
            if f.time is not None
        ]


@needs_ffmpeg
@pytest.mark.parametrize("name", ["ffv1.mkv", "h264.mp4", "vp8.webm"])
async def test_video_decodes_as_pyav_does_frame_for_frame(
    anyio_backend: str, clips: dict[str, Path], name: str
) -> None:
    frames = await lk.from_video_file(clips[name]).collect()
    reference = _pyav_frames(clips[name], "rgb24")
    assert len(frames) == len(reference) == 50  # 2 s at 25 fps
    assert [f.timestamp_us for f in frames] == [t for t, _ in reference]
    for frame, (_, pixels) in zip(frames, reference, strict=True):
        assert frame.pixel_format == "rgb24"
        np.testing.assert_array_equal(frame.data, pixels)  # same decoder, same conversion


@needs_ffmpeg
async def test_a_lossless_file_gives_the_source_pixels(
    anyio_backend: str, clips: dict[str, Path], tmp_path: Path
) -> None:
    # FFV1 is lossless: the pixels are ffmpeg's testsrc2 itself, at an odd size (161x91),
    # in every layout lkframes hands out (i420 and nv12 with their odd-size chroma planes).
    raw = tmp_path / "raw.yuv"
    _ffmpeg("-i", str(clips["ffv1.mkv"]), "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw))
    expected = np.fromfile(raw, np.uint8).reshape(50, -1)
    frames = await lk.from_video_file(clips["ffv1.mkv"], pixel_format="i420").collect()
    assert (frames[0].width, frames[0].height) == (161, 91)
    np.testing.assert_array_equal(np.stack([f.data for f in frames]), expected)
    for layout in ("rgba", "bgra", "nv12", "rgb24"):
        decoded = lk.from_video_file(clips["ffv1.mkv"], pixel_format=layout)
        first = (await decoded.take(1).collect())[0]
        assert first.pixel_format == layout
        assert (first.width, first.height) == (161, 91)


@needs_ffmpeg
async def test_audio_and_video_are_demuxed_once_when_read_together(
    anyio_backend: str, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened: list[set[str]] = []

    class Counting(_demux.Demux):
        def __init__(self, path: Path, wanted: Any, *args: Any) -> None:
            opened.append(set(wanted))
            super().__init__(path, wanted, *args)

    monkeypatch.setattr(_media, "Demux", Counting)
    media = lk.open_media(clips["h264.mp4"])
    assert media.audio is not None
    assert media.video is not None
    summary = await lk.to_media_file(tmp_path / "copy.mkv", audio=media.audio, video=media.video)
    assert opened == [{"audio", "video"}]  # one pass for both
    assert summary.video_frames == 50
    assert summary.audio is not None
    assert summary.audio.duration == pytest.approx(2.0, abs=0.03)
    # Read one after the other, each is its own pass (the first has ended).
    opened.clear()
    await media.video.run()
    await media.audio.run()
    assert opened == [{"video"}, {"audio"}]


@needs_ffmpeg
async def test_audio_is_the_same_as_from_file_reads(
    anyio_backend: str, clips: dict[str, Path]
) -> None:
    media = lk.open_media(clips["h264.mp4"])
    assert media.audio is not None
    got = await media.audio.to_array()
    expected = await lk.from_file(clips["h264.mp4"]).to_array()
    np.testing.assert_array_equal(got, expected)


@needs_ffmpeg
async def test_audio_that_starts_late_begins_with_silence(
    anyio_backend: str, clips: dict[str, Path]
) -> None:
    media = lk.open_media(clips["late.mp4"])
    assert media.audio is not None
    assert media.video is not None
    samples = await media.audio.to_array()
    first_sound = int(np.flatnonzero(np.abs(samples) > 1e-3)[0])
    # Where FFmpeg puts it: the audio stream's start (0.478 s: -itsoffset 0.5, less the
    # AAC encoder's priming), plus where the sound starts in the ffmpeg CLI's own decode.
    with av.open(str(clips["late.mp4"])) as container:
        stream = container.streams.audio[0]
        assert stream.start_time is not None
        assert stream.time_base is not None
        start = float(stream.start_time * stream.time_base)
    assert FFMPEG is not None
    decode = [FFMPEG, "-v", "error", "-i", str(clips["late.mp4"]), "-map", "0:a", "-f", "f32le"]
    raw = (await anyio.run_process([*decode, "-"])).stdout
    cli_first = int(np.flatnonzero(np.abs(np.frombuffer(raw, np.float32)) > 1e-3)[0])
    assert 0.45 < start < 0.5
    assert first_sound == round(start * 48_000) + cli_first
    assert not samples[: round(start * 48_000)].any()  # silence before: on the file's timeline
    assert (await media.video.collect())[0].timestamp_us == 0


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "codecs"),
    [("out.mp4", ("h264", "aac")), ("out.mkv", ("h264", "opus")), ("out.webm", ("vp8", "opus"))],
)
async def test_a_round_trip_keeps_frame_count_size_and_duration(
    anyio_backend: str, tmp_path: Path, name: str, codecs: tuple[str, str]
) -> None:
    audio, video = sync_clip(3.0)
    path = tmp_path / name
    summary = await lk.to_media_file(path, audio=audio, video=video)
    assert (summary.video_frames, summary.video_size) == (90, (320, 240))
    probe = await anyio.to_thread.run_sync(_probe, path)
    streams = {s["codec_type"]: s for s in probe["streams"]}
    assert (streams["video"]["codec_name"], streams["audio"]["codec_name"]) == codecs
    assert (streams["video"]["width"], streams["video"]["height"]) == (320, 240)
    assert int(streams["video"]["nb_read_frames"]) == 90
    assert float(probe["format"]["duration"]) == pytest.approx(3.0, abs=0.05)
    media = lk.open_media(path)
    assert media.video is not None
    assert media.audio is not None
    frames = await media.video.collect()
    step = 1 if name.endswith(".mp4") else 1_000  # Matroska keeps milliseconds
    expected = [round(i * 1e6 / 30 / step) * step for i in range(90)]
    assert [f.timestamp_us for f in frames] == expected
    assert (await media.audio.to_array()).shape[0] / 48_000 == pytest.approx(3.0, abs=0.001)


@needs_ffmpeg
@pytest.mark.parametrize("name", ["sync.mp4", "sync.mkv", "sync.webm"])
async def test_flash_and_beep_stay_within_a_frame_of_each_other(
    anyio_backend: str, tmp_path: Path, name: str
) -> None:
    audio, video = sync_clip(4.0)
    await lk.to_media_file(tmp_path / name, audio=audio, video=video)
    media = lk.open_media(tmp_path / name)
    assert media.video is not None
    assert media.audio is not None
    flashes = flash_times(await media.video.collect())
    onsets = beep_onsets(await media.audio.to_array(), 48_000)
    assert flashes == [0.0, 1.0, 2.0, 3.0]
    assert len(onsets) == 4
    assert max(abs(x) for x in pair_offsets(flashes, onsets)) < 1 / 30


async def test_variable_frame_rate_and_odd_sizes_are_kept(
    anyio_backend: str, tmp_path: Path
) -> None:
    stamps = [0, 40_000, 50_000, 200_000, 210_000, 600_000]
    frames = [
        lk.VideoFrame(np.full((91, 161, 3), 40 * i, np.uint8), "rgb24", timestamp_us=t)
        for i, t in enumerate(stamps)
    ]
    path = tmp_path / "vfr.mkv"
    summary = await lk.to_media_file(path, video=lk.from_video_frames(frames))
    assert summary.video_size == (160, 90)  # yuv420p needs even sizes
    back = await lk.from_video_file(path).collect()
    assert [f.timestamp_us for f in back] == stamps  # MKV keeps milliseconds
    assert [(f.width, f.height) for f in back] == [(160, 90)] * 6


async def test_frames_of_another_size_are_scaled_to_the_first(
    anyio_backend: str, tmp_path: Path
) -> None:
    frames = [
        lk.VideoFrame(np.zeros((h, w, 3), np.uint8), "rgb24", timestamp_us=i * 33_333)
        for i, (w, h) in enumerate([(320, 240), (640, 480), (160, 120)])
    ]
    summary = await lk.to_media_file(tmp_path / "s.mp4", video=lk.from_video_frames(frames))
    assert summary.video_size == (320, 240)
    back = await lk.from_video_file(tmp_path / "s.mp4").collect()
    assert {(f.width, f.height) for f in back} == {(320, 240)}


@pytest.mark.parametrize("name", ["cut.mp4", "cut.mkv", "cut.webm"])
async def test_a_cancelled_write_leaves_a_playable_file(
    anyio_backend: str, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name

    async def endless() -> Any:
        for frame in flash_frames(3600, width=160, height=120):
            await anyio.lowlevel.checkpoint()
            yield frame

    with anyio.move_on_after(1.0):
        await lk.to_media_file(path, video=lk.Stream(endless))
    frames = await lk.from_video_file(path).collect()
    assert len(frames) > 5
    assert [f.timestamp_us for f in frames] == sorted(f.timestamp_us for f in frames)


async def test_a_failing_overwrite_leaves_the_old_file_byte_for_byte(
    anyio_backend: str, tmp_path: Path
) -> None:
    path = tmp_path / "keep.mkv"
    audio, video = sync_clip(1.0)
    await lk.to_media_file(path, audio=audio, video=video)
    before = path.read_bytes()

    async def failing() -> Any:
        for i, frame in enumerate(flash_frames(2.0)):
            if i == 20:
                raise KeyError("camera unplugged")
            yield frame

    with pytest.raises(KeyError, match="camera unplugged"):
        await lk.to_media_file(path, video=lk.Stream(failing), overwrite=True)
    assert path.read_bytes() == before
    assert sorted([p.name async for p in anyio.Path(tmp_path).iterdir()]) == ["keep.mkv"]


async def test_bad_arguments_are_refused_before_anything_is_written(
    anyio_backend: str, tmp_path: Path
) -> None:
    _, video = sync_clip(1.0)
    with pytest.raises(lk.ParameterError, match="needs audio=, video= or both"):
        await lk.to_media_file(tmp_path / "a.mp4")
    with pytest.raises(lk.ParameterError, match=r"use \.mp4, \.mkv, \.webm or \.mov"):
        await lk.to_media_file(tmp_path / "a.avi", video=video)
    with pytest.raises(lk.ParameterError, match="a WebM file holds VP8, VP9, AV1, Opus or Vorbis"):
        await lk.to_media_file(tmp_path / "a.webm", video=video, video_codec="h264")
    (tmp_path / "exists.mp4").write_bytes(b"x")
    with pytest.raises(lk.OutputExistsError):
        await lk.to_media_file(tmp_path / "exists.mp4", video=video)
    assert sorted([p.name async for p in anyio.Path(tmp_path).iterdir()]) == ["exists.mp4"]


@pytest.mark.parametrize(
    ("name", "channels"), [("a.mp4", 3), ("a.mp4", 4), ("a.mkv", 3), ("a.mkv", 4)]
)
async def test_three_and_four_channels_keep_every_channel(
    anyio_backend: str, tmp_path: Path, name: str, channels: int
) -> None:
    # FFmpeg's own layout for 3 channels (2.1) made the third the LFE: AAC low-passed a
    # 700 Hz tone there to nothing, and libopus refused it (as it refused 4.0 for 4).
    rate, tones = 48_000, [300, 500, 700, 900][:channels]
    t = np.arange(rate) / rate
    x = np.stack([0.3 * np.sin(2 * np.pi * hz * t) for hz in tones], axis=1).astype(np.float32)
    path = tmp_path / name
    await lk.to_media_file(path, audio=lk.from_array(x, rate))
    got = (await lk.from_file(path).to_array())[4_800:43_200]
    phase = np.exp(-2j * np.pi * np.outer(np.arange(len(got)) / rate, tones))
    amplitude = 2 * np.abs(got.T @ phase) / len(got)  # channel x tone
    np.testing.assert_allclose(amplitude, 0.3 * np.eye(channels), atol=0.04)


async def test_streams_without_a_frame_leave_no_file(anyio_backend: str, tmp_path: Path) -> None:
    with pytest.raises(lk.MediaFileError, match="the streams held no frame"):
        await lk.to_media_file(tmp_path / "empty.mkv", video=lk.from_video_frames([]))
    assert not (tmp_path / "empty.mkv").exists()


@needs_ffmpeg
async def test_wrong_files_get_typed_errors(
    anyio_backend: str, clips: dict[str, Path], tmp_path: Path
) -> None:
    wav = tmp_path / "tone.wav"
    await lk.sine(440, 0.2, 16_000).to_file(wav)
    with pytest.raises(lk.UnsupportedMediaError, match="no video stream"):
        lk.from_video_file(wav)
    assert lk.open_media(wav).video is None
    text = tmp_path / "notes.mp4"
    text.write_text("not a video " * 100)
    with pytest.raises(lk.UnsupportedMediaError, match="not a media file FFmpeg can read"):
        lk.open_media(text)
    with pytest.raises(lk.MediaFileError, match="no such file") as missing:
        lk.open_media(tmp_path / "missing.mp4")
    assert not isinstance(missing.value, lk.AudioFileError), "a media file, not an audio one"
    with pytest.raises(lk.MediaFileError, match="is a directory, not a media file"):
        lk.open_media(tmp_path)
    cut = tmp_path / "cut.mkv"
    data = clips["ffv1.mkv"].read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    frames: list[lk.VideoFrame] = []

    async def read() -> None:
        async with lk.from_video_file(cut).open() as stream:
            async for frame in stream:
                frames.append(frame)  # noqa: PERF401 - keeps what came before the error

    with pytest.raises(lk.TruncatedMediaError, match=r"the file ended at 1\.160 s of the 2\.000 s"):
        await read()
    assert 10 < len(frames) < 40
    assert frames == sorted(frames, key=lambda f: f.timestamp_us)


@needs_ffmpeg
@pytest.mark.parametrize(
    "minutes", [pytest.param(0.5, id="30s"), pytest.param(10, id="10min", marks=pytest.mark.slow)]
)
def test_memory_stays_flat_while_a_long_720p_file_is_decoded(
    tmp_path: Path, minutes: float
) -> None:
    # 720p30 H.264 with AAC, read as rgb24 (2.7 MB a frame) with its audio, both at once.
    seconds = round(60 * minutes)
    path = tmp_path / "long.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path))  # fmt: skip
    media = lk.open_media(path)
    readings: list[float] = []

    async def read() -> tuple[int, int]:
        frames = samples = 0
        assert media.audio is not None
        assert media.video is not None
        async with media.audio.open() as audio, media.video.open() as video:
            async for picture in video:
                frames += 1
                while samples / 44_100 < picture.timestamp_us / 1e6:  # keep audio in step
                    samples += (await anext(audio)).samples_per_channel
                if frames % 150 == 0:
                    readings.append(rss_mib())
        return frames, samples

    frames, _ = lk.run_sync(read())
    assert frames == 30 * seconds
    warm, peak = readings[1], max(readings[1:])
    print(f"\n{minutes} min 720p: RSS warm {warm:.1f} MiB, peak {peak:.1f} MiB, {frames} frames")
    assert peak - warm < 24, readings  # flat: no frame is kept
