"""Fault injection: disks that fill up, unwritable outputs, files cut, damaged or replaced
while they are read, and a failing ``map`` function.

Every fault ends in a typed error (`lk.LkFramesError`) after all the audio that could be
read or written got through, with every stage and file of the pipeline closed. What
tests/test_files.py covers already (files damaged before the read, a parent directory that
is a file, an unknown extension) is not repeated here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import numpy as np
import pytest
import soundfile as sf
from numpy.typing import NDArray
from processes import file_size_limit

import lkframes as lk
from lkframes.testing import open_resources

pytestmark = pytest.mark.anyio

RATE = 16_000
FFMPEG = shutil.which("ffmpeg")


def _noise(samples: int, channels: int = 2, seed: int = 0) -> NDArray[np.int16]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((samples, channels)) * 3_000).astype(np.int16)


class Probe:
    """A source and pass-through stages that record what was closed."""

    def __init__(self) -> None:
        self.closed: list[str] = []

    def source(self, seconds: float | None = None) -> lk.Stream[lk.AudioFrame]:
        inner = lk.sine(440, seconds, RATE, block_ms=20)

        async def run() -> AsyncGenerator[lk.AudioFrame, None]:
            try:
                async with inner.open() as frames:
                    async for frame in frames:
                        yield frame
            finally:
                self.closed.append("source")

        return lk.Stream(run, format=inner.format, name="probe")

    def stage(self, name: str) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
        async def run(frames: AsyncIterable[lk.AudioFrame]) -> AsyncGenerator[lk.AudioFrame, None]:
            try:
                async for frame in frames:
                    yield frame
            finally:
                self.closed.append(name)

        return lk.Stage(name, run, output_format=None)


# -- writing: a full disk, a file size limit, an unwritable destination -------------------------


@pytest.mark.parametrize("container", ["WAV", "FLAC", "OGG"])
@pytest.mark.parametrize("seconds", [0.1, 3.0])
async def test_disk_full_raises_and_closes_the_pipeline(
    anyio_backend: str, container: str, seconds: float
) -> None:
    # /dev/full fails every write with ENOSPC. Before the fix an OGG/Vorbis file of 0.1 s
    # "succeeded": libsndfile writes its pages when the file is closed, and ignored the error.
    probe = Probe()
    stream = probe.source(seconds) | probe.stage("before") | lk.chunk(ms=20)
    with pytest.raises(lk.AudioFileError, match=r"writing '/dev/full' failed: .*No space left"):
        await stream.to_file("/dev/full", format=container, overwrite=True)
    assert sorted(probe.closed) == ["before", "source"]
    assert open_resources() == {}


@pytest.mark.parametrize("name", ["full.wav", "full.flac", "full.ogg", "full.mp3"])
async def test_disk_filling_up_mid_write(anyio_backend: str, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    probe = Probe()
    with (
        file_size_limit(20_000),
        pytest.raises(lk.AudioFileError, match=rf"writing '.*{name}' failed: .*File too large"),
    ):
        await (probe.source(None) | probe.stage("before")).to_file(path, partial="keep")
    assert sorted(probe.closed) == ["before", "source"]
    assert open_resources() == {}
    assert path.stat().st_size == 20_000
    if name.endswith(".wav"):
        # The header is finalised on close: a valid file holding what fitted.
        info = sf.info(str(path))
        assert info.frames == (20_000 - 44) // 2
        written = sf.read(str(path), dtype="int16")[0]
        expected = await lk.sine(440, info.frames / RATE, RATE).to_array()
        np.testing.assert_array_equal(written, expected)


async def test_unwritable_destination_closes_the_pipeline(
    anyio_backend: str, tmp_path: Path
) -> None:
    # The file opens at the first frame, so the source has started: it must be closed.
    (tmp_path / "a_file").write_text("not a directory")
    path = tmp_path / "a_file" / "out.wav"
    probe = Probe()
    with pytest.raises(
        lk.AudioFileError, match=r"cannot write '.*out\.wav' as WAV/PCM_16: .*Not a directory"
    ):
        await (probe.source(None) | probe.stage("before")).to_file(path)
    assert sorted(probe.closed) == ["before", "source"]
    assert open_resources() == {}


async def test_a_file_that_cannot_be_replaced_safely(anyio_backend: str) -> None:
    proc_version = anyio.Path("/proc/version")
    # /proc/version is a regular file, but no temporary file can be created beside it, so
    # it cannot be replaced atomically: refused before anything is written, in its name.
    before = await proc_version.read_bytes()
    with pytest.raises(
        lk.AudioFileError,
        match=r"cannot replace '/proc/version' safely: a temporary file cannot be created "
        r"beside it in '/proc' \(No such file or directory\); the file is unchanged$",
    ):
        await lk.sine(440, 0.1, RATE).to_file("/proc/version", format="wav", overwrite=True)
    assert await proc_version.read_bytes() == before


async def test_a_device_that_refuses_writes(anyio_backend: str, tmp_path: Path) -> None:
    # A device is written in place (it cannot be renamed over); /dev/full opens for writing
    # and every write fails with ENOSPC: the error names the path and the reason.
    with pytest.raises(lk.AudioFileError, match=r"'/dev/full'.*No space left on device"):
        await lk.sine(440, 1.0, RATE).to_file("/dev/full", format="wav", overwrite=True)


async def test_a_write_error_does_not_hide_the_pipeline_error(
    anyio_backend: str, tmp_path: Path
) -> None:
    # The pipeline fails first; closing the file on the full disk fails too. The pipeline's
    # error reaches the caller, with the write failure as a note.
    def fail(frame: lk.AudioFrame) -> None:
        if frame.pts >= RATE // 10:
            raise KeyError("pipeline failed")

    with pytest.raises(KeyError, match="pipeline failed") as caught:
        await (
            lk.sine(440, None, RATE, block_ms=20)
            .tap(fail)
            .to_file("/dev/full", format="OGG", overwrite=True)
        )
    assert any("No space left on device" in note for note in caught.value.__notes__)


# -- reading: files cut, damaged or replaced while they are read ---------------------------------

FORMATS = ["wav", "flac", "ogg", "mp3", "m4a"]


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four seconds of stereo noise in each format (m4a through the ffmpeg CLI)."""
    folder = tmp_path_factory.mktemp("originals")
    x = _noise(4 * RATE)
    files = {}
    for ext in ("wav", "flac"):
        files[ext] = folder / f"noise.{ext}"
        sf.write(str(files[ext]), x, RATE, subtype="PCM_16")
    files["ogg"] = folder / "noise.ogg"
    sf.write(str(files["ogg"]), x.astype(np.float32) / 32_768, RATE, subtype="VORBIS")
    files["mp3"] = folder / "noise.mp3"
    sf.write(str(files["mp3"]), x.astype(np.float32) / 32_768, RATE, format="MP3")
    if FFMPEG is not None:
        files["m4a"] = folder / "noise.m4a"
        command = [FFMPEG, "-loglevel", "error", "-i", str(files["wav"]), str(files["m4a"])]
        subprocess.run(command, check=True)
    return files


def _original(originals: dict[str, Path], ext: str, tmp_path: Path) -> Path:
    if ext not in originals:
        pytest.skip("the ffmpeg binary is not on PATH (apt-get install ffmpeg)")
    path = tmp_path / originals[ext].name
    shutil.copy(originals[ext], path)
    return path


async def _read_while(
    path: Path, damage: Callable[[Path], None]
) -> tuple[NDArray[Any], BaseException | None]:
    """Read ``path`` in 100 ms blocks, calling ``damage`` after the first; keep every frame."""
    frames: list[NDArray[Any]] = []
    error: BaseException | None = None
    try:
        async with lk.from_file(path, block_ms=100).open() as blocks:
            async for frame in blocks:
                frames.append(frame.data)
                if len(frames) == 1:
                    damage(path)
    except lk.LkFramesError as exc:
        error = exc
    return np.concatenate(frames), error


def _cut_in_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _overwrite_middle(path: Path) -> None:
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(np.random.default_rng(1).integers(0, 256, 2_000, np.uint8).tobytes())


@pytest.mark.parametrize("ext", FORMATS)
async def test_file_cut_while_read(
    anyio_backend: str, originals: dict[str, Path], tmp_path: Path, ext: str
) -> None:
    path = _original(originals, ext, tmp_path)
    intact = await lk.from_file(path).to_array()
    got, error = await _read_while(path, _cut_in_half)
    # Everything up to the cut, as an intact read gives it, then a typed error. Before
    # 0.1.0, WAV, FLAC and OGG ended quietly, as if the file were complete. An MP3 that
    # libsndfile stops reading early is read on by FFmpeg, whose samples agree with
    # libsndfile's to float rounding (1e-6).
    assert 0 < len(got) < len(intact) * 0.6
    if ext == "mp3":
        np.testing.assert_allclose(got, intact[: len(got)], atol=1e-5)
    else:
        np.testing.assert_array_equal(got, intact[: len(got)])
    assert isinstance(error, lk.TruncatedAudioError)
    assert re.search(
        rf"truncated after {len(got)} samples: (the file ended after {len(got)} of the "
        rf"{len(intact)} samples|the last Ogg page is incomplete)",
        str(error),
    ), error


def _ffmpeg_samples(path: Path) -> int:
    """How many samples per channel the ffmpeg command decodes from ``path``. FLAC frames
    that fail their checksum are dropped, as lkframes drops them (ffmpeg's default
    decodes them to garbage; lkframes puts silence in their place)."""
    checked = ["-err_detect", "crccheck+explode"] if path.suffix == ".flac" else []
    command = [FFMPEG or "ffmpeg", "-v", "quiet", *checked, "-i", str(path)]
    command += ["-f", "s16le", "-ac", "1", "-"]
    return len(subprocess.run(command, capture_output=True, check=False).stdout) // 2


def _silence_filled(x: NDArray[Any]) -> int:
    """Samples of ``x`` (noise) in runs of 64 or more exact zeros: silence put in."""
    silent = np.concatenate([[False], ~x.any(axis=1), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(silent))
    runs = edges[1::2] - edges[::2]
    return int(runs[runs >= 64].sum())


@pytest.mark.parametrize("ext", ["flac", "mp3", "m4a"])
async def test_file_damaged_while_read_is_read_past_the_damage(
    anyio_backend: str, originals: dict[str, Path], tmp_path: Path, ext: str
) -> None:
    # 2 000 random bytes in the middle of the file, written after the first block was
    # read. Before, the read stopped there (46-50 % of the file); now it goes on as ffmpeg
    # does, loses no more than ffmpeg loses, and says where and how much was lost.
    path = _original(originals, ext, tmp_path)
    intact = await lk.from_file(path).to_array()
    ffmpeg_intact = _ffmpeg_samples(path)
    with pytest.warns(lk.DamagedAudioWarning, match=r"has damaged data, skipped at [\d.]+ s") as w:
        got, error = await _read_while(path, _overwrite_middle)
    assert error is None
    report = w[0].message
    assert isinstance(report, lk.DamagedAudioWarning)
    damaged_at = round(report.positions_s[0] * RATE)
    assert len(intact) * 0.4 < damaged_at < len(intact) * 0.6
    before = slice(0, damaged_at - 1_152)
    np.testing.assert_allclose(got[before], intact[before], atol=1e-5 if ext == "mp3" else 0)
    lost = len(intact) - len(got) + _silence_filled(got)
    assert lost == round(report.lost_s * RATE)
    assert lost <= ffmpeg_intact - _ffmpeg_samples(path)
    if ext in ("flac", "m4a"):  # timestamps place the loss: silence keeps the timeline
        assert len(got) == len(intact)
        after = slice(damaged_at + lost + 2_048, None)
        np.testing.assert_allclose(got[after], intact[after], atol=0 if ext == "flac" else 4)


@pytest.mark.parametrize("ext", ["flac", "mp3", "m4a"])
async def test_on_damaged_error_stops_at_the_damage(
    anyio_backend: str, originals: dict[str, Path], tmp_path: Path, ext: str
) -> None:
    path = _original(originals, ext, tmp_path)
    intact = await lk.from_file(path).to_array()
    _overwrite_middle(path)
    frames: list[lk.AudioFrame] = []

    async def read() -> None:
        async with lk.from_file(path, on_damaged="error").open() as blocks:
            async for frame in blocks:
                frames.append(frame)  # noqa: PERF401 - keeps what came before the error

    with pytest.raises(lk.DamagedAudioError, match=r"has damaged data at [\d.]+ s") as caught:
        await read()
    got = np.concatenate([f.data for f in frames])
    assert abs(caught.value.position_s * RATE - len(got)) <= 1
    assert len(intact) * 0.4 < len(got) < len(intact) * 0.6
    np.testing.assert_allclose(got, intact[: len(got)], atol=1e-5 if ext == "mp3" else 0)


async def test_ogg_damaged_while_read_skips_the_pages_and_says_so(
    anyio_backend: str, originals: dict[str, Path], tmp_path: Path
) -> None:
    # libvorbis drops the damaged pages and goes on decoding; what follows is yielded too.
    # The stream then comes up short of the length the file declares, though its last
    # page ends the stream: the pages were lost to damage, which a warning reports.
    path = _original(originals, "ogg", tmp_path)
    intact = await lk.from_file(path).to_array()
    cut = tmp_path / "cut.ogg"  # what decodes before the damage: the file cut there
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(lk.TruncatedAudioWarning, match="the last Ogg page is incomplete"):
        before_damage = len(await lk.from_file(cut, on_truncated="warn").to_array())
    with pytest.warns(lk.DamagedAudioWarning, match="at places the file does not tell") as w:
        got, error = await _read_while(path, _overwrite_middle)
    assert error is None
    assert before_damage < len(got) < len(intact)
    np.testing.assert_array_equal(got[:before_damage], intact[:before_damage])
    report = w[0].message
    assert isinstance(report, lk.DamagedAudioWarning)
    assert round(report.lost_s * RATE) == len(intact) - len(got)
    assert len(got) >= _ffmpeg_samples(path) - 1_024


async def test_wav_damaged_while_read_is_not_detectable(
    anyio_backend: str, originals: dict[str, Path], tmp_path: Path
) -> None:
    # Documented behaviour: PCM has no checksum, so overwritten samples are read as they
    # are. The length and every sample outside the damaged bytes are intact.
    path = _original(originals, "wav", tmp_path)
    intact = await lk.from_file(path).to_array()
    got, error = await _read_while(path, _overwrite_middle)
    assert error is None
    assert got.shape == intact.shape
    first = (path.stat().st_size // 2 - 44) // 4
    np.testing.assert_array_equal(got[:first], intact[:first])
    np.testing.assert_array_equal(got[first + 501 :], intact[first + 501 :])
    assert not np.array_equal(got, intact)


@pytest.mark.parametrize(
    ("ext", "reason"),
    [
        ("ogg", "the last Ogg page is incomplete"),
        ("mp3", r"the file ended after \d+ of the 64000 samples its header declares"),
    ],
)
async def test_ogg_and_mp3_cut_before_the_read_are_reported(
    anyio_backend: str, originals: dict[str, Path], tmp_path: Path, ext: str, reason: str
) -> None:
    # libsndfile reads these cut files as complete, shorter ones. lkframes checks what the
    # container declares (Ogg's end-of-stream page, the MP3's Xing/Info frame count), so
    # the cut gets the same handling as a cut WAV: an error, or a warning and the prefix.
    path = _original(originals, ext, tmp_path)
    intact = await lk.from_file(path).to_array()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(lk.TruncatedAudioError, match=reason):
        await lk.from_file(path).to_array()
    with pytest.warns(lk.TruncatedAudioWarning, match=reason):
        got = await lk.from_file(path, on_truncated="warn").to_array()
    assert len(intact) // 4 < len(got) < len(intact) * 3 // 4
    settled = len(got) - 1_152  # an MP3 frame: the decoder's last frame may differ
    np.testing.assert_array_equal(got[:settled], intact[:settled])


@pytest.mark.parametrize("ext", ["wav", "m4a"])
@pytest.mark.parametrize("replacement", ["removed", "garbage", "mono"])
async def test_file_replaced_before_the_read(
    anyio_backend: str, originals: dict[str, Path], tmp_path: Path, ext: str, replacement: str
) -> None:
    # from_file reads the header when called and opens the file again for each iteration.
    # A PyAV-read file removed or replaced in between raised PyAV's own errors before.
    path = _original(originals, ext, tmp_path)
    stream = lk.from_file(path)
    path.unlink()
    if replacement == "garbage":
        path.write_bytes(b"not audio at all " * 100)
    elif replacement == "mono":  # readable, but not in the format the stream declared
        shutil.copy(originals[ext], path)
        if ext == "wav":
            sf.write(str(path), _noise(RATE, channels=1), RATE)
        else:
            command = [FFMPEG or "ffmpeg", "-loglevel", "error", "-y", "-i", str(path)]
            await anyio.run_process([*command, "-ac", "1", str(tmp_path / "mono.m4a")])
            shutil.move(tmp_path / "mono.m4a", path)
    with pytest.raises(lk.AudioFileError, match=r"changed since it was opened"):
        await stream.run()
    assert open_resources() == {}


@pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg binary is not on PATH")
async def test_stream_whose_format_changes_mid_way(anyio_backend: str, tmp_path: Path) -> None:
    # Two ADTS AAC streams back to back, 16 kHz stereo then 44.1 kHz mono: PyAV's resampler
    # raised ValueError at the second part before.
    parts = []
    for rate, channels in ((16_000, 2), (44_100, 1)):
        part = tmp_path / f"{rate}.aac"
        lavfi = f"sine=frequency=440:sample_rate={rate}:duration=0.5"
        command = [FFMPEG or "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", lavfi]
        await anyio.run_process([*command, "-ac", str(channels), "-f", "adts", str(part)])
        parts.append(part.read_bytes())
    path = tmp_path / "chained.aac"
    path.write_bytes(b"".join(parts))
    got: list[lk.AudioFrame] = []

    async def read() -> None:
        async with lk.from_file(path).open() as frames:
            async for frame in frames:
                got.append(frame)  # noqa: PERF401 - keeps the frames yielded before the error

    with pytest.raises(
        lk.TruncatedAudioError,
        match=r"the audio format changes mid-stream \(from 16000 Hz 2 ch to 44100 Hz 1 ch\)",
    ):
        await read()
    # The first part, whole (0.5 s plus the AAC encoder's priming and padding).
    assert 8_000 <= sum(f.samples_per_channel for f in got) <= 8_000 + 2_048


# -- an exception inside map -------------------------------------------------------------------


def _divide_by_zero(frame: lk.AudioFrame) -> lk.AudioFrame:
    if frame.pts >= 4_000:
        _ = 1 / 0
    return frame


async def _async_divide_by_zero(frame: lk.AudioFrame) -> lk.AudioFrame:
    await anyio.lowlevel.checkpoint()
    return _divide_by_zero(frame)


Terminal = Callable[[lk.Stream[lk.AudioFrame]], Awaitable[object]]


@pytest.mark.parametrize(
    ("fn", "concurrency"),
    [(_divide_by_zero, 1), (_divide_by_zero, 4), (_async_divide_by_zero, 3)],
    ids=["sync", "sync-in-threads", "async-concurrent"],
)
@pytest.mark.parametrize("terminal", ["collect", "run", "to_file"])
async def test_exception_in_map_names_the_stage_and_closes_the_pipeline(
    anyio_backend: str,
    tmp_path: Path,
    fn: Callable[[lk.AudioFrame], Any],
    concurrency: int,
    terminal: str,
) -> None:
    probe = Probe()
    stream = (
        probe.source(None)
        | probe.stage("upstream")
        | lk.resample(8_000)
        | lk.chunk(ms=10)
        | lk.map(fn, concurrency=concurrency)
        | probe.stage("downstream")
    )
    run: Terminal = {
        "collect": lambda s: s.collect(),
        "run": lambda s: s.run(),
        "to_file": lambda s: s.to_file(tmp_path / "out.wav"),
    }[terminal]
    with pytest.raises(ZeroDivisionError, match="division by zero") as caught:
        await run(stream)
    name = fn.__name__
    # Unchanged type, not wrapped in a group, with a note naming the stage and the frame.
    assert type(caught.value) is ZeroDivisionError
    first, *others = caught.value.__notes__
    assert first == f"raised in lkframes stage map({name}) at pts=4000"
    # With concurrency, later frames in flight may fail too: the earliest error is raised,
    # the later calls are cancelled and their errors dropped.
    assert others == []
    assert sorted(probe.closed) == ["downstream", "source", "upstream"]
    assert open_resources() == {}
