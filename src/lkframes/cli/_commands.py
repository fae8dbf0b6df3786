"""``lkframes info``, ``convert`` and ``run``: file jobs without Python."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import lkframes as lk

from ._stage_flags import CONVERT_ORDER, build_stage, flag_values

__all__ = ("convert_command", "info_command", "run_command")

EXIT_OK = 0


def _decibels(value: float) -> float | None:
    return None if value <= 0 else 20.0 * math.log10(value)


class _LevelMeter:
    """Peak and RMS level over a stream, in full-scale units."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.sum_squares = 0.0
        self.count = 0

    def __call__(self, frame: lk.AudioFrame) -> None:
        data = frame.data
        scale = 1.0 / 32768.0 if data.dtype == np.int16 else 1.0
        if data.size:
            peak = float(np.abs(data).max()) * scale
            self.peak = max(self.peak, peak)
            # np.square + sum, not np.dot: a BLAS dot starts OpenBLAS threads that fight the
            # decoding thread for the 2 cores and made `info` 7x slower.
            as_float = data.astype(np.float64)
            self.sum_squares += float(np.square(as_float).sum()) * scale * scale
            self.count += data.size

    @property
    def rms(self) -> float:
        return math.sqrt(self.sum_squares / self.count) if self.count else 0.0


def _progress(
    stream: lk.Stream[lk.AudioFrame], total_seconds: float | None, enabled: bool, label: str
) -> tuple[lk.Stream[lk.AudioFrame], Callable[[], None]]:
    """Add a progress bar on stderr, shown only for work that lasts over a second."""
    from tqdm import tqdm

    bar = tqdm(
        total=None if total_seconds is None else round(total_seconds, 3),
        unit="s",
        unit_scale=False,
        desc=label,
        delay=1.0,
        disable=not enabled,
        file=sys.stderr,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]"
        if total_seconds
        else "{desc}: {n:.1f} s [{elapsed}]",
    )

    def advance(frame: lk.AudioFrame) -> None:
        bar.update(frame.duration)

    return stream.tap(advance), bar.close


def _format_json(fmt: lk.AudioFormat) -> dict[str, Any]:
    return {"sample_rate": fmt.sample_rate, "num_channels": fmt.num_channels, "dtype": fmt.dtype}


def info_command(args: argparse.Namespace) -> int:
    info = lk.file_info(args.file)
    meter = _LevelMeter()
    stream, close_bar = _progress(
        lk.from_file(info.path).tap(meter),
        info.duration,
        not (args.quiet or args.json),
        "measuring",
    )
    try:
        summary = lk.run_sync(stream.run())
    finally:
        close_bar()
    peak, rms = _decibels(meter.peak), _decibels(meter.rms)
    result = {
        "command": "info",
        "path": str(info.path),
        "container": info.container,
        "codec": info.codec,
        "backend": info.backend,
        "format": _format_json(info.format),
        "samples_per_channel": summary.samples_per_channel,
        "duration_s": summary.duration,
        "peak_dbfs": peak,
        "rms_dbfs": rms,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    elif not args.quiet:
        level = (
            "silent" if peak is None or rms is None else f"peak {peak:.1f} dBFS, RMS {rms:.1f} dBFS"
        )
        print(
            "\n".join(
                (
                    f"{info.path}",
                    f"  file      {info.container} / {info.codec} (read with {info.backend})",
                    f"  format    {info.format}",
                    f"  duration  {summary.duration:.3f} s ({summary.samples_per_channel} samples)",
                    f"  level     {level}",
                )
            )
        )
    return EXIT_OK


def _flag_stages(args: argparse.Namespace) -> dict[str, Any]:
    """The stages the flags ask for, by name, built (and so checked) before any file is read.

    Raises:
        ParameterError: A flag's value is refused; the message names the flag.
    """
    stages = {}
    for name in CONVERT_ORDER:
        values = flag_values(name, args)
        if values is not None:
            stages[name] = build_stage(name, values)
    return stages


def _convert_stream(args: argparse.Namespace, stages: dict[str, Any]) -> lk.Stream[lk.AudioFrame]:
    """IN through ``stages`` in `CONVERT_ORDER`; an up-mix goes after resampling instead."""
    stream = lk.from_file(args.input)
    assert stream.format is not None
    up_mix = "remix" in stages and args.channels > stream.format.num_channels
    for name, stage in stages.items():
        if name == "remix" and up_mix:
            continue
        stream = stream.pipe(stage)
        if name == "resample" and up_mix:
            stream = stream.pipe(stages["remix"])
    if up_mix and "resample" not in stages:
        stream = stream.pipe(stages["remix"])
    return stream


def _write_and_report(
    command: str,
    stream: lk.Stream[lk.AudioFrame],
    source: lk.AudioFileInfo,
    output: Path | None,
    args: argparse.Namespace,
    *,
    subtype: str | None = None,
    overwrite: bool = False,
) -> int:
    stream, close_bar = _progress(stream, source.duration, not (args.quiet or args.json), command)

    async def work() -> tuple[lk.RunSummary, float]:
        start = time.perf_counter()
        if output is None:
            summary = await stream.run()
        else:
            summary = await stream.to_file(output, subtype=subtype, overwrite=overwrite)
        return summary, time.perf_counter() - start

    try:
        summary, wall = lk.run_sync(work())
    finally:
        close_bar()
    out_fmt = summary.format
    x_realtime = summary.duration / wall if wall > 0 else math.inf
    if args.json:
        print(
            json.dumps(
                {
                    "command": command,
                    "input": str(source.path),
                    "input_format": _format_json(source.format),
                    "output": None if output is None else str(output),
                    "output_format": None if out_fmt is None else _format_json(out_fmt),
                    "frames": summary.frames,
                    "samples_per_channel": summary.samples_per_channel,
                    "duration_s": summary.duration,
                    "wall_s": wall,
                    "x_realtime": x_realtime,
                },
                indent=2,
            )
        )
    elif not args.quiet:
        target = "(not written)" if output is None else str(output)
        print(
            f"{source.path} ({source.format}) -> {target} ({out_fmt}): {summary.frames} frames, "
            f"{summary.duration:.3f} s in {wall:.2f} s ({x_realtime:,.0f}x realtime)"
        )
    return EXIT_OK


def _refuse_existing(output: Path | None, overwrite: bool) -> None:
    if output is not None and output.exists() and not overwrite:
        raise lk.OutputExistsError(f"{str(output)!r} exists; pass --overwrite to replace it")


def _keep_subtype(source: lk.AudioFileInfo, output: Path) -> str | None:
    """The input's PCM subtype (e.g. PCM_24) when the output container can hold it."""
    import soundfile

    container = output.suffix.lower().lstrip(".").upper()
    if not source.codec.startswith("PCM_") or container not in soundfile.available_formats():
        return None
    return source.codec if soundfile.check_format(container, source.codec) else None


def convert_command(args: argparse.Namespace) -> int:
    """``lkframes convert IN OUT [stage flags]``."""
    try:
        stages = _flag_stages(args)
    except lk.ParameterError as exc:
        args.parser.error(str(exc))  # usage and message on stderr, exit status 2
    _refuse_existing(args.output, args.overwrite)
    source = lk.file_info(args.input)
    subtype = args.subtype
    if subtype is None and args.dtype is None:
        subtype = _keep_subtype(source, args.output)
    return _write_and_report(
        "convert",
        _convert_stream(args, stages),
        source,
        args.output,
        args,
        subtype=subtype,
        overwrite=args.overwrite,
    )


def run_command(args: argparse.Namespace) -> int:
    spec = lk.PipelineSpec.load(args.pipeline)
    stream = spec.build()
    output = None if spec.output is None else Path(spec.output)
    overwrite = spec.overwrite or args.overwrite
    _refuse_existing(output, overwrite)
    return _write_and_report(
        "run", stream, lk.file_info(spec.input), output, args, overwrite=overwrite
    )
