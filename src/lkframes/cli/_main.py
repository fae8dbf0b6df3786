"""The ``lkframes`` command.

    $ lkframes demo                     # the core pipeline on built-in audio, writes out.wav
    $ lkframes info talk.flac           # format, duration, peak/RMS level
    $ lkframes convert talk.flac out.wav --rate 16000 --channels 1 --chunk-ms 20
    $ lkframes run pipeline.json        # a pipeline written as JSON or YAML

Every command takes ``--json`` (a machine-readable summary) or ``--quiet``; work that lasts
over a second shows a progress bar on stderr (not with ``--quiet``/``--json``).

Exit status: 0 on success, 2 for a usage error, 1 for any other failure (with a one-line
message on stderr), 130 when interrupted (Ctrl-C), 141 when the reader of stdout left
(``lkframes info x.flac | head -1``), silently, as for a Unix tool that SIGPIPE ended.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lkframes as lk

from ._batch import convert_entry
from ._commands import info_command, run_command
from ._demo import DEMO_INPUT_RATE, DEMO_SECONDS, MAX_SECONDS, PIPELINE_TEXT, run_demo
from ._input import DECODER_NOTE, OUTCOME_NOTE, add_input_flags, add_reading_flags, in_flags
from ._stage_flags import add_stage_flags

__all__ = ("EXIT_CLOSED_OUTPUT", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "main")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CLOSED_OUTPUT = 141
"""128 + SIGPIPE (13): what ``seq 9999999 | head -1`` or ``git log | head -1`` give."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be > 0 and <= {MAX_SECONDS:g} (got {text})")
    return value


def _position(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds (got {text})")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (got {text})")
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


def _output_flags(parser: argparse.ArgumentParser) -> None:
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON summary")
    output.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing on success, no progress bar"
    )


def _add_file_commands(commands: Any) -> None:
    info = commands.add_parser(
        "info",
        help="show an audio file's format and duration (and level, with --exact)",
        description="Show an audio file's container, codec, format and duration, from its "
        "header where the header says the length (instant, as soxi); a file whose header "
        "only allows an estimate (an ADTS .aac, an MP3 without a frame count, stdin) is "
        "decoded to count. --exact decodes any file: the exact length, its peak and RMS "
        "level in dBFS, and any damage skipped.",
    )
    info.add_argument("file", type=Path, help="audio file, or - for stdin")
    info.add_argument(
        "--exact", action="store_true", help="decode the whole file: exact length and level"
    )
    add_input_flags(info)
    add_reading_flags(info)
    _output_flags(info)
    info.set_defaults(handler=info_command, parser=info)

    _add_convert(commands)

    run = commands.add_parser(
        "run",
        help="run a pipeline written as JSON or YAML",
        description='Run a pipeline file: {"input": ..., "output": ..., "stages": '
        '[{"stage": "resample", "sample_rate": 16000}, ...]}. Paths are relative to '
        "the pipeline file.",
    )
    run.add_argument("pipeline", type=Path, metavar="PIPELINE", help=".json, .yaml or .yml file")
    run.add_argument(
        "paths",
        type=str,  # not Path, which drops the trailing / that makes OUT a folder
        nargs="*",
        metavar="IN... OUT",
        help="instead of the pipeline's input and output: one file IN and the file OUT to "
        "write (its extension chooses the format), as convert takes them; or many files: "
        "inputs (files, folders, quoted patterns), then the folder to write into, in the "
        "format of the pipeline's output",
    )
    run.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    add_reading_flags(run)
    run.add_argument(
        "--jobs", "-j", type=_jobs, default=None, metavar="N",
        help="with many files: files run at once (default: the CPU count)",
    )  # fmt: skip
    _output_flags(run)
    run.set_defaults(handler=run_command, parser=run)


def _add_convert(commands: Any) -> None:
    convert = commands.add_parser(
        "convert",
        help="convert an audio file: rate, channels, gain, frame size, format",
        description="Stream IN through the stages below and write OUT, its format from the "
        "extension: .wav, .flac, .ogg, .opus, .mp3. WAV and FLAC are written as 16-bit PCM, as "
        "sox and ffmpeg do, unless --dtype float32 or --subtype says otherwise (a 24-bit input "
        "keeps its depth). OUT may be IN itself, with --overwrite. Many files: give several "
        "INs, folders or quoted glob patterns ('talks/**/*.mp3') and a folder as OUT; the "
        "tree is mirrored there, --jobs files at a time, files already converted are skipped "
        "(run it again to resume), and a file that fails is reported without stopping the "
        "others (exit status 1).",
    )
    convert.add_argument(
        "inputs",
        type=Path,
        nargs="+",
        metavar="IN",
        help="audio file to read (- for stdin); or several, folders, or quoted glob patterns",
    )
    convert.add_argument(
        "target",
        type=str,  # not Path, which drops the trailing / that makes OUT a folder
        metavar="OUT",
        help="audio file to write (- for stdout, in the format --ext names); or a folder",
    )
    convert.add_argument(
        "--start", type=_position, metavar="S", help="start S seconds into IN (sought)"
    )
    convert.add_argument("--end", type=_position, metavar="S", help="stop S seconds into IN")
    add_stage_flags(convert)
    add_input_flags(convert)
    add_reading_flags(convert)
    convert.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="files converted at once, each in a process of its own (default: the CPU count)",
    )
    convert.add_argument(
        "--ext",
        default="wav",
        metavar="EXT",
        help="the format of the files written into a folder OUT, or to stdout (default wav)",
    )
    convert.add_argument("--subtype", help="libsndfile subtype of OUT, e.g. PCM_16, PCM_24, FLOAT")
    convert.add_argument(
        "--overwrite",
        action="store_true",
        help="replace OUT if it exists; it is replaced only once the new file is complete",
    )
    _output_flags(convert)
    convert.set_defaults(handler=convert_entry, parser=convert)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, lk.MediaFileError):  # a file's problem, said in flags, not Python
        text = in_flags(text)
    for note in getattr(exc, "__notes__", ()):
        if note.startswith(OUTCOME_NOTE):
            text += "; " + note.removeprefix(OUTCOME_NOTE)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lkframes`` command line and return its exit status.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns:
        0 on success, 2 for a usage error, 1 for any other failure, 141 when the reader of
        stdout left before all was printed (nothing more is printed then).

    Examples:
        >>> main(["demo", "--quiet", "--seconds", "0.5"])
        0
    """
    try:
        status = _main(argv)
        sys.stdout.flush()  # a reader that left shows here, not as a message at exit
    except BrokenPipeError:
        return _closed_output()
    return status


def _closed_output() -> int:
    """stdout's reader left (``| head -1``): end quietly, as Unix tools do.

    What is still buffered for stdout goes to the null device instead, so that Python's
    own flush at exit does not print a ``BrokenPipeError`` of its own.
    """
    try:
        stdout = sys.stdout.fileno()
    except (OSError, ValueError):  # a stdout that is no file (a test's capture)
        return EXIT_CLOSED_OUTPUT
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stdout)
    os.close(devnull)
    return EXIT_CLOSED_OUTPUT


def _main(argv: Sequence[str] | None) -> int:
    try:
        parser = _parser()
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help, --version and usage errors
        code = exit_.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    except KeyboardInterrupt:  # Ctrl-C while the options are read: no traceback
        return 130
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    handler: Callable[[argparse.Namespace], int] = args.handler
    with _terminate_as_interrupt() as terminated:
        try:
            return handler(args)
        except SystemExit as exit_:  # a usage error found by the command (argparse's error())
            return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
        except KeyboardInterrupt:
            return 128 + terminated[0] if terminated else 130
        except BrokenPipeError:
            raise  # stdout's reader left: main's to handle, with no message
        except Exception as exc:  # the command line's last resort: one line, no traceback
            print(f"lkframes {args.command}: error: {_one_line(exc)}", file=sys.stderr)
            for note in getattr(exc, "__notes__", ()):
                if note.startswith(DECODER_NOTE):  # what a decoder said, where it explains
                    print(note.replace("\n", "\n  "), file=sys.stderr)
            return EXIT_FAILURE


@contextmanager
def _terminate_as_interrupt() -> Iterator[list[int]]:
    """Handle SIGTERM (``kill``, ``timeout``, systemd) and SIGHUP (a closed terminal, an ssh
    session that drops) as Ctrl-C, so that they clean up too.

    Python's default for them ends the process at once: a convert then left its hidden
    temporary file behind. Here they raise SIGINT, which cancels the run and runs every
    ``finally``; the exit status is still 128 + the signal (143, 129). The list holds the
    signal once it came. With SIGINT ignored (a shell's ``cmd &``) they raise
    KeyboardInterrupt themselves; one ignored at the start (``nohup``) stays ignored.
    """
    terminated: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield terminated  # signal handlers can only be set from the main thread
        return

    def on_terminate(signum: int, _frame: object) -> None:
        terminated.append(signum)
        if callable(signal.getsignal(signal.SIGINT)):
            signal.raise_signal(signal.SIGINT)  # asyncio's handler cancels the run cleanly
            return
        # SIGINT ignored (a shell's `cmd &`): stop as Python's own Ctrl-C would, but not
        # from here while a loop runs: raised between any two bytecodes, a KeyboardInterrupt
        # could land in the callback that hands a worker thread's result to its task and be
        # lost there, leaving the run waiting forever (seen once in CI). The loop raises
        # it from a callback of its own, between two callbacks.
        asyncio = sys.modules.get("asyncio")  # no loop can run before it is imported
        try:
            loop = asyncio.get_running_loop() if asyncio is not None else None
        except RuntimeError:
            loop = None
        if loop is None:
            raise KeyboardInterrupt
        loop.call_soon_threadsafe(_interrupt)

    # A signal ignored when we started stays ignored: `nohup` ignores SIGHUP so that a
    # closed terminal does not stop the run, and a background job may ignore SIGTERM.
    stops = [s for s in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(s) != signal.SIG_IGN]
    previous = {stop: signal.signal(stop, on_terminate) for stop in stops}
    try:
        yield terminated
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def _interrupt() -> None:
    """Stop the running loop as Ctrl-C would (a loop callback: see `_terminate_as_interrupt`)."""
    raise KeyboardInterrupt


def _demo_command(args: argparse.Namespace) -> int:
    result = run_demo(args.seconds, args.out)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    elif not args.quiet:
        print(result.to_text())
    return EXIT_OK
