"""The sinks write what the pts say (DESIGN.md, "Time and truth at the edges").

`to_file`, `to_array` and `to_media_file` lay frames out by pts: the first frame's pts is
the start, a gap is silence of exactly its length, and a frame that starts before the
previous one ends (merge's overlapping frames, a flat_map that repeats a frame,
``map(ordered=False)``) is a `TimestampError` instead of audio written twice or out of
order. Float samples that reach `to_file` must be finite. Each measured bug is here once.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
import soundfile as sf
from numpy.typing import NDArray

import lkframes as lk

pytestmark = pytest.mark.anyio

RATE = 16_000
FRAME = 320  # 20 ms at RATE

Sink = Callable[[lk.Stream[lk.AudioFrame], Path], Any]


async def _to_file(stream: lk.Stream[lk.AudioFrame], tmp_path: Path) -> NDArray[Any]:
    path = tmp_path / "out.wav"
    await stream.to_file(path)
    written: NDArray[Any] = sf.read(path, dtype="int16", always_2d=True)[0]
    return written


async def _to_array(stream: lk.Stream[lk.AudioFrame], tmp_path: Path) -> NDArray[Any]:
    return await stream.to_array(squeeze=False)


SINKS = [pytest.param(_to_file, id="to_file"), pytest.param(_to_array, id="to_array")]


def _noise(seconds: float = 1.0, seed: int = 0) -> NDArray[np.int16]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * RATE)) * 3_000).astype(np.int16)


def _frames(seconds: float = 1.0, seed: int = 0) -> lk.Stream[lk.AudioFrame]:
    return lk.from_array(_noise(seconds, seed), RATE).chunk(samples=FRAME)


# -- overlapping or backwards pts ------------------------------------------------------------


@pytest.mark.parametrize("sink", SINKS)
async def test_merged_streams_are_refused_instead_of_interleaved(
    anyio_backend: str, tmp_path: Path, sink: Sink
) -> None:
    # Measured before: two 1 s inputs merged into to_file gave a 2 s file of interleaved blocks.
    merged = lk.merge(_frames(seed=1), _frames(seed=2))
    with pytest.raises(lk.TimestampError) as info:
        await sink(merged, tmp_path)
    name = sink.__name__.removeprefix("_")
    assert str(info.value).startswith(
        f"{name}: a frame at pts 0 starts before the previous frame ends "
        f"(expected pts >= {FRAME}, got 0)"
    )
    assert "lk.mix" in str(info.value)


@pytest.mark.parametrize("sink", SINKS)
async def test_a_flat_map_that_repeats_each_frame_is_refused(
    anyio_backend: str, tmp_path: Path, sink: Sink
) -> None:
    # Measured before: flat_map(lambda f: [f, f]) doubled the audio in the file.
    twice = _frames().flat_map(lambda frame: [frame, frame])
    with pytest.raises(lk.TimestampError, match=rf"pts 0 .*expected pts >= {FRAME}, got 0"):
        await sink(twice, tmp_path)


@pytest.mark.parametrize("sink", SINKS)
async def test_unordered_map_results_are_refused(
    anyio_backend: str, tmp_path: Path, sink: Sink
) -> None:
    # Frame 1's call lets frame 0's call finish only after itself: 1 comes out before 0.
    first_done = anyio.Event()

    async def second_first(frame: lk.AudioFrame) -> lk.AudioFrame:
        if frame.pts == 0:
            await first_done.wait()
        elif frame.pts == FRAME:
            first_done.set()
        return frame

    shuffled = _frames(0.1).map(second_first, concurrency=2, ordered=False)
    with pytest.raises(lk.TimestampError, match=r"at pts 0 .*expected pts >= [1-9]\d*, got 0"):
        await sink(shuffled, tmp_path)  # frame 1 (and on trio 2) came before frame 0


async def test_the_unordered_frames_are_still_collected_as_they_came(anyio_backend: str) -> None:
    first_done = anyio.Event()

    async def second_first(frame: lk.AudioFrame) -> lk.AudioFrame:
        if frame.pts == 0:
            await first_done.wait()
        elif frame.pts == FRAME:
            first_done.set()
        return frame

    frames = await _frames(0.1).map(second_first, concurrency=2, ordered=False).collect()
    assert frames[0].pts == FRAME  # collect checks no time order
    assert sorted(f.pts for f in frames) == list(range(0, RATE // 10, FRAME))


async def test_merged_then_chunked_is_written_one_after_the_other(
    anyio_backend: str, tmp_path: Path
) -> None:
    merged = lk.merge(_frames(seed=1), _frames(seed=2)).chunk(samples=FRAME)
    written = await _to_file(merged, tmp_path)
    assert written.shape == (2 * RATE, 1)  # chunk re-stamps pts: the frames in arrival order


async def test_a_frame_that_goes_back_in_time_after_a_gap_is_refused(
    anyio_backend: str, tmp_path: Path
) -> None:
    fmt = lk.AudioFormat(RATE, 1)
    frames = [lk.AudioFrame.of(np.ones((100, 1), np.int16), fmt, pts) for pts in (0, 500, 550)]
    with pytest.raises(lk.TimestampError, match=r"^to_file: a frame at pts 550 .*>= 600, got 550"):
        await lk.from_frames(frames).to_file(tmp_path / "out.wav")


# -- gaps and the start ---------------------------------------------------------------------


@pytest.mark.parametrize("sink", SINKS)
async def test_a_gap_is_silence_of_exactly_its_length(
    anyio_backend: str, tmp_path: Path, sink: Sink
) -> None:
    source = _noise()
    kept = _frames().filter(lambda frame: frame.pts // FRAME % 3 != 2)  # keeps the last one
    expected = source.copy()
    for start in range(2 * FRAME, RATE, 3 * FRAME):
        expected[start : start + FRAME] = 0
    out = await sink(kept, tmp_path)
    np.testing.assert_array_equal(out[:, 0], expected)


async def test_a_long_gap_is_written_a_block_at_a_time(anyio_backend: str, tmp_path: Path) -> None:
    rate = 48_000
    gap_s = 60
    fmt = lk.AudioFormat(rate, 2, "float32")
    tone = np.full((rate // 50, 2), 0.25, np.float32)
    frames = [lk.AudioFrame.of(tone, fmt, 0), lk.AudioFrame.of(tone, fmt, (gap_s + 1) * rate)]
    path = tmp_path / "gap.wav"
    tracemalloc.start()
    try:
        await lk.from_frames(frames).to_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000  # 60 s of stereo float32 at once would be 23 MB
    info = sf.info(path)
    assert info.frames == (gap_s + 1) * rate + tone.shape[0]
    with sf.SoundFile(path) as file:
        file.seek(tone.shape[0])
        assert not file.read(rate * 2, dtype="float32").any()  # the gap's first 2 s
        file.seek((gap_s + 1) * rate - rate)
        middle = file.read(rate + tone.shape[0], dtype="float32")
    assert not middle[:rate].any()
    np.testing.assert_array_equal(middle[rate:], tone)


@pytest.mark.parametrize("sink", SINKS)
async def test_the_first_frame_starts_the_output_without_silence(
    anyio_backend: str, tmp_path: Path, sink: Sink
) -> None:
    later = lk.from_array(_noise(), RATE).skip(ms=100)
    out = await sink(later, tmp_path)
    np.testing.assert_array_equal(out[:, 0], _noise()[RATE // 10 :])


async def test_the_summary_counts_the_silence_written(anyio_backend: str, tmp_path: Path) -> None:
    kept = _frames().filter(lambda frame: frame.pts // FRAME % 2 == 0)
    summary = await kept.to_file(tmp_path / "out.wav")
    assert summary.frames == 25
    assert summary.samples_per_channel == sf.info(tmp_path / "out.wav").frames == 49 * FRAME


# -- the usual pipelines ----------------------------------------------------------------------


async def test_resample_chunk_map_to_file_writes_what_to_array_gets(
    anyio_backend: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.wav"
    sf.write(source, _noise(2.0), RATE, subtype="PCM_16")

    def pipeline() -> lk.Stream[lk.AudioFrame]:
        return lk.from_file(source).resample(48_000).chunk(ms=20).map(lambda f: f.data // 2)

    summary = await pipeline().to_file(tmp_path / "out.wav")
    written, rate = sf.read(tmp_path / "out.wav", dtype="int16", always_2d=True)
    assert (rate, summary.frames, written.shape) == (48_000, 100, (96_000, 1))
    # soxr dithers int16 output: two runs differ by a few LSB at most
    difference = written.astype(np.int32) - (await pipeline().to_array(squeeze=False))
    assert np.abs(difference).max() <= 2


async def test_filter_then_chunk_writes_the_kept_frames_back_to_back(
    anyio_backend: str, tmp_path: Path
) -> None:
    source = _noise()
    kept = _frames().filter(lambda frame: frame.pts // FRAME % 2 == 0).chunk(ms=20)
    written = await _to_file(kept, tmp_path)
    expected = np.concatenate([source[s : s + FRAME] for s in range(0, RATE, 2 * FRAME)])
    np.testing.assert_array_equal(written[:, 0], expected)


# -- NaN and infinity -------------------------------------------------------------------------


def _poison_at(pts: int, value: float) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
    """A custom stage that builds its frames with `AudioFrame.of` (no scan of the samples)."""

    async def poison(frames: AsyncIterator[lk.AudioFrame]) -> AsyncGenerator[lk.AudioFrame, None]:
        async for frame in frames:
            data = frame.data.copy()
            if frame.pts <= pts < frame.end_pts:
                data[pts - frame.pts] = value
            yield lk.AudioFrame.of(data, frame.format, frame.pts)

    return lk.Stage("poison", poison)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_16"])
async def test_a_custom_stage_s_non_finite_samples_are_refused_by_to_file(
    anyio_backend: str, tmp_path: Path, value: float, subtype: str
) -> None:
    # Measured before: NaN became 0 in PCM_16 and a full-scale -1.0 in a float WAV.
    floats = lk.from_array(_noise(2.0).astype(np.float32) / 32_768, RATE).chunk(ms=20)
    path = tmp_path / "out.wav"
    with pytest.raises(lk.InvalidAudioError) as info:
        await (floats | _poison_at(RATE + 7, value)).to_file(path, subtype=subtype, partial="keep")
    assert str(info.value).startswith(
        f"to_file: the audio has NaN or infinity in float samples (expected finite samples, "
        f"got {np.float32(value)} at pts {RATE + 7}); a file cannot hold them"
    )
    assert sf.info(path).frames == RATE  # what came before the 0.5 s block that held it
    with pytest.raises(lk.InvalidAudioError):
        await (floats | _poison_at(RATE + 7, value)).to_file(tmp_path / "discarded.wav")
    assert not (tmp_path / "discarded.wav").exists()  # by default: nothing left


async def test_to_media_file_refuses_overlaps_and_fills_gaps(
    anyio_backend: str, tmp_path: Path
) -> None:
    with pytest.raises(lk.TimestampError, match=r"^to_media_file \(audio\): a frame at pts 0"):
        await lk.to_media_file(tmp_path / "merged.mkv", audio=lk.merge(_frames(), _frames()))
    source = _noise()
    kept = _frames().filter(lambda frame: frame.pts // FRAME % 3 != 2)
    summary = await lk.to_media_file(tmp_path / "gaps.mkv", audio=kept, audio_codec="flac")
    assert summary.audio is not None
    assert summary.audio.samples_per_channel == RATE
    expected = source.copy()
    for start in range(2 * FRAME, RATE, 3 * FRAME):
        expected[start : start + FRAME] = 0
    audio = lk.open_media(tmp_path / "gaps.mkv").audio
    assert audio is not None
    decoded = await audio.to_array(squeeze=False)
    np.testing.assert_array_equal(decoded[:, 0], expected)  # FLAC: lossless


async def test_to_media_file_keeps_one_picture_per_instant_and_counts_the_rest(
    anyio_backend: str, tmp_path: Path
) -> None:
    """A video frame whose timestamp repeats, or goes back (a stream of the user's own:
    from_video_frames refuses that), is left out and counted, as FFmpeg's -fps_mode vfr
    drops it (it was moved 1 µs later, silently)."""
    stamps = [0, 40_000, 40_000, 80_000, 60_000, 120_000, 120_000, 160_000]
    pictures = [
        lk.VideoFrame(np.full((48, 64, 3), 30 * n, np.uint8), "rgb24", timestamp_us=t)
        for n, t in enumerate(stamps)
    ]

    async def frames() -> AsyncGenerator[lk.VideoFrame, None]:
        for picture in pictures:
            yield picture

    path = tmp_path / "clip.mkv"
    summary = await lk.to_media_file(path, video=lk.Stream(frames))
    assert (summary.video_frames, summary.video_dropped) == (5, 3)
    assert summary.video_seconds == pytest.approx(0.16)
    media = lk.open_media(path)
    assert media.video is not None
    got = await media.video.collect()
    assert [f.timestamp_us for f in got] == [0, 40_000, 80_000, 120_000, 160_000]
    # the first frame of each instant is the one kept: brightness 0, 30, 90, 150, 210
    kept = [round(float(f.convert("rgb24").data[..., 1].mean()) / 30) for f in got]
    assert kept == [0, 1, 3, 5, 7]
