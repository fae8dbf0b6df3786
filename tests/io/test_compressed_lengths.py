"""Compressed files whose container declares a length: a cut file is reported as truncated
(after every decodable sample), and encoder padding is trimmed to the declared length."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import anyio
import numpy as np
import pytest
import soundfile as sf

import lkframes as lk
from lkframes.cli import _main

pytestmark = pytest.mark.anyio

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed (Debian: ffmpeg)")


def _encode(tmp_path: Path, name: str, *options: str) -> Path:
    source = tmp_path / "source.wav"
    if not source.exists():
        t = np.arange(5 * 44_100) / 44_100
        x = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
        sf.write(source, x, 44_100, subtype="PCM_16")
    out = tmp_path / name
    assert FFMPEG is not None
    subprocess.run(
        [FFMPEG, "-v", "error", "-nostdin", "-y", "-i", str(source), *options, str(out)],
        check=True,
    )
    return out


def _cut(path: Path, fraction: float = 0.63) -> Path:
    data = path.read_bytes()
    cut = path.with_name(f"cut-{path.name}")
    cut.write_bytes(data[: int(len(data) * fraction)])
    return cut


def _ffprobe_samples(path: Path) -> int:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=duration_ts",
            "-of",
            "csv=p=0",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.strip())


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("tone.mp3", ()),  # FFmpeg's MP3 encoder writes a Xing/Info tag counting the frames
        ("tone.ogg", ("-c:a", "libvorbis")),
        ("tone.opus", ("-ar", "48000", "-c:a", "libopus")),
        ("tone.webm", ("-c:a", "libopus")),  # judged by the container's duration
        ("tone.mka", ("-c:a", "libvorbis")),
    ],
)
async def test_a_cut_compressed_file_is_truncated_after_all_it_holds(
    anyio_backend: str, tmp_path: Path, name: str, options: tuple[str, ...]
) -> None:
    whole = _encode(tmp_path, name, *options)
    complete = await lk.from_file(whole).to_array()  # a whole file: no error
    cut = _cut(whole)
    frames: list[lk.AudioFrame] = []

    async def read() -> None:
        async with lk.from_file(cut).open() as stream:
            async for frame in stream:
                frames.append(frame)  # noqa: PERF401 - keeps what came before the error

    with pytest.raises(lk.TruncatedAudioError, match=r"truncated after \d+ samples"):
        await read()
    got = sum(f.samples_per_channel for f in frames)
    assert 0.3 * complete.shape[0] < got < complete.shape[0]  # everything decodable came out
    with pytest.warns(lk.TruncatedAudioWarning):
        warned = await lk.from_file(cut, on_truncated="warn").to_array()
    assert warned.shape[0] == got


@needs_ffmpeg
async def test_an_mp3_without_a_frame_count_is_not_judged(
    anyio_backend: str, tmp_path: Path
) -> None:
    # Without a Xing/Info tag libsndfile only estimates the length: a cut file cannot be told
    # from a whole one, so it is read as far as it goes, without an error.
    whole = _encode(tmp_path, "bare.mp3", "-write_xing", "0")
    cut = _cut(whole)
    assert (await lk.from_file(cut).to_array()).shape[0] > 0


@needs_ffmpeg
async def test_aac_is_trimmed_to_the_length_its_container_declares(
    anyio_backend: str, tmp_path: Path
) -> None:
    m4a = _encode(tmp_path, "tone.m4a", "-c:a", "aac")
    got = await lk.from_file(m4a).to_array()
    assert got.shape[0] == _ffprobe_samples(m4a)  # the encoder's padding is not audio
    assert lk.file_info(m4a).samples_per_channel == got.shape[0]


@needs_ffmpeg
async def test_a_cut_m4a_is_truncated(anyio_backend: str, tmp_path: Path) -> None:
    index_last = _encode(tmp_path, "tone.m4a", "-c:a", "aac")  # FFmpeg writes moov at the end
    with pytest.raises(lk.TruncatedAudioError, match="without its index"):
        lk.file_info(_cut(index_last))
    index_first = _encode(tmp_path, "fast.m4a", "-c:a", "aac", "-movflags", "+faststart")
    with pytest.raises(lk.TruncatedAudioError, match="truncated after"):
        await lk.from_file(_cut(index_first)).run()


@needs_ffmpeg
def test_info_quiet_fails_a_cut_mp3_and_prints_nothing_else(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    cut = _cut(_encode(tmp_path, "tone.mp3"))
    assert _main.main(["info", str(cut), "--quiet"]) == 1
    out, err = capfd.readouterr()  # file-descriptor level: what mpg123 writes too
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("lkframes info: error: TruncatedAudioError")


def _lag(decoded: np.ndarray, original: np.ndarray, most: int = 600) -> int:
    """Where ``original`` starts inside ``decoded`` (negative: before it), by least squares
    over the first second."""
    n = 48_000
    errors = {}
    for lag in range(-most, most + 1):
        a = decoded[max(0, lag) :][:n]
        b = original[max(0, -lag) :][: len(a)]
        errors[lag] = float(np.sum((a - b) ** 2))
    return min(errors, key=errors.__getitem__)


@needs_ffmpeg
@pytest.mark.parametrize("rate", [16_000, 22_050, 48_000])
@pytest.mark.parametrize("container", ["webm", "mkv"])
async def test_opus_pre_skip_is_dropped_whatever_rate_it_was_encoded_from(
    anyio_backend: str, tmp_path: Path, rate: int, container: str
) -> None:
    # FFmpeg 8 (PyAV's) drops a WebM/Matroska Opus stream's codec delay counted at the
    # encoder's input rate: from 22.05 kHz, 156 of the 312 pre-skip samples, so the audio
    # started 3.25 ms late. Noise, so that the alignment cannot be a period off.
    source = tmp_path / f"noise{rate}.wav"
    rng = np.random.default_rng(rate)
    sf.write(source, rng.uniform(-0.3, 0.3, int(2.5 * rate)), rate, subtype="PCM_16")
    out = tmp_path / f"noise{rate}.{container}"
    assert FFMPEG is not None
    await anyio.run_process(
        [FFMPEG, "-v", "error", "-nostdin", "-i", str(source), "-c:a", "libopus", str(out)]
    )
    original = await lk.from_file(source).resample(48_000, quality="VHQ").to_array()
    decoded = await lk.from_file(out).to_array()
    assert lk.file_info(out).format.sample_rate == 48_000
    assert _lag(decoded.astype(np.float64), original.astype(np.float64) / 32_768) == 0
    assert abs(len(decoded) - len(original)) <= 1  # the end: the container's discard padding
