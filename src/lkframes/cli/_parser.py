"""The ``lkframes`` argument parser.

Building it imports nothing heavy: each command's options are added, importing the modules
that define them (the stage registry, numpy), only for the command that runs, and each
handler imports its command's module when called. ``lkframes --version`` and ``--help``
list the commands without either (tests/test_startup.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import lkframes as lk

__all__ = ("COMMANDS", "build_parser", "named_command")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    from ._demo import MAX_SECONDS

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


COMMANDS = {
    "demo": "run a pipeline on a built-in speech-like signal and report what it did",
    "info": "show an audio file's format and duration (and level, with --exact)",
    "convert": "convert an audio file: rate, channels, gain, frame size, format",
    "run": "run a pipeline written as JSON or YAML",
    "split": "cut an audio file into one file per utterance (Silero or WebRTC VAD), with an index",
}
"""Each command's one-line help: all that ``lkframes --help`` shows of it."""


def build_parser(commands: Collection[str] = tuple(COMMANDS)) -> argparse.ArgumentParser:
    """The argument parser; each command sets ``handler``, which returns the exit status.

    Only the ``commands`` named get their options, which import the modules that define
    them (the stage registry, numpy); the others are only listed, as ``--help`` shows them.
    """
    parser = argparse.ArgumentParser(
        prog="lkframes",
        description="Typed, streaming, zero-copy audio pipelines for LiveKit.",
    )
    parser.add_argument("--version", action=_Version, help="show lkframes' version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    builders = {
        "demo": _add_demo,
        "info": _add_info,
        "convert": _add_convert,
        "run": _add_run,
        "split": _add_split,
    }
    for name, help_text in COMMANDS.items():
        command = subparsers.add_parser(name, help=help_text)
        if name in commands:
            builders[name](command)
    return parser


class _Version(argparse.Action):
    """``--version``: reads the version (``importlib.metadata``, 15 ms at start-up) only
    when it is asked for, not every time a parser is built."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.update(nargs=0, default=argparse.SUPPRESS)
        super().__init__(option_strings, argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(f"lkframes {lk.__version__}")
        parser.exit()


def named_command(argv: Sequence[str] | None) -> set[str]:
    """The command ``argv`` names, the first word that is no option (none: an empty set)."""
    words = sys.argv[1:] if argv is None else argv
    return {next((word for word in words if not word.startswith("-")), "")} & COMMANDS.keys()


def _add_demo(demo: argparse.ArgumentParser) -> None:
    from ._demo import DEMO_INPUT_RATE, DEMO_SECONDS, PIPELINE_TEXT

    demo.description = (
        f"Run {PIPELINE_TEXT} on a built-in, deterministic speech-like signal "
        f"({DEMO_INPUT_RATE} Hz mono int16) and print the formats, the frames and the "
        "speed in x realtime (audio seconds per wall-clock second)."
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


def _output_flags(parser: argparse.ArgumentParser) -> None:
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON summary")
    output.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing on success, no progress bar"
    )


def _add_info(info: argparse.ArgumentParser) -> None:
    from ._input import add_input_flags, add_reading_flags

    info.description = (
        "Show an audio file's container, codec, format and duration, from its "
        "header where the header says the length (instant, as soxi); a file whose header "
        "only allows an estimate (an ADTS .aac, an MP3 without a frame count, stdin) is "
        "decoded to count. --exact decodes any file: the exact length, its peak and RMS "
        "level in dBFS, and any damage skipped. --loudness decodes it too and measures "
        "its loudness (BS.1770 / EBU R128: integrated LUFS and true peak)."
    )
    info.add_argument("file", type=Path, help="audio file, or - for stdin")
    info.add_argument(
        "--exact", action="store_true", help="decode the whole file: exact length and level"
    )
    info.add_argument(
        "--loudness",
        action="store_true",
        help="decode the whole file and measure its loudness: integrated LUFS, true peak "
        "(needs lkframes[loudness])",
    )
    add_input_flags(info)
    add_reading_flags(info)
    _output_flags(info)
    info.set_defaults(handler=_info_command, parser=info)


def _add_run(run: argparse.ArgumentParser) -> None:
    from ._input import add_reading_flags

    run.description = (
        'Run a pipeline file: {"input": ..., "output": ..., "stages": '
        '[{"stage": "resample", "sample_rate": 16000}, ...]}. Paths are relative to '
        "the pipeline file."
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
    run.set_defaults(handler=_run_command, parser=run)


def _add_convert(convert: argparse.ArgumentParser) -> None:
    from ._input import add_input_flags, add_reading_flags
    from ._stage_flags import add_stage_flags

    convert.description = (
        "Stream IN through the stages below and write OUT, its format from the "
        "extension: .wav, .flac, .ogg, .opus, .mp3. WAV and FLAC are written as 16-bit PCM, as "
        "sox and ffmpeg do, unless --dtype float32 or --subtype says otherwise (a 24-bit input "
        "keeps its depth). OUT may be IN itself, with --overwrite. Many files: give several "
        "INs, folders or quoted glob patterns ('talks/**/*.mp3') and a folder as OUT; the "
        "tree is mirrored there, --jobs files at a time, files already converted are skipped "
        "(run it again to resume), and a file that fails is reported without stopping the "
        "others (exit status 1)."
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
    convert.set_defaults(handler=_convert_command, parser=convert)


def _add_split(split: argparse.ArgumentParser) -> None:
    from ._input import add_input_flags, add_reading_flags
    from ._split import add_split_flags

    split.description = (
        "Find the speech in IN with Silero VAD (as lk.utterances: Silero's own segment "
        "rules) and write each utterance to a file of its own in OUT_DIR, named "
        "IN's-name-0001.wav and so on, with an index (index.json or index.csv: file, start "
        "and end in seconds and in samples). OUT_DIR appears only once complete. Needs "
        "onnxruntime: pip install 'lkframes[vad]'; --vad-model webrtc runs WebRTC's VAD "
        "instead, which needs only webrtcvad: pip install 'lkframes[vad-webrtc]'."
    )
    split.add_argument("input", type=str, metavar="IN", help="audio file to read (- for stdin)")
    split.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="folder to write into")
    split.add_argument(
        "--vad",
        action="store_true",
        required=True,
        help="split at the speech the VAD finds (Silero's; see --vad-model)",
    )
    add_split_flags(split)
    split.add_argument(
        "--ext",
        default="wav",
        choices=["wav", "flac", "ogg", "opus", "mp3"],
        help="the format of the files (default wav)",
    )
    split.add_argument(
        "--index", default="json", choices=["json", "csv"], help="the index's format"
    )
    split.add_argument(
        "--overwrite", action="store_true", help="write into OUT_DIR even if it has files"
    )
    add_input_flags(split)
    add_reading_flags(split)
    _output_flags(split)
    split.set_defaults(handler=_split_command, parser=split)


def _split_command(args: argparse.Namespace) -> int:
    from ._split import split_command

    return split_command(args)


def _info_command(args: argparse.Namespace) -> int:
    from ._info import info_command

    return info_command(args)


def _run_command(args: argparse.Namespace) -> int:
    from ._run import run_command

    return run_command(args)


def _convert_command(args: argparse.Namespace) -> int:
    from ._entry import convert_entry

    return convert_entry(args)


def _demo_command(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    result = run_demo(args.seconds, args.out)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    elif not args.quiet:
        print(result.to_text())
    return 0
