"""`plan_files`: which output each input file gets, the tree under every input mirrored."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict

from .._core.errors import AudioFileError, ParameterError

__all__ = ("AUDIO_SUFFIXES", "FileJob", "plan_files")

AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".mp4", ".webm"}
    | {".mkv", ".mov", ".aif", ".aiff", ".caf", ".w64", ".au"}
)
"""What a folder given as an input contributes: files with these extensions (not hidden ones).

Examples:
    >>> ".flac" in AUDIO_SUFFIXES and ".txt" not in AUDIO_SUFFIXES
    True
"""

_MAGIC = frozenset("*?[")


class FileJob(TypedDict):
    """One file of a batch: the file to read and the file to write.

    `plan_files` makes them; as dicts, they are rows of a Ray dataset as they are.

    Examples:
        >>> FileJob(input="corpus/a.mp3", output="out/a.wav")
        {'input': 'corpus/a.mp3', 'output': 'out/a.wav'}
    """

    input: str
    output: str


def has_magic(text: str) -> bool:
    """Whether ``text`` is a glob pattern (has ``*``, ``?`` or ``[``)."""
    return any(c in _MAGIC for c in text)


def _expand(raw: Path, out_dir: Path) -> list[tuple[Path, Path]]:
    """(file, path relative to ``out_dir``) for one input: a file, a folder or a pattern."""
    text = str(raw)
    if has_magic(text):
        parts = Path(text).parts
        base = Path(*parts[: next(i for i, p in enumerate(parts) if has_magic(p))] or ".")
        found = [Path(m) for m in sorted(glob.glob(text, recursive=True)) if Path(m).is_file()]
        if not found:
            raise ParameterError(f"{text!r} matches no file")
        return [(f, f.relative_to(base)) for f in found]
    if raw.is_dir():
        files = sorted(
            p
            for p in raw.rglob("*")
            if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
        )
        outside = [f for f in files if not f.resolve().is_relative_to(out_dir.resolve())]
        if files and not outside:
            raise ParameterError(
                f"every file in {text!r} is inside the output folder {str(out_dir)!r}; "
                "give another output folder"
            )
        return [(f, f.relative_to(raw)) for f in outside]
    if raw.is_file():
        return [(raw, Path(raw.name))]
    raise AudioFileError(f"{text!r}: no such file or folder")


def plan_files(
    inputs: Iterable[str | Path], out_dir: str | Path, *, ext: str = ".wav"
) -> list[FileJob]:
    """Every input file and the file it is written to under ``out_dir``.

    Each input is a file, a folder (every audio file under it, by `AUDIO_SUFFIXES`) or a
    glob pattern (``**`` recurses); the tree under a folder, or under the part of a pattern
    before its first wildcard, is mirrored in ``out_dir``, each name given the extension
    ``ext``. This is how ``lkframes convert IN... OUT`` and ``lkframes run PIPELINE IN...
    OUT`` choose their outputs.

    Args:
        inputs: Files, folders and patterns.
        out_dir: The folder to write into (files already in it are not inputs).
        ext: The outputs' extension, such as ``".wav"`` or ``".flac"``.

    Returns:
        One `FileJob` per file, in input order (each folder's and pattern's files sorted).

    Raises:
        ParameterError: A pattern matches nothing, nothing is found at all, a file would be
            written over itself, or two inputs would be written to one output.
        AudioFileError: An input does not exist.

    Examples:
        >>> import tempfile, pathlib, numpy as np, soundfile
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "corpus" / "day1").mkdir(parents=True)
        >>> soundfile.write(root / "corpus" / "day1" / "a.flac", np.zeros(160), 16_000)
        >>> [job["output"][len(str(root)) :] for job in plan_files([root / "corpus"], root / "out")]
        ['/out/day1/a.wav']
    """
    out = Path(out_dir)
    suffix = "." + ext.lstrip(".").lower()
    plan: dict[Path, Path] = {}
    names = [Path(raw) for raw in inputs]
    for raw in names:
        for source, relative in _expand(raw, out):
            target = out / relative.with_suffix(suffix)
            if target.resolve() == source.resolve():
                raise ParameterError(
                    f"{source} would be written over itself; give another output folder"
                )
            if target in plan and plan[target] != source:
                raise ParameterError(
                    f"{plan[target]} and {source} would both be written to {target}; "
                    "convert them separately"
                )
            plan[target] = source
    if not plan:
        raise ParameterError(f"no audio files in {', '.join(map(str, names))}")
    return [FileJob(input=str(source), output=str(target)) for target, source in plan.items()]
