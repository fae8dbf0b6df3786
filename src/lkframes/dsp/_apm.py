"""Stages around LiveKit's local DSP, ``rtc.AudioProcessingModule`` (WebRTC's APM).

Noise suppression, echo cancellation, automatic gain control and a high-pass filter run
in-process with no server, so a whole file is cleaned far faster than real time.

The APM takes int16 frames of exactly 10 ms and changes them in place. These stages hide
that: they re-chunk any input into 10 ms pieces with a `FrameBuffer`, hand the APM a fresh
int16 copy (never the caller's memory), and flush the last partial 10 ms at the end of the
stream, padded with silence for the APM and trimmed back, so the output has exactly as many
samples as the input and continuous ``pts``. One APM per iteration of the stream, so every
run starts from a fresh adaptive state and the output does not depend on how the input was
split into frames.
"""

from __future__ import annotations

import numpy as np

from .._core.errors import ParameterError
from .._core.frame import AudioFrame
from .._core.registry import stage_entry
from .._core.stage import Stage
from .._core.stream import Stream
from ._run import Features, apm_stage

__all__ = (
    "MAX_DELAY_MS",
    "auto_gain",
    "denoise",
    "echo_cancel",
    "high_pass",
    "process",
)

MAX_DELAY_MS = 500
"""Largest echo path delay hint WebRTC accepts (it clamps larger values)."""


# -- the public stages -----------------------------------------------------------------


@stage_entry()
def process(
    *,
    noise_suppression: bool = False,
    echo_cancellation: bool = False,
    auto_gain_control: bool = False,
    high_pass_filter: bool = False,
    reference: Stream[AudioFrame] | None = None,
    delay_ms: int = 0,
) -> Stage[AudioFrame, AudioFrame]:
    """Run LiveKit's audio processing module with any mix of its features, offline.

    The stage feeds ``rtc.AudioProcessingModule`` 10 ms pieces of the stream (it re-chunks
    internally; input frames may have any size) and yields the processed audio in frames of
    whole 10 ms as soon as they are ready; the last partial 10 ms is padded with silence for
    the APM and trimmed back. So the output has exactly as many samples as the input,
    ``pts`` starts at the first input frame's and is continuous, and the result does not
    depend on how the input was split. One APM per iteration: each run starts from a fresh
    (unadapted) state. The caller's frames are never changed: the APM works on a copy.

    Input must be at 8, 16, 32 or 48 kHz (the APM's native rates; `resample` first
    otherwise), int16 or float32, any channel count (channels are processed separately).
    float32 is converted to int16 for the APM (scaled by 32768, rounded and clipped to
    ±1.0, as `to_dtype`) and the result converted back, so a float32 stream stays float32
    but passes through 16-bit precision.

    As live, the APM delays the audio by its algorithmic latency (measured here: about
    6 to 9 ms with noise suppression or echo cancellation, 0 to 3 ms with the high-pass
    filter or gain control alone). The output keeps the input's length, so that much of
    the input's very end stays inside the APM.

    Args:
        noise_suppression: Suppress stationary background noise (hiss, hum, fans).
        echo_cancellation: Remove the echo of ``reference`` from the stream (WebRTC AEC3).
        auto_gain_control: Bring the level towards a fixed target (quiet speech up).
        high_pass_filter: Remove DC and low-frequency rumble (below about 80 Hz).
        reference: With ``echo_cancellation``: the far-end audio, what was played out of the
            speaker, at the stream's rate and channel count (int16 or float32). It is read
            in lockstep, sample for sample from its first frame against the stream's first
            frame (its ``pts`` are ignored); if it ends first, silence is used. It is opened
            once per iteration and closed when the stage ends.
        delay_ms: With ``echo_cancellation``: a hint for the delay (0 to 500 ms) from the
            reference to its echo in the stream. AEC3 estimates the delay itself (measured:
            20 to 200 ms echo paths are cancelled alike with and without the hint), so the
            default 0 is usually fine.

    Returns:
        The stage; its output has the input's format.

    Raises:
        ParameterError: No feature enabled, a non-bool flag, ``echo_cancellation`` without a
            ``reference`` Stream (or a reference or ``delay_ms`` without it), ``delay_ms``
            not an int in 0 to 500.
        FormatError: A sample rate other than 8, 16, 32 or 48 kHz (at build time when the
            format is known, else at the first frame; the message suggests a `resample`),
            a reference whose rate or channel count differs from the stream's, or a format
            change mid-stream.
        RuntimeError: (while running) the APM reports an error; a note names the stage.

    Examples:
        >>> import lkframes as lk
        >>> clean = lk.noise(1.0, 16_000) | lk.process(noise_suppression=True,
        ...                                             high_pass_filter=True)
        >>> clean
        Stream(noise | process(noise_suppression, high_pass_filter), 16000 Hz mono int16)
        >>> lk.run_sync(clean.to_array()).shape
        (16000,)
    """
    features = Features(
        noise_suppression=_check_flag(noise_suppression, "noise_suppression"),
        echo_cancellation=_check_flag(echo_cancellation, "echo_cancellation"),
        auto_gain_control=_check_flag(auto_gain_control, "auto_gain_control"),
        high_pass_filter=_check_flag(high_pass_filter, "high_pass_filter"),
    )
    enabled = [name for name, on in _feature_items(features) if on]
    if not enabled:
        raise ParameterError(
            "process() needs at least one feature enabled (noise_suppression, "
            "echo_cancellation, auto_gain_control or high_pass_filter)"
        )
    delay = _check_echo_args(features.echo_cancellation, reference, delay_ms)
    details = [*enabled, f"delay_ms={delay}"] if features.echo_cancellation else enabled
    return apm_stage(f"process({', '.join(details)})", features, reference, delay)


@stage_entry(cli={"": "--denoise"})
def denoise() -> Stage[AudioFrame, AudioFrame]:
    """Suppress background noise with LiveKit's audio processing module, offline.

    `process` with ``noise_suppression=True``: WebRTC's noise suppressor, which adapts to
    the noise over the first few hundred milliseconds and then lowers stationary noise
    (measured on white noise: 12 to 15 dB) while speech keeps nearly all its energy
    (within 1 dB). Input at 8, 16, 32 or 48 kHz, int16 or float32, any channel count;
    output of the same format and length. See `process` for framing, ``pts`` and float32.

    Returns:
        The stage.

    Raises:
        FormatError: A sample rate other than 8, 16, 32 or 48 kHz (resample first), or a
            format change mid-stream.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> hiss = lk.noise(2.0, 48_000, amplitude=0.05)
        >>> x = lk.run_sync(hiss.to_array())
        >>> y = lk.run_sync((hiss | lk.denoise()).to_array())
        >>> def rms(a): return float(np.sqrt(np.mean(a[24_000:].astype(np.float64) ** 2)))
        >>> y.shape == x.shape, rms(y) < rms(x) / 3
        (True, True)
    """
    return apm_stage("denoise()", _only(noise_suppression=True), None, 0)


@stage_entry(cli={"": "--auto-gain"})
def auto_gain() -> Stage[AudioFrame, AudioFrame]:
    """Automatic gain control with LiveKit's audio processing module, offline.

    `process` with ``auto_gain_control=True``: quiet speech is brought up towards WebRTC's
    target level over the first seconds (measured: speech at -55 dBFS comes out at about
    -32 dBFS after 3 s) and loud peaks are limited. See `process` for framing and formats.

    Returns:
        The stage.

    Raises:
        FormatError: A sample rate other than 8, 16, 32 or 48 kHz (resample first), or a
            format change mid-stream.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> t = np.arange(3 * 16_000) / 16_000
        >>> syllables = np.sin(2 * np.pi * 150 * t) * np.sin(2 * np.pi * 2 * t) ** 2
        >>> quiet = (300 * syllables).astype(np.int16)  # peaks at -41 dBFS
        >>> y = lk.run_sync((lk.from_array(quiet, 16_000) | lk.auto_gain()).to_array())
        >>> y.shape == quiet.shape, int(np.abs(y[-8_000:]).max()) > 4 * 300
        (True, True)
    """
    return apm_stage("auto_gain()", _only(auto_gain_control=True), None, 0)


@stage_entry(cli={"": "--high-pass"})
def high_pass() -> Stage[AudioFrame, AudioFrame]:
    """Remove DC and low-frequency rumble with LiveKit's audio processing module.

    `process` with ``high_pass_filter=True``: WebRTC's high-pass filter (cut-off near
    80 Hz; measured: a 30 Hz tone drops by about 79 dB, 1 kHz by 0.4 dB). See `process`
    for framing and formats.

    Returns:
        The stage.

    Raises:
        FormatError: A sample rate other than 8, 16, 32 or 48 kHz (resample first), or a
            format change mid-stream.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> hum = lk.sine(30, 1.0, 16_000, amplitude=0.5)
        >>> y = lk.run_sync((hum | lk.high_pass()).to_array())
        >>> int(np.abs(y[8_000:]).max()) < 50
        True
    """
    return apm_stage("high_pass()", _only(high_pass_filter=True), None, 0)


@stage_entry()
def echo_cancel(
    reference: Stream[AudioFrame], *, delay_ms: int = 0
) -> Stage[AudioFrame, AudioFrame]:
    """Remove the echo of ``reference`` (what was played) from the stream (what was recorded).

    `process` with ``echo_cancellation=True``: WebRTC's AEC3 learns the echo path from the
    far-end ``reference`` and subtracts its echo from the near-end stream, keeping the
    near-end talker. ``reference`` is read in lockstep with the stream, sample for sample
    from the first frame of each; if it ends first, silence is used. AEC3 estimates the echo
    delay itself and converges within a few seconds (measured: echo 30 to 43 dB lower with
    20 to 200 ms echo paths); an echo exactly simultaneous with the reference (0 ms) is
    cancelled far less (measured 1 to 12 dB), but no acoustic echo path has zero delay.

    Args:
        reference: The far-end audio at the stream's rate and channel count, int16 or
            float32. Opened once per iteration of the stream and closed when it ends.
        delay_ms: A hint for the echo delay, 0 to 500 ms (``set_stream_delay_ms``).

    Returns:
        The stage.

    Raises:
        ParameterError: ``reference`` is not a `Stream`, or ``delay_ms`` not an int in
            0 to 500.
        FormatError: A sample rate other than 8, 16, 32 or 48 kHz, a reference whose rate or
            channel count differs from the stream's, or a format change mid-stream.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> far = lk.noise(4.0, 16_000, amplitude=0.3, seed=1)
        >>> x = lk.run_sync(far.to_array())
        >>> echo = np.concatenate([np.zeros(800, np.int16), x[:-800] // 2])  # 50 ms later
        >>> y = lk.run_sync((lk.from_array(echo, 16_000) | lk.echo_cancel(far)).to_array())
        >>> def rms(a): return float(np.sqrt(np.mean(a[32_000:].astype(np.float64) ** 2)))
        >>> y.shape == echo.shape, rms(y) < rms(echo) / 10
        (True, True)
    """
    delay = _check_echo_args(True, reference, delay_ms)
    return apm_stage(
        f"echo_cancel(delay_ms={delay})", _only(echo_cancellation=True), reference, delay
    )


# -- validation --------------------------------------------------------------------------


def _only(**enabled: bool) -> Features:
    flags = {
        "noise_suppression": False,
        "echo_cancellation": False,
        "auto_gain_control": False,
        "high_pass_filter": False,
    }
    flags.update(enabled)
    return Features(**flags)


def _feature_items(features: Features) -> list[tuple[str, bool]]:
    return [
        ("noise_suppression", features.noise_suppression),
        ("echo_cancellation", features.echo_cancellation),
        ("auto_gain_control", features.auto_gain_control),
        ("high_pass_filter", features.high_pass_filter),
    ]


def _check_flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{what} must be a bool (got {type(value).__name__})")
    return value


def _check_echo_args(echo: bool, reference: object, delay_ms: object) -> int:
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, int | np.integer):
        raise ParameterError(f"delay_ms must be an int (got {type(delay_ms).__name__})")
    if not 0 <= delay_ms <= MAX_DELAY_MS:
        raise ParameterError(f"delay_ms must be within 0 to {MAX_DELAY_MS} ms (got {delay_ms})")
    if not echo:
        if reference is not None:
            raise ParameterError("reference= is only used with echo_cancellation=True")
        if delay_ms:
            raise ParameterError("delay_ms= is only used with echo_cancellation=True")
        return 0
    if not isinstance(reference, Stream):
        raise ParameterError(
            "echo cancellation needs reference=, the far-end audio as an lkframes Stream "
            f"(got {type(reference).__name__})"
        )
    return int(delay_ms)
