"""``lkframes convert IN OUT``: the stages the flags ask for, an encoding for OUT, and every
problem said in flags and file names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

import lkframes as lk

from ..dsp._run import SUPPORTED_RATES
from ..io._encodings import rate_problem
from ..io._write import container_for, default_subtype
from ._report import Outcome, progress, quiet_stderr, report, timed
from ._stage_flags import CONVERT_ORDER, build_stage, flag_values

__all__ = ("READABLE_ONLY", "WRITABLE", "convert_command", "output_encoding")

WRITABLE = ".wav, .flac, .ogg, .opus or .mp3"
READABLE_ONLY = {
    ".m4a": "m4a (AAC)",
    ".mp4": "MP4",
    ".aac": "AAC",
    ".webm": "WebM",
    ".mkv": "Matroska",
    ".mov": "QuickTime",
}
"""Extensions lkframes reads (with FFmpeg) but cannot write."""

_DEEP = ("PCM_32", "FLOAT", "DOUBLE")
"""Input encodings deeper than 24 bits, which FLAC (24 bits at most) holds as PCM_24."""
_PCM_CONTAINERS = {"WAV", "FLAC", "AIFF", "W64", "RF64", "CAF", "AU"}
_FLOAT_SUBTYPES = {"FLOAT", "DOUBLE"}
_APM_FLAGS = {"denoise": "--denoise", "high_pass": "--high-pass", "auto_gain": "--auto-gain"}


def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    args.parser.error(message)  # the usage line and the message on stderr, exit status 2
    raise AssertionError("unreachable")  # pragma: no cover


def output_encoding(
    output: Path, subtype: str | None, dtype: str | None, source: lk.AudioFileInfo | None
) -> tuple[str, str]:
    """OUT's container and subtype: ``--subtype`` if given, else the input's lossless
    encoding where OUT can hold it (24-bit PCM in FLAC for a deeper one), else 16-bit PCM
    for WAV/FLAC-like files (float with ``--dtype float32``), else the codec's own default.

    Raises:
        ParameterError: OUT's extension cannot be written, or ``subtype`` does not fit it;
            the message names OUT or the flag.
    """
    import soundfile

    suffix = output.suffix.lower()
    if suffix in READABLE_ONLY:
        raise lk.ParameterError(
            f"{output.name}: {READABLE_ONLY[suffix]} files can be read but not written; "
            f"write {WRITABLE}"
        )
    try:
        container = container_for(output, None)
    except lk.ParameterError:
        raise lk.ParameterError(
            f"{output.name}: cannot write files ending in {repr(suffix) if suffix else 'nothing'}; "
            f"write {WRITABLE} (or another type libsndfile writes, such as .aiff)"
        ) from None
    if subtype is not None:
        if not soundfile.check_format(container, subtype.upper()):
            choices = ", ".join(soundfile.available_subtypes(container))
            raise lk.ParameterError(
                f"--subtype {subtype} cannot be written to {_article(container)} {container} "
                f"file; choose one of {choices}"
            )
        return container, subtype.upper()
    codec = source.codec if source is not None and dtype is None else ""
    lossless = codec.startswith("PCM_") or codec in ("FLOAT", "DOUBLE")
    if lossless and soundfile.check_format(container, codec):
        return container, codec  # a 24-bit WAV stays 24-bit in FLAC, a float WAV float
    if codec in _DEEP and soundfile.check_format(container, "PCM_24"):
        return container, "PCM_24"  # as deep as OUT holds: 32-bit or float WAV to FLAC
    if container in _PCM_CONTAINERS:
        if dtype == "float32":
            return container, default_subtype(output, container, "float32")
        return container, "PCM_16"
    return container, default_subtype(output, container, dtype or "float32")


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
    """Refuse, before anything is written, a rate OUT's encoder cannot take (Opus, MP3)."""
    assert stream.format is not None
    problem = rate_problem(subtype, stream.format.sample_rate)
    if problem is not None:
        raise lk.ParameterError(f"{output.name}: {problem[0]}; add --rate {problem[1]}")


def convert_command(args: argparse.Namespace) -> int:
    """``lkframes convert IN OUT [stage flags]``: one file (``args.input``, ``args.output``)."""
    output: Path = args.output
    if output.is_dir():
        raise lk.AudioFileError(f"OUT {str(output)!r} is a directory; give a file name")
    try:
        stages = _flag_stages(args)
        output_encoding(output, args.subtype, args.dtype, None)  # the extension, now
    except lk.ParameterError as exc:
        _usage(args, str(exc))
    if output.exists() and not args.overwrite:
        raise lk.OutputExistsError(f"{str(output)!r} exists; pass --overwrite to replace it")
    refused = None
    with quiet_stderr(args.quiet or args.json):  # native decoders' chatter; errors come after
        source = lk.file_info(args.input)
        container, subtype = output_encoding(output, args.subtype, args.dtype, source)
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


def _article(word: str) -> str:
    """``an`` before MP3, OGG, AIFF, ``a`` before WAV, FLAC (said as letters or a word)."""
    return "an" if word[:1] in "AEFHILMNORSX" and word != "FLAC" else "a"
