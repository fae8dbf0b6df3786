"""The ``lkframes`` command.

``lkframes demo`` runs the library's core pipeline on a built-in speech-like signal and
reports what it did::

    $ lkframes demo
    $ lkframes demo --json      # the same summary as one JSON object
    $ lkframes demo --quiet     # nothing on success; the exit status says it worked

Exit status: 0 on success, 2 for a usage error, 1 for any other failure (with a one-line
message on stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

import lkframes as lk

__all__ = ("DemoResult", "main", "run_demo", "speech_like")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

DEMO_INPUT_RATE = 44_100
DEMO_OUTPUT_RATE = 48_000
DEMO_FRAME_MS = 20
DEMO_GAIN_DB = -6.0
DEMO_SECONDS = 5.0
_MAX_SECONDS = 3_600.0

PIPELINE_TEXT = (
    f"lk.from_array(x, {DEMO_INPUT_RATE:_}).resample({DEMO_OUTPUT_RATE:_})"
    f".chunk(ms={DEMO_FRAME_MS}).map(attenuate)"
)
"""The demo's pipeline as the user would write it."""


class DemoCheckError(lk.LkFramesError):
    """The demo's output broke an invariant of the pipeline (a bug in lkframes)."""


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

    Example:
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
            )
        )


def run_demo(seconds: float = DEMO_SECONDS) -> DemoResult:
    """Run the demo pipeline on `speech_like` audio and check what comes out.

    Returns:
        What went in and out, and how long the pipeline took.

    Raises:
        DemoCheckError: The output has the wrong length, frame sizes or pts.
        LkFramesError: Whatever the pipeline raises.
    """
    x = speech_like(seconds, DEMO_INPUT_RATE)
    stream = (
        lk.from_array(x, DEMO_INPUT_RATE)
        .resample(DEMO_OUTPUT_RATE)
        .chunk(ms=DEMO_FRAME_MS)
        .map(attenuate)
    )

    async def timed() -> tuple[list[lk.AudioFrame], float]:
        start = time.perf_counter()
        frames = await stream.collect()
        return frames, time.perf_counter() - start

    frames, wall = lk.run_sync(timed())

    input_format = lk.AudioFormat(DEMO_INPUT_RATE, 1, "int16")
    output_format = input_format.with_(sample_rate=DEMO_OUTPUT_RATE)
    frame_samples = output_format.samples_for(ms=DEMO_FRAME_MS)
    expected = lk.resampled_length(x.shape[0], DEMO_INPUT_RATE, DEMO_OUTPUT_RATE)
    _check(frames, output_format, frame_samples, expected)
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
    )


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


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= _MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be > 0 and <= {_MAX_SECONDS:g} (got {text})")
    return value


def _parser() -> argparse.ArgumentParser:
    """The argument parser; each command sets ``handler``, which returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="lkframes",
        description="Typed, streaming, zero-copy audio pipelines for LiveKit.",
    )
    parser.add_argument("--version", action="version", version=f"lkframes {lk.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run a pipeline on a built-in speech-like signal and report what it did",
        description=(
            f"Run {PIPELINE_TEXT} on a built-in, deterministic speech-like signal "
            f"({DEMO_INPUT_RATE} Hz mono int16) and print the formats, the frames and the "
            "speed in x realtime (audio seconds per wall-clock second)."
        ),
    )
    demo.set_defaults(handler=_demo_command)
    output = demo.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the summary as JSON")
    output.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    demo.add_argument(
        "--seconds",
        type=_seconds,
        default=DEMO_SECONDS,
        metavar="S",
        help=f"length of the signal in seconds (default {DEMO_SECONDS:g})",
    )
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lkframes`` command line and return its exit status.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns:
        0 on success, 2 for a usage error, 1 for any other failure.

    Example:
        >>> main(["demo", "--quiet", "--seconds", "0.5"])
        0
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help, --version and usage errors
        code = exit_.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the command line's last resort: one line, no traceback
        print(f"lkframes {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE


def _demo_command(args: argparse.Namespace) -> int:
    result = run_demo(args.seconds)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    elif not args.quiet:
        print(result.to_text())
    return EXIT_OK
