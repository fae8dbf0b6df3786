"""Loudness (BS.1770-4) against its references on the same audio: espeak-ng speech with
pauses, mixed with noise at 20/10/0 dB SNR, and tones. Integrated loudness within 0.1 LU
of pyloudnorm and of FFmpeg's ``ebur128``; true peak within 0.1 dB of FFmpeg's; the live
readings equal FFmpeg's momentary and short-term values."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from loudness_refs import RATE, espeak_speech, ffmpeg_r128, tone, with_noise

import lkframes as lk
from lkframes.testing import check_stage

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def signals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The test audio as 48 kHz float WAV files, by name."""
    directory = tmp_path_factory.mktemp("loudness")
    speech = espeak_speech(directory)
    audio = {f"speech_snr{snr}": with_noise(speech, snr, seed=snr) for snr in (20, 10, 0)}
    audio["speech"] = speech
    audio["tone_997hz"] = tone(997, 6.0, 0.5)
    audio["tone_intersample"] = tone(12_000, 6.0, 0.9, phase=math.pi / 4)  # peaks between
    audio["tones_quiet_then_loud"] = np.concatenate([tone(440, 4.0, 0.01), tone(3_000, 4.0, 0.3)])
    loud, quiet = tone(997, 8.0, 0.5), tone(997, 8.0, 0.15)  # 10.5 dB apart
    audio["tones_loud_quiet_20db"] = np.concatenate([loud, 0.1 * loud, loud, 0.1 * loud])
    audio["tones_loud_quiet_10db"] = np.concatenate([loud, quiet, loud, quiet, loud])
    paths = {}
    for name, samples in audio.items():
        paths[name] = directory / f"{name}.wav"
        sf.write(paths[name], samples, RATE, subtype="FLOAT")
    return paths


NAMES = [
    "speech",
    "speech_snr20",
    "speech_snr10",
    "speech_snr0",
    "tone_997hz",
    "tone_intersample",
    "tones_quiet_then_loud",
]


@pytest.mark.parametrize("name", NAMES)
async def test_integrated_loudness_matches_pyloudnorm_and_ffmpeg(
    anyio_backend: str, signals: dict[str, Path], name: str
) -> None:
    measured = await lk.from_file(signals[name], block_ms=37).loudness()
    data, rate = sf.read(signals[name], dtype="float64")
    reference = pyloudnorm.Meter(rate).integrated_loudness(data)
    ffmpeg = ffmpeg_r128(signals[name])
    assert abs(measured.integrated_lufs - reference) < 0.1  # measured 0.04-0.09
    assert abs(measured.integrated_lufs - ffmpeg["I"]) < 0.1  # measured <= 0.01
    assert measured.samples_per_channel == data.shape[0]
    assert measured.sample_peak_dbfs == pytest.approx(20 * math.log10(np.abs(data).max()))


@pytest.mark.parametrize("name", NAMES)
async def test_true_peak_matches_ffmpeg(
    anyio_backend: str, signals: dict[str, Path], name: str
) -> None:
    measured = await lk.from_file(signals[name]).loudness()
    assert abs(measured.true_peak_dbtp - ffmpeg_r128(signals[name])["TP"]) < 0.1
    assert measured.true_peak_dbtp >= measured.sample_peak_dbfs


async def test_a_peak_between_samples_is_found(
    anyio_backend: str, signals: dict[str, Path]
) -> None:
    # fs/4 at 45 degrees: every sample is at 0.9 * sin(45) (-3.9 dBFS), the wave at 0.9.
    measured = await lk.from_file(signals["tone_intersample"]).loudness()
    assert measured.sample_peak_dbfs == pytest.approx(
        20 * math.log10(0.9 * math.sqrt(0.5)), abs=0.01
    )
    assert measured.true_peak_dbtp == pytest.approx(20 * math.log10(0.9), abs=0.02)


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("speech", None),
        ("speech_snr20", None),
        ("speech_snr10", None),
        ("tones_loud_quiet_20db", 20.0),
        ("tones_loud_quiet_10db", 20 * math.log10(0.5 / 0.15)),
    ],
)
async def test_loudness_range_matches_ffmpeg(
    anyio_backend: str, signals: dict[str, Path], name: str, known: float | None
) -> None:
    measured = await lk.from_file(signals[name], block_ms=37).loudness()
    assert abs(measured.loudness_range_lu - ffmpeg_r128(signals[name])["LRA"]) < 0.1
    if known is not None:  # the sections' level difference
        assert measured.loudness_range_lu == pytest.approx(known, abs=0.2)
    else:
        assert 2.0 < measured.loudness_range_lu < 12.0


async def test_loudness_range_is_zero_for_steady_sound_and_short_audio(anyio_backend: str) -> None:
    steady = await lk.noise(10.0, RATE, amplitude=0.1, seed=3).loudness()
    assert steady.loudness_range_lu < 0.1
    short = await lk.sine(997, 2.9, RATE, amplitude=0.5).loudness()  # no complete 3 s window
    assert short.loudness_range_lu == 0.0
    assert (await lk.silence(5.0, RATE).loudness()).loudness_range_lu == 0.0


async def test_int16_and_float32_measure_alike(
    anyio_backend: str, signals: dict[str, Path]
) -> None:
    as_float = await lk.from_file(signals["speech_snr10"]).loudness()
    as_int = await lk.from_file(signals["speech_snr10"]).to_dtype("int16").loudness()
    assert as_int.integrated_lufs == pytest.approx(as_float.integrated_lufs, abs=0.01)
    assert as_int.format is not None
    assert as_int.format.dtype == "int16"


async def test_block_sizes_do_not_change_the_result(anyio_backend: str) -> None:
    def noisy(block_ms: float) -> lk.Stream[lk.AudioFrame]:
        return lk.noise(3.3, 16_000, amplitude=0.1, seed=4, block_ms=block_ms)

    a = await noisy(1000).loudness()
    b = await noisy(3).chunk(samples=7).loudness()
    assert a == b or abs(a.integrated_lufs - b.integrated_lufs) < 1e-9


async def test_live_readings_equal_ffmpegs_momentary_and_short_term(
    anyio_backend: str, signals: dict[str, Path]
) -> None:
    readings: list[lk.LoudnessReading] = []
    await lk.from_file(signals["speech_snr10"]).meter_loudness(readings.append).run()
    ffmpeg = ffmpeg_r128(signals["speech_snr10"])
    ours = {r.pts: r for r in readings}
    compared = 0
    for t, m, s in zip(ffmpeg["t"], ffmpeg["M"], ffmpeg["S"], strict=True):
        reading = ours.get(round((t + 0.1) * RATE))  # FFmpeg stamps a value at its step's start
        if reading is None or t < 3.0:  # FFmpeg's first 3 s are not comparable (-inf, -120)
            continue
        assert reading.momentary_lufs == pytest.approx(m, abs=0.1)
        assert reading.short_term_lufs == pytest.approx(s, abs=0.1)
        compared += 1
    assert compared > 80  # every 100 ms after the first 3 s
    assert [r.pts for r in readings] == [4_800 * k for k in range(1, len(readings) + 1)]
    final = await lk.from_file(signals["speech_snr10"]).loudness()
    assert readings[-1].integrated_lufs == pytest.approx(final.integrated_lufs, abs=0.01)


async def test_readings_every_second_come_from_the_frame_that_completes_them(
    anyio_backend: str,
) -> None:
    seen: list[tuple[int, int]] = []
    readings: list[lk.LoudnessReading] = []

    def note(frame: lk.AudioFrame) -> None:
        seen.append((frame.pts, len(readings)))

    tone = lk.sine(997, 3.5, 16_000, amplitude=0.5, block_ms=250)
    await tone.meter_loudness(readings.append, every_ms=1000).tap(note).run()
    assert [r.pts for r in readings] == [16_000, 32_000, 48_000]
    # the reading at 1 s is out when the frame ending at 1 s (pts 12 000) passes on
    assert (12_000, 1) in seen
    assert (8_000, 0) in seen


async def test_silence_is_minus_infinity(anyio_backend: str) -> None:
    measured = await lk.silence(2.0, 48_000).loudness()
    assert measured.integrated_lufs == -math.inf
    assert measured.true_peak_dbtp == -math.inf
    empty = await lk.from_array(np.zeros((0, 2), np.float32), 48_000).loudness()
    assert empty.integrated_lufs == -math.inf
    assert empty.samples_per_channel == 0


async def test_surround_weights_follow_bs1770(anyio_backend: str) -> None:
    # One 997 Hz tone in each 5.1 channel in turn: LFE ignored, surrounds +1.5 dB (1.41).
    level = {}
    for channel in range(6):
        x = np.zeros((RATE * 3, 6), np.float32)
        x[:, channel] = tone(997, 3.0, 0.25)
        level[channel] = (await lk.from_array(x, RATE).loudness()).integrated_lufs
    assert level[3] == -math.inf
    assert level[0] == pytest.approx(level[2], abs=1e-9)
    assert level[4] - level[0] == pytest.approx(10 * math.log10(1.41), abs=1e-6)


@pytest.mark.parametrize("every_ms", [0, -100, 150, 1.5])
def test_bad_reading_intervals_are_refused(every_ms: Any) -> None:
    with pytest.raises(lk.ParameterError, match="every_ms"):
        lk.meter_loudness(print, every_ms=every_ms)


async def test_without_scipy_the_error_names_the_extra(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy now raises ImportError
    monkeypatch.setitem(sys.modules, "scipy.signal", None)
    with pytest.raises(lk.MissingExtraError, match=r"pip install 'lkframes\[loudness\]'"):
        await lk.sine(440, 1.0, 16_000).loudness()
    with pytest.raises(lk.MissingExtraError, match="scipy"):
        await lk.sine(440, 1.0, 16_000).normalize(-20, live=True).run()


def test_meter_loudness_passes_the_stage_kit() -> None:
    # the frames pass on untouched, whatever the split, and the source is closed
    check_stage(
        lambda fmt: lk.meter_loudness(lambda reading: None),
        expected_length=lambda n, fmt: n,
        max_examples=20,
    )


async def test_stages_that_run_tasks_are_measured(anyio_backend: str) -> None:
    tone = lk.sine(997, 3.0, 16_000, amplitude=0.5, block_ms=100)
    plain = await tone.loudness()
    concurrent = await tone.map(lambda frame: frame, concurrency=3).loudness()
    assert concurrent == plain


async def test_rates_below_8000_hz_are_refused(anyio_backend: str) -> None:
    with pytest.raises(lk.FormatError, match=r"expected >= 8000 Hz, got 4000 Hz"):
        await lk.sine(440, 1.0, 4_000).loudness()


@pytest.mark.parametrize("rate", [44_100, 16_000, 8_000])
async def test_other_rates_match_ffmpeg(
    anyio_backend: str, signals: dict[str, Path], tmp_path: Path, rate: int
) -> None:
    # The K-weighting is designed for each rate (as FFmpeg does); the true peak is 4x.
    path = tmp_path / f"speech_{rate}.wav"
    await lk.from_file(signals["speech_snr10"]).remix(1).resample(rate).to_file(path)
    measured = await lk.from_file(path).loudness()
    reference = ffmpeg_r128(path)
    assert abs(measured.integrated_lufs - reference["I"]) < 0.1  # measured 0.005
    assert abs(measured.true_peak_dbtp - reference["TP"]) < 0.1  # measured <= 0.03


async def test_five_one_matches_ffmpeg(
    anyio_backend: str, signals: dict[str, Path], tmp_path: Path
) -> None:
    # FFmpeg reads a 6-channel WAV as 5.1: the LFE left out, the surrounds weighed 1.41
    x, rate = sf.read(signals["speech_snr10"], dtype="float32")
    gains = np.array([[1.0, 0, 0.5, 0.8, 0.3, 0], [0, 1.0, 0, 0, 0, 0.6]], np.float32)
    path = tmp_path / "five_one.wav"
    sf.write(path, x @ gains, rate, subtype="FLOAT")
    measured = await lk.from_file(path).loudness()
    assert abs(measured.integrated_lufs - ffmpeg_r128(path)["I"]) < 0.1  # measured 0.005
