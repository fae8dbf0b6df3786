"""``lkframes convert IN... OUTDIR``: many files at once, in worker processes.

Inputs are files, folders (every audio file under them) and glob patterns; the tree under
each is mirrored in OUTDIR. Each file is written to a hidden temporary file and renamed
into place only when complete, so an output that exists is a complete one: a run that was
killed is resumed by running it again (done files are skipped, their temporary leftovers
removed). One file's failure is reported and the batch goes on; the exit status is 1 if any
file failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import lkframes as lk

from ..batch._plan import AUDIO_SUFFIXES, FileJob, plan_files
from ..batch._process import BatchSummary, FileResult, Writer, run_file
from ..io._choose import output_encoding
from ..io._read import read_with_info
from ..io._replace import TEMP_MARK
from ._convert import (
    _check_rate,
    _flag_stages,
    _usage,
    convert_stream,
    is_batch,
)
from ._input import read_options
from ._report import quiet_stderr

__all__ = ("batch_convert", "is_batch", "run_batch")


def convert_one(write: Writer, source: str, target: str, payload: Any) -> FileResult:
    """One file (in a worker process), the native decoders' chatter kept off the terminal
    (the error is reported instead)."""
    with quiet_stderr(True):
        return run_file(write, source, target, payload)


def write_converted(source: Path, temp: Path, output: Path, flags: dict[str, Any]) -> lk.RunSummary:
    """``convert``'s stages for ``source``, as its flags say."""
    args = argparse.Namespace(**flags, input=source, output=output)
    info, stream = read_with_info(source, **read_options(args))
    container, subtype = output_encoding(
        output, args.subtype, args.dtype, info, subtype_name="--subtype"
    )
    stream = convert_stream(args, _flag_stages(args), stream)
    _check_rate(output, subtype, stream)
    # ``temp`` is the batch's own file beside the output, renamed when complete: written
    # in place (partial="keep"), not beside it again.
    summary: lk.RunSummary = lk.run_sync(
        stream.to_file(temp, subtype=subtype, format=container, partial="keep")
    )
    return summary


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    """The per-file flags, picklable for the worker processes."""
    skip = {"parser", "handler", "inputs", "target", "input", "output", "command", "paths"}
    return {k: v for k, v in vars(args).items() if k not in skip}


def batch_convert(args: argparse.Namespace, paths: Sequence[str | Path]) -> int:
    """``lkframes convert IN... OUTDIR``: every file, ``--jobs`` at a time."""
    ext = "." + args.ext.lstrip(".").lower()
    try:
        _flag_stages(args)
        output_encoding(
            Path(paths[-1]) / f"check{ext}",
            args.subtype,
            args.dtype,
            None,
            subtype_name="--subtype",
        )
    except lk.ParameterError as exc:
        _usage(args, str(exc).replace("check" + ext + ": ", f"--ext {args.ext}: "))
    return run_batch(args, paths, ext, write_converted, _flags(args))


def run_batch(
    args: argparse.Namespace, paths: Sequence[str | Path], ext: str, write: Writer, payload: Any
) -> int:
    """Every file of ``paths`` (inputs, then the folder, a ``str`` if it may end in a slash)
    through ``write``, ``--jobs`` at a time; the summary; exit status 1 if any file failed."""
    *inputs, out = paths
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        _usage(args, f"OUT {str(out_dir)!r} is a file; give a folder for many inputs")
    named = str(out).endswith(("/", os.sep))
    if not out_dir.exists() and out_dir.suffix.lower() in AUDIO_SUFFIXES and not named:
        _usage(
            args,
            f"OUT {str(out_dir)!r} looks like a file name, but many inputs go into a folder; "
            f"end it with / to make a folder of that name",
        )
    try:
        plan = plan_files(inputs, out_dir, ext=ext)
    except lk.ParameterError as exc:
        _usage(args, str(exc))
    todo = [job for job in plan if args.overwrite or not Path(job["output"]).exists()]
    jobs = max(1, min(args.jobs or os.cpu_count() or 1, len(todo) or 1))
    started = time.perf_counter()
    done: list[FileResult] = []
    try:
        _run(todo, write, payload, jobs, args, done)
    except KeyboardInterrupt:
        finished = len(plan) - len(todo) + sum(1 for d in done if d["error"] is None)
        print(
            f"lkframes {args.command}: stopped; {finished} of {len(plan)} files are done, "
            "nothing half-written is left; run it again to convert the rest",
            file=sys.stderr,
        )
        raise
    wall = time.perf_counter() - started
    _summary(args, done, len(plan) - len(todo), jobs, wall)
    return 1 if any(d["error"] for d in done) else 0


def _run(
    todo: list[FileJob],
    write: Writer,
    payload: Any,
    jobs: int,
    args: argparse.Namespace,
    done: list[FileResult],
) -> None:
    """Every job of ``todo``, results appended to ``done`` as they come."""
    if jobs == 1:
        for job in todo:
            done.append(convert_one(write, job["input"], job["output"], payload))
            _line(args, done[-1])
        return
    tasks = [(write, job["input"], job["output"], payload) for job in todo]
    pool = worker_pool(jobs)
    try:
        for result in pool.imap_unordered(_convert_task, tasks):
            done.append(result)
            _line(args, result)
    except BaseException:
        pool.terminate()  # Ctrl-C: stop now, then remove what they left half-written
        pool.join()
        _remove_temporaries(todo, done)
        raise
    else:
        pool.close()
    finally:
        pool.join()


def _remove_temporaries(todo: list[FileJob], done: list[FileResult]) -> None:
    """The hidden files of the jobs a stop cut short (``.NAME.lkframes-*.tmp`` beside each
    output): nothing that was not finished stays behind."""
    finished = {result["output"] for result in done}
    for job in todo:
        output = Path(job["output"])
        if job["output"] not in finished and output.parent.is_dir():
            for temporary in output.parent.glob(f".{output.name}{TEMP_MARK}*.tmp"):
                temporary.unlink(missing_ok=True)


def _convert_task(task: tuple[Writer, str, str, Any]) -> FileResult:
    return convert_one(*task)


_STOPS = {signal.SIGINT, signal.SIGTERM}


def worker_pool(jobs: int) -> Any:
    """A ``multiprocessing`` pool of ``jobs`` workers that leave Ctrl-C to the parent.

    The workers start with SIGINT and SIGTERM blocked, and unblock them once they have set
    what the signals do (`_leave_ctrl_c_to_the_parent`): a SIGTERM from a parent stopping
    early (``pool.terminate()``) could otherwise reach a worker still running the CLI's
    handler it inherited, which left it stuck holding the pool's queue lock and the parent
    waiting for it (seen once in a loaded test run). The parent's own signals are held,
    not lost, for the few milliseconds the workers take to start.
    """
    context = get_context(_start_method())
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        return context.Pool(jobs, initializer=_leave_ctrl_c_to_the_parent)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        return context.Pool(jobs, initializer=_leave_ctrl_c_to_the_parent)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _leave_ctrl_c_to_the_parent() -> None:
    """Workers ignore SIGINT (a terminal sends it to the whole group): the parent stops
    them all at once, instead of each dying mid-write with a traceback of its own. SIGTERM
    (how the parent stops them) ends a worker at once, not as the CLI's own handler, which
    a forked worker inherits, would have it (as a Ctrl-C, which it ignores). Then both are
    unblocked (`worker_pool` starts workers with them blocked)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)


def _start_method() -> str:
    """``fork`` where it is safe (Linux, no other thread yet): the workers start with
    lkframes already imported, instead of importing it again each (0.3 s of CPU apiece,
    measured); ``spawn`` elsewhere."""
    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"


def _line(args: argparse.Namespace, result: FileResult) -> None:
    if result["error"] is not None:
        print(
            f"lkframes {args.command}: {result['input']}: {result['error']}",
            file=sys.stderr,
            flush=True,
        )
    elif not (args.quiet or args.json):
        print(f"{result['input']} -> {result['output']} ({result['duration_s']:.3f} s)", flush=True)


def _summary(
    args: argparse.Namespace, done: list[FileResult], skipped: int, jobs: int, wall: float
) -> None:
    counts = BatchSummary.of(done)  # no skipped file among them: those never ran
    converted, failed, audio = counts.converted, counts.failures, counts.duration_s
    speed = audio / wall if wall > 0 else math.inf
    if args.json:
        fields: dict[str, float] = {"converted": converted, "skipped": skipped}
        fields["failed"] = len(failed)
        fields |= {"duration_s": audio, "wall_s": wall, "x_realtime": speed, "jobs": jobs}
        report = {"command": args.command, **fields, "files": done}
        print(json.dumps(report, indent=2))
        return
    if args.quiet and not failed:
        return
    print(
        f"converted {converted} file{'s' * (converted != 1)} ({audio:,.1f} s of audio) in "
        f"{wall:.2f} s ({speed:,.0f}x realtime, {jobs} job{'s' * (jobs != 1)}); "
        f"{skipped} skipped (already done); {len(failed)} failed",
        file=sys.stderr if failed else sys.stdout,
    )
