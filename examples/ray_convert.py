"""Run an lkframes pipeline over many files with Ray Data: on this machine, or on a cluster.

    python examples/ray_convert.py to16k.yaml corpus/ out/
    python examples/ray_convert.py to16k.yaml 's3-mount/**/*.mp3' out/ --address auto

The files are found and their outputs named as ``lkframes run PIPELINE IN... OUT`` does
(`lkframes.batch.plan_files`: the tree under each input mirrored in OUT), each file is one
row of a Ray dataset, and `lkframes.batch.FileProcessor` converts a row in whichever Ray
worker gets it. So the outputs are the CLI's, byte for byte, and a run that was stopped
is resumed by running it again (finished outputs are skipped). A file that cannot be
converted is a row with an error, listed at the end; the exit status is then 1.

Needs ``pip install 'lkframes[ray]'``. Without --address, Ray starts on this machine with
--num-cpus workers; with it, the script joins that cluster (``auto``: the one ``ray start``
made here), whose workers must have lkframes installed and see the same paths (a shared
file system).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ray

from lkframes import LkFramesError
from lkframes.batch import BatchSummary, FileJob, FileProcessor, output_ext, plan_files


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run a pipeline over many files with Ray Data.")
    parser.add_argument("pipeline", type=Path, help="pipeline file (.json, .yaml)")
    parser.add_argument("inputs", nargs="+", help="files, folders and glob patterns")
    parser.add_argument("out", type=Path, help="folder to write into (the tree is mirrored)")
    parser.add_argument(
        "--ext",
        help="the outputs' extension (default: the pipeline's output's, else .wav, as "
        "lkframes run PIPELINE IN... OUT writes)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace finished outputs")
    parser.add_argument("--address", help="a Ray cluster to join (default: start one here)")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the Ray started here")
    parser.add_argument("--json", action="store_true", help="print every file's result as JSON")
    return parser.parse_args(argv)


def run_on_ray(
    jobs: list[FileJob], convert: FileProcessor, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], float]:
    """Every job through ``convert`` on Ray; the results and Ray's start-up seconds."""
    started = time.perf_counter()
    if args.address:
        ray.init(address=args.address, log_to_driver=False, logging_level=logging.WARNING)
    else:
        ray.init(
            num_cpus=args.num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    ray_start = time.perf_counter() - started
    try:
        # A few blocks of files per CPU: enough to even out long and short files, few
        # enough that Ray's cost per block (25 ms here) stays small beside the files'.
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        blocks = min(len(jobs), 4 * cpus)
        dataset = ray.data.from_items(list(jobs), override_num_blocks=blocks)
        return dataset.map(convert).take_all(), ray_start
    finally:
        ray.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:  # a bad pipeline or input is said before Ray starts
        convert = FileProcessor(args.pipeline, overwrite=args.overwrite)
        # Absolute paths: Ray's workers need not run in this directory (on a cluster, they
        # do not), and they read and write the files themselves.
        inputs = [os.path.abspath(name) for name in args.inputs]
        ext = args.ext or output_ext(convert.pipeline)
        jobs = plan_files(inputs, args.out.absolute(), ext=ext)
    except LkFramesError as exc:
        print(f"ray_convert.py: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        results, ray_start = run_on_ray(jobs, convert, args)
    except KeyboardInterrupt:  # Ray has stopped its workers; what they finished stays
        print(
            "ray_convert.py: stopped (Ctrl-C); finished files are kept: run the same "
            "command again to convert the rest",
            file=sys.stderr,
        )
        return 130
    wall = time.perf_counter() - started
    summary = BatchSummary.of(results)
    if args.json:
        print(json.dumps(sorted(results, key=lambda r: str(r["input"])), indent=2))
    for failure in summary.failures:
        print(f"{failure['input']}: {failure['error']}", file=sys.stderr)
    speed = f"{summary.duration_s / wall:,.0f}x realtime" if wall > 0 else ""
    print(
        f"{summary} in {wall:.2f} s ({speed}; Ray took {ray_start:.2f} s of it to start)",
        file=sys.stderr if args.json else sys.stdout,
    )
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
