"""``lkframes run``: pipelines written as data (JSON or YAML), on one file or many."""

from __future__ import annotations

import argparse
from pathlib import Path

import lkframes as lk

from ..batch._process import last_dtype, output_ext, write_pipeline
from ..io._choose import output_encoding
from ..io._encodings import rate_problem
from ._batch import is_batch, run_batch
from ._input import (
    Caveats,
    decoder_output,
    saying_what_became_of,
)
from ._report import (
    Outcome,
    progress,
    report,
    timed,
)

__all__ = ("run_command",)

PIPELINE_SUFFIXES = (".json", ".yaml", ".yml")


def _load(path: Path, input: str | None = None) -> lk.PipelineSpec:
    """The pipeline in ``path``; an audio file given by mistake is named as one."""
    if path.suffix.lower() not in PIPELINE_SUFFIXES:
        hint = ""
        if path.is_file():
            try:
                lk.file_info(path)
            except lk.LkFramesError:
                pass
            else:
                hint = "; it is an audio file: to convert it, use lkframes convert"
        raise lk.PipelineError(
            f"{str(path)!r} is not a pipeline file (a .json, .yaml or .yml file){hint}"
        )
    return lk.PipelineSpec.load(path, input=input)


def run_command(args: argparse.Namespace) -> int:
    """``lkframes run PIPELINE``: read the pipeline, run it, write its output if it has one;
    with ``IN OUT`` after it, the file IN into the file OUT; with ``IN... OUT``, every file
    through it into the folder OUT (as ``convert`` tells one file from many)."""
    if args.paths and is_batch(args.paths):
        return _run_many(args)
    if args.jobs is not None:
        raise lk.ParameterError("--jobs applies to many files: lkframes run PIPELINE IN... OUT")
    spec = _one_file(args) if args.paths else _load(args.pipeline)
    output = None if spec.output is None else Path(spec.output)
    overwrite = spec.overwrite or args.overwrite
    if output is not None and output.exists() and not overwrite:
        raise lk.OutputExistsError(
            f'{str(output)!r} exists; pass --overwrite (or set "overwrite": true) to replace it'
        )
    caveats = Caveats("run")
    with decoder_output(args.verbose, explain=not args.quiet), caveats.watching():
        summary, wall, source, encoding = _run_one(args, spec, output, overwrite)
    chunk = next((s for s in reversed(spec.stages) if s.stage == "chunk"), None)
    chunk_ms = None if chunk is None else _chunk_ms(chunk, source)
    report(
        Outcome("run", source, output, encoding, summary, wall, chunk_ms),
        as_json=args.json,
        quiet=args.quiet,
        caveats=caveats,
    )
    return 0


def _run_one(
    args: argparse.Namespace, spec: lk.PipelineSpec, output: Path | None, overwrite: bool
) -> tuple[lk.RunSummary, float, lk.AudioFileInfo, tuple[str, str] | None]:
    """Run ``spec``, writing ``output`` (if any) beside and renaming it when complete."""
    source = lk.file_info(spec.input)
    built = spec.build(
        on_damaged="error" if args.strict else "skip",
        on_truncated="warn" if args.keep_cut else "raise",
    )
    if output is not None and built.format is not None:
        subtype = output_encoding(output, None, last_dtype(spec), source)[1]
        problem = rate_problem(subtype, built.format.sample_rate)
        if problem is not None:
            raise lk.PipelineError(
                f"{output.name}: {problem[0]}; end the pipeline with "
                f'{{"stage": "resample", "sample_rate": {problem[1]}}}'
            )
    stream, close_bar = progress(built, source.duration, not (args.quiet or args.json), "run")
    encoding = None
    try:
        if output is None:
            summary, wall = timed(lambda: lk.run_sync(stream.run()))
        else:
            encoding = output_encoding(output, None, last_dtype(spec), source)
            with saying_what_became_of("run", output):
                summary, wall = timed(
                    lambda: lk.run_sync(
                        stream.to_file(
                            output,
                            subtype=encoding[1],
                            format=encoding[0],
                            overwrite=overwrite,
                            partial="discard",
                        )
                    )
                )
    finally:
        close_bar()
    return summary, wall, source, encoding


def _one_file(args: argparse.Namespace) -> lk.PipelineSpec:
    """The pipeline from IN into OUT (``run PIPELINE IN OUT``), both as given on the command
    line (not relative to the pipeline file); OUT's extension chooses its format."""
    source, target = args.paths
    try:
        output_encoding(Path(target), None, None, None)  # OUT's type, before any reading
    except lk.ParameterError as exc:
        args.parser.error(str(exc))  # the usage and the problem, exit status 2 (as convert)
    spec = _load(args.pipeline, input=source)
    return spec.model_copy(update={"input": source, "output": target})


def _run_many(args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        args.parser.error("give the files to run (IN...) and then a folder OUT to write into")
    spec = _load(args.pipeline, input="(each IN)")
    if spec.overwrite:
        args.overwrite = True
    data = spec.model_dump(mode="json")  # the stage models are made at run time: unpicklable
    return run_batch(args, list(args.paths), output_ext(spec), write_pipeline, data)


def _chunk_ms(chunk: object, source: lk.AudioFileInfo) -> float:
    ms = getattr(chunk, "ms", None)
    if ms is not None:
        return float(ms)
    return 1000 * getattr(chunk, "samples", 0) / source.format.sample_rate
