"""Pixel-format benchmark: `to_pixel_format` to bgr24 and gray, beside OpenCV and PyAV.

Each case converts the same frames (720p and 1080p; from rgba and from i420; to bgr24 and
to gray), in one process, interleaved, best of N runs over all frames:

- lkframes as users write it: ``lk.from_video_frames(frames).to_pixel_format(fmt).collect()``,
- lkframes' per-frame call: ``frame.convert(fmt)`` for each frame,
- OpenCV: ``cv2.cvtColor`` on the same arrays (its default threads, and one thread),
- PyAV: ``VideoFrame.reformat(format=fmt).to_ndarray()`` on PyAV frames of the same pixels
  (made before the clock starts, as a decoder hands them out).

Correctness is checked, not timed: lkframes' output equals cv2's for rgba (both cases) and
PyAV's for i420 (both cases); OpenCV's gray from i420 is the Y plane as it is, not
FFmpeg's stretched luma, so it is timed but not compared. A failed check exits with 1.

    python benchmarks/bench_pixfmt.py            # 60 frames per case, best of 5
    python benchmarks/bench_pixfmt.py --quick    # 10 frames, best of 3 (the CI smoke run)

A full run also draws the speeds against OpenCV's into docs/figures/bench_pixfmt.svg
(``--no-chart``: not).
"""

from __future__ import annotations

import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np

import _common
import lkframes as lk

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
CV2_CODES = {
    ("rgba", "bgr24"): cv2.COLOR_RGBA2BGR,
    ("rgba", "gray"): cv2.COLOR_RGBA2GRAY,
    ("i420", "bgr24"): cv2.COLOR_YUV2BGR_I420,
    ("i420", "gray"): cv2.COLOR_YUV2GRAY_I420,
}


@dataclass
class Row:
    label: str
    best_ms: float
    median_ms: float


def _frames(source: str, width: int, height: int, count: int) -> list[lk.VideoFrame]:
    """``count`` frames of a moving gradient with noise (every pixel differs per frame)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width]
    out = []
    for k in range(count):
        rgba = np.empty((height, width, 4), np.uint8)
        rgba[..., 0] = (x + 3 * k) % 256
        rgba[..., 1] = (y + 5 * k) % 256
        rgba[..., 2] = rng.integers(0, 256, (height, width), dtype=np.uint8)
        rgba[..., 3] = 255
        frame = lk.VideoFrame(rgba, "rgba", timestamp_us=k * 33_333)
        out.append(frame if source == "rgba" else frame.convert("i420"))
    return out


def _av_frames(frames: list[lk.VideoFrame]) -> list[av.VideoFrame]:
    """PyAV frames of the same pixels (even sizes: PyAV's own from_ndarray takes them)."""
    made = []
    for frame in frames:
        if frame.pixel_format == "i420":
            flat = frame.data.reshape(frame.height * 3 // 2, frame.width)
            made.append(av.VideoFrame.from_ndarray(flat, format="yuv420p"))
        else:
            made.append(av.VideoFrame.from_ndarray(frame.data, format=frame.pixel_format))
    return made


def _cv2_input(frame: lk.VideoFrame) -> np.ndarray[Any, Any]:
    if frame.pixel_format == "i420":
        return frame.data.reshape(frame.height * 3 // 2, frame.width)
    return frame.data


def _time(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Each path ``repeat`` times, interleaved (one warm-up each first)."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def run_case(
    source: str, target: str, size: str, count: int, repeat: int, checks: list[str]
) -> list[Row]:
    width, height = SIZES[size]
    frames = _frames(source, width, height, count)
    arrays = [_cv2_input(f) for f in frames]
    pictures = _av_frames(frames)
    code = CV2_CODES[(source, target)]
    fmt: Any = target

    def stream() -> list[lk.VideoFrame]:
        return lk.run_sync(lk.from_video_frames(frames).to_pixel_format(fmt).collect())

    def one_thread() -> list[Any]:
        cv2.setNumThreads(1)
        try:
            return [cv2.cvtColor(a, code) for a in arrays]
        finally:
            cv2.setNumThreads(-1)

    runs: dict[str, Callable[[], object]] = {
        "lkframes `.to_pixel_format()` + `collect()`": stream,
        "lkframes `frame.convert()` per frame": lambda: [f.convert(fmt) for f in frames],
        "cv2.cvtColor (default threads)": lambda: [cv2.cvtColor(a, code) for a in arrays],
        "cv2.cvtColor (1 thread)": one_thread,
        "PyAV reformat + to_ndarray": lambda: [
            p.reformat(format=target).to_ndarray() for p in pictures
        ],
    }
    _check(source, target, size, stream(), arrays, pictures, code, checks)
    return [
        Row(name, min(t) / count * 1e3, statistics.median(t) / count * 1e3)
        for name, t in _time(runs, repeat).items()
    ]


def _check(
    source: str,
    target: str,
    size: str,
    got: list[lk.VideoFrame],
    arrays: list[np.ndarray[Any, Any]],
    pictures: list[av.VideoFrame],
    code: int,
    failed: list[str],
) -> None:
    for k, frame in enumerate(got):
        if source == "rgba":
            expected = cv2.cvtColor(arrays[k], code)
            reference = "cv2"
        else:
            expected = pictures[k].reformat(format=target).to_ndarray()
            reference = "PyAV"
        if not np.array_equal(frame.data, expected):
            failed.append(f"{size} {source} -> {target}: frame {k} differs from {reference}'s")
            return


def render(results: dict[tuple[str, str, str], list[Row]], config: dict[str, Any]) -> str:
    out = [
        "# lkframes pixel-format benchmark",
        "",
        f"{config['frames']} frames per case, best of {config['repeat']} (one warm-up), "
        f"interleaved, one process; ms per frame. Python {config['python']}, numpy "
        f"{config['numpy']}, opencv {config['cv2']}, av {config['av']}, lkframes "
        f"{config['lkframes']}; {config['machine']}.",
        "",
        "| case | path | best ms | median ms | vs cv2 (default) | vs cv2 (1 thread) | vs PyAV |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (size, source, target), rows in results.items():
        cv2_row, cv2_one, pyav = rows[2], rows[3], rows[4]
        for row in rows:
            ratios = [
                f"{row.best_ms / ref.best_ms:.2f}x" if row.label.startswith("lkframes") else ""
                for ref in (cv2_row, cv2_one, pyav)
            ]
            out.append(
                f"| {size} {source} → {target} | {row.label} | {row.best_ms:.2f} | "
                f"{row.median_ms:.2f} | {' | '.join(ratios)} |"
            )
    out += ["", "Ratios are lkframes' time over the other's: above 1x, lkframes is slower."]
    return "\n".join(out)


def chart(results: dict[tuple[str, str, str], list[Row]]) -> dict[str, list[tuple[str, float]]]:
    """Each path's speed against cv2.cvtColor's (default threads), a panel per size."""
    groups: dict[str, list[tuple[str, float]]] = {}
    for (size, source, target), rows in results.items():
        cv2_row = rows[2]
        short = {0: "lkframes stream", 1: "lkframes convert()", 2: "cv2", 3: "cv2 1 thread"}
        groups.setdefault(size, []).extend(
            (f"{short.get(i, 'PyAV')} {source}→{target}", cv2_row.best_ms / row.best_ms)
            for i, row in enumerate(rows)
        )
    return groups


def main(argv: Sequence[str] | None = None) -> int:
    parser = _common.parser(__doc__, quick="10 frames, best of 3")
    parser.add_argument("--frames", type=int, help="frames per case (default 60)")
    parser.add_argument("--repeat", type=int, help="timed runs per path (default 5)")
    args = parser.parse_args(argv)
    count = args.frames or (10 if args.quick else 60)
    repeat = args.repeat or (3 if args.quick else 5)
    config = {
        "frames": count, "repeat": repeat, "python": platform.python_version(),
        "numpy": np.__version__, "cv2": cv2.__version__, "av": _common.version("av"),
        "lkframes": lk.__version__, "machine": _common.machine(),
    }  # fmt: skip
    failed: list[str] = []
    results = {
        (size, source, target): run_case(source, target, size, count, repeat, failed)
        for size in SIZES
        for source in ("rgba", "i420")
        for target in ("bgr24", "gray")
    }
    print(render(results, config))
    print("")
    print(f"Correctness: {len(results) - len(failed)} of {len(results)} cases equal the reference")
    for problem in failed:
        print(f"- FAILED {problem}")
    out_dir = _common.chart_dir(args)
    if out_dir is not None and not failed:
        path = _common.write_chart(
            "pixfmt",
            chart(results),
            command=f"python benchmarks/bench_pixfmt.py: {count} frames per case, best of "
            f"{repeat}; to_pixel_format beside cv2.cvtColor and PyAV",
            xlabel="speed / cv2.cvtColor with its default threads (higher is faster)",
            out_dir=out_dir,
            load=config["machine"],
        )
        print(f"\nchart: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
