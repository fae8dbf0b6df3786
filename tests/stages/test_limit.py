"""limit (the look-ahead true-peak limiter) and normalize through it: the output's true peak
under the ceiling by lkframes' meter and by FFmpeg's ebur128, the target reached on
espeak-ng speech and on tones, the length, pts and alignment kept, the same output however
the input is split, one gain for all channels, and the refusals."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from loudness_refs import RATE, espeak_speech, ffmpeg_r128, tone, with_noise
from numpy.typing import NDArray

import lkframes as lk
from lkframes.stages._limiter import TruePeakLimiter
from lkframes.testing import check_stage

pytestmark = pytest.mark.anyio

BACKENDS = ["asyncio", "trio"]
FFMPEG_STEP = 0.005  # dB: FFmpeg's metadata gives the linear peak to 3 decimals


def _music(seconds: float, seed: int) -> NDArray[np.float32]:
    """Chords under full-band noise bursts (a drum-like hit every 0.5 s), stereo."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    chords = sum(a * np.sin(2 * np.pi * f * t) for a, f in ((0.2, 220), (0.1, 660), (0.05, 5500)))
    hits = 0.6 * np.exp(-((t * 2) % 1) * 30) * rng.standard_normal(t.shape)
    left = chords + hits
    return np.stack([left, 0.8 * chords + 0.5 * hits], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def signals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("limit")
    speech = espeak_speech(directory)
    audio = {
        "speech": with_noise(speech, 20, seed=2),
        "speech_mono": speech,
        "music": _music(6.0, seed=3),
        "tone_intersample": tone(12_000, 4.0, 0.5, phase=math.pi / 4),
    }
    paths = {}
    for name, samples in audio.items():
        paths[name] = directory / f"{name}.wav"
        sf.write(paths[name], samples, RATE, subtype="FLOAT")
    return paths


@pytest.mark.parametrize("name", ["speech", "speech_mono", "music", "tone_intersample"])
@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_16"])
async def test_the_true_peak_stays_under_the_ceiling_by_lkframes_and_ffmpeg(
    anyio_backend: str, signals: dict[str, Path], tmp_path: Path, name: str, subtype: str
) -> None:
    source = lk.from_file(signals[name]).to_dtype("float32").gain(12)  # 3-20 dB over
    before = await source.loudness()
    assert before.true_peak_dbtp > 2.0
    out = tmp_path / "out.wav"
    await (
        source.limit(-1.0)
        .to_dtype("int16" if subtype == "PCM_16" else "float32")
        .to_file(out, subtype=subtype)
    )
    after = await lk.from_file(out).loudness()
    assert after.true_peak_dbtp <= -1.0
    assert after.true_peak_dbtp > -1.5  # limited to the ceiling, not far below it
    assert ffmpeg_r128(out)["TP"] <= -1.0 + FFMPEG_STEP  # measured -1.002 to -0.95
    assert after.samples_per_channel == before.samples_per_channel


@pytest.mark.parametrize(("name", "lufs"), [("speech", -16.0), ("speech_mono", -16.0)])
async def test_normalize_reaches_the_target_by_ffmpeg_by_limiting_speech(
    anyio_backend: str, signals: dict[str, Path], tmp_path: Path, name: str, lufs: float
) -> None:
    before = await lk.from_file(signals[name]).loudness()
    assert before.true_peak_dbtp + lufs - before.integrated_lufs > 2.0  # needs limiting
    out = tmp_path / "out.wav"
    await lk.from_file(signals[name]).normalize(lufs).to_file(out, subtype="PCM_16")
    measured = ffmpeg_r128(out)
    assert abs(measured["I"] - lufs) < 0.1  # measured -16.022 and -16.0x
    assert measured["TP"] <= -1.0 + FFMPEG_STEP
    ours = await lk.from_file(out).loudness()
    assert abs(ours.integrated_lufs - lufs) < 0.05
    assert ours.true_peak_dbtp <= -1.0


async def test_normalize_reaches_the_target_on_music_like_audio(
    anyio_backend: str, signals: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out.wav"
    await (
        lk.from_file(signals["music"])
        .normalize(-14.0, true_peak=-1.0)
        .to_file(out, subtype="FLOAT")
    )  # its drum hits peak 19 dB above its loudness: limited by 6 dB and more
    measured = ffmpeg_r128(out)
    assert abs(measured["I"] + 14.0) < 0.1
    assert measured["TP"] <= -1.0 + FFMPEG_STEP


async def test_a_target_that_needs_too_much_limiting_warns_with_what_was_reached(
    anyio_backend: str, signals: dict[str, Path]
) -> None:
    with pytest.warns(lk.LoudnessWarning, match="needs more than 12 dB of limiting") as caught:
        out = await lk.from_file(signals["speech"]).normalize(-2.0).to_array()
    warning = caught[0].message
    assert isinstance(warning, lk.LoudnessWarning)
    measured = await lk.from_array(out, RATE).loudness()
    assert warning.output_lufs == pytest.approx(measured.integrated_lufs, abs=0.01)
    assert measured.integrated_lufs < -2.5
    assert measured.true_peak_dbtp <= -1.0


async def test_length_pts_and_alignment_are_kept(anyio_backend: str) -> None:
    x = np.zeros((RATE, 2), np.float32)
    x[:, 0] = tone(997, 1.0, 0.3)
    x[RATE // 2, :] = 1.0  # one click past the ceiling, halfway
    frames = [lk.AudioFrame(x[i : i + 777], RATE, pts=5_000 + i) for i in range(0, x.shape[0], 777)]
    out = await lk.from_frames(frames, format=lk.AudioFormat(RATE, 2, "float32")).limit().collect()
    assert out[0].pts == 5_000
    assert [f.pts for f in out[1:]] == [f.pts + f.samples_per_channel for f in out[:-1]]
    y = np.concatenate([f.data for f in out])
    assert y.shape == x.shape
    quiet = slice(0, RATE // 2 - 400)  # before the ramp: untouched, at the same place
    np.testing.assert_array_equal(y[quiet], x[quiet])
    ratio = y[RATE // 2 - 300 : RATE // 2 + 300, 0] / x[RATE // 2 - 300 : RATE // 2 + 300, 0]
    assert ratio.min() < 0.9  # the gain went down around the click...
    gains = y[RATE // 2, :] / x[RATE // 2, :]
    assert gains[0] == pytest.approx(gains[1])  # ...the same on both channels


@given(
    sizes=st.lists(st.integers(0, 3_000), min_size=1, max_size=30),
    channels=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=40, deadline=None)
def test_streaming_gives_the_same_output_as_one_block(
    sizes: list[int], channels: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = (0.6 * rng.standard_normal((sum(sizes), channels))).astype(np.float32)
    whole = TruePeakLimiter(16_000, channels, -3.0, gain=2.0)
    expected = np.concatenate([whole.push(x), whole.finish()])
    split = TruePeakLimiter(16_000, channels, -3.0, gain=2.0)
    starts = np.cumsum([0, *sizes])
    parts = [split.push(x[a:b]) for a, b in itertools.pairwise(starts)]
    got = np.concatenate([*parts, split.finish()])
    assert got.shape == x.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_limit_passes_the_stage_kit(backend: Any) -> None:
    check_stage(
        lambda fmt: lk.limit(-6.0),
        expected_length=lambda n, fmt: n,
        max_examples=20,
        backend=backend,
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: lk.limit(0.5), r"true_peak must be between -60 and 0 dBTP \(got 0.5\)"),
        (lambda: lk.limit(-61), "true_peak must be between"),
        (lambda: lk.limit(math.nan), "true_peak must be finite"),
        (lambda: lk.limit("-1"), "true_peak must be a number"),  # type: ignore[arg-type]
        (lambda: lk.normalize(-16, limit="yes"), "limit must be True or False"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_are_refused_naming_them(make: Any, message: str) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        make()


@pytest.mark.parametrize("rate", [48_000, 96_000])
def test_the_peaks_between_samples_are_where_the_samples_are(rate: int) -> None:
    # An impulse at sample 1000 raises the peaks of the gaps on either side of it (999-1000
    # and 1000-1001), by both interpolations, and one peak comes for each sample pushed.
    from lkframes.stages._limiter import _PeaksBetween

    x = np.zeros((2_000, 1), np.float32)
    x[1_000] = 0.5
    between = _PeaksBetween(rate, 1)
    peaks = np.concatenate([between.push(x[:700]), between.push(x[700:]), between.finish()])
    assert peaks.shape == (2_000,)
    assert set(np.argsort(peaks)[-2:].tolist()) == {999, 1_000}
    assert peaks[:990].max() < 0.05 * peaks.max()


@pytest.mark.parametrize(("rate", "most_ms"), [(48_000, 25.0), (44_100, 26.5), (16_000, 63.0)])
def test_what_it_holds_back_on_a_live_stream_is_bounded(rate: int, most_ms: float) -> None:
    # 10 ms pushed at a time, as from a track: what has not come out yet, at every push
    # after the first half second, is at most what the docs say; all of it comes out.
    from lkframes.stages._limiter import TruePeakLimiter

    limiter = TruePeakLimiter(rate, 1, -1.0)
    x = (np.random.default_rng(0).standard_normal((3 * rate, 1)) * 0.3).astype(np.float32)
    step, out, worst = rate // 100, 0, 0
    for start in range(0, x.shape[0], step):
        out += limiter.push(x[start : start + step]).shape[0]
        if start >= rate // 2:
            worst = max(worst, min(start + step, x.shape[0]) - out)
    out += limiter.finish().shape[0]
    assert out == x.shape[0]
    assert worst / rate * 1_000 <= most_ms
