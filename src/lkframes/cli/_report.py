"""What the file commands show: a progress bar on a terminal, levels, the run's summary,
and third-party decoders kept quiet under ``--quiet``."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import lkframes as lk

from ._input import Caveats

__all__ = ("LevelMeter", "Outcome", "decibels", "format_json", "progress", "quiet_stderr", "report")


def decibels(value: float) -> float | None:
    """``value`` (full-scale units) in dBFS; None for silence."""
    return None if value <= 0 else 20.0 * math.log10(value)


def format_json(fmt: lk.AudioFormat) -> dict[str, Any]:
    """An `AudioFormat` for the ``--json`` summaries."""
    return fmt.to_dict()


class LevelMeter:
    """Peak and RMS level over a stream, in full-scale units."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.sum_squares = 0.0
        self.count = 0

    def __call__(self, frame: lk.AudioFrame) -> None:
        data = frame.data
        scale = 1.0 / 32768.0 if data.dtype == np.int16 else 1.0
        if data.size:
            self.peak = max(self.peak, float(np.abs(data).max()) * scale)
            # np.square + sum, not np.dot: a BLAS dot starts OpenBLAS threads that fight the
            # decoding thread for the 2 cores and made `info` 7x slower.
            self.sum_squares += float(np.square(data.astype(np.float64)).sum()) * scale * scale
            self.count += data.size

    @property
    def rms(self) -> float:
        return math.sqrt(self.sum_squares / self.count) if self.count else 0.0


def progress(
    stream: lk.Stream[lk.AudioFrame], total_seconds: float | None, wanted: bool, label: str
) -> tuple[lk.Stream[lk.AudioFrame], Callable[[], None]]:
    """A progress bar on stderr for work that lasts over a second, drawn only on a terminal
    (redirected to a file or a pipe, stderr gets no ``\\r`` updates)."""
    from tqdm import tqdm

    bar = tqdm(
        total=None if total_seconds is None else round(total_seconds, 3),
        unit="s",
        desc=label,
        delay=1.0,
        disable=not (wanted and sys.stderr.isatty()),
        file=sys.stderr,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]"
        if total_seconds
        else "{desc}: {n:.1f} s [{elapsed}]",
    )
    return stream.tap(lambda frame: bar.update(frame.duration)), bar.close


@contextlib.contextmanager
def quiet_stderr(enabled: bool) -> Iterator[None]:
    """With ``enabled``, send what native decoders write to stderr (mpg123's warnings, say)
    to /dev/null; lkframes' own messages are printed after the block."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@dataclass(frozen=True)
class Outcome:
    """What a ``convert`` or ``run`` did, for its summary."""

    command: str
    source: lk.AudioFileInfo
    output: Path | None
    encoding: tuple[str, str] | None  # (container, subtype) of the file written
    summary: lk.RunSummary
    wall_s: float
    chunk_ms: float | None  # frames are reported only when the run cut them


def report(
    outcome: Outcome,
    *,
    as_json: bool,
    quiet: bool,
    caveats: Caveats | None = None,
    to_stderr: bool = False,
) -> None:
    """Print ``outcome`` as one line, as JSON, or not at all; on stderr when stdout is
    the output itself. ``caveats``: the read's damage and warnings, for the JSON."""
    out = sys.stderr if to_stderr else sys.stdout
    summary = outcome.summary
    x_realtime = summary.duration / outcome.wall_s if outcome.wall_s > 0 else math.inf
    frames = summary.frames if outcome.chunk_ms is not None else None
    if as_json:
        container, subtype = outcome.encoding or (None, None)
        print(
            json.dumps(
                {
                    "command": outcome.command,
                    "input": outcome.source.name,
                    "input_format": format_json(outcome.source.format),
                    "output": None if outcome.output is None else str(outcome.output),
                    "output_format": None
                    if summary.format is None
                    else format_json(summary.format),
                    "output_container": container,
                    "output_subtype": subtype,
                    "frames": frames,
                    "frame_ms": outcome.chunk_ms,
                    "samples_per_channel": summary.samples_per_channel,
                    "duration_s": summary.duration,
                    "wall_s": outcome.wall_s,
                    "x_realtime": x_realtime,
                    **(caveats.to_json() if caveats is not None else {}),
                },
                indent=2,
            ),
            file=out,
        )
        return
    if quiet:
        return
    fmt = summary.format
    layout = "" if fmt is None else f"{fmt.sample_rate} Hz {_channels(fmt.num_channels)}"
    if outcome.output is None:
        target = f"(not written) ({fmt})"
    else:
        container, subtype = outcome.encoding or ("?", "?")
        target = f"{outcome.output} ({layout}, {container} {subtype})"
    cut = _frames_text(summary, outcome.chunk_ms) if frames is not None else ""
    speed = f"{x_realtime:,.0f}" if x_realtime >= 10 else f"{x_realtime:.2g}"
    print(
        f"{outcome.source.name} ({outcome.source.format}) -> {target}: {cut}"
        f"{summary.duration:.3f} s in {outcome.wall_s:.2f} s ({speed}x realtime)",
        file=out,
    )


def _frames_text(summary: lk.RunSummary, chunk_ms: float | None) -> str:
    """``250 frames of 20 ms, ``, saying so when the last frame is shorter."""
    frames = summary.frames
    if frames == 0 or chunk_ms is None or summary.format is None:
        return f"{frames} frames, "
    noun = "frame" if frames == 1 else "frames"
    size = round(chunk_ms * summary.format.sample_rate / 1000)
    last = summary.samples_per_channel - (frames - 1) * size
    if 0 < last < size:
        last_ms = 1000 * last / summary.format.sample_rate
        return f"{frames} {noun} of {chunk_ms:g} ms (the last {last_ms:.3g} ms), "
    return f"{frames} {noun} of {chunk_ms:g} ms, "


def _channels(count: int) -> str:
    return {1: "mono", 2: "stereo"}.get(count, f"{count} ch")


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    """``work()`` and the seconds it took."""
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start
