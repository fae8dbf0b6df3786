"""LiveKit's audio processing module as stages: denoise, echo_cancel, auto_gain, high_pass.

The DSP itself is WebRTC's; these tests measure what it does to signals with known content
(dB figures are recorded as test properties), and check what lkframes adds around it:
10 ms re-chunking, exact lengths, continuous pts, untouched inputs, formats and errors.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncGenerator, Callable
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
import soundfile as sf
from hypothesis import strategies as st
from livekit import rtc
from numpy.typing import NDArray

import lkframes as lk
from lkframes.testing import audio_formats, check_stage

pytestmark = pytest.mark.anyio

RecordProperty = Callable[[str, object], None]
Backend = Literal["asyncio", "trio"]
BACKENDS: list[Backend] = ["asyncio", "trio"]
ESPEAK = shutil.which("espeak-ng")
RATES = [16_000, 48_000]


# -- signals and measurements ------------------------------------------------------------


def _speechlike(seconds: float, rate: int, seed: int, peak: float = 0.6) -> NDArray[np.int16]:
    """Voiced speech stand-in: 8 harmonics of a wandering ~140 Hz pitch, ~4 syllables/s."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    f0 = 140.0 + 25.0 * np.sin(2 * np.pi * 0.7 * t) + 10.0 * np.sin(2 * np.pi * 2.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 9))
    envelope = np.clip(np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, np.pi)), 0.0, None) ** 2
    signal = np.asarray(voiced * envelope, dtype=np.float64)
    out: NDArray[np.int16] = np.round(signal / np.abs(signal).max() * peak * 32767).astype(np.int16)
    return out


def _white(seconds: float, rate: int, seed: int, rms: float = 1000.0) -> NDArray[np.int16]:
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(round(seconds * rate)) * rms
    return np.clip(np.round(noise), -32768, 32767).astype(np.int16)


def _tone(frequency: float, seconds: float, rate: int, amplitude: float) -> NDArray[np.int16]:
    t = np.arange(round(seconds * rate)) / rate
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def _db(x: NDArray[Any]) -> float:
    """Mean power in dB (relative to 1 LSB² for int16)."""
    return float(10 * np.log10(np.mean(np.square(x.astype(np.float64))) + 1e-12))


def _split(x: NDArray[Any], rate: int, sizes: list[int], pts: int = 0) -> list[lk.AudioFrame]:
    """``x`` as consecutive frames of the given sizes, cycled; views of ``x``."""
    frames = []
    start = 0
    i = 0
    while start < x.shape[0]:
        end = min(start + sizes[i % len(sizes)], x.shape[0])
        frames.append(lk.AudioFrame(x[start:end], rate, pts=pts + start))
        start = end
        i += 1
    return frames


async def _run(x: NDArray[Any], rate: int, stage: lk.Stage[lk.AudioFrame, lk.AudioFrame]) -> Any:
    return await (lk.from_array(x, rate) | stage).to_array()


def _direct_loop(
    x: NDArray[np.int16],
    rate: int,
    reference: NDArray[np.int16] | None = None,
    **features: bool,
) -> NDArray[np.int16]:
    """The hand-written SDK loop: 10 ms rtc frames through one APM (whole 10 ms only)."""
    apm = rtc.AudioProcessingModule(**features)
    if features.get("echo_cancellation"):
        apm.set_stream_delay_ms(0)
    x2 = x.reshape(x.shape[0], -1)
    channels = x2.shape[1]
    spc = rate // 100
    out = x2[: x2.shape[0] // spc * spc].copy()
    far = None if reference is None else reference.reshape(out.shape[0], -1)[: out.shape[0]].copy()
    for start in range(0, out.shape[0], spc):
        if far is not None:
            ref = np.ascontiguousarray(far[start : start + spc])
            apm.process_reverse_stream(rtc.AudioFrame(ref.tobytes(), rate, channels, spc))
        frame = rtc.AudioFrame(out[start : start + spc].tobytes(), rate, channels, spc)
        apm.process_stream(frame)
        out[start : start + spc] = np.frombuffer(frame.data, np.int16).reshape(spc, channels)
    return out


# -- denoise -----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
async def test_denoise_lowers_white_noise(
    anyio_backend: str, rate: int, record_property: RecordProperty
) -> None:
    x = _white(3.0, rate, seed=1)
    y = await _run(x, rate, lk.denoise())
    adapted = slice(rate // 2, None)  # after 0.5 s of adaptation
    reduction = _db(x[adapted]) - _db(y[adapted])
    record_property("noise_reduction_db", round(reduction, 1))
    assert y.shape == x.shape
    assert reduction > 10.0  # measured 12.3 dB at 16 kHz, 15.0 dB at 48 kHz


@pytest.mark.parametrize("rate", RATES)
async def test_denoise_keeps_voiced_speech(
    anyio_backend: str, rate: int, record_property: RecordProperty
) -> None:
    x = _speechlike(3.0, rate, seed=2)
    y = await _run(x, rate, lk.denoise())
    adapted = slice(rate // 2, None)
    loss = _db(x[adapted]) - _db(y[adapted])
    record_property("speech_loss_db", round(loss, 2))
    assert abs(loss) < 1.5  # measured 0.5 dB


@pytest.fixture(scope="module")
def espeak_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """espeak-ng speaking one sentence: 16-bit mono WAV at 22 050 Hz."""
    if ESPEAK is None:
        pytest.skip("the espeak-ng binary is not on PATH (apt-get install espeak-ng)")
    wav = tmp_path_factory.mktemp("apm") / "speech.wav"
    sentence = "The quick brown fox jumps over the lazy dog, while seven wizards judge."
    subprocess.run([ESPEAK, "-w", str(wav), sentence], check=True, capture_output=True)
    assert sf.info(str(wav)).samplerate == 22_050
    return wav


async def test_denoise_keeps_espeak_speech(
    anyio_backend: str, espeak_wav: Path, record_property: RecordProperty
) -> None:
    speech = lk.from_file(espeak_wav).resample(16_000)
    x = await speech.to_array()
    y = await (speech | lk.denoise()).to_array()
    adapted = slice(8_000, None)
    loss = _db(x[adapted]) - _db(y[adapted])
    record_property("speech_loss_db", round(loss, 2))
    assert y.shape == x.shape
    assert abs(loss) < 1.5  # measured 0.5 dB


async def test_denoise_equals_the_hand_written_sdk_loop(anyio_backend: str) -> None:
    x = _speechlike(1.0, 48_000, seed=3) // 2 + _white(1.0, 48_000, seed=4, rms=500)
    y = await _run(x, 48_000, lk.denoise())
    expected = _direct_loop(x, 48_000, noise_suppression=True)
    np.testing.assert_array_equal(y.reshape(-1, 1), expected)


@pytest.mark.parametrize("sizes", [[480], [1], [7, 480, 1000, 33], [48_000]])
async def test_output_does_not_depend_on_the_split(anyio_backend: str, sizes: list[int]) -> None:
    x = _speechlike(1.0, 48_000, seed=5) // 2 + _white(1.0, 48_000, seed=6, rms=300)
    whole = await _run(x, 48_000, lk.denoise())
    split = await (lk.from_frames(_split(x, 48_000, sizes)) | lk.denoise()).to_array()
    np.testing.assert_array_equal(split.reshape(-1), whole)


# -- framing: lengths, pts, tail, untouched input ------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 159, 160, 161, 479, 481, 4_799, 16_000 + 7])
@pytest.mark.parametrize("rate", RATES)
async def test_output_length_equals_input_length(anyio_backend: str, rate: int, n: int) -> None:
    x = _white(n / rate, rate, seed=7)
    assert x.shape == (n,)
    frames = await (lk.from_frames(_split(x, rate, [333, 17], pts=1_000)) | lk.denoise()).collect()
    assert sum(f.samples_per_channel for f in frames) == n
    if n:
        assert frames[0].pts == 1_000
    assert all(a.end_pts == b.pts for a, b in pairwise(frames))
    assert all(f.format == lk.AudioFormat(rate, 1) for f in frames)
    assert all(f.samples_per_channel > 0 for f in frames)


async def test_frames_are_yielded_as_soon_as_whole_10ms_are_ready(anyio_backend: str) -> None:
    x = _white(0.1, 16_000, seed=8)
    sizes = [100, 100, 320, 50, 1]
    frames = await (lk.from_frames(_split(x, 16_000, sizes)) | lk.denoise()).collect()
    # 100 -> 0, 200 -> 160, 40 + 320 -> 320, 40 + 50 -> 0, 91 -> 0, ... and the tail at the end
    assert [f.samples_per_channel for f in frames[:2]] == [160, 320]
    assert all(f.samples_per_channel % 160 == 0 for f in frames[:-1])


async def test_the_last_partial_10ms_is_processed_not_passed_through(anyio_backend: str) -> None:
    # 2.005 s of steady noise: after adaptation the final 5 ms are suppressed like the rest.
    x = _white(2.005, 16_000, seed=9)
    y = await _run(x, 16_000, lk.high_pass() | lk.denoise())
    tail = slice(32_000, None)
    assert y[tail].shape == (80,)
    assert _db(x[tail]) - _db(y[tail]) > 6.0


async def test_input_frames_are_not_changed(anyio_backend: str) -> None:
    near = _speechlike(1.0, 16_000, seed=10) // 2 + _white(1.0, 16_000, seed=11, rms=300)
    far = _speechlike(1.0, 16_000, seed=12)
    near_copy, far_copy = near.copy(), far.copy()
    assert near.flags.writeable  # the frames below are read-only views of writable memory
    frames = _split(near, 16_000, [160, 320, 7])
    snapshots = [f.data.copy() for f in frames]
    stage = lk.process(
        noise_suppression=True,
        high_pass_filter=True,
        auto_gain_control=True,
        echo_cancellation=True,
        reference=lk.from_frames(_split(far, 16_000, [160, 51])),
    )
    y = await (lk.from_frames(frames) | stage).to_array()
    assert not np.array_equal(y.reshape(-1), near)  # it did process
    np.testing.assert_array_equal(near, near_copy)
    np.testing.assert_array_equal(far, far_copy)
    for frame, snapshot in zip(frames, snapshots, strict=True):
        np.testing.assert_array_equal(frame.data, snapshot)


async def test_output_frames_are_read_only_and_stay_valid(anyio_backend: str) -> None:
    x = _white(0.5, 16_000, seed=13)
    frames = await (lk.from_array(x, 16_000, block_ms=20) | lk.denoise()).collect()
    first = frames[0].data.copy()
    assert not frames[0].data.flags.writeable
    await (lk.from_array(x, 16_000) | lk.denoise()).run()
    np.testing.assert_array_equal(frames[0].data, first)


async def test_each_iteration_starts_a_fresh_apm(anyio_backend: str) -> None:
    stream = lk.from_array(_white(1.0, 16_000, seed=14), 16_000) | lk.denoise()
    first = await stream.to_array()
    second = await stream.to_array()
    np.testing.assert_array_equal(first, second)


async def test_channels_are_processed_separately(anyio_backend: str) -> None:
    left = _tone(440, 2.0, 48_000, 0.3)
    right = _tone(1_300, 2.0, 48_000, 0.3)
    y = await _run(np.stack([left, right], axis=1), 48_000, lk.high_pass())
    t = np.arange(48_000, 96_000) / 48_000

    def level(channel: int, frequency: float) -> float:
        tone = np.exp(-2j * np.pi * frequency * t)
        return float(20 * np.log10(abs(np.dot(y[48_000:, channel], tone)) / 24_000 + 1e-9))

    assert level(0, 440) > 75 > 0 > level(0, 1_300)
    assert level(1, 1_300) > 75 > 0 > level(1, 440)


# -- float32 -------------------------------------------------------------------------------


async def test_float32_goes_through_int16_and_stays_float32(anyio_backend: str) -> None:
    x16 = _speechlike(1.0, 16_000, seed=15) // 2 + _white(1.0, 16_000, seed=16, rms=300)
    x32 = x16.astype(np.float32) / 32768
    stream = lk.from_array(x32, 16_000) | lk.denoise()
    assert stream.format == lk.AudioFormat(16_000, 1, "float32")
    y32 = await stream.to_array()
    y16 = await _run(x16, 16_000, lk.denoise())
    assert y32.dtype == np.float32
    np.testing.assert_array_equal(y32 * 32768, y16.astype(np.float32))


async def test_float32_beyond_full_scale_is_clipped(anyio_backend: str) -> None:
    x = np.full(1_600, 1.5, np.float32)
    y = await _run(x, 16_000, lk.high_pass())
    assert float(np.abs(y).max()) <= 1.0


# -- high_pass, auto_gain ----------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
async def test_high_pass_removes_30hz_and_keeps_1khz(
    anyio_backend: str, rate: int, record_property: RecordProperty
) -> None:
    low = _tone(30, 2.0, rate, 0.25)
    high = _tone(1_000, 2.0, rate, 0.25)
    settled = slice(rate // 2, None)
    low_drop = _db(low[settled]) - _db((await _run(low, rate, lk.high_pass()))[settled])
    high_drop = _db(high[settled]) - _db((await _run(high, rate, lk.high_pass()))[settled])
    record_property("30hz_drop_db", round(low_drop, 1))
    record_property("1khz_drop_db", round(high_drop, 2))
    assert low_drop > 40.0  # measured 79 dB
    assert abs(high_drop) < 1.0  # measured 0.4 dB


@pytest.mark.parametrize("rate", RATES)
async def test_auto_gain_raises_quiet_speech(
    anyio_backend: str, rate: int, record_property: RecordProperty
) -> None:
    x = _speechlike(4.0, rate, seed=17, peak=0.005)  # peaks at -46 dBFS
    y = await _run(x, rate, lk.auto_gain())
    settled = slice(2 * rate, None)
    gain = _db(y[settled]) - _db(x[settled])
    record_property("gain_db", round(gain, 1))
    assert gain > 10.0  # measured 22 dB


# -- echo_cancel ---------------------------------------------------------------------------


def _echo_scene(rate: int, delay_ms: int) -> tuple[NDArray[np.int16], NDArray[np.int16]]:
    """(near, far): near is far delayed by ``delay_ms``, halved, plus a little noise."""
    far = _speechlike(8.0, rate, seed=18)
    delay = rate * delay_ms // 1000
    echo = np.concatenate([np.zeros(delay), far[: far.size - delay] * 0.5])
    near = np.round(echo + _white(8.0, rate, seed=19, rms=30.0)).astype(np.int16)
    return near, far


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("hint", [False, True])
async def test_echo_cancel_removes_the_echo(
    anyio_backend: str, rate: int, hint: bool, record_property: RecordProperty
) -> None:
    near, far = _echo_scene(rate, delay_ms=50)
    stage = lk.echo_cancel(lk.from_array(far, rate), delay_ms=50 if hint else 0)
    y = await _run(near, rate, stage)
    converged = slice(4 * rate, None)
    reduction = _db(near[converged]) - _db(y[converged])
    record_property("echo_reduction_db", round(reduction, 1))
    assert y.shape == near.shape
    assert reduction > 10.0  # measured 32 dB at 16 kHz, 43 dB at 48 kHz


async def test_echo_cancel_keeps_the_near_end_when_nothing_is_played(anyio_backend: str) -> None:
    near = _speechlike(3.0, 16_000, seed=20)
    y = await _run(near, 16_000, lk.echo_cancel(lk.silence(3.0, 16_000)))
    settled = slice(16_000, None)
    assert abs(_db(near[settled]) - _db(y[settled])) < 1.5


async def test_echo_cancel_equals_the_hand_written_sdk_loop(anyio_backend: str) -> None:
    near, far = _echo_scene(16_000, delay_ms=50)
    y = await _run(near, 16_000, lk.echo_cancel(lk.from_array(far, 16_000, block_ms=70)))
    expected = _direct_loop(near, 16_000, far, echo_cancellation=True)
    np.testing.assert_array_equal(y.reshape(-1, 1), expected)


async def test_a_short_reference_is_followed_by_silence(anyio_backend: str) -> None:
    near, far = _echo_scene(16_000, delay_ms=50)
    short = far[:16_005]
    y = await _run(near, 16_000, lk.echo_cancel(lk.from_array(short, 16_000)))
    padded = np.concatenate([short, np.zeros(near.size - short.size, np.int16)])
    silent_tail = await _run(near, 16_000, lk.echo_cancel(lk.from_array(padded, 16_000)))
    np.testing.assert_array_equal(y, silent_tail)


class _ReferenceProbe:
    """A reference stream that counts how often it is opened and closed."""

    def __init__(self, seconds: float, rate: int) -> None:
        self.x = _speechlike(seconds, rate, seed=21)
        self.rate = rate
        self.opened = 0
        self.closed = 0
        self.pulled = 0

    def stream(self) -> lk.Stream[lk.AudioFrame]:
        async def run() -> AsyncGenerator[lk.AudioFrame, None]:
            self.opened += 1
            try:
                async with lk.from_array(self.x, self.rate, block_ms=100).open() as frames:
                    async for frame in frames:
                        self.pulled += frame.samples_per_channel
                        yield frame
            finally:
                self.closed += 1

        return lk.Stream(run, format=lk.AudioFormat(self.rate, 1), name="probe")


async def test_a_long_reference_is_read_in_lockstep_and_closed(anyio_backend: str) -> None:
    probe = _ReferenceProbe(10.0, 16_000)
    near = _white(1.0, 16_000, seed=22)
    stream = lk.from_array(near, 16_000) | lk.echo_cancel(probe.stream())
    y = await stream.to_array()
    assert y.shape == near.shape
    assert (probe.opened, probe.closed) == (1, 1)
    assert probe.pulled <= 16_000 + 1_600  # what was needed, plus at most one 100 ms block
    await stream.run()
    assert (probe.opened, probe.closed) == (2, 2)  # one reference iteration per run


async def test_break_closes_the_reference(anyio_backend: str) -> None:
    probe = _ReferenceProbe(10.0, 16_000)
    stream = lk.from_array(_white(5.0, 16_000, seed=23), 16_000, block_ms=20)
    async with (stream | lk.echo_cancel(probe.stream())).open() as frames:
        async for _ in frames:
            break
    assert (probe.opened, probe.closed) == (1, 1)


async def test_reference_of_another_format_raises(anyio_backend: str) -> None:
    near = lk.silence(0.1, 16_000)
    with pytest.raises(lk.FormatError, match=r"expected 16000 Hz, 1 ch, got 48000 Hz, 1 ch"):
        near | lk.echo_cancel(lk.silence(0.1, 48_000))
    with pytest.raises(lk.FormatError, match=r"expected 16000 Hz, 1 ch, got 16000 Hz, 2 ch"):
        near | lk.echo_cancel(lk.silence(0.1, 16_000, num_channels=2))
    # Undeclared formats: caught at the first reference frame.
    stereo = lk.AudioFrame(np.zeros((160, 2), np.int16), 16_000)
    stage = lk.echo_cancel(lk.from_frames([stereo]))
    with pytest.raises(lk.FormatError, match=r"reference must have the stream's sample rate"):
        await (lk.from_frames([lk.AudioFrame(np.zeros(320, np.int16), 16_000)]) | stage).run()


async def test_reference_may_be_float32(anyio_backend: str) -> None:
    near, far = _echo_scene(16_000, delay_ms=50)
    as_int = await _run(near, 16_000, lk.echo_cancel(lk.from_array(far, 16_000)))
    far32 = far.astype(np.float32) / 32768
    as_float = await _run(near, 16_000, lk.echo_cancel(lk.from_array(far32, 16_000)))
    np.testing.assert_array_equal(as_int, as_float)


# -- rates and parameters ------------------------------------------------------------------


@pytest.mark.parametrize("rate", [8_000, 16_000, 32_000, 48_000])
async def test_every_supported_rate_runs(anyio_backend: str, rate: int) -> None:
    x = _white(0.5, rate, seed=24)
    y = await _run(x, rate, lk.process(noise_suppression=True, high_pass_filter=True))
    assert y.shape == x.shape
    assert _db(y[rate // 4 :]) < _db(x[rate // 4 :]) - 3


@pytest.mark.parametrize(
    ("rate", "suggested"), [(44_100, "48000"), (22_050, "32000"), (96_000, "48000")]
)
async def test_unsupported_rate_raises_at_build_time(
    anyio_backend: str, rate: int, suggested: str
) -> None:
    with pytest.raises(
        lk.FormatError,
        match=rf"denoise\(\): LiveKit's audio processing module does not take this sample "
        rf"rate \(expected 8000, 16000, 32000 or 48000 Hz, got {rate} Hz\); resample to "
        rf"{suggested} Hz first",
    ):
        lk.silence(0.1, rate) | lk.denoise()


async def test_unsupported_rate_of_an_undeclared_stream_raises_at_the_first_frame(
    anyio_backend: str,
) -> None:
    stream = lk.from_frames([lk.AudioFrame(np.zeros(441, np.int16), 44_100)])
    assert stream.format is None
    denoised = stream | lk.high_pass()
    with pytest.raises(lk.FormatError, match=r"expected 8000, 16000, 32000 or 48000 Hz"):
        await denoised.run()


async def test_a_format_change_mid_stream_raises(anyio_backend: str) -> None:
    frames = [
        lk.AudioFrame(np.zeros(160, np.int16), 16_000),
        lk.AudioFrame(np.zeros((160, 2), np.int16), 16_000, pts=160),
    ]
    with pytest.raises(lk.FormatError, match="changed mid-stream"):
        await (lk.from_frames(frames) | lk.denoise()).run()


def test_parameters_are_checked_when_the_stage_is_built() -> None:
    ref = lk.silence(1.0, 16_000)
    with pytest.raises(lk.ParameterError, match="at least one feature"):
        lk.process()
    with pytest.raises(lk.ParameterError, match="needs reference="):
        lk.process(echo_cancellation=True)
    with pytest.raises(lk.ParameterError, match=r"needs reference=.*got ndarray"):
        lk.echo_cancel(np.zeros(10, np.int16))  # type: ignore[arg-type]
    with pytest.raises(lk.ParameterError, match="only used with echo_cancellation"):
        lk.process(noise_suppression=True, reference=ref)
    with pytest.raises(lk.ParameterError, match="only used with echo_cancellation"):
        lk.process(noise_suppression=True, delay_ms=20)
    with pytest.raises(lk.ParameterError, match=r"within 0 to 500 ms \(got 501\)"):
        lk.echo_cancel(ref, delay_ms=501)
    with pytest.raises(lk.ParameterError, match=r"delay_ms must be an int \(got float\)"):
        lk.echo_cancel(ref, delay_ms=2.5)  # type: ignore[arg-type]
    with pytest.raises(lk.ParameterError, match=r"noise_suppression must be a bool \(got int\)"):
        lk.process(noise_suppression=1)  # type: ignore[arg-type]


def test_stage_names() -> None:
    ref = lk.silence(1.0, 16_000)
    assert repr(lk.denoise()) == "Stage(denoise())"
    assert repr(lk.echo_cancel(ref, delay_ms=40)) == "Stage(echo_cancel(delay_ms=40))"
    stage = lk.process(noise_suppression=True, auto_gain_control=True)
    assert stage.name == "process(noise_suppression, auto_gain_control)"
    stage = lk.process(echo_cancellation=True, high_pass_filter=True, reference=ref)
    assert stage.name == "process(echo_cancellation, high_pass_filter, delay_ms=0)"
    assert (lk.silence(1.0, 16_000) | lk.auto_gain()).format == lk.AudioFormat(16_000, 1)


# -- conformance kit ---------------------------------------------------------------------------


def _formats(dtypes: list[lk.DType]) -> st.SearchStrategy[lk.AudioFormat]:
    return audio_formats(
        sample_rates=st.sampled_from([16_000, 48_000]),
        num_channels=st.integers(1, 2),
        dtypes=st.sampled_from(dtypes),
    )


def _same(n: int, fmt: lk.AudioFormat) -> int:
    return n


@pytest.mark.parametrize("backend", BACKENDS)
def test_denoise_passes_the_kit(backend: Backend) -> None:
    # One APM per iteration, fed the same 10 ms pieces however the input is split:
    # the output is bit-identical across splits and iterations (atol=0).
    check_stage(
        lambda fmt: lk.denoise(),
        formats=_formats(["int16"]),
        expected_length=_same,
        atol=0.0,
        max_examples=25,
        backend=backend,
    )


def test_float32_and_every_feature_pass_the_kit() -> None:
    def make(fmt: lk.AudioFormat) -> lk.Stage[lk.AudioFrame, lk.AudioFrame]:
        far = lk.noise(0.1, fmt.sample_rate, num_channels=fmt.num_channels, seed=3)
        return lk.process(
            noise_suppression=True,
            echo_cancellation=True,
            auto_gain_control=True,
            high_pass_filter=True,
            reference=far,
        )

    check_stage(
        make,
        formats=_formats(["int16", "float32"]),
        expected_length=_same,
        atol=0.0,
        max_examples=20,
        backend="trio",
    )


async def test_fluent_methods_are_the_stages() -> None:
    noisy = lk.noise(1.0, 16_000, amplitude=0.3)
    fluent = await noisy.denoise().high_pass().auto_gain().to_array()
    piped = await (noisy | lk.denoise() | lk.high_pass() | lk.auto_gain()).to_array()
    assert np.array_equal(fluent, piped)
    cancelled = await noisy.echo_cancel(noisy).to_array()
    assert cancelled.shape == fluent.shape
