"""``lkframes convert``'s entry: one file into another here, many files (worker processes,
pipeline specs) imported only when asked for."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._convert import _usage, convert_command, is_batch

__all__ = ("convert_entry",)


def convert_entry(args: argparse.Namespace) -> int:
    """``lkframes convert``: one file into another, or many files into a folder."""
    paths: list[str | Path] = [*args.inputs, args.target]
    if is_batch(paths):
        from ._batch import batch_convert  # worker processes, pipeline specs: only here

        return batch_convert(args, paths)
    if args.ext != "wav" and str(args.target) != "-":
        _usage(
            args,
            "--ext applies when OUT is a folder or - (stdout); give OUT a file name with its "
            "extension",
        )
    args.input, args.output = Path(paths[0]), Path(paths[1])
    return convert_command(args)
