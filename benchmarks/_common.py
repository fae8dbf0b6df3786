"""What the benchmarks share: their command line, their sox-made inputs and their charts.

Each benchmark that prints ratios also draws them, as horizontal bars with a line at 1.0x,
into ``docs/figures/bench_<name>.svg`` beside its table (the docs embed those files). A
``--quick`` run (CI's smoke run) or ``--no-chart`` draws nothing, so a smoke run never
replaces the committed charts with its noisier numbers; ``--chart-dir DIR`` draws into
another folder, also with ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "docs" / "figures"
WORKDIR = Path.home() / ".cache" / "lkframes-bench"
"""Where generated inputs are cached between runs."""

LKFRAMES_COLOR = "#3f51b5"  # the docs' indigo
OTHER_COLOR = "#9e9e9e"
OURS = ("lkframes", "lk.")
"""Row labels that start so are lkframes' own rows, drawn in the docs' colour."""


def parser(
    doc: str | None,
    *,
    quick: str,
    repeat: int | None = None,
    workdir: bool = False,
    json: bool = False,
) -> argparse.ArgumentParser:
    """The options every benchmark has: ``--quick``, ``--no-chart``, ``--chart-dir``, and
    ``--repeat``, ``--workdir`` and ``--json`` where the benchmark takes them.

    Args:
        doc: The benchmark's module docstring; its first line describes the command.
        quick: What ``--quick`` does, for its help.
        repeat: The default of ``--repeat`` (runs per path, the best kept); None: no option.
        workdir: Whether to add ``--workdir`` (the cache of generated inputs).
        json: Whether to add ``--json PATH`` (the results as JSON too).

    Returns:
        The parser, for the benchmark's own options.
    """
    result = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    result.add_argument("--quick", action="store_true", help=f"{quick} (the CI smoke run)")
    if repeat is not None:
        result.add_argument(
            "--repeat", type=int, default=repeat, help=f"runs per path, best kept ({repeat})"
        )
    if workdir:
        result.add_argument("--workdir", type=Path, default=WORKDIR, help=f"({WORKDIR})")
    if json:
        result.add_argument("--json", type=Path, metavar="PATH", help="also write the results")
    result.add_argument("--no-chart", action="store_true", help="print the tables only")
    result.add_argument(
        "--chart-dir",
        type=Path,
        metavar="DIR",
        help="draw the chart here (default docs/figures, and none with --quick)",
    )
    return result


def chart_dir(args: argparse.Namespace) -> Path | None:
    """Where this run draws its chart: None for ``--no-chart``, and for ``--quick``
    unless ``--chart-dir`` was given."""
    if args.no_chart:
        return None
    if args.chart_dir is not None:
        return Path(args.chart_dir)
    return None if args.quick else FIGURES


def missing_tools(*tools: str) -> str | None:
    """A message naming the tools not on PATH, or None if all are there."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        return None
    return f"cannot compare: {', '.join(missing)} not installed (apt-get install sox ffmpeg)"


def sox_synth(
    path: Path, seconds: float, *, rate: int, channels: int, effects: Sequence[str]
) -> Path:
    """A 16-bit file made by ``sox -n ... synth SECONDS EFFECTS...``, once: kept if there."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        command = ["sox", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", str(path)]
        subprocess.run([*command, "synth", f"{seconds:g}", *effects], check=True)
    return path


def version(dist: str) -> str:
    """The installed version of the distribution ``dist``, or "?" if it is not installed."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def machine() -> str:
    """The machine, as the charts' titles name it: architecture, CPUs, load average now."""
    load = os.getloadavg()[0]
    return f"{platform.machine()}, {os.cpu_count()} CPUs, load {load:.1f}"


def _plain(label: str) -> str:
    """A table label without its markdown (bold, code)."""
    return re.sub(r"\*\*|`", "", label)


def write_chart(
    name: str,
    groups: Mapping[str, Sequence[tuple[str, float]]],
    *,
    command: str,
    xlabel: str,
    out_dir: Path,
    load: str | None = None,
) -> Path:
    """Draw ratios as horizontal bars, one panel per group, and write ``bench_NAME.svg``.

    Args:
        name: The benchmark's name: the file is ``bench_<name>.svg``.
        groups: Panel title -> (row label, ratio) in the table's order; a label that
            starts with "lkframes" or "lk." is drawn in the docs' colour, the others in grey.
        command: The command that measured it, for the title.
        xlabel: What a ratio is, and which way is better.
        out_dir: The folder to write to (made if missing).
        load: The machine, as ``machine()`` says it; ``machine()`` now if None.

    Returns:
        The file written.
    """
    plt = pyplot()
    heights = [0.3 * len(rows) + 0.7 for rows in groups.values()]
    figure, axes = plt.subplots(
        len(groups),
        1,
        figsize=(9.0, sum(heights) + 0.9),
        gridspec_kw={"height_ratios": heights},
        sharex=True,
        squeeze=False,
    )
    for axis, (title, rows) in zip(axes[:, 0], groups.items(), strict=True):
        _bars(axis, title, rows)
        axis.tick_params(labelbottom=True)
    axes[-1, 0].set_xlabel(xlabel, loc="left")
    axes[-1, 0].set_xlim(0, max([1.0, *(v for rows in groups.values() for _, v in rows)]) * 1.15)
    figure.suptitle(f"{command}\n{load or machine()}", fontsize=9)
    figure.tight_layout()
    return save(figure, out_dir / f"bench_{name}.svg")


def pyplot() -> Any:
    """matplotlib's pyplot, set to draw the docs' SVGs (imported only when a chart is drawn).

    Raises:
        SystemExit: matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError as missing:
        message = "charts need matplotlib: pip install 'lkframes[plot]', or --no-chart"
        raise SystemExit(message) from missing
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "lkframes",  # the same numbers give the same file
            "svg.fonttype": "none",  # text as text: smaller, searchable
            "font.family": ["DejaVu Sans", "sans-serif"],
            "font.size": 9,
        }
    )
    return plt


def save(figure: Any, path: Path) -> Path:
    """Write ``figure`` as SVG, without a date, and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="svg", metadata={"Date": None})
    pyplot().close(figure)
    return path


def _bars(axis: Any, title: str, rows: Sequence[tuple[str, float]]) -> None:
    labels = [_plain(label) for label, _ in rows]
    values = [value for _, value in rows]
    colors = [LKFRAMES_COLOR if label.startswith(OURS) else OTHER_COLOR for label in labels]
    places = range(len(rows))
    axis.barh(places, values, color=colors, height=0.7)
    axis.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    for place, value in zip(places, values, strict=True):
        axis.text(value, place, f" {value:.2f}x", va="center", fontsize=8)
    axis.set_yticks(list(places), labels)
    axis.invert_yaxis()
    axis.set_title(title, fontsize=9, loc="left")
    axis.spines[["top", "right"]].set_visible(False)
