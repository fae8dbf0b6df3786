"""Cross-checks against tools nobody here wrote: espeak-ng speaks, sox and ffmpeg convert.

lkframes' decoding must equal libsndfile's own (or the ffmpeg CLI's, for what only FFmpeg
reads), and its resampling must agree with sox's ``rate`` effect at the matching quality:
python-soxr ``"VHQ"`` is sox ``rate -v``, ``"HQ"`` is ``rate -h``. Run with ``-s`` to see the
measured SNR and lag (they are also recorded as JUnit properties).

A test skips, with the reason, only when a binary it needs is not on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from numpy.typing import NDArray

import lkframes as lk

pytestmark = pytest.mark.anyio

SOX = shutil.which("sox")
FFMPEG = shutil.which("ffmpeg")
ESPEAK = shutil.which("espeak-ng")

SENTENCE = (
    "The quick brown fox jumps over the lazy dog, "
    "while seven wizards quietly judge the boxing match."
)
SPEECH_RATE = 22_050  # espeak-ng's native rate
MAX_LAG = 64

RecordProperty = Callable[[str, object], None]


def _require(binary: str | None, name: str) -> str:
    if binary is None:
        pytest.skip(f"the {name} binary is not on PATH (apt-get install {name})")
    return binary


def _run(*args: str) -> bytes:
    return subprocess.run(args, check=True, capture_output=True).stdout


# -- inputs made by the outside tools ----------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crosscheck")


@pytest.fixture(scope="module")
def speech(folder: Path) -> Path:
    """espeak-ng saying `SENTENCE`: 16-bit mono WAV at 22 050 Hz."""
    espeak = _require(ESPEAK, "espeak-ng")
    path = folder / "speech.wav"
    _run(espeak, "-w", str(path), SENTENCE)
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (SPEECH_RATE, 1, "PCM_16")
    assert info.frames > 3 * SPEECH_RATE  # a few seconds of speech
    return path


SOX_FORMATS = {
    # name: sox output options before the file name
    "speech.flac": [],
    "speech_24bit.wav": ["-b", "24"],
    "speech_float.wav": ["-e", "floating-point", "-b", "32"],
    "speech.ogg": [],
}
FFMPEG_FORMATS = {
    # name: ffmpeg output options (libsndfile reads the MP3; only FFmpeg reads the m4a)
    "speech.mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "speech.m4a": ["-c:a", "aac", "-b:a", "96k"],
}


@pytest.fixture(scope="module")
def converted(speech: Path) -> Callable[[str], Path]:
    """Convert the speech with sox or ffmpeg (each file once), skipping if the tool is missing."""
    done: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in done:
            out = speech.with_name(name)
            if name in SOX_FORMATS:
                _run(_require(SOX, "sox"), str(speech), *SOX_FORMATS[name], str(out))
            else:
                ffmpeg = [_require(FFMPEG, "ffmpeg"), "-v", "error", "-nostdin", "-y"]
                _run(*ffmpeg, "-i", str(speech), *FFMPEG_FORMATS[name], str(out))
            done[name] = out
        return done[name]

    return get


def _ffmpeg_decode(path: Path, dtype: type[np.float32 | np.int16]) -> NDArray[Any]:
    """The ffmpeg CLI's own decoding of a mono file: raw samples on stdout."""
    ffmpeg = _require(FFMPEG, "ffmpeg")
    raw_format = "f32le" if dtype is np.float32 else "s16le"
    raw = _run(ffmpeg, "-v", "error", "-nostdin", "-i", str(path), "-f", raw_format, "-")
    return np.frombuffer(raw, dtype).reshape(-1, 1)


def _ffprobe_duration_ts(path: Path) -> int:
    """The length in samples that the container declares for its first audio stream."""
    ffprobe = _require(shutil.which("ffprobe"), "ffprobe")
    out = _run(
        ffprobe,
        "-v",
        "error",
        "-select_streams",
        "a:0",
        "-show_entries",
        "stream=duration_ts",
        "-of",
        "csv=p=0",
        str(path),
    )
    return int(out.decode().strip())


# -- (a) decoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "speech.wav",
        "speech.flac",
        "speech_24bit.wav",
        "speech_float.wav",
        "speech.ogg",
        "speech.mp3",
    ],
)
@pytest.mark.parametrize("block_ms", [20, 500])
async def test_decode_equals_libsndfile(
    anyio_backend: str,
    speech: Path,
    converted: Callable[[str], Path],
    name: str,
    block_ms: float,
) -> None:
    path = speech if name == "speech.wav" else converted(name)
    info = lk.file_info(path)
    assert info.backend == "soundfile"
    assert (info.format.sample_rate, info.format.num_channels) == (SPEECH_RATE, 1)
    y = await lk.from_file(path, block_ms=block_ms).to_array(squeeze=False)
    assert y.dtype == np.dtype(info.format.dtype)

    reference, rate = sf.read(str(path), dtype=info.format.dtype, always_2d=True)
    assert rate == SPEECH_RATE
    assert y.shape == reference.shape
    if name.endswith(".mp3"):
        # sf.read seeks to frame 0 first, and that seek re-primes libsndfile's MP3
        # decoder (mpg123): its output then differs by at most one float32 step. The same
        # decoder reading the whole file without a seek matches lkframes bit for bit.
        assert np.abs(y - reference).max() <= 2.0**-23
        with sf.SoundFile(str(path)) as f:
            reference = f.read(dtype="float32", always_2d=True)
    np.testing.assert_array_equal(y, reference)


@pytest.mark.parametrize(
    ("name", "scale"),
    [("speech.flac", 1), ("speech_24bit.wav", 1 / 32_768), ("speech_float.wav", 1 / 32_768)],
)
async def test_lossless_conversions_hold_the_same_speech(
    anyio_backend: str, speech: Path, converted: Callable[[str], Path], name: str, scale: float
) -> None:
    # sox widened 16-bit samples without dither, so the values are exactly the original's.
    original = await lk.from_file(speech).to_array(squeeze=False)
    y = await lk.from_file(converted(name)).to_array(squeeze=False)
    expected = original if scale == 1 else original * np.float32(scale)
    np.testing.assert_array_equal(y, expected)


async def test_pyav_decode_equals_the_ffmpeg_cli(
    anyio_backend: str, speech: Path, converted: Callable[[str], Path]
) -> None:
    path = converted("speech.m4a")
    info = lk.file_info(path)
    assert (info.backend, info.codec) == ("pyav", "aac")
    y = await lk.from_file(path, block_ms=100).to_array(squeeze=False)
    reference = _ffmpeg_decode(path, np.float32)
    # The ffmpeg CLI skips the encoder's priming samples (the edit list) but keeps the
    # padding after the last real sample; lkframes stops where the audio ends. Where that
    # is depends on PyAV's FFmpeg: 8.x decodes everything and lkframes cuts at the length
    # the container declares (ffprobe's duration_ts: Debian's FFmpeg 5.1 muxer writes 8
    # samples more than went in); 9.x trims the padding itself, to exactly what went in.
    # Both are in range; less would be lost audio, more would be padding.
    declared = _ffprobe_duration_ts(path)
    source = sf.info(str(speech)).frames
    assert source <= y.shape[0] <= declared
    assert y.shape[1] == 1
    assert 0 < len(reference) - declared < 1024
    reference = reference[: y.shape[0]]
    # Same decoder, but not the same build: PyAV's wheel bundles its own FFmpeg (8.x) while
    # the CLI is the distribution's (5.1 on Debian 12), and their float decoders round
    # differently in the last bits (measured: at most ~1.2e-7). A wrong sample format, an
    # offset or a dropped packet would be off by orders of magnitude more.
    assert np.abs(y - reference).max() < 1e-5
    error = np.sum((y.astype(np.float64) - reference) ** 2)
    assert 10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / error) > 100


@pytest.mark.parametrize("kept", [0.37, 0.6, 0.85])
async def test_truncated_flac_yields_what_ffmpeg_decodes(
    anyio_backend: str, tmp_path: Path, converted: Callable[[str], Path], kept: float
) -> None:
    whole = converted("speech.flac").read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(whole[: int(len(whole) * kept)])
    reference = _ffmpeg_decode(path, np.int16)
    assert 0 < len(reference) < sf.info(str(converted("speech.flac"))).frames
    with pytest.warns(lk.TruncatedAudioWarning, match=f"after {len(reference)} samples"):
        y = await lk.from_file(path, on_truncated="warn").to_array(squeeze=False)
    np.testing.assert_array_equal(y, reference)


# -- (b, c) resampling against sox ------------------------------------------------------------


def _aligned_snr(x: NDArray[Any], reference: NDArray[Any]) -> tuple[float, int]:
    """SNR of ``x`` against ``reference`` at the lag (within ±MAX_LAG) that best aligns them.

    Returns:
        (SNR in dB, lag): ``x[n + lag]`` lines up with ``reference[n]``.
    """
    a = x.astype(np.float64).reshape(-1)
    b = reference.astype(np.float64).reshape(-1)

    def overlap(lag: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        shifted, ref = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
        n = min(len(shifted), len(ref))
        return shifted[:n], ref[:n]

    lag = max(range(-MAX_LAG, MAX_LAG + 1), key=lambda k: float(np.dot(*overlap(k))))
    shifted, ref = overlap(lag)
    noise = float(np.sum((shifted - ref) ** 2))
    return 10 * float(np.log10(float(np.sum(ref**2)) / noise)), lag


def _sox_resample(speech: Path, out: Path, effect: str) -> NDArray[np.float32]:
    """sox's own resampler, 32-bit float output (so no dither, no quantisation)."""
    sox = _require(SOX, "sox")
    float_output = ["-r", "16000", "-b", "32", "-e", "floating-point"]
    _run(sox, str(speech), *float_output, str(out), "rate", effect)
    data, rate = sf.read(str(out), dtype="float32")
    assert rate == 16_000
    return np.asarray(data, np.float32)


async def _lkframes_resample(speech: Path, quality: lk.Quality, dtype: lk.DType) -> NDArray[Any]:
    y = await lk.from_file(speech, dtype=dtype).resample(16_000, quality).to_array(squeeze=False)
    assert y.dtype == np.dtype(dtype)
    return y.reshape(-1) / np.float32(32_768) if dtype == "int16" else y.reshape(-1)


@pytest.mark.parametrize(
    ("quality", "effect"),
    [
        pytest.param("VHQ", "-v", id="VHQ-vs-rate-v"),
        pytest.param("HQ", "-h", id="HQ-vs-rate-h"),
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "int16"])
async def test_resample_matches_sox(
    anyio_backend: str,
    tmp_path: Path,
    speech: Path,
    record_property: RecordProperty,
    quality: lk.Quality,
    effect: str,
    dtype: lk.DType,
) -> None:
    reference = _sox_resample(speech, tmp_path / "sox.wav", effect)
    y = await _lkframes_resample(speech, quality, dtype)
    expected_length = lk.resampled_length(sf.info(str(speech)).frames, SPEECH_RATE, 16_000)
    assert len(y) == len(reference) == expected_length
    snr, lag = _aligned_snr(y, reference)
    print(f"\n{quality} ({dtype}) vs sox rate {effect}: SNR {snr:.1f} dB at lag {lag} samples")
    record_property("snr_db", round(snr, 2))
    record_property("lag_samples", lag)
    assert snr >= 60
    assert abs(lag) < MAX_LAG  # a real optimum, not the edge of the search
    # The search does find a delay when there is one.
    delayed = np.concatenate([np.zeros(5, y.dtype), y])
    assert _aligned_snr(delayed, reference)[1] == lag + 5


async def test_snr_tells_the_filters_apart(
    anyio_backend: str, tmp_path: Path, speech: Path, record_property: RecordProperty
) -> None:
    # Like with like agrees far better than HQ against rate -v, whose filter differs: the
    # 60 dB bar above is a real test of the resampler, not of the alignment.
    reference = _sox_resample(speech, tmp_path / "sox_v.wav", "-v")
    matched, _ = _aligned_snr(await _lkframes_resample(speech, "VHQ", "float32"), reference)
    mismatched, lag = _aligned_snr(await _lkframes_resample(speech, "HQ", "float32"), reference)
    print(f"\nVHQ vs rate -v: {matched:.1f} dB; HQ vs rate -v: {mismatched:.1f} dB (lag {lag})")
    record_property("snr_hq_vs_rate_v_db", round(mismatched, 2))
    assert matched >= mismatched + 10
