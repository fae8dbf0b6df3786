"""One file of a batch, written so that an output that exists is a complete one: to a
hidden temporary file beside it, renamed into place when done. So a batch that was killed
is resumed by running it again, and one file's failure is a result, not an exception that
stops the other files (or a whole Ray job)."""

from __future__ import annotations

import glob
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from .._core.errors import PipelineError
from .._core.stream import RunSummary
from .._core.sync import run_sync
from ..io import file_info
from ..io._choose import output_encoding
from ..io._encodings import rate_problem
from ..io._replace import TEMP_MARK, Destination
from ..pipeline import PipelineSpec

__all__ = (
    "BatchSummary",
    "FileProcessor",
    "FileResult",
    "output_ext",
    "process_file",
    "run_file",
)

Status = Literal["converted", "skipped", "failed"]


class FileResult(TypedDict):
    """What became of one file of a batch: converted, skipped or failed, and why.

    A row of a Ray dataset after `FileProcessor` has these columns.

    Examples:
        >>> result = process_file("missing.wav", "out/missing.wav", {"stages": []})
        >>> result["status"], result["error"]
        ('failed', "AudioFileError: no such file: 'missing.wav'")
    """

    input: str
    output: str
    status: Status
    """``converted``; ``skipped`` (the output was there already); ``failed`` (see ``error``)."""
    duration_s: float
    """Seconds of audio written."""
    wall_s: float
    """Seconds it took."""
    error: str | None
    """The failure, as ``ErrorType: message``; None unless ``status`` is ``failed``."""


Writer = Callable[[Path, Path, Path, Any], RunSummary]
"""Writes one input (first path) to a temporary file (second) for its output (third)."""


def _result(
    source: str,
    target: str,
    status: Status,
    summary: RunSummary | None = None,
    *,
    wall_s: float = 0.0,
    error: str | None = None,
) -> FileResult:
    duration = summary.duration if summary is not None else 0.0
    return FileResult(
        input=source, output=target, status=status, duration_s=duration, wall_s=wall_s, error=error
    )


def run_file(
    write: Writer, source: str, target: str, payload: Any, *, overwrite: bool = True
) -> FileResult:
    """``write`` one file to a temporary file, renamed to ``target`` once complete. Never
    raises for the file's own problems; an existing ``target`` is kept unless ``overwrite``.
    Nothing is made (folder or file) for an input that cannot be read."""
    output = Path(target)
    if not overwrite and output.exists():
        return _result(source, target, "skipped")
    started = time.perf_counter()
    destination: Destination | None = None
    try:
        file_info(source)  # an input that cannot be read fails before a folder is made for it
        output.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(output)
        destination = Destination(output, overwrite=True, beside=True)
        summary = write(Path(source), destination.write_to, output, payload)
        destination.commit()
    except Exception as exc:
        error = " ".join(f"{type(exc).__name__}: {exc}".split())
        return _result(source, target, "failed", error=error)
    finally:
        if destination is not None:
            destination.discard()  # nothing left once committed
    return _result(source, target, "converted", summary, wall_s=time.perf_counter() - started)


def _remove_leftovers(output: Path) -> None:
    """The temporary files a killed run left for ``output``."""
    for stale in output.parent.glob(f".{glob.escape(output.name)}{TEMP_MARK}*.tmp"):
        stale.unlink(missing_ok=True)


def last_dtype(spec: PipelineSpec) -> str | None:
    """The sample type the last ``to_dtype`` stage asks for: the type the output is
    written as (as the CLI's ``--dtype``)."""
    to_dtype = next((s for s in reversed(spec.stages) if s.stage == "to_dtype"), None)
    return getattr(to_dtype, "dtype", None)


def write_pipeline(source: Path, temp: Path, output: Path, data: dict[str, Any]) -> RunSummary:
    """``source`` through the pipeline ``data`` (a `PipelineSpec` as JSON data), into
    ``temp``, encoded as ``output``'s extension and the input's encoding say."""
    info = file_info(source)
    spec = PipelineSpec.parse({**data, "input": str(source)})
    built = spec.build()
    container, subtype = output_encoding(output, None, last_dtype(spec), info)
    if built.format is not None:
        problem = rate_problem(subtype, built.format.sample_rate)
        if problem is not None:
            raise PipelineError(f"{output.name}: {problem[0]}")
    summary: RunSummary = run_sync(  # ``temp`` is renamed into place by the caller
        built.to_file(temp, subtype=subtype, format=container, partial="keep")
    )
    return summary


def pipeline_data(pipeline: PipelineSpec | str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A pipeline as picklable JSON data: a `PipelineSpec`, a pipeline file, or its data
    (whose ``input`` may be left out: each file is the input)."""
    if isinstance(pipeline, str | Path):
        spec = PipelineSpec.load(pipeline, input="(each file)")
    elif isinstance(pipeline, PipelineSpec):
        spec = pipeline
    else:
        spec = PipelineSpec.parse({"input": "(each file)", **pipeline})
    return spec.model_dump(mode="json")


def output_ext(pipeline: PipelineSpec | str | Path | Mapping[str, Any]) -> str:
    """The extension of the files ``pipeline`` writes for many inputs.

    It is the extension of the pipeline's ``output``, in lower case, or ``.wav`` if it has
    none: what ``lkframes run PIPELINE IN... OUT`` writes.

    Args:
        pipeline: As `process_file` takes it.

    Returns:
        The extension with its dot, such as ``".flac"``.

    Raises:
        PipelineError: ``pipeline`` is invalid.

    Examples:
        >>> output_ext({"output": "anything.FLAC", "stages": []})
        '.flac'
        >>> output_ext({"stages": [{"stage": "resample", "sample_rate": 16_000}]})
        '.wav'
    """
    output = pipeline_data(pipeline)["output"]
    return (Path(output).suffix.lower() if output else "") or ".wav"


def process_file(
    input: str | Path,
    output: str | Path,
    pipeline: PipelineSpec | str | Path | Mapping[str, Any],
    *,
    overwrite: bool = False,
) -> FileResult:
    """Run ``pipeline`` on ``input`` and write ``output``, completely or not at all.

    This is what ``lkframes run PIPELINE IN... OUT`` does for each of its files. The output
    is encoded as its extension says, keeping the input's lossless encoding where it can (as
    ``lkframes convert`` does). It is written to a hidden temporary file beside it and
    renamed into place when complete, so an output that exists is complete.

    Args:
        input: The file to read.
        output: The file to write (its folder is made if needed, once ``input`` is found
            readable).
        pipeline: A `PipelineSpec`, a pipeline file (``.json``/``.yaml``), or pipeline data
            such as ``{"stages": [{"stage": "resample", "sample_rate": 16000}]}``; its
            ``input`` and ``output`` are not used.
        overwrite: Replace an existing ``output``; without it, an existing one is kept and
            the result's status is ``skipped`` (so a killed batch resumes).

    Returns:
        The `FileResult`; a file that cannot be read or converted is ``failed``, with the
        error, instead of raising.

    Raises:
        PipelineError: ``pipeline`` itself is invalid (before any file is touched).

    Examples:
        >>> import tempfile, pathlib, numpy as np, soundfile
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> soundfile.write(root / "a.flac", np.zeros(48_000), 48_000)
        >>> stages = {"stages": [{"stage": "resample", "sample_rate": 16_000}]}
        >>> result = process_file(root / "a.flac", root / "out" / "a.wav", stages)
        >>> result["status"], result["duration_s"], soundfile.info(result["output"]).samplerate
        ('converted', 1.0, 16000)
        >>> process_file(root / "a.flac", root / "out" / "a.wav", stages)["status"]
        'skipped'
    """
    data = pipeline_data(pipeline)
    return run_file(
        write_pipeline, str(input), str(output), data, overwrite=overwrite or data["overwrite"]
    )


class FileProcessor:
    """`process_file` as a function of one row, for ``ray.data.Dataset.map`` or any map.

    A row with ``input`` and ``output`` columns gives the row with `FileResult`'s columns.

    It holds the pipeline as JSON data, so it pickles to Ray's workers (or a process pool's)
    and checks the pipeline when made, before any file is sent anywhere.

    Args:
        pipeline: As `process_file` takes it.
        overwrite: As `process_file` takes it.

    Raises:
        PipelineError: ``pipeline`` is invalid.

    Examples:
        >>> import tempfile, pathlib, numpy as np, soundfile
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> soundfile.write(root / "a.wav", np.zeros(44_100), 44_100)
        >>> convert = FileProcessor({"stages": [{"stage": "resample", "sample_rate": 16_000}]})
        >>> row = convert({"input": str(root / "a.wav"), "output": str(root / "a16.wav"), "id": 7})
        >>> row["id"], row["status"], row["error"]
        (7, 'converted', None)
    """

    def __init__(
        self, pipeline: PipelineSpec | str | Path | Mapping[str, Any], *, overwrite: bool = False
    ) -> None:
        self.pipeline = pipeline_data(pipeline)
        """The pipeline, as JSON data."""
        self.overwrite = overwrite or bool(self.pipeline["overwrite"])
        """Whether existing outputs are replaced."""

    def __call__(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The row, with the `FileResult` of its ``input`` → ``output``."""
        result = run_file(
            write_pipeline,
            str(row["input"]),
            str(row["output"]),
            self.pipeline,
            overwrite=self.overwrite,
        )
        return {**row, **result}


@dataclass(frozen=True)
class BatchSummary:
    """A batch's results added up.

    Examples:
        >>> rows = [
        ...     {"status": "converted", "duration_s": 2.5, "input": "a.mp3"},
        ...     {"status": "skipped", "duration_s": 0.0, "input": "b.mp3"},
        ...     {"status": "failed", "duration_s": 0.0, "input": "c.mp3", "error": "E: bad"},
        ... ]
        >>> print(BatchSummary.of(rows))
        converted 1 file (2.5 s of audio); 1 skipped (already done); 1 failed
    """

    converted: int
    skipped: int
    duration_s: float
    """Seconds of audio converted."""
    failures: list[Mapping[str, Any]] = field(default_factory=list)
    """The failed files' results (each has ``input`` and ``error``)."""

    @classmethod
    def of(cls, results: Iterable[Mapping[str, Any]]) -> BatchSummary:
        """Add up `FileResult` rows (such as ``ray.data.Dataset.take_all()`` gives)."""
        rows = list(results)
        return cls(
            converted=sum(r["status"] == "converted" for r in rows),
            skipped=sum(r["status"] == "skipped" for r in rows),
            duration_s=sum(float(r["duration_s"]) for r in rows),
            failures=[r for r in rows if r["status"] == "failed"],
        )

    def __str__(self) -> str:
        plural = "s" * (self.converted != 1)
        return (
            f"converted {self.converted} file{plural} ({self.duration_s:,.1f} s of audio); "
            f"{self.skipped} skipped (already done); {len(self.failures)} failed"
        )
