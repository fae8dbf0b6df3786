"""normalize: two passes to the target (measured by FFmpeg's ebur128), the true-peak limit
and its warning, the refusal of one-shot and live sources, and the live form's settling."""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from loudness_refs import RATE, espeak_speech, ffmpeg_r128, with_noise

import lkframes as lk

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """espeak-ng speech with pauses and noise 10 dB below it, 48 kHz stereo float."""
    directory = tmp_path_factory.mktemp("normalize")
    path = directory / "speech.wav"
    sf.write(path, with_noise(espeak_speech(directory), 10, seed=2), RATE, subtype="FLOAT")
    return path


@pytest.mark.parametrize("lufs", [-23.0, -21.0, -30.0])  # the speech peaks 19 dB above it
@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_16"])
async def test_two_passes_reach_the_target_by_ffmpeg(
    anyio_backend: str, speech: Path, tmp_path: Path, lufs: float, subtype: str
) -> None:
    out = tmp_path / "out.wav"
    await lk.from_file(speech).normalize(lufs).to_file(out, subtype=subtype)
    measured = ffmpeg_r128(out)
    assert abs(measured["I"] - lufs) < 0.1  # measured within 0.01
    assert measured["TP"] <= -1.0 + 0.1


async def test_without_the_limiter_a_gain_that_would_pass_the_true_peak_is_lowered(
    anyio_backend: str, speech: Path, tmp_path: Path
) -> None:
    before = await lk.from_file(speech).loudness()
    out = tmp_path / "out.wav"
    target = before.integrated_lufs - 1.0 - before.true_peak_dbtp + 2.0  # 2 dB too loud
    with pytest.warns(lk.LoudnessWarning, match="true peak") as caught:
        await lk.from_file(speech).normalize(target, limit=False).to_file(out)
    warning = caught[0].message
    assert isinstance(warning, lk.LoudnessWarning)
    assert warning.target_lufs == target
    assert warning.output_lufs == pytest.approx(target - 2.0, abs=1e-6)
    measured = ffmpeg_r128(out)
    assert measured["TP"] == pytest.approx(-1.0, abs=0.1)
    assert measured["I"] == pytest.approx(warning.output_lufs, abs=0.1)


async def test_no_limit_applies_the_full_gain_to_float(
    anyio_backend: str, speech: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.wav"
    await lk.from_file(speech).normalize(-8, true_peak=None).to_file(out, subtype="FLOAT")
    measured = ffmpeg_r128(out)
    assert abs(measured["I"] + 8) < 0.1
    assert measured["TP"] > 0  # past full scale: kept in float


async def test_silence_is_left_as_it_is_with_a_warning(anyio_backend: str) -> None:
    with pytest.warns(lk.LoudnessWarning, match="silent"):
        out = await lk.silence(1.0, RATE).normalize(-16).to_array()
    assert not out.any()


async def test_audio_too_short_to_measure_is_left_as_it_is_saying_so(anyio_backend: str) -> None:
    # 0.3 s of a plain tone: loud, but shorter than one 400 ms gating block, not "silent"
    tone = lk.sine(997, 0.3, RATE, amplitude=0.3)
    with pytest.warns(lk.LoudnessWarning, match=r"too short to measure \(0\.300 s; .*0\.4 s"):
        out = await tone.normalize(-16).to_array()
    assert np.array_equal(out, await lk.sine(997, 0.3, RATE, amplitude=0.3).to_array())
    measured = await lk.sine(997, 0.3, RATE, amplitude=0.3).loudness()
    assert measured.unmeasured is not None
    assert measured.unmeasured.startswith("too short")
    loud = await lk.sine(997, 0.5, RATE, amplitude=0.3).loudness()
    assert loud.unmeasured is None
    assert (await lk.silence(1.0, RATE).loudness()).unmeasured == "silent (nothing above -70 LUFS)"


async def test_a_one_shot_source_is_refused_saying_so(anyio_backend: str) -> None:
    tone = lk.run_sync(lk.sine(997, 1.0, RATE, amplitude=0.1).to_array())
    frames = (lk.AudioFrame(tone[i : i + 4_800], RATE, pts=i) for i in range(0, RATE, 4_800))
    with pytest.raises(lk.ParameterError, match=r"reads the stream twice.*one-shot.*live=True"):
        await lk.from_frames(frames).normalize(-23).collect()


def test_a_live_source_is_refused_when_applied() -> None:
    async def forever() -> AsyncGenerator[lk.AudioFrame, None]:
        yield lk.AudioFrame(np.zeros(480, np.int16), RATE)

    live = lk.Stream(forever, format=lk.AudioFormat(RATE, 1), name="track", live=True)
    with pytest.raises(lk.ParameterError, match=r"normalize\(-16.*live track.*live=True"):
        live.normalize(-16)
    assert live.normalize(-16, live=True).format == live.format


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lufs": 3.0}, r"lufs must be between -70 and 0 LUFS \(got 3\)"),
        ({"lufs": -90.0}, "lufs must be between"),
        ({"lufs": math.nan}, "lufs"),
        ({"lufs": -16.0, "true_peak": 2.0}, r"true_peak must be between -60 and 0 dBTP \(got 2\)"),
        ({"lufs": -16.0, "true_peak": math.inf}, "true_peak"),
    ],
)
def test_bad_targets_are_refused_naming_the_parameter(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        lk.normalize(**kwargs)


async def test_live_form_adds_no_latency_and_settles_on_steady_noise(anyio_backend: str) -> None:
    quiet = lk.noise(12.0, RATE, amplitude=0.01, seed=5, num_channels=2).chunk(ms=20)
    before = await quiet.collect()
    after = await quiet.normalize(-23, live=True).collect()
    assert [f.pts for f in after] == [f.pts for f in before]  # frame for frame, no delay
    assert [f.samples_per_channel for f in after] == [f.samples_per_channel for f in before]
    y = np.concatenate([f.data for f in after])
    settled = await lk.from_array(y[RATE:], RATE).loudness()  # from 1 s on
    assert abs(settled.integrated_lufs + 23) < 0.2


async def test_live_form_on_speech_converges_to_the_two_pass_gain(
    anyio_backend: str, speech: Path, tmp_path: Path
) -> None:
    out = tmp_path / "live.wav"
    await lk.from_file(speech).chunk(ms=20).normalize(-23, live=True).to_file(out, subtype="FLOAT")
    x, _ = sf.read(speech, dtype="float64")
    y, _ = sf.read(out, dtype="float64")
    two_pass = -23 - (await lk.from_file(speech).loudness()).integrated_lufs
    frames = slice(3 * RATE, None)  # from 3 s on, in 20 ms frames
    power = [
        (np.mean(a**2), np.mean(b**2))
        for a, b in zip(
            *(np.array_split(z[frames], z[frames].shape[0] // 960) for z in (x, y)), strict=True
        )
    ]
    gains = [10 * math.log10(b / a) for a, b in power if a > 0]
    off = [abs(g - two_pass) for g in gains]
    assert max(off) < 3.0  # measured 2.3 dB at 3 s, as the running loudness still moves
    assert max(off[-50:]) < 1.0  # the last second: measured 0.2 dB
    whole = ffmpeg_r128(out)
    assert abs(whole["I"] + 23) < 1.0  # measured 0.8: the early seconds are off
    assert whole["TP"] <= 0.0


async def test_two_passes_open_and_close_the_source_twice(anyio_backend: str) -> None:
    # (why the stage kit, which expects one opening, does not fit normalize)
    opened: list[str] = []
    tone = lk.run_sync(lk.sine(997, 1.0, RATE, amplitude=0.1).to_array())

    async def source() -> AsyncGenerator[lk.AudioFrame, None]:
        opened.append("open")
        try:
            for start in range(0, RATE, 4_800):
                yield lk.AudioFrame(tone[start : start + 4_800], RATE, pts=start)
        finally:
            opened.append("closed")

    stream = lk.Stream(source, format=lk.AudioFormat(RATE, 1), name="tone")
    out = await stream.normalize(-20).to_array()
    assert opened == ["open", "closed", "open", "closed"]
    assert abs((await lk.from_array(out, RATE).loudness()).integrated_lufs + 20) < 0.01
