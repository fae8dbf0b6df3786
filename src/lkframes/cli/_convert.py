"""``lkframes convert IN OUT``: the stages the flags ask for, an encoding for OUT, and every
problem said in flags and file names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

import lkframes as lk

from ..dsp._run import SUPPORTED_RATES
from ..io._choose import output_encoding
from ..io._encodings import rate_problem
from ..io._write_aac import MAX_AAC_CHANNELS
from ._report import Outcome, progress, quiet_stderr, report, timed
from ._stage_flags import CONVERT_ORDER, build_stage, flag_values

__all__ = ("convert_command",)

_APM_FLAGS = {"denoise": "--denoise", "high_pass": "--high-pass", "auto_gain": "--auto-gain"}


def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    args.parser.error(message)  # the usage line and the message on stderr, exit status 2
    raise AssertionError("unreachable")  # pragma: no cover


def _flag_stages(args: argparse.Namespace) -> dict[str, Any]:
    """The stages the flags ask for, by name, built (so checked) before any file is read."""
    stages = {}
    for name in CONVERT_ORDER:
        values = flag_values(name, args)
        if values is not None:
            stages[name] = build_stage(name, values)
    return stages


def _flags_of(name: str, args: argparse.Namespace) -> str:
    """How the user asked for stage ``name``: its flags and values as typed."""
    if name in _APM_FLAGS:
        return _APM_FLAGS[name]
    words = {
        "remix": f"--channels {args.channels}",
        "resample": f"--rate {args.rate}",
        "chunk": f"--chunk-ms {args.chunk_ms:g}" if args.chunk_ms is not None else "--chunk-ms",
        "gain": f"--gain-db {args.gain_db:g}" if args.gain_db is not None else "--gain-db",
        "to_dtype": f"--dtype {args.dtype}",
    }
    return words.get(name, name)


def _refused(name: str, args: argparse.Namespace, exc: lk.LkFramesError) -> str:
    """A stage's refusal of the input's format, in the command line's words."""
    flags = _flags_of(name, args)
    if isinstance(exc, lk.FormatError) and name in _APM_FLAGS:
        rate = int(str(exc.got).split()[0])
        target = next((r for r in SUPPORTED_RATES if r >= rate), SUPPORTED_RATES[-1])
        return (
            f"{flags}: LiveKit's audio processing takes {exc.expected}, not {exc.got}; "
            f"add --rate {target}"
        )
    if isinstance(exc, lk.ParameterError) and name == "remix":
        return (
            f"{flags}: {exc.message}; to mix other channel counts, use a remix stage with a "
            '"matrix" in a pipeline file (lkframes run)'
        )
    message = exc.message if isinstance(exc, lk.ParameterError) else str(exc)
    return f"{flags}: {message}"


def _convert_stream(args: argparse.Namespace, stages: dict[str, Any]) -> lk.Stream[lk.AudioFrame]:
    """IN through ``stages`` in `CONVERT_ORDER`; an up-mix goes after resampling instead."""
    stream = lk.from_file(args.input)
    assert stream.format is not None
    up_mix = "remix" in stages and args.channels > stream.format.num_channels
    order = [n for n in stages if not (n == "remix" and up_mix)]
    if up_mix:
        order.insert(order.index("resample") + 1 if "resample" in order else 0, "remix")
    for name in order:
        try:
            stream = stream.pipe(stages[name])
        except (lk.ParameterError, lk.FormatError) as exc:
            raise lk.ParameterError(_refused(name, args, exc)) from None
    return stream


def _write(
    args: argparse.Namespace,
    stream: lk.Stream[lk.AudioFrame],
    source: lk.AudioFileInfo,
    container: str,
    subtype: str,
) -> tuple[lk.RunSummary, float]:
    stream, close_bar = progress(stream, source.duration, not (args.quiet or args.json), "convert")
    try:
        result: tuple[lk.RunSummary, float] = timed(
            lambda: lk.run_sync(
                stream.to_file(
                    args.output, subtype=subtype, format=container, overwrite=args.overwrite
                )
            )
        )
    finally:
        close_bar()
    return result


def _check_rate(output: Path, subtype: str, stream: lk.Stream[lk.AudioFrame]) -> None:
    """Refuse, before anything is written, a rate OUT's encoder cannot take (Opus, MP3,
    AAC), or more channels than AAC holds."""
    assert stream.format is not None
    problem = rate_problem(subtype, stream.format.sample_rate)
    if problem is not None:
        raise lk.ParameterError(f"{output.name}: {problem[0]}; add --rate {problem[1]}")
    channels = stream.format.num_channels
    if subtype == "AAC" and channels > MAX_AAC_CHANNELS:
        raise lk.ParameterError(
            f"{output.name}: AAC files hold 1 to {MAX_AAC_CHANNELS} channels, not {channels}; "
            "add --channels 1"
        )


def convert_command(args: argparse.Namespace) -> int:
    """``lkframes convert IN OUT [stage flags]``: one file (``args.input``, ``args.output``)."""
    output: Path = args.output
    if output.is_dir():
        raise lk.AudioFileError(f"OUT {str(output)!r} is a directory; give a file name")
    try:
        stages = _flag_stages(args)
        output_encoding(
            output, args.subtype, args.dtype, None, subtype_name="--subtype"
        )  # the extension, now
    except lk.ParameterError as exc:
        _usage(args, str(exc))
    if output.exists() and not args.overwrite:
        raise lk.OutputExistsError(f"{str(output)!r} exists; pass --overwrite to replace it")
    refused = None
    with quiet_stderr(args.quiet or args.json):  # native decoders' chatter; errors come after
        source = lk.file_info(args.input)
        container, subtype = output_encoding(
            output, args.subtype, args.dtype, source, subtype_name="--subtype"
        )
        try:
            stream = _convert_stream(args, stages)
            _check_rate(output, subtype, stream)
        except lk.ParameterError as exc:
            refused = str(exc)
        else:
            summary, wall = _write(args, stream, source, container, subtype)
    if refused is not None:
        _usage(args, refused)
    outcome = Outcome("convert", source, output, (container, subtype), summary, wall, args.chunk_ms)
    report(outcome, as_json=args.json, quiet=args.quiet)
    return 0
