"""``lkframes convert IN OUT``: the stages the flags ask for, an encoding for OUT, and every
problem said in flags and file names."""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import lkframes as lk

from ..dsp._run import SUPPORTED_RATES
from ..io._choose import output_encoding
from ..io._encodings import channel_problem, rate_problem
from ..io._read import read_with_info
from ._input import (
    STDIO,
    Caveats,
    decoder_output,
    in_flags,
    input_of,
    read_options,
    saying_what_became_of,
)
from ._report import Outcome, progress, report, timed
from ._stage_flags import CONVERT_ORDER, build_stage, flag_values

__all__ = ("convert_command", "is_batch")

_APM_FLAGS = {"denoise": "--denoise", "high_pass": "--high-pass", "auto_gain": "--auto-gain"}


def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    args.parser.error(message)  # the usage line and the message on stderr, exit status 2
    raise AssertionError("unreachable")  # pragma: no cover


def _flag_stages(args: argparse.Namespace) -> dict[str, Any]:
    """The stages the flags ask for, by name, built (so checked) before any file is read."""
    if args.true_peak is not None and args.loudness is None:
        raise lk.ParameterError("--true-peak needs --loudness too (the target it limits)")
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
        "normalize": "--loudness" if args.loudness is None else f"--loudness {args.loudness:g}",
        "limit": f"--limit {args.limit:g}" if args.limit is not None else "--limit",
    }
    return words.get(name, name)


def _refused(
    name: str, args: argparse.Namespace, exc: lk.LkFramesError, source: lk.AudioFormat
) -> str:
    """A stage's refusal of ``source`` (the format reaching it), in the command line's words."""
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
            f'{flags}: {exc.message}; for this mix, give a remix stage a "matrix" of '
            f"{source.num_channels} rows of {args.channels} gains in a pipeline file "
            "(lkframes run)"
        )
    message = exc.message if isinstance(exc, lk.ParameterError) else str(exc)
    return f"{flags}: {message}"


def open_input(args: argparse.Namespace) -> tuple[lk.AudioFileInfo, lk.Stream[lk.AudioFrame]]:
    """IN's header and its stream, as the input flags say (usage errors in flags)."""
    try:
        return read_with_info(input_of(args.input), **read_options(args))
    except lk.ParameterError as exc:
        _usage(args, in_flags(str(exc)))


def convert_stream(
    args: argparse.Namespace, stages: dict[str, Any], stream: lk.Stream[lk.AudioFrame]
) -> lk.Stream[lk.AudioFrame]:
    """IN's ``stream`` through ``stages`` in `CONVERT_ORDER`; an up-mix goes after
    resampling instead."""
    assert stream.format is not None
    up_mix = "remix" in stages and args.channels > stream.format.num_channels
    order = [n for n in stages if not (n == "remix" and up_mix)]
    if up_mix:
        order.insert(order.index("resample") + 1 if "resample" in order else 0, "remix")
    for name in order:
        try:
            stream = stream.pipe(stages[name])
        except (lk.ParameterError, lk.FormatError) as exc:
            assert stream.format is not None  # a file's format is known, and each stage's
            raise lk.ParameterError(_refused(name, args, exc, stream.format)) from None
    return stream


def _write(
    args: argparse.Namespace,
    stream: lk.Stream[lk.AudioFrame],
    source: lk.AudioFileInfo,
    encoding: tuple[str, str],
) -> tuple[lk.RunSummary, float]:
    """Write OUT (stdout for ``-``): beside it, renamed into place when complete."""
    to_stdout = str(args.output) == STDIO
    target: Any = sys.stdout.buffer if to_stdout else args.output
    stream, close_bar = progress(stream, source.duration, not (args.quiet or args.json), "convert")
    try:
        result: tuple[lk.RunSummary, float] = timed(
            lambda: lk.run_sync(
                stream.to_file(
                    target,
                    subtype=encoding[1],
                    format=encoding[0],
                    overwrite=args.overwrite,
                    partial="discard",
                )
            )
        )
    except lk.AudioFileError as exc:
        if to_stdout and "Broken pipe" in str(exc):  # the reader of stdout left
            raise BrokenPipeError(str(exc)) from exc
        raise
    finally:
        close_bar()
    return result


def _check_rate(output: Path, subtype: str, stream: lk.Stream[lk.AudioFrame]) -> None:
    """Refuse, before anything is written, a rate OUT's encoder cannot take (Opus, MP3,
    AAC), or more channels than AAC holds."""
    assert stream.format is not None
    problem = rate_problem(subtype, stream.format.sample_rate)
    if problem is not None:
        raise lk.ParameterError(f"{output}: {problem[0]}; add --rate {problem[1]}")
    too_many = channel_problem(subtype, stream.format.num_channels)
    if too_many is not None:
        raise lk.ParameterError(f"{output}: {too_many[0]}; add --channels {too_many[1]}")


def convert_command(args: argparse.Namespace) -> int:
    """``lkframes convert IN OUT [stage flags]``: one file (``args.input``, ``args.output``;
    ``-`` for stdin or stdout)."""
    output: Path = args.output
    to_stdout = str(output) == STDIO
    named = output.with_name(f"stdout.{args.ext.lstrip('.')}") if to_stdout else output
    if output.is_dir() and not to_stdout:
        raise lk.AudioFileError(f"OUT {str(output)!r} is a directory; give a file name")
    try:
        stages = _flag_stages(args)
        if "normalize" in stages and str(args.input) == STDIO:
            raise lk.ParameterError(
                f"{_flags_of('normalize', args)} reads IN twice (it measures the loudness, "
                "then applies the gain); give IN as a file, not - (stdin)"
            )
        output_encoding(named, args.subtype, args.dtype, None, subtype_name="--subtype")
    except lk.ParameterError as exc:
        _usage(args, str(exc).replace("stdout.", "--ext ") if to_stdout else str(exc))
    if output.exists() and not args.overwrite and not to_stdout:
        raise lk.OutputExistsError(f"{str(output)!r} exists; pass --overwrite to replace it")
    caveats = Caveats("convert")
    told = None if to_stdout else output
    with decoder_output(args.verbose, explain=not args.quiet), caveats.watching():
        source, stream = open_input(args)
        encoding = output_encoding(
            named, args.subtype, args.dtype, source, subtype_name="--subtype"
        )
        try:
            stream = convert_stream(args, stages, stream)
            _check_rate(named, encoding[1], stream)
        except lk.ParameterError as exc:
            _usage(args, str(exc))
        with saying_what_became_of("convert", told):
            summary, wall = _write(args, stream, source, encoding)
    outcome = Outcome("convert", source, output, encoding, summary, wall, args.chunk_ms)
    report(outcome, as_json=args.json, quiet=args.quiet, caveats=caveats, to_stderr=to_stdout)
    return 0


def is_batch(paths: Sequence[str | Path]) -> bool:
    """Whether ``convert`` was given many files: more than one IN, a folder or a pattern as
    IN, or a folder (existing, or written with a trailing slash) as OUT.

    OUT's slash is seen only in a ``str``: ``Path("out/")`` is ``Path("out")``."""
    if len(paths) != 2:
        return True
    source, target = paths
    return (
        glob.has_magic(str(source))
        or Path(source).is_dir()
        or Path(target).is_dir()
        or str(target).endswith(("/", os.sep))
    )
