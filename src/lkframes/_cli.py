"""The ``lkframes`` command.

    $ lkframes demo                     # the core pipeline on built-in audio, writes out.wav
    $ lkframes info talk.flac           # format, duration, peak/RMS level
    $ lkframes convert talk.flac out.wav --rate 16000 --channels 1 --chunk-ms 20
    $ lkframes run pipeline.json        # a pipeline written as JSON or YAML

Every command takes ``--json`` (a machine-readable summary) or ``--quiet``; work that lasts
over a second shows a progress bar on stderr (not with ``--quiet``/``--json``).

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
from pathlib import Path
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
    stream = (
        lk.from_array(x, DEMO_INPUT_RATE)
        .resample(DEMO_OUTPUT_RATE)
        .chunk(ms=DEMO_FRAME_MS)
        .map(attenuate)
        .tap(frames.append)
    )

    async def timed() -> float:
        start = time.perf_counter()
        if out is None:
            await stream.run()
        else:
            await stream.to_file(out, overwrite=True)
        return time.perf_counter() - start

    wall = lk.run_sync(timed())

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
    _output_flags(demo)
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("out.wav"),
        metavar="PATH",
        help="WAV file to write the result to, replaced if it exists (default out.wav); "
        "a waveform/spectrogram PNG goes beside it when matplotlib is installed",
    )
    demo.add_argument(
        "--seconds",
        type=_seconds,
        default=DEMO_SECONDS,
        metavar="S",
        help=f"length of the signal in seconds (default {DEMO_SECONDS:g})",
    )
    _add_file_commands(commands)
    return parser


# -- info, convert, run ------------------------------------------------------------------


def _decibels(value: float) -> float | None:
    return None if value <= 0 else 20.0 * math.log10(value)


class _LevelMeter:
    """Peak and RMS level over a stream, in full-scale units."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.sum_squares = 0.0
        self.count = 0

    def __call__(self, frame: lk.AudioFrame) -> None:
        data = frame.data
        scale = 1.0 / 32768.0 if data.dtype == np.int16 else 1.0
        if data.size:
            peak = float(np.abs(data).max()) * scale
            self.peak = max(self.peak, peak)
            # np.square + sum, not np.dot: a BLAS dot starts OpenBLAS threads that fight the
            # decoding thread for the 2 cores and made `info` 7x slower.
            as_float = data.astype(np.float64)
            self.sum_squares += float(np.square(as_float).sum()) * scale * scale
            self.count += data.size

    @property
    def rms(self) -> float:
        return math.sqrt(self.sum_squares / self.count) if self.count else 0.0


def _progress(
    stream: lk.Stream[lk.AudioFrame], total_seconds: float | None, enabled: bool, label: str
) -> tuple[lk.Stream[lk.AudioFrame], Callable[[], None]]:
    """Add a progress bar on stderr, shown only for work that lasts over a second."""
    from tqdm import tqdm

    bar = tqdm(
        total=None if total_seconds is None else round(total_seconds, 3),
        unit="s",
        unit_scale=False,
        desc=label,
        delay=1.0,
        disable=not enabled,
        file=sys.stderr,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]"
        if total_seconds
        else "{desc}: {n:.1f} s [{elapsed}]",
    )

    def advance(frame: lk.AudioFrame) -> None:
        bar.update(frame.duration)

    return stream.tap(advance), bar.close


def _format_json(fmt: lk.AudioFormat) -> dict[str, Any]:
    return {"sample_rate": fmt.sample_rate, "num_channels": fmt.num_channels, "dtype": fmt.dtype}


def _info_command(args: argparse.Namespace) -> int:
    info = lk.file_info(args.file)
    meter = _LevelMeter()
    stream, close_bar = _progress(
        lk.from_file(info.path).tap(meter),
        info.duration,
        not (args.quiet or args.json),
        "measuring",
    )
    try:
        summary = lk.run_sync(stream.run())
    finally:
        close_bar()
    peak, rms = _decibels(meter.peak), _decibels(meter.rms)
    result = {
        "command": "info",
        "path": str(info.path),
        "container": info.container,
        "codec": info.codec,
        "backend": info.backend,
        "format": _format_json(info.format),
        "samples_per_channel": summary.samples_per_channel,
        "duration_s": summary.duration,
        "peak_dbfs": peak,
        "rms_dbfs": rms,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    elif not args.quiet:
        level = (
            "silent" if peak is None or rms is None else f"peak {peak:.1f} dBFS, RMS {rms:.1f} dBFS"
        )
        print(
            "\n".join(
                (
                    f"{info.path}",
                    f"  file      {info.container} / {info.codec} (read with {info.backend})",
                    f"  format    {info.format}",
                    f"  duration  {summary.duration:.3f} s ({summary.samples_per_channel} samples)",
                    f"  level     {level}",
                )
            )
        )
    return EXIT_OK


def _convert_stream(args: argparse.Namespace) -> lk.Stream[lk.AudioFrame]:
    stream = lk.from_file(args.input)
    assert stream.format is not None
    in_channels = stream.format.num_channels
    channels = args.channels
    # Down-mix before resampling (less to resample), up-mix after.
    if channels is not None and channels < in_channels:
        stream = stream.remix(channels)
    if args.rate is not None:
        stream = stream.resample(args.rate, args.quality)
    if channels is not None and channels > in_channels:
        stream = stream.remix(channels)
    if args.gain_db is not None:
        stream = stream.gain(args.gain_db)
    if args.dtype is not None:
        stream = stream.to_dtype(args.dtype)
    if args.chunk_ms is not None:
        stream = stream.chunk(ms=args.chunk_ms)
    return stream


def _write_and_report(
    command: str,
    stream: lk.Stream[lk.AudioFrame],
    source: lk.AudioFileInfo,
    output: Path | None,
    args: argparse.Namespace,
    *,
    subtype: str | None = None,
    overwrite: bool = False,
) -> int:
    stream, close_bar = _progress(stream, source.duration, not (args.quiet or args.json), command)

    async def work() -> tuple[lk.RunSummary, float]:
        start = time.perf_counter()
        if output is None:
            summary = await stream.run()
        else:
            summary = await stream.to_file(output, subtype=subtype, overwrite=overwrite)
        return summary, time.perf_counter() - start

    try:
        summary, wall = lk.run_sync(work())
    finally:
        close_bar()
    out_fmt = summary.format
    x_realtime = summary.duration / wall if wall > 0 else math.inf
    if args.json:
        print(
            json.dumps(
                {
                    "command": command,
                    "input": str(source.path),
                    "input_format": _format_json(source.format),
                    "output": None if output is None else str(output),
                    "output_format": None if out_fmt is None else _format_json(out_fmt),
                    "frames": summary.frames,
                    "samples_per_channel": summary.samples_per_channel,
                    "duration_s": summary.duration,
                    "wall_s": wall,
                    "x_realtime": x_realtime,
                },
                indent=2,
            )
        )
    elif not args.quiet:
        target = "(not written)" if output is None else str(output)
        print(
            f"{source.path} ({source.format}) -> {target} ({out_fmt}): {summary.frames} frames, "
            f"{summary.duration:.3f} s in {wall:.2f} s ({x_realtime:,.0f}x realtime)"
        )
    return EXIT_OK


def _refuse_existing(output: Path | None, overwrite: bool) -> None:
    if output is not None and output.exists() and not overwrite:
        raise lk.OutputExistsError(f"{str(output)!r} exists; pass --overwrite to replace it")


def _keep_subtype(source: lk.AudioFileInfo, output: Path) -> str | None:
    """The input's PCM subtype (e.g. PCM_24) when the output container can hold it."""
    import soundfile

    container = output.suffix.lower().lstrip(".").upper()
    if not source.codec.startswith("PCM_") or container not in soundfile.available_formats():
        return None
    return source.codec if soundfile.check_format(container, source.codec) else None


def _convert_command(args: argparse.Namespace) -> int:
    _refuse_existing(args.output, args.overwrite)
    source = lk.file_info(args.input)
    subtype = args.subtype
    if subtype is None and args.dtype is None:
        subtype = _keep_subtype(source, args.output)
    return _write_and_report(
        "convert",
        _convert_stream(args),
        source,
        args.output,
        args,
        subtype=subtype,
        overwrite=args.overwrite,
    )


def _run_command(args: argparse.Namespace) -> int:
    spec = lk.PipelineSpec.load(args.pipeline)
    stream = spec.build()
    output = None if spec.output is None else Path(spec.output)
    overwrite = spec.overwrite or args.overwrite
    _refuse_existing(output, overwrite)
    return _write_and_report(
        "run", stream, lk.file_info(spec.input), output, args, overwrite=overwrite
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive (got {value})")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite (got {text})")
    return value


def _output_flags(parser: argparse.ArgumentParser) -> None:
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON summary")
    output.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing on success, no progress bar"
    )


def _add_file_commands(commands: Any) -> None:
    info = commands.add_parser(
        "info",
        help="show an audio file's format, duration and level",
        description="Show an audio file's container, codec, format, duration, and its peak "
        "and RMS level in dBFS (measured by streaming the whole file).",
    )
    info.add_argument("file", type=Path, help="audio file")
    _output_flags(info)
    info.set_defaults(handler=_info_command)

    convert = commands.add_parser(
        "convert",
        help="convert an audio file: rate, channels, gain, frame size, format",
        description="Stream IN through remix/resample/gain/chunk and write OUT (format from "
        "the extension: .wav, .flac, .ogg, .opus, .mp3).",
    )
    convert.add_argument("input", type=Path, metavar="IN", help="audio file to read")
    convert.add_argument("output", type=Path, metavar="OUT", help="audio file to write")
    convert.add_argument("--rate", type=_positive_int, metavar="HZ", help="output sample rate")
    convert.add_argument(
        "--channels", type=_positive_int, metavar="N", help="output channels (1 = mono)"
    )
    convert.add_argument(
        "--chunk-ms", type=_finite_float, metavar="MS", help="cut into frames of MS ms"
    )
    convert.add_argument("--gain-db", type=_finite_float, metavar="DB", help="gain in dB")
    convert.add_argument(
        "--quality",
        choices=["QQ", "LQ", "MQ", "HQ", "VHQ"],
        default="HQ",
        help="soxr resampling quality (default HQ)",
    )
    convert.add_argument("--dtype", choices=["int16", "float32"], help="sample type to process")
    convert.add_argument("--subtype", help="libsndfile subtype of OUT, e.g. PCM_16, PCM_24, FLOAT")
    convert.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    _output_flags(convert)
    convert.set_defaults(handler=_convert_command)

    run = commands.add_parser(
        "run",
        help="run a pipeline written as JSON or YAML",
        description='Run a pipeline file: {"input": ..., "output": ..., "stages": '
        '[{"stage": "resample", "sample_rate": 16000}, ...]}. Paths are relative to '
        "the pipeline file.",
    )
    run.add_argument("pipeline", type=Path, metavar="PIPELINE", help=".json, .yaml or .yml file")
    run.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    _output_flags(run)
    run.set_defaults(handler=_run_command)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lkframes`` command line and return its exit status.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns:
        0 on success, 2 for a usage error, 1 for any other failure.

    Examples:
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
    result = run_demo(args.seconds, args.out)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    elif not args.quiet:
        print(result.to_text())
    return EXIT_OK
