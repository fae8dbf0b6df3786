"""`to_file` to .m4a and .mp4: AAC through PyAV, exactly as long as what was written, the
same signal as ``ffmpeg -c:a aac`` makes, and the file guarantees of the other formats.

FFmpeg (ffprobe, and the ffmpeg CLI's own decoder and encoder) is the reference.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
import soundfile as sf
from numpy.typing import NDArray
from processes import file_size_limit

import lkframes as lk
from lkframes.io._replace import TEMP_MARK
from lkframes.testing import open_resources

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None or FFPROBE is None,
    reason="the ffmpeg and ffprobe binaries are the reference (apt-get install ffmpeg)",
)


def _tones(samples: int, rate: int, channels: int, dtype: str) -> NDArray[Any]:
    """440 Hz on the first channel, 660 Hz on the second, at half scale."""
    t = np.arange(samples) / rate
    x = np.stack([0.5 * np.sin(2 * np.pi * hz * t) for hz in (440, 660)[:channels]], axis=1)
    if dtype == "int16":
        return np.round(x * 32_767).astype(np.int16)
    return x.astype(np.float32)


def _as_float(x: NDArray[Any]) -> NDArray[np.float64]:
    return x / 32_768 if x.dtype == np.int16 else x.astype(np.float64)


def _snr_db(reference: NDArray[Any], got: NDArray[Any]) -> float:
    n = min(len(reference), len(got))
    error = np.sum((reference[:n] - got[:n]) ** 2)
    return float(10 * np.log10(np.sum(reference[:n] ** 2) / error))


def _probe(path: Path) -> dict[str, Any]:
    assert FFPROBE is not None
    command = [FFPROBE, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)]
    result: dict[str, Any] = json.loads(
        subprocess.run(command, check=True, capture_output=True).stdout
    )
    return result


def _ffmpeg_decode(path: Path, channels: int) -> NDArray[np.float32]:
    """The ffmpeg CLI's decode (32-bit float): it drops the priming but not the padding."""
    assert FFMPEG is not None
    command = [FFMPEG, "-v", "error", "-i", str(path), "-f", "f32le", "-"]
    raw = subprocess.run(command, check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.float32).reshape(-1, channels)


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP_MARK in p.name)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- lengths and content over rates, lengths, channels and sample types ------------------------

LENGTHS: dict[str, Callable[[int], int]] = {
    "0.5 s": lambda rate: rate // 2,
    "1 s + 1": lambda rate: rate + 1,
    "2047": lambda _: 2047,
}


@needs_ffmpeg
@pytest.mark.parametrize("dtype", ["int16", "float32"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("length", list(LENGTHS))
@pytest.mark.parametrize("rate", [16_000, 44_100, 48_000])
def test_the_file_holds_exactly_the_samples_written(
    tmp_path: Path, rate: int, length: str, channels: int, dtype: str
) -> None:
    samples = LENGTHS[length](rate)
    x = _tones(samples, rate, channels, dtype)
    path = tmp_path / "out.m4a"
    summary = lk.run_sync(lk.from_array(x, rate, block_ms=20).to_file(path))
    assert summary.samples_per_channel == samples

    # What the container declares: ffprobe and file_info agree, to the sample.
    (stream,) = _probe(path)["streams"]
    assert (stream["codec_name"], stream["profile"]) == ("aac", "LC")
    assert (int(stream["sample_rate"]), stream["channels"]) == (rate, channels)
    assert (stream["start_pts"], stream["duration_ts"]) == (0, samples)
    info = lk.file_info(path)
    assert (info.codec, info.backend, info.samples_per_channel) == ("aac", "pyav", samples)
    assert "mp4" in info.container
    assert info.format == lk.AudioFormat(rate, channels, "float32")

    # What decodes: from_file gives exactly that many samples; the ffmpeg CLI (which drops
    # the priming but keeps the last frame's padding) gives the same samples first.
    got = lk.run_sync(lk.from_file(path).to_array(squeeze=False))
    assert got.shape == (samples, channels)
    decoded = _ffmpeg_decode(path, channels)
    assert samples <= len(decoded) < samples + 1024
    np.testing.assert_allclose(decoded[:samples], got, atol=1e-5)

    # The same signal, not shifted by a sample: AAC is lossy, but not that lossy.
    reference = _as_float(x)
    snr = _snr_db(reference, got)
    assert snr > 12, f"{snr:.1f} dB"
    for lag in (-1, 1):
        shifted = np.roll(got, lag, axis=0)[2:-2]
        assert _snr_db(reference[2:-2], shifted) < snr


@needs_ffmpeg
@pytest.mark.parametrize("channels", [1, 2])
def test_the_same_signal_as_the_ffmpeg_cli_makes(tmp_path: Path, channels: int) -> None:
    rate, samples = 48_000, 96_000
    x = _tones(samples, rate, channels, "int16")
    wav = tmp_path / "in.wav"
    sf.write(wav, x, rate, subtype="PCM_16")
    theirs = tmp_path / "ffmpeg.m4a"
    assert FFMPEG is not None
    subprocess.run([FFMPEG, "-v", "error", "-i", str(wav), "-c:a", "aac", str(theirs)], check=True)
    ours = tmp_path / "ours.m4a"
    lk.run_sync(lk.from_file(wav).to_file(ours))

    reference = _as_float(x)
    mine = lk.run_sync(lk.from_file(ours).to_array(squeeze=False))
    other = lk.run_sync(lk.from_file(theirs).to_array(squeeze=False))
    assert _snr_db(reference, mine) > _snr_db(reference, other) - 3
    assert _snr_db(other, mine) > 20  # the same encoder (another FFmpeg), the same alignment
    # ffmpeg's default bit rate: 69 kb/s mono, 128 kb/s stereo, as ours.
    rates = [int(_probe(p)["streams"][0]["bit_rate"]) for p in (ours, theirs)]
    assert rates[0] == pytest.approx(rates[1], rel=0.1)
    assert ours.stat().st_size == pytest.approx(theirs.stat().st_size, rel=0.1)


@needs_ffmpeg
@pytest.mark.parametrize(("ext", "brand"), [(".m4a", b"M4A "), (".mp4", b"isom")])
def test_m4a_and_mp4_are_the_files_ffmpeg_writes_for_them(
    tmp_path: Path, ext: str, brand: bytes
) -> None:
    path = tmp_path / f"tone{ext}"
    lk.run_sync(lk.sine(440, 0.25, 48_000).to_file(path))
    wav = tmp_path / "tone.wav"
    lk.run_sync(lk.sine(440, 0.25, 48_000).to_file(wav))
    theirs = tmp_path / f"ffmpeg{ext}"
    assert FFMPEG is not None
    subprocess.run([FFMPEG, "-v", "error", "-i", str(wav), str(theirs)], check=True)
    tags = [_probe(p)["format"]["tags"] for p in (path, theirs)]
    assert [t["major_brand"] for t in tags] == [brand.decode()] * 2
    assert tags[0]["compatible_brands"] == tags[1]["compatible_brands"]
    # format= names the container where the extension does not (a batch's temporary file)
    other = tmp_path / "no-extension.tmp"
    lk.run_sync(lk.sine(440, 0.25, 48_000).to_file(other, format=ext[1:]))
    assert other.read_bytes()[8:12] == brand
    assert lk.file_info(other).samples_per_channel == 12_000


@pytest.mark.parametrize("channels", [3, 4, 6, 8])
def test_every_channel_is_kept(tmp_path: Path, channels: int) -> None:
    # One tone per channel; each comes back on its own channel only. FFmpeg's own layout
    # for 3 channels (2.1) would make the third the LFE, which AAC low-passes to nothing;
    # 6 and 8 channels are 5.1 and 7.1, whose 4th channel is the LFE: it gets 60 Hz.
    rate = 48_000
    tones = [300, 500, 700, 900, 1100, 1300, 1500, 1700][:channels]
    if channels >= 6:
        tones[3] = 60
    t = np.arange(rate) / rate
    x = np.stack([0.3 * np.sin(2 * np.pi * hz * t) for hz in tones], axis=1).astype(np.float32)
    path = tmp_path / "many.m4a"
    lk.run_sync(lk.from_array(x, rate).to_file(path))
    got = lk.run_sync(lk.from_file(path).to_array(squeeze=False))
    assert got.shape == x.shape
    middle = got[4_800:43_200]
    phase = np.exp(-2j * np.pi * np.outer(np.arange(4_800, 43_200) / rate, tones))
    amplitude = 2 * np.abs(middle.T @ phase) / len(middle)  # channel x tone
    np.testing.assert_allclose(amplitude, 0.3 * np.eye(channels), atol=0.04)


# -- what cannot be written ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "channels", "subtype", "message"),
    [
        (
            50_000,
            1,
            None,
            r"cannot write '.*out\.m4a' as M4A/AAC: AAC files hold 7350, 8000, .* 88200 or "
            r"96000 Hz, not 50000 Hz; resample first, e.g. \.resample\(64000\)$",
        ),
        (
            48_000,
            9,
            None,
            r"AAC files hold 1 to 8 channels, not 9; remix first, e\.g\. \.remix\(2\)$",
        ),
        (48_000, 1, "PCM_16", r"as M4A/PCM_16: an M4A file holds AAC only \(subtype='AAC'\)$"),
    ],
)
def test_what_aac_cannot_hold_is_refused_before_a_file_is_made(
    tmp_path: Path, rate: int, channels: int, subtype: str | None, message: str
) -> None:
    path = tmp_path / "out.m4a"
    stream = lk.sine(440, 1.0, rate).remix(channels)
    with pytest.raises(lk.AudioFileError, match=message):
        lk.run_sync(stream.to_file(path, subtype=subtype))
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("not a directory")
    with pytest.raises(
        lk.AudioFileError, match=r"cannot write '.*out\.m4a' as M4A/AAC: Not a directory$"
    ):
        lk.run_sync(lk.sine(440, 0.1, 48_000).to_file(tmp_path / "a_file" / "out.m4a"))
    # /proc/version is a regular file, but no temporary file can be made beside it.
    before = Path("/proc/version").read_bytes()
    with pytest.raises(
        lk.AudioFileError,
        match=r"cannot replace '/proc/version' safely: a temporary file cannot be created "
        r"beside it in '/proc' \(No such file or directory\); the file is unchanged$",
    ):
        lk.run_sync(
            lk.sine(440, 0.1, 48_000).to_file("/proc/version", format="mp4", overwrite=True)
        )
    assert Path("/proc/version").read_bytes() == before


def test_subtype_aac_is_accepted_in_any_case(tmp_path: Path) -> None:
    for subtype in ("AAC", "aac"):
        path = tmp_path / f"{subtype}.mp4"
        lk.run_sync(lk.sine(440, 0.1, 16_000).to_file(path, subtype=subtype))
        assert lk.file_info(path).codec == "aac"


def test_an_empty_stream_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    # An MP4 without a sample has no audio track at all: nothing could read it back.
    path = tmp_path / "empty.m4a"
    empty = lk.from_array(np.zeros((0, 2), np.int16), 48_000)
    with pytest.raises(
        lk.AudioFileError,
        match=r"cannot write '.*empty\.m4a' as M4A/AAC: the stream has no samples, and an MP4 "
        r"file without them holds no audio track$",
    ):
        lk.run_sync(empty.to_file(path))
    assert list(tmp_path.iterdir()) == []
    # Replacing a file with nothing leaves the file as it was.
    lk.run_sync(lk.sine(440, 0.5, 48_000).to_file(path))
    before = _digest(path)
    with pytest.raises(lk.AudioFileError, match="no samples"):
        lk.run_sync(empty.to_file(path, overwrite=True))
    assert _digest(path) == before
    assert _temporaries(tmp_path) == []


def test_a_pipe_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.m4a"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so that opening to write returns
    try:
        with pytest.raises(
            lk.AudioFileError, match=r"seeks back to it, which a pipe or a terminal cannot do"
        ):
            lk.run_sync(lk.sine(440, 0.5, 48_000).to_file(fifo, overwrite=True))
        assert os.read(reader, 100) == b""
    finally:
        os.close(reader)


# -- how a run ends -----------------------------------------------------------------------------


def _endless(rate: int, before_waiting: int) -> lk.Stream[lk.AudioFrame]:
    """``before_waiting`` samples of a tone in 10 ms frames, then nothing, forever."""
    fmt = lk.AudioFormat(rate, 1)
    x = _tones(before_waiting, rate, 1, "int16")

    async def run() -> AsyncGenerator[lk.AudioFrame, None]:
        step = rate // 100
        for start in range(0, before_waiting, step):
            yield lk.AudioFrame.of(x[start : start + step], fmt, start)
        await anyio.sleep_forever()

    return lk.Stream(run, format=fmt)


@pytest.mark.anyio
async def test_a_cancelled_new_file_holds_everything_written(
    anyio_backend: str, tmp_path: Path
) -> None:
    path = tmp_path / "cancelled.m4a"
    with anyio.move_on_after(1.0) as scope:
        await _endless(16_000, 12_345).to_file(path, partial="keep")
    assert scope.cancelled_caught
    assert lk.file_info(path).samples_per_channel == 12_345
    got = await lk.from_file(path).to_array(squeeze=False)
    assert got.shape == (12_345, 1)
    assert _snr_db(_as_float(_tones(12_345, 16_000, 1, "int16")), got) > 12
    assert open_resources() == {}


@pytest.mark.anyio
async def test_a_failed_run_keeps_a_new_file_and_leaves_a_replaced_one(
    anyio_backend: str, tmp_path: Path
) -> None:
    def fail_late(frame: lk.AudioFrame) -> None:
        if frame.pts >= 16_000:
            raise ZeroDivisionError("late failure")

    failing = lk.sine(440, 3.0, 16_000, block_ms=20).tap(fail_late)
    new = tmp_path / "new.m4a"
    with pytest.raises(ZeroDivisionError):
        await failing.to_file(new, partial="keep")
    assert lk.file_info(new).samples_per_channel == 16_000  # a valid file: what came
    old = tmp_path / "old.mp4"
    await lk.sine(660, 1.0, 16_000).to_file(old)
    before = _digest(old)
    with pytest.raises(ZeroDivisionError):
        await failing.to_file(old, overwrite=True)
    assert _digest(old) == before
    with anyio.move_on_after(0.5):
        await _endless(16_000, 8_000).to_file(old, overwrite=True)
    assert _digest(old) == before
    assert _temporaries(tmp_path) == []


@pytest.mark.anyio
async def test_an_edit_in_place(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "talk.m4a"
    await lk.sine(440, 2.0, 44_100, amplitude=0.5).to_file(path)
    expected = await lk.from_file(path).resample(16_000).gain(-6).to_array(squeeze=False)
    summary = await lk.from_file(path).resample(16_000).gain(-6).to_file(path, overwrite=True)
    assert summary.samples_per_channel == 32_000
    assert lk.file_info(path).samples_per_channel == 32_000
    got = await lk.from_file(path).to_array(squeeze=False)
    assert _snr_db(expected, got) > 12
    assert _temporaries(tmp_path) == []


@pytest.mark.anyio
async def test_a_full_disk(anyio_backend: str, tmp_path: Path) -> None:
    # /dev/full fails every write with ENOSPC: the first one (the header) already. A device
    # is written in place, and never removed, even though nothing could be written to it.
    with pytest.raises(lk.AudioFileError, match=r"writing '/dev/full' failed: .*No space left"):
        await lk.sine(440, 1.0, 48_000).to_file("/dev/full", format="m4a", overwrite=True)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    # A disk that fills up mid-way: the error names the file; an existing file is intact.
    path = tmp_path / "full.m4a"
    with (
        file_size_limit(20_000),
        pytest.raises(lk.AudioFileError, match=r"writing '.*full\.m4a' failed: .*File too large"),
    ):
        await lk.noise(30.0, 48_000, amplitude=0.5).to_file(path)
    assert open_resources() == {}
    old = tmp_path / "old.m4a"
    await lk.sine(440, 0.5, 48_000).to_file(old)
    before = _digest(old)
    with file_size_limit(20_000), pytest.raises(lk.AudioFileError, match="File too large"):
        await lk.noise(30.0, 48_000, amplitude=0.5).to_file(old, overwrite=True)
    assert _digest(old) == before
    assert _temporaries(tmp_path) == []


def test_a_failed_write_is_never_followed_by_another_packet() -> None:
    # PyAV 18.1 crashes the whole process (SIGSEGV) when a muxer whose write failed is
    # given another packet, as flushing the encoder at close did: so after a failure,
    # lkframes muxes nothing more, and close only closes.
    from lkframes.io._encode import Codecs, MediaEncoder

    fmt = lk.AudioFormat(48_000, 1)
    media = MediaEncoder(
        Path("/dev/full"), Codecs("ipod", "", "aac"), muxer_options={"flush_packets": "0"}
    )
    media.add_audio(fmt)
    silence = np.zeros((1024, 1), np.int16)

    def write_until_it_fails() -> None:
        for index in range(50):  # the AAC encoder holds the first packets back
            media.write_audio(lk.AudioFrame.of(silence, fmt, index * 1024))

    with pytest.raises(OSError, match="No space left"):
        write_until_it_fails()
    with pytest.raises(OSError, match=r"an earlier write failed: .*No space left"):
        media.write_audio(lk.AudioFrame.of(silence, fmt, 50 * 1024))
    media.close()  # returns, and the process is still here
