"""lkframes beside the plain SDK on an impaired network: the table in docs/reliability.md.

Runs ``tests/room_scenarios/impaired.py`` (A publishes 6 s of pitched marks with
lkframes; B reads the track with ``lk.from_participant`` and, on the same subscription,
with a plain ``rtc.AudioStream`` loop) through the impaired network of the room tests
(``tests/impaired_network.py``: server, middle and client namespaces; nftables loss and
outage, ``tc tbf`` cap, a UDP relay for delay, jitter and reordering) under each condition,
``--runs`` times, and prints one Markdown row per condition: lkframes' figures beside the
plain stream's (``tests/impaired_figures.py``), as the range over the runs.

Correctness (exit 1 if any run breaks it): lkframes' samples are the SDK's, its pts are
continuous, it does not end before the SDK's last audible frame.

    python benchmarks/bench_impaired.py             # 3 runs of every condition (~3 min)
    python benchmarks/bench_impaired.py --quick     # 1 run of each (the CI smoke run)

Needs root (namespaces, nftables, tc) and the livekit-server the room tests use.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import impaired_figures as fig
import impaired_network as imp
import livekit_server as lks

CONDITIONS: dict[str, dict[str, Any]] = {
    "none (control)": {},
    "1 % loss": {"loss_percent": 1},
    "5 % loss": {"loss_percent": 5},
    "50 ± 20 ms delay, reordering": {"delay_ms": 50, "jitter_ms": 20, "reorder": True},
    "300 kbit/s cap": {"cap_kbit": 300},
    "3 s outage (1 s in)": {"outage": (1.0, 3.0)},
}


def span(values: list[float], scale: float = 1000.0) -> str:
    """``min…max`` (or one value) of ``values``, times ``scale``, rounded."""
    if not values:
        return "-"
    low, high = min(values) * scale, max(values) * scale
    return f"{low:+.0f}" if round(low) == round(high) else f"{low:+.0f}…{high:+.0f}"


def row(name: str, runs: list[tuple[dict[str, Any], fig.Figures]]) -> str:
    got = [f for _, f in runs]
    lost = [
        int(r["rtp_stats"].get("inboundRtp", {}).get("received", {}).get("packetsLost", 0))
        for r, _ in runs
    ]
    reordered = [r["relay"]["reordered"] for r, _ in runs]
    marks = [f"{len(f.marks)}" for f in got]
    same = all(f.offset is not None and not any(f.sample_errors) for f in got)
    return (
        f"| {name} | {'/'.join(marks)} of 11 | {'yes' if same else 'NO'} "
        f"| {span([max(map(abs, f.sync_errors_s), default=0.0) for f in got])} "
        f"| {span([d for f in got for d in f.lk_delays_s])} "
        f"| {span([d for f in got for d in f.plain_delays_s])} "
        f"| {span([f.lk_length_vs_wall_s for f in got])} "
        f"| {span([f.plain_length_vs_wall_s for f in got])} "
        f"| {span([f.lk_end_s or 0.0 for f in got])} "
        f"| {span([f.plain_end_s or 0.0 for f in got])} "
        f"| {'/'.join(map(str, lost))} | {'/'.join(map(str, reordered))} |"
    )


def problems(name: str, result: dict[str, Any], got: fig.Figures) -> list[str]:
    found = []
    if got.offset is None or any(got.sample_errors):
        found.append(f"{name}: lkframes' samples are not the SDK's")
    if not result["lkframes"]["pts_continuous"]:
        found.append(f"{name}: pts not continuous")
    if got.tail_peak >= fig.QUIET:
        found.append(f"{name}: lkframes ended while the SDK still delivered audio")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    failures: list[str] = []
    table = []
    with (
        tempfile.TemporaryDirectory() as workdir,
        imp.impaired_server(lks.server_binary(), Path(workdir), f"lkf-bench-{os.getpid()}") as site,
    ):
        for n, (name, condition) in enumerate(CONDITIONS.items()):
            done = []
            for i in range(runs):
                out = Path(workdir, f"{n}-{i}")
                out.mkdir()
                impairment = dict(condition)
                outage = impairment.pop("outage", None)
                with site.network.impair(**impairment) as applied:
                    result = site.scenario(
                        "impaired", f"bench-{n}-{i}", out, outage=outage, applied=applied
                    )
                result["relay"] = applied.relay_counts
                got = fig.figures(result)
                failures += problems(name, result, got)
                done.append((result, got))
            table.append(row(name, done))
            print(f"{name}: done ({time.strftime('%H:%M:%S')})", file=sys.stderr)
    print(f"# lkframes beside the plain SDK on an impaired network ({runs} runs each)\n")
    print(
        "| impairment | marks (per run) | same samples as the SDK | mark sync vs SDK (ms) "
        "| mark delay lkframes (ms) | mark delay SDK (ms) | length - wall lkframes (ms) "
        "| length - wall SDK (ms) | end after leave lkframes (ms) | last audio after leave "
        "SDK (ms) | packets lost | packets reordered |"
    )
    print("| --- | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(table))
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
