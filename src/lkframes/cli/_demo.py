"""``lkframes demo``: the core pipeline on a built-in speech-like signal, checked."""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

import lkframes as lk

from .._core.errors import DemoCheckError

__all__ = ("DemoResult", "attenuate", "run_demo", "speech_like")

DEMO_INPUT_RATE = 44_100
DEMO_OUTPUT_RATE = 48_000
DEMO_FRAME_MS = 20
DEMO_GAIN_DB = -6.0
DEMO_SECONDS = 5.0
MAX_SECONDS = 3_600.0
"""The longest `lkframes demo --seconds`."""

PIPELINE_TEXT = (
    f"lk.from_array(x, {DEMO_INPUT_RATE:_}).resample({DEMO_OUTPUT_RATE:_})"
    f".chunk(ms={DEMO_FRAME_MS}).map(attenuate)"
)
"""The demo's pipeline as the user would write it."""


def speech_like(
    seconds: float, sample_rate: int = DEMO_INPUT_RATE, *, seed: int = 0
) -> NDArray[np.int16]:
    """A deterministic, speech-like mono int16 signal.

    Eight harmonics of a pitch wandering around 140 Hz, shaped into 0.2 s "syllables"
    grouped in 1.6 s phrases with 0.4 s pauses, plus a little noise (about -50 dBFS).
    Peaks reach about -6 dBFS.

    Args:
        seconds: Length (rounded to whole samples).
        sample_rate: Hz.
        seed: Seed of the noise.

    Returns:
        A 1-D int16 array of ``round(seconds * sample_rate)`` samples.

    Examples:
        >>> x = speech_like(1.0, 16_000)
        >>> x.shape, x.dtype.name, bool((x == speech_like(1.0, 16_000)).all())
        ((16000,), 'int16', True)
    """
    n = round(seconds * sample_rate)
    t = np.arange(n, dtype=np.float64) / sample_rate
    pitch = 140.0 + 25.0 * np.sin(2 * np.pi * 0.7 * t) + 8.0 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 9))
    syllables = np.sin(np.pi * 5.0 * t) ** 2  # 5 syllables per second, zero between
    phrases = (t % 2.0) < 1.6  # 1.6 s of speech, 0.4 s pause; edges fall on syllable zeros
    signal = 0.5 * voice / 1.9 * syllables * phrases
    signal += np.random.default_rng(seed).normal(0.0, 0.003, n)
    return np.clip(np.rint(signal * 32768.0), -32768, 32767).astype(np.int16)


_GAIN = np.float32(10.0 ** (DEMO_GAIN_DB / 20.0))


def attenuate(frame: lk.AudioFrame) -> NDArray[np.int16]:
    """The demo's processing step: -6 dB of gain on an int16 frame, rounded and clipped."""
    scaled = frame.data.astype(np.float32) * _GAIN
    out: NDArray[np.int16] = np.clip(np.rint(scaled), -32768, 32767).astype(np.int16)
    return out


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What `run_demo` did."""

    seconds: float
    """Requested length of the signal."""
    input_format: lk.AudioFormat
    input_samples: int
    output_format: lk.AudioFormat
    output_samples: int
    frames: int
    frame_samples: int
    """Samples per channel of every frame but possibly the last."""
    last_frame_samples: int
    wall_seconds: float
    """Wall-clock time of running the pipeline (not of making the signal)."""
    out: Path | None = None
    """The WAV file written, if any."""
    picture: Path | None = None
    """The waveform/spectrogram PNG written (only when matplotlib is installed)."""

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio the pipeline produced."""
        return self.output_samples / self.output_format.sample_rate

    @property
    def x_realtime(self) -> float:
        """Audio seconds processed per wall-clock second."""
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else math.inf

    def to_json(self) -> dict[str, Any]:
        """The summary printed by ``lkframes demo --json``."""

        def fmt(f: lk.AudioFormat, samples: int) -> dict[str, Any]:
            return {
                "sample_rate": f.sample_rate,
                "num_channels": f.num_channels,
                "dtype": f.dtype,
                "samples_per_channel": samples,
                "duration_s": samples / f.sample_rate,
            }

        return {
            "command": "demo",
            "lkframes_version": lk.__version__,
            "pipeline": PIPELINE_TEXT,
            "gain_db": DEMO_GAIN_DB,
            "input": fmt(self.input_format, self.input_samples),
            "output": fmt(self.output_format, self.output_samples),
            "frames": {
                "count": self.frames,
                "duration_ms": DEMO_FRAME_MS,
                "samples_per_channel": self.frame_samples,
                "last_samples_per_channel": self.last_frame_samples,
                "pts_continuous": True,
            },
            "wall_s": self.wall_seconds,
            "x_realtime": self.x_realtime,
            "out": None if self.out is None else str(self.out),
            "picture": None if self.picture is None else str(self.picture),
        }

    def to_text(self) -> str:
        """The summary printed by ``lkframes demo``."""
        i, o = self.input_format, self.output_format
        if self.frames and self.last_frame_samples != self.frame_samples:
            shape = (
                f"{self.frames} frames: {self.frames - 1} of {self.frame_samples} samples "
                f"({DEMO_FRAME_MS} ms) and a last one of {self.last_frame_samples}"
            )
        else:
            shape = f"{self.frames} frames of {self.frame_samples} samples ({DEMO_FRAME_MS} ms)"
        last_pts = (self.frames - 1) * self.frame_samples
        return "\n".join(
            (
                f"lkframes {lk.__version__} demo: {self.seconds:g} s of built-in speech-like audio",
                f"  pipeline  {PIPELINE_TEXT}",
                f"            where attenuate(frame) applies {DEMO_GAIN_DB:g} dB of gain",
                f"  input     {i}: {self.input_samples} samples "
                f"({self.input_samples / i.sample_rate:.3f} s)",
                f"  output    {o}: {self.output_samples} samples ({self.audio_seconds:.3f} s)",
                f"  frames    {shape}",
                f"  pts       0, {self.frame_samples}, ..., {last_pts}: continuous sample indices",
                f"  speed     {self.audio_seconds:.3f} s of audio in "
                f"{self.wall_seconds * 1000:.1f} ms: {self.x_realtime:,.0f}x realtime",
                *([f"  wrote     {self.out}"] if self.out is not None else []),
                *([f"  picture   {self.picture}"] if self.picture is not None else []),
            )
        )


def run_demo(seconds: float = DEMO_SECONDS, out: Path | None = None) -> DemoResult:
    """Run the demo pipeline on `speech_like` audio, write it, and check what comes out.

    Args:
        seconds: Length of the signal.
        out: WAV file to write the result to (replaced if it exists); None to not write.

    Returns:
        What went in and out, and how long the pipeline took.

    Raises:
        DemoCheckError: The output has the wrong length, frame sizes or pts.
        LkFramesError: Whatever the pipeline raises.
    """
    x = speech_like(seconds, DEMO_INPUT_RATE)
    frames: list[lk.AudioFrame] = []

    async def timed(x: NDArray[np.int16], out: Path | None) -> float:
        stream = (
            lk.from_array(x, DEMO_INPUT_RATE)
            .resample(DEMO_OUTPUT_RATE)
            .chunk(ms=DEMO_FRAME_MS)
            .map(attenuate)
            .tap(frames.append)
        )
        start = time.perf_counter()
        if out is None:
            await stream.run()
        else:
            await stream.to_file(out, overwrite=True)
        return time.perf_counter() - start

    # The speed shown is the pipeline's, not the one-time loading of soxr and libsndfile
    # (40-60 ms, ten times the run itself): a 0.1 s pass loads them first.
    with tempfile.TemporaryDirectory() as folder:
        lk.run_sync(
            timed(x[: DEMO_INPUT_RATE // 10], None if out is None else Path(folder) / "w.wav")
        )
    frames.clear()
    wall = lk.run_sync(timed(x, out))

    input_format = lk.AudioFormat(DEMO_INPUT_RATE, 1, "int16")
    output_format = input_format.with_(sample_rate=DEMO_OUTPUT_RATE)
    frame_samples = output_format.samples_for(ms=DEMO_FRAME_MS)
    expected = lk.resampled_length(x.shape[0], DEMO_INPUT_RATE, DEMO_OUTPUT_RATE)
    _check(frames, output_format, frame_samples, expected)
    picture = _plot(x, frames, out.with_suffix(".png")) if out is not None else None
    return DemoResult(
        seconds=seconds,
        input_format=input_format,
        input_samples=x.shape[0],
        output_format=output_format,
        output_samples=sum(f.samples_per_channel for f in frames),
        frames=len(frames),
        frame_samples=frame_samples,
        last_frame_samples=frames[-1].samples_per_channel if frames else 0,
        wall_seconds=wall,
        out=out,
        picture=picture,
    )


def _plot(x: NDArray[np.int16], frames: list[lk.AudioFrame], path: Path) -> Path | None:
    """Waveform and spectrogram of the demo's output as a PNG, if matplotlib is installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    y = np.concatenate([f.data[:, 0] for f in frames]).astype(np.float32) / 32768.0
    t = np.arange(y.shape[0]) / DEMO_OUTPUT_RATE
    figure, (wave_axes, spec_axes) = plt.subplots(2, 1, figsize=(8, 4.5), sharex=True)
    wave_axes.plot(t, y, linewidth=0.4)
    wave_axes.set_ylabel("level (full scale)")
    wave_axes.set_title(f"lkframes demo: {PIPELINE_TEXT}", fontsize=8)
    spec_axes.specgram(y, NFFT=1024, Fs=DEMO_OUTPUT_RATE, noverlap=768)
    spec_axes.set_ylim(0, 4_000)
    spec_axes.set_ylabel("Hz")
    spec_axes.set_xlabel("seconds")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _check(
    frames: list[lk.AudioFrame], fmt: lk.AudioFormat, frame_samples: int, expected: int
) -> None:
    """Raise `DemoCheckError` unless ``frames`` are what the pipeline promises."""
    pts = 0
    for index, frame in enumerate(frames):
        if frame.format != fmt:
            raise DemoCheckError(f"frame {index} has format {frame.format} (expected {fmt})")
        if frame.pts != pts:
            raise DemoCheckError(f"frame {index} has pts {frame.pts} (expected {pts})")
        size = frame.samples_per_channel
        last = index == len(frames) - 1
        if size != frame_samples and not (last and 0 < size < frame_samples):
            raise DemoCheckError(f"frame {index} has {size} samples (expected {frame_samples})")
        pts += size
    if pts != expected:
        raise DemoCheckError(f"output has {pts} samples (expected {expected})")
