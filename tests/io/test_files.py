"""Audio files: `from_file`, `file_info` and `Stream.to_file`.

Round trips through every format libsndfile writes, the PyAV fallback on files made by
ffmpeg, the errors for bad files and bad parameters, writes that end early (cancelled,
failing, changing format) and a long file streamed in flat memory.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
import tracemalloc
from collections.abc import AsyncGenerator
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

FFMPEG = shutil.which("ffmpeg")


# -- helpers -------------------------------------------------------------------------------


def _tones(samples: int, channels: int, rate: int) -> NDArray[np.float32]:
    """A different tone mix on each channel, peak below 0.5."""
    t = np.arange(samples) / rate
    columns = [
        0.4 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 1250 * t),
        0.3 * np.sin(2 * np.pi * 660 * t + 1.0),
    ]
    return np.stack(columns[:channels], axis=1).astype(np.float32)


def _noise_int16(samples: int, channels: int, seed: int = 0) -> NDArray[np.int16]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((samples, channels)) * 3_000).astype(np.int16)


def _layout(frames: list[lk.AudioFrame]) -> list[tuple[int, int]]:
    return [(f.pts, f.samples_per_channel) for f in frames]


def _join(frames: list[lk.AudioFrame], channels: int, dtype: str) -> NDArray[Any]:
    if not frames:
        return np.empty((0, channels), dtype)
    return np.concatenate([f.data for f in frames])


def _one_shot_read(path: Path, dtype: str) -> NDArray[Any]:
    """libsndfile decoding the whole file in one read call (no seek, no blocks)."""
    with sf.SoundFile(str(path)) as f:
        data: NDArray[Any] = f.read(dtype=dtype, always_2d=True)
    return data


async def _drain(stream: lk.Stream[lk.AudioFrame], into: list[lk.AudioFrame]) -> None:
    """Iterate ``stream`` into ``into``, so frames yielded before an error stay visible."""
    async with stream.open() as frames:
        async for frame in frames:
            into.append(frame)  # noqa: PERF401 - a comprehension loses them on error


def _wav_data_frames(path: Path) -> int:
    """Walk a WAV's RIFF chunks; assert the header's sizes match the bytes on disk.

    Returns:
        Samples per channel in the data chunk, also checked against libsndfile's count
        and against what it actually decodes.
    """
    raw = path.read_bytes()
    assert raw[:4] == b"RIFF"
    assert raw[8:12] == b"WAVE"
    assert struct.unpack("<I", raw[4:8])[0] == len(raw) - 8, "RIFF size not finalised"
    pos = 12
    block_align = 0
    data_size = -1
    while pos + 8 <= len(raw):
        chunk_id = raw[pos : pos + 4]
        (size,) = struct.unpack("<I", raw[pos + 4 : pos + 8])
        if chunk_id == b"fmt ":
            (block_align,) = struct.unpack("<H", raw[pos + 20 : pos + 22])
        elif chunk_id == b"data":
            data_size = size
        pos += 8 + size + (size & 1)
    assert pos == len(raw), "chunk sizes do not add up to the file size"
    assert block_align > 0
    assert data_size >= 0, "no data chunk"
    assert data_size % block_align == 0
    frames = data_size // block_align
    info = sf.info(str(path))
    assert info.frames == frames
    assert "should be" not in info.extra_info  # libsndfile's note for a size mismatch
    assert _one_shot_read(path, "int16").shape[0] == frames
    return frames


def _flac_audio_start(raw: bytes) -> tuple[int, int]:
    """Offset of the first FLAC frame, and the fixed block size from STREAMINFO."""
    assert raw[:4] == b"fLaC"
    pos = 4
    block_size = 0
    while True:
        header = raw[pos]
        length = int.from_bytes(raw[pos + 1 : pos + 4], "big")
        if header & 0x7F == 0:  # STREAMINFO: min and max block size
            smallest, largest = struct.unpack(">HH", raw[pos + 4 : pos + 8])
            assert smallest == largest
            block_size = smallest
        pos += 4 + length
        if header & 0x80:  # last metadata block
            return pos, block_size


def _ffmpeg(*args: str) -> None:
    assert FFMPEG is not None
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *args], check=True)


def _peak_frequency(x: NDArray[Any], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(np.argmax(spectrum))])


# -- round trips: lossless ------------------------------------------------------------------

LOSSLESS = [
    # extension, subtype, source dtype, dtype lkframes reads it as, max abs error
    pytest.param("wav", "PCM_16", "int16", "int16", 0.0, id="wav-PCM_16"),
    pytest.param("wav", "PCM_24", "float32", "float32", 2.0**-22, id="wav-PCM_24"),
    pytest.param("wav", "PCM_32", "float32", "float32", 2.0**-26, id="wav-PCM_32"),
    pytest.param("wav", "FLOAT", "float32", "float32", 0.0, id="wav-FLOAT"),
    pytest.param("wav", "PCM_U8", "int16", "int16", 255.0, id="wav-PCM_U8"),
    pytest.param("flac", "PCM_16", "int16", "int16", 0.0, id="flac-PCM_16"),
    pytest.param("flac", "PCM_24", "float32", "float32", 2.0**-22, id="flac-PCM_24"),
]


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize(("ext", "subtype", "source", "read_as", "atol"), LOSSLESS)
async def test_lossless_round_trip(
    anyio_backend: str,
    tmp_path: Path,
    channels: int,
    ext: str,
    subtype: str,
    source: str,
    read_as: lk.DType,
    atol: float,
) -> None:
    x: NDArray[Any] = _tones(12_345, channels, RATE)
    if source == "int16":
        x = (x * 32_767).astype(np.int16) + _noise_int16(len(x), channels) // 16
    path = tmp_path / f"round.{ext}"
    summary = await lk.from_array(x, RATE, block_ms=20).to_file(path, subtype=subtype)
    assert summary.samples_per_channel == len(x)

    info = lk.file_info(path)
    assert info.backend == "soundfile"
    assert info.container == ext.upper()
    assert info.codec == subtype
    assert info.format == lk.AudioFormat(RATE, channels, read_as)
    assert info.samples_per_channel == len(x)

    frames = await lk.from_file(path, block_ms=20).collect()
    assert all(f.dtype == read_as for f in frames)
    y = _join(frames, channels, read_as)
    # lkframes adds nothing to libsndfile's own decoding...
    np.testing.assert_array_equal(y, _one_shot_read(path, read_as))
    # ...and the file holds the source up to the subtype's quantisation.
    assert y.shape == x.shape
    if source == "int16" and read_as == "int16":
        error = np.abs(y.astype(np.int32) - x.astype(np.int32)).max()
    else:
        error = np.abs(y.astype(np.float64) - x.astype(np.float64)).max()
    assert error <= atol


LOSSY = [
    # extension, codec, sample rate (Opus only runs at 48 kHz and a few others)
    pytest.param("ogg", "VORBIS", 16_000, id="ogg-vorbis"),
    pytest.param("opus", "OPUS", 48_000, id="opus"),
    pytest.param("mp3", "MPEG_LAYER_III", 16_000, id="mp3"),
]


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize(("ext", "codec", "rate"), LOSSY)
async def test_lossy_round_trip(
    anyio_backend: str, tmp_path: Path, channels: int, ext: str, codec: str, rate: int
) -> None:
    x = _tones(rate * 3 // 2, channels, rate)
    path = tmp_path / f"round.{ext}"
    await lk.from_array(x, rate, block_ms=20).to_file(path)

    info = lk.file_info(path)
    # Opus is read by FFmpeg (at 48 kHz, as ffmpeg reads it); the rest by libsndfile
    backend, codec = ("pyav", "opus") if ext == "opus" else ("soundfile", codec)
    assert (info.backend, info.codec) == (backend, codec)
    assert info.format == lk.AudioFormat(rate, channels, "float32")

    y = await lk.from_file(path, block_ms=20).to_array(squeeze=False)
    if ext != "opus":  # libopus and FFmpeg's Opus decoder differ by up to 0.012
        np.testing.assert_array_equal(y, _one_shot_read(path, "float32"))
    assert y.shape[0] == info.samples_per_channel
    # Ogg stores the exact length; an MP3 decoder may pad to a 1152-sample MPEG frame.
    assert abs(y.shape[0] - len(x)) <= (1_152 if ext == "mp3" else 0)
    n = min(len(x), len(y))
    for c in range(channels):
        level_db = 20 * np.log10(np.sqrt(np.mean(y[:n, c] ** 2) / np.mean(x[:n, c] ** 2)))
        assert abs(level_db) < 0.5
        assert np.corrcoef(x[:n, c], y[:n, c])[0, 1] > 0.99


@pytest.mark.parametrize("block_ms", [10, 20, 100, 500, 5_000])
async def test_mp3_in_blocks_equals_one_read(
    anyio_backend: str, tmp_path: Path, block_ms: float
) -> None:
    # python-soundfile seeks after every read, and a seek restarts libsndfile's MP3
    # decoder badly: every block after the first came out as garbage.
    x = _tones(3 * 44_100, 2, 44_100)
    path = tmp_path / "tones.mp3"
    sf.write(str(path), x, 44_100)
    y = await lk.from_file(path, block_ms=block_ms).to_array(squeeze=False)
    np.testing.assert_array_equal(y, _one_shot_read(path, "float32"))
    assert np.corrcoef(x[:, 0], y[: len(x), 0])[0, 1] > 0.99


# -- dtype, blocks, pts --------------------------------------------------------------------


async def test_dtype_override_int16_file_as_float32(anyio_backend: str, tmp_path: Path) -> None:
    x = _noise_int16(5_000, 2)
    path = tmp_path / "int.wav"
    sf.write(str(path), x, RATE, subtype="PCM_16")
    stream = lk.from_file(path, dtype="float32")
    assert stream.format == lk.AudioFormat(RATE, 2, "float32")
    y = await stream.to_array(squeeze=False)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, x / np.float32(32_768))


async def test_dtype_override_float_file_as_int16(anyio_backend: str, tmp_path: Path) -> None:
    x = _tones(5_000, 1, RATE)
    path = tmp_path / "float.wav"
    sf.write(str(path), x, RATE, subtype="FLOAT")
    assert lk.file_info(path).format.dtype == "float32"
    y = await lk.from_file(path, dtype="int16").to_array(squeeze=False)
    assert y.dtype == np.int16
    np.testing.assert_array_equal(y, _one_shot_read(path, "int16"))


@pytest.mark.parametrize(
    ("samples", "block_ms", "block"),
    [
        (16_000, 20, 320),  # the last block is full
        (16_123, 20, 320),  # the last block is partial
        (16_123, 7.5, 120),  # a fractional duration, a whole number of samples
        (16_123, 500, 8_000),  # the default block size
        (16_123, 5_000, 80_000),  # one block larger than the file
        (1, 20, 320),  # a one-sample file
    ],
)
async def test_blocks_and_pts(
    anyio_backend: str, tmp_path: Path, samples: int, block_ms: float, block: int
) -> None:
    x = _noise_int16(samples, 1)
    path = tmp_path / "blocks.wav"
    sf.write(str(path), x, RATE)
    frames = await lk.from_file(path, block_ms=block_ms).collect()
    full, rest = divmod(samples, block)
    expected = [(i * block, block) for i in range(full)]
    if rest:
        expected.append((full * block, rest))
    assert _layout(frames) == expected
    np.testing.assert_array_equal(_join(frames, 1, "int16"), x)


async def test_a_file_stream_is_re_iterable(anyio_backend: str, tmp_path: Path) -> None:
    x = _noise_int16(10_000, 2)
    path = tmp_path / "twice.flac"
    sf.write(str(path), x, RATE)
    stream = lk.from_file(path, block_ms=100)
    first = await stream.to_array(squeeze=False)
    second = await stream.to_array(squeeze=False)
    np.testing.assert_array_equal(first, x)
    np.testing.assert_array_equal(second, x)


async def test_empty_data_chunk_is_an_empty_stream(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "no_samples.wav"
    sf.write(str(path), np.zeros((0, 1), np.int16), RATE)
    assert lk.file_info(path).samples_per_channel == 0
    assert await lk.from_file(path).collect() == []


async def test_streaming_placeholder_size_is_not_truncation(
    anyio_backend: str, tmp_path: Path
) -> None:
    # Writers to a pipe (ffmpeg -f wav -) cannot seek back and leave 0xFFFFFFFF.
    x = _noise_int16(8_000, 1)
    path = tmp_path / "piped.wav"
    sf.write(str(path), x, RATE)
    raw = bytearray(path.read_bytes())
    raw[4:8] = raw[40:44] = struct.pack("<I", 0xFFFF_FFFF)
    path.write_bytes(bytes(raw))
    y = await lk.from_file(path).to_array(squeeze=False)  # filterwarnings=error: no warning either
    np.testing.assert_array_equal(y, x)


def test_file_info_fields(tmp_path: Path) -> None:
    path = tmp_path / "info.flac"
    sf.write(str(path), _tones(24_000, 2, 48_000), 48_000, subtype="PCM_24")
    info = lk.file_info(str(path))  # str and PathLike both accepted
    assert info.path == path
    assert info.format == lk.AudioFormat(48_000, 2, "float32")
    assert (info.samples_per_channel, info.duration) == (24_000, 0.5)
    assert (info.container, info.codec, info.backend) == ("FLAC", "PCM_24", "soundfile")


# -- the PyAV (FFmpeg) fallback --------------------------------------------------------------


@pytest.fixture(scope="module")
def ffmpeg_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files only FFmpeg reads, made by the ffmpeg CLI: 1 s of 440 Hz at 1/8 full scale."""
    if FFMPEG is None:
        pytest.skip("the ffmpeg binary is not on PATH (apt-get install ffmpeg)")
    folder = tmp_path_factory.mktemp("ffmpeg")
    sine = "sine=frequency=440:sample_rate=48000:duration=1"
    video = "testsrc=size=64x48:rate=10:duration=1"
    files = {name: folder / name for name in ("aac.m4a", "opus.webm", "video.mp4", "mute.mp4")}
    lavfi_sine = ["-f", "lavfi", "-i", sine]
    _ffmpeg(*lavfi_sine, "-ac", "2", "-c:a", "aac", "-ar", "44100", str(files["aac.m4a"]))
    _ffmpeg(*lavfi_sine, "-c:a", "libopus", "-ar", "48000", str(files["opus.webm"]))
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        video,
        *lavfi_sine,
        "-c:v",
        "mpeg4",
        "-c:a",
        "aac",
        "-ar",
        "16000",
        "-shortest",
        str(files["video.mp4"]),
    )
    _ffmpeg("-f", "lavfi", "-i", video, "-c:v", "mpeg4", str(files["mute.mp4"]))
    return files


@pytest.mark.parametrize(
    ("name", "rate", "channels", "codec"),
    [
        ("aac.m4a", 44_100, 2, "aac"),
        ("opus.webm", 48_000, 1, "opus"),
        ("video.mp4", 16_000, 1, "aac"),  # the audio track of a video
    ],
)
async def test_pyav_fallback(
    anyio_backend: str,
    ffmpeg_files: dict[str, Path],
    name: str,
    rate: int,
    channels: int,
    codec: str,
) -> None:
    path = ffmpeg_files[name]
    with pytest.raises(sf.LibsndfileError):
        sf.info(str(path))  # libsndfile really cannot read it
    info = lk.file_info(path)
    assert (info.backend, info.codec) == ("pyav", codec)
    assert info.format == lk.AudioFormat(rate, channels, "float32")

    frames = await lk.from_file(path, block_ms=100).collect()
    block = rate // 10
    assert all(f.format == info.format for f in frames)
    assert all(f.samples_per_channel == block for f in frames[:-1])
    assert 0 < frames[-1].samples_per_channel <= block
    assert [f.pts for f in frames] == [i * block for i in range(len(frames))]
    y = _join(frames, channels, "float32")
    # One second, plus at most the codec's padding to a whole packet (1024 for AAC).
    assert rate <= len(y) <= rate + 2_048
    middle = y[rate // 4 : 3 * rate // 4]
    for c in range(channels):
        assert abs(_peak_frequency(middle[:, c], rate) - 440) < 5
        # ffmpeg's sine is 1/8 full scale; its mono-to-stereo upmix lowers it by 3 dB.
        expected_rms = 0.125 / np.sqrt(2) / (np.sqrt(2) if channels == 2 else 1)
        assert abs(np.sqrt(np.mean(middle[:, c] ** 2)) / expected_rms - 1) < 0.1


async def test_pyav_dtype_override(anyio_backend: str, ffmpeg_files: dict[str, Path]) -> None:
    path = ffmpeg_files["aac.m4a"]
    as_float = await lk.from_file(path).to_array(squeeze=False)
    as_int = await lk.from_file(path, dtype="int16").to_array(squeeze=False)
    assert as_int.dtype == np.int16
    assert as_int.shape == as_float.shape
    expected = np.clip(np.round(as_float.astype(np.float64) * 32_768), -32_768, 32_767)
    assert np.abs(as_int - expected).max() <= 1


def test_video_without_audio_is_unsupported(ffmpeg_files: dict[str, Path]) -> None:
    with pytest.raises(lk.UnsupportedAudioError, match=r"no audio stream in '.*mute\.mp4'"):
        lk.from_file(ffmpeg_files["mute.mp4"])


# -- bad files ---------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(lk.AudioFileError, match=r"no such file: '.*missing\.wav'") as caught:
        lk.from_file(tmp_path / "missing.wav")
    assert isinstance(caught.value, OSError)
    assert isinstance(caught.value, lk.LkFramesError)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(lk.AudioFileError, match=r"empty file \(0 bytes\)"):
        lk.from_file(path)
    with pytest.raises(lk.AudioFileError, match=r"empty file \(0 bytes\)"):
        lk.file_info(path)


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    with pytest.raises(lk.AudioFileError, match="is a directory, not an audio file"):
        lk.from_file(folder)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list: eggs, milk, a better microphone\n" * 20)
    # FFmpeg opens .txt with its "tty" demuxer, which has no audio stream.
    with pytest.raises(lk.UnsupportedAudioError, match=r"no audio stream|not an audio file"):
        lk.from_file(path)


def test_random_bytes_are_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 4_000, np.uint8).tobytes())
    with pytest.raises(lk.UnsupportedAudioError, match="not an audio file libsndfile or FFmpeg"):
        lk.file_info(path)


def test_header_cut_short_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "header.wav"
    sf.write(str(path), np.zeros(100, np.int16), RATE)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(lk.UnsupportedAudioError, match="not an audio file"):
        lk.from_file(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"block_ms": 0}, r"block_ms must be positive \(got 0\)"),
        ({"block_ms": -20}, r"block_ms must be positive \(got -20\)"),
        ({"block_ms": float("nan")}, r"block_ms must be positive \(got nan\)"),
        ({"block_ms": float("inf")}, r"block_ms must be positive \(got inf\)"),
        ({"dtype": "int32"}, r"dtype must be one of \('int16', 'float32'\) \(got 'int32'\)"),
        (
            {"on_truncated": "ignore"},
            r"on_truncated must be one of \('raise', 'warn'\) \(got 'ignore'\)",
        ),
    ],
)
def test_bad_parameters(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    # Checked before the file is touched: it does not even exist.
    with pytest.raises(lk.ParameterError, match=message):
        lk.from_file(tmp_path / "missing.wav", **kwargs)


# -- truncated and corrupt files -----------------------------------------------------------


@pytest.fixture
def truncated_wav(tmp_path: Path) -> tuple[Path, NDArray[np.int16]]:
    """A stereo 16-bit WAV whose header promises 32 000 samples; 20 000 and a half remain."""
    x = _noise_int16(32_000, 2)
    path = tmp_path / "truncated.wav"
    sf.write(str(path), x, RATE, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[: 44 + 20_000 * 4 + 2])
    return path, x


async def test_truncated_wav_yields_everything_then_raises(
    anyio_backend: str, truncated_wav: tuple[Path, NDArray[np.int16]]
) -> None:
    path, x = truncated_wav
    got: list[lk.AudioFrame] = []
    with pytest.raises(
        lk.TruncatedAudioError,
        match=r"truncated after 20000 samples: "
        r"data chunk declares 128000 bytes, file holds 80002",
    ):
        await _drain(lk.from_file(path, block_ms=100), got)
    np.testing.assert_array_equal(_join(got, 2, "int16"), x[:20_000])


async def test_truncated_wav_warn_policy(
    anyio_backend: str, truncated_wav: tuple[Path, NDArray[np.int16]]
) -> None:
    path, x = truncated_wav
    with pytest.warns(lk.TruncatedAudioWarning, match="truncated after 20000 samples"):
        y = await lk.from_file(path, on_truncated="warn").to_array(squeeze=False)
    np.testing.assert_array_equal(y, x[:20_000])


@pytest.fixture
def flac_of_8_blocks(tmp_path: Path) -> tuple[bytes, int, int, NDArray[np.int16]]:
    """A FLAC of exactly 8 blocks of noise (so every FLAC frame is about the same size)."""
    path = tmp_path / "full.flac"
    x = _noise_int16(8 * 4_096, 2, seed=1)
    sf.write(str(path), x, RATE)
    raw = path.read_bytes()
    start, block = _flac_audio_start(raw)
    assert block == 4_096  # libsndfile's FLAC block size
    return raw, start, block, x


@pytest.mark.parametrize("complete_blocks", [0, 3, 7])
async def test_truncated_flac_yields_every_complete_block_then_raises(
    anyio_backend: str,
    tmp_path: Path,
    flac_of_8_blocks: tuple[bytes, int, int, NDArray[np.int16]],
    complete_blocks: int,
) -> None:
    raw, start, block, x = flac_of_8_blocks
    path = tmp_path / "cut.flac"
    # Cut in the middle of the next block: everything before it decodes.
    path.write_bytes(raw[: start + int((len(raw) - start) * (complete_blocks + 0.5) / 8)])
    got: list[lk.AudioFrame] = []
    decodable = complete_blocks * block
    with pytest.raises(
        lk.TruncatedAudioError,
        match=rf"truncated after {decodable} samples: the file ended after {decodable} of "
        rf"the {8 * block} samples its header declares",
    ):
        await _drain(lk.from_file(path), got)
    np.testing.assert_array_equal(_join(got, 2, "int16"), x[:decodable])


async def test_corrupt_flac_is_read_past_the_damage(
    anyio_backend: str,
    tmp_path: Path,
    flac_of_8_blocks: tuple[bytes, int, int, NDArray[np.int16]],
) -> None:
    # 500 zero bytes inside the fifth block: libsndfile stops there; FFmpeg takes over,
    # drops the block (its checksum fails) and decodes the other three. The damaged block
    # becomes silence of its length, so every other sample stays where it was.
    raw, start, block, x = flac_of_8_blocks
    damaged = bytearray(raw)
    at = start + int((len(raw) - start) * 4.5 / 8)  # inside the fifth block
    damaged[at : at + 500] = bytes(500)
    path = tmp_path / "corrupt.flac"
    path.write_bytes(bytes(damaged))
    seconds = 4 * block / 16_000
    with pytest.warns(lk.DamagedAudioWarning, match=f"skipped at {seconds:.3f} s") as w:
        y = await lk.from_file(path, block_ms=100).to_array(squeeze=False)
    report = w[0].message
    assert isinstance(report, lk.DamagedAudioWarning)
    lost = round(report.lost_s * 16_000)
    assert lost in (block, 2 * block)  # the fifth block, and the sixth if the zeros reach it
    assert len(y) == 8 * block
    np.testing.assert_array_equal(y[: 4 * block], x[: 4 * block])
    assert not y[4 * block : 4 * block + lost].any()
    np.testing.assert_array_equal(y[4 * block + lost :], x[4 * block + lost :])
    with pytest.raises(lk.DamagedAudioError, match=f"damaged data at {seconds:.3f} s"):
        await lk.from_file(path, on_damaged="error").to_array(squeeze=False)


# -- to_file: destinations ---------------------------------------------------------------------


async def test_to_file_will_not_replace_a_file(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "taken.wav"
    path.write_bytes(b"precious")
    with pytest.raises(lk.OutputExistsError, match=r"exists; pass overwrite=True") as caught:
        await lk.sine(440, 0.1, RATE).to_file(path)
    assert isinstance(caught.value, FileExistsError)
    assert path.read_bytes() == b"precious"


async def test_to_file_overwrite_replaces(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "replace.wav"
    await lk.sine(440, 1.0, RATE).to_file(path)
    summary = await lk.sine(440, 0.25, 8_000).to_file(path, overwrite=True)
    assert summary.samples_per_channel == 2_000
    info = lk.file_info(path)
    assert (info.format.sample_rate, info.samples_per_channel) == (8_000, 2_000)


async def test_to_file_unknown_extension(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "audio.xyz"
    with pytest.raises(lk.ParameterError, match=r"from the extension '\.xyz'.*pass format="):
        await lk.sine(440, 0.1, RATE).to_file(path)
    assert not path.exists()
    await lk.sine(440, 0.1, RATE).to_file(path, format="wav")
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.frames) == ("WAV", "PCM_16", 1_600)


async def test_to_file_directory(anyio_backend: str, tmp_path: Path) -> None:
    folder = tmp_path / "out.wav"
    folder.mkdir()
    with pytest.raises(lk.AudioFileError, match="is a directory"):
        await lk.sine(440, 0.1, RATE).to_file(folder, overwrite=True)


@pytest.mark.parametrize("parent", ["missing_dir", "a_file"])
async def test_to_file_unwritable_path(anyio_backend: str, tmp_path: Path, parent: str) -> None:
    # Tests may run as root, which ignores permission bits; a parent that does not exist
    # or is a regular file fails for root too.
    if parent == "a_file":
        (tmp_path / parent).write_text("not a directory")
    path = tmp_path / parent / "out.wav"
    with pytest.raises(lk.AudioFileError, match=r"cannot write '.*out\.wav' as WAV/PCM_16"):
        await lk.sine(440, 0.1, RATE).to_file(path)


@pytest.mark.parametrize(
    ("name", "dtype", "subtype", "container", "codec"),
    [
        ("a.wav", "int16", None, "WAV", "PCM_16"),
        ("a.wav", "float32", None, "WAV", "FLOAT"),
        ("a.wav", "int16", "PCM_24", "WAV", "PCM_24"),
        ("a.flac", "int16", None, "FLAC", "PCM_16"),
        ("a.flac", "float32", None, "FLAC", "PCM_24"),
        ("a.ogg", "int16", None, "OGG", "VORBIS"),
        ("a.opus", "float32", None, "OGG", "OPUS"),
    ],
)
async def test_to_file_picks_the_subtype(
    anyio_backend: str,
    tmp_path: Path,
    name: str,
    dtype: lk.DType,
    subtype: str | None,
    container: str,
    codec: str,
) -> None:
    path = tmp_path / name
    await lk.sine(440, 0.2, 48_000, dtype=dtype).to_file(path, subtype=subtype)
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.frames) == (container, codec, 9_600)


async def test_to_file_empty_stream(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    summary = await lk.silence(0, RATE).to_file(path)
    assert (summary.frames, summary.samples_per_channel) == (0, 0)
    assert _wav_data_frames(path) == 0

    async def nothing() -> AsyncGenerator[lk.AudioFrame, None]:
        return
        yield  # pragma: no cover

    with pytest.raises(lk.FormatError, match="cannot write an empty stream of unknown format"):
        await lk.Stream(nothing).to_file(tmp_path / "unknown.wav")
    assert not (tmp_path / "unknown.wav").exists()


async def test_to_file_writes_while_the_stream_runs(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "growing.wav"
    sizes: list[int] = []

    def note_size(_frame: lk.AudioFrame) -> None:
        # The audio goes to a hidden file beside ``path``, renamed into place at the end.
        sizes.append(sum(p.stat().st_size for p in tmp_path.iterdir() if p.suffix == ".tmp"))

    await lk.sine(440, 3.0, RATE, block_ms=20).tap(note_size).to_file(path)
    # Before frame 100 reaches to_file, 99 arrived, gathered in 0.5 s blocks (25 frames):
    # blocks 0-2 were handed to the writer's thread, and each hand-over waited for the write
    # before it, so blocks 0 and 1 are on disk; block 2 may still be in the thread (it was,
    # once, in a CI run on a busy machine).
    assert sizes[99] >= 44 + 50 * FRAME * 2
    assert sizes == sorted(sizes)
    assert sizes[-1] >= 44 + 100 * FRAME * 2  # at the last frame, blocks 0-3 at least
    assert _wav_data_frames(path) == 3 * RATE
    assert await anyio.to_thread.run_sync(lambda: [p.name for p in tmp_path.iterdir()]) == [
        "growing.wav"
    ]


# -- to_file: runs that end early ----------------------------------------------------------------


async def _sine_reference(samples: int) -> NDArray[Any]:
    return await lk.sine(440, samples / RATE, RATE).to_array()


async def test_format_change_mid_stream_leaves_a_valid_file(
    anyio_backend: str, tmp_path: Path
) -> None:
    async def two_rates() -> AsyncGenerator[lk.AudioFrame, None]:
        for i in range(30):
            yield lk.AudioFrame(np.full(FRAME, i, np.int16), RATE, pts=i * FRAME)
        yield lk.AudioFrame(np.zeros(160, np.int16), 8_000, pts=0)

    path = tmp_path / "changed.wav"
    with pytest.raises(
        lk.FormatError,
        match=r"to_file: frame format changed mid-stream "
        r"\(expected 16000 Hz mono int16, got 8000 Hz mono int16\)",
    ):
        await lk.Stream(two_rates).to_file(path, partial="keep")
    assert _wav_data_frames(path) == 30 * FRAME
    data = _one_shot_read(path, "int16")[:, 0]
    np.testing.assert_array_equal(data, np.repeat(np.arange(30, dtype=np.int16), FRAME))


async def test_exception_in_map_leaves_a_valid_file(anyio_backend: str, tmp_path: Path) -> None:
    def fail_at_frame_60(frame: lk.AudioFrame) -> lk.AudioFrame:
        if frame.pts == 59 * FRAME:
            raise RuntimeError("effect crashed")
        return frame

    path = tmp_path / "crashed.wav"
    with pytest.raises(RuntimeError, match="effect crashed"):
        await (
            lk.sine(440, None, RATE, block_ms=20)
            .map(fail_at_frame_60)
            .to_file(path, partial="keep")
        )
    assert _wav_data_frames(path) == 59 * FRAME
    np.testing.assert_array_equal(
        _one_shot_read(path, "int16")[:, 0], await _sine_reference(59 * FRAME)
    )


@pytest.mark.parametrize("cancel_at", [1, 10, 26, 60])
async def test_cancel_after_n_frames_keeps_every_frame_that_arrived(
    anyio_backend: str, tmp_path: Path, cancel_at: int
) -> None:
    path = tmp_path / "cancelled.wav"
    passed: list[int] = []
    with anyio.CancelScope() as scope:

        def count(frame: lk.AudioFrame) -> None:
            passed.append(frame.pts)
            if len(passed) == cancel_at:
                scope.cancel()

        await lk.sine(440, None, RATE, block_ms=20).tap(count).to_file(path, partial="keep")
    assert scope.cancelled_caught
    # The cancellation lands at the next checkpoint, at the latest the next 0.5 s write.
    assert cancel_at <= len(passed) <= cancel_at + 25
    frames = _wav_data_frames(path)
    assert frames == len(passed) * FRAME  # every frame that reached to_file is in the file
    np.testing.assert_array_equal(
        _one_shot_read(path, "int16")[:, 0], await _sine_reference(frames)
    )


async def test_timeout_mid_write_leaves_a_valid_file(anyio_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "timed_out.wav"
    passed: list[int] = []

    async def slow(frame: lk.AudioFrame) -> None:
        await anyio.sleep(0.002)  # the timeout lands here, before the frame is passed on
        passed.append(frame.pts)

    with anyio.move_on_after(0.3) as scope:
        await lk.sine(440, None, RATE, block_ms=20).tap(slow).to_file(path, partial="keep")
    assert scope.cancelled_caught
    assert passed
    frames = _wav_data_frames(path)
    assert frames == len(passed) * FRAME
    np.testing.assert_array_equal(
        _one_shot_read(path, "int16")[:, 0], await _sine_reference(frames)
    )


async def _fails_after(seconds: float) -> AsyncGenerator[lk.AudioFrame, None]:
    async for frame in lk.sine(440, seconds, RATE, block_ms=20):
        yield frame
    raise RuntimeError("the source broke")


@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.parametrize("ending", ["error", "cancel"])
async def test_a_run_that_does_not_finish_leaves_no_file_that_looks_complete(
    anyio_backend: str, tmp_path: Path, existing: bool, ending: str
) -> None:
    # By default (partial="discard"), to_file writes beside and renames on success: a run
    # that fails or is cancelled leaves nothing new at the path, and no temporary file.
    path = tmp_path / "out.wav"
    if existing:
        path.write_bytes(b"the old file")
    stream = lk.Stream(lambda: _fails_after(2.0), format=lk.AudioFormat(RATE, 1, "int16"))
    if ending == "error":
        with pytest.raises(RuntimeError, match="the source broke"):
            await stream.to_file(path, overwrite=True)
    else:
        with anyio.move_on_after(0.05):
            await (
                lk.sine(440, None, RATE, block_ms=20)
                .tap(lambda _: time.sleep(0.001))
                .to_file(path, overwrite=True)
            )
    left = await anyio.to_thread.run_sync(lambda: sorted(p.name for p in tmp_path.iterdir()))
    assert left == (["out.wav"] if existing else [])
    if existing:
        assert path.read_bytes() == b"the old file"


async def test_a_live_recording_keeps_what_it_received(anyio_backend: str, tmp_path: Path) -> None:
    # A live stream (a track, a room, a microphone) is recorded in place: stopping it (or
    # its failing) keeps a valid file with every frame that arrived.
    path = tmp_path / "recording.wav"
    live = lk.Stream(lambda: _fails_after(1.0), format=lk.AudioFormat(RATE, 1, "int16"), live=True)
    with pytest.raises(RuntimeError, match="the source broke"):
        await live.to_file(path)
    assert _wav_data_frames(path) == RATE
    with pytest.raises(RuntimeError, match="the source broke"):
        await live.to_file(tmp_path / "discarded.wav", partial="discard")
    assert not (tmp_path / "discarded.wav").exists()


# -- memory --------------------------------------------------------------------------------------

LONG_MINUTES = 20
LONG_BYTES = 44 + LONG_MINUTES * 60 * RATE * 2  # 38.4 MB


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 minutes of 16 kHz mono 16-bit (38.4 MB), written 10 s at a time."""
    path = tmp_path_factory.mktemp("long") / "twenty_minutes.wav"
    total = LONG_MINUTES * 60 * RATE
    block = 10 * RATE
    with sf.SoundFile(str(path), "w", RATE, 1, "PCM_16") as f:
        for start in range(0, total, block):
            n = np.arange(start, start + block)
            f.write((0.3 * 32_767 * np.sin(2 * np.pi * 440 * n / RATE)).astype(np.int16))
    assert path.stat().st_size == LONG_BYTES
    return path


async def test_long_file_streams_in_flat_memory(anyio_backend: str, long_wav: Path) -> None:
    tracemalloc.start()
    try:
        summary = await lk.from_file(long_wav).resample(8_000).chunk(ms=20).run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.frames == LONG_MINUTES * 60 * 50
    assert summary.samples_per_channel == LONG_MINUTES * 60 * 8_000
    # Holding the input (38 MB) or even the 8 kHz output (19 MB) would blow this; a few
    # 0.5 s blocks (16 kB each) and the resampler's state fit many times over.
    assert peak < 12 * 2**20, (
        f"peak {peak / 2**20:.1f} MiB streaming a {LONG_BYTES / 2**20:.0f} MiB file"
    )


async def test_file_info_frames_is_a_deprecated_alias_of_samples_per_channel(
    anyio_backend: str, tmp_path: Path
) -> None:
    path = tmp_path / "tone.wav"
    await lk.sine(440, 0.5, 8_000).chunk(ms=20).to_file(path)
    info = lk.file_info(path)
    assert info.samples_per_channel == 4_000  # 25 frames of 160 samples
    with pytest.warns(DeprecationWarning, match="use AudioFileInfo.samples_per_channel"):
        assert info.frames == 4_000


@pytest.mark.parametrize("ext", ["wav", "ogg", "flac", "mp3", "opus"])
async def test_an_empty_stream_gives_an_empty_file_or_a_clear_error(
    anyio_backend: str, tmp_path: Path, ext: str
) -> None:
    # libsndfile writes FLAC, MP3 and Opus headers with the first audio: an empty stream
    # left a 0-byte file that nothing reads. Now it is refused, and nothing is left; an
    # existing file that was to be replaced stays as it was.
    empty = lk.from_array(np.zeros((0, 1), np.int16), 16_000)
    path = tmp_path / f"empty.{ext}"
    if ext in ("wav", "ogg"):
        assert (await empty.to_file(path)).samples_per_channel == 0
        assert lk.file_info(path).samples_per_channel == 0
        return
    with pytest.raises(lk.AudioFileError, match="the stream has no samples"):
        await empty.to_file(path)
    assert not path.exists()
    await lk.sine(440, 0.1, 16_000).to_file(path)
    before = path.read_bytes()
    with pytest.raises(lk.AudioFileError, match="the stream has no samples"):
        await empty.to_file(path, overwrite=True)
    assert path.read_bytes() == before
    assert sorted([p.name async for p in anyio.Path(tmp_path).iterdir()]) == [path.name]
