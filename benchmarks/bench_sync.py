"""A/V sync against LiveKit's Go SDK, through a real livekit-server, in one run.

Each round publishes the flash-and-beep clip twice (tests/sync_rounds.py): from the Go client,
received by a Go client (the control) and recorded by ``record_participant`` to MP4 and
WebM; then with ``publish_media``, received by a Go client and recorded by
``record_participant``. Every mark from 3.5 s on is compared with the control's offset in the
same round, so the numbers are differences against LiveKit's own client on the same machine
at the same moment, not absolute timings.

    python benchmarks/bench_sync.py            # 5 rounds of a 12 s clip (~4 min)
    python benchmarks/bench_sync.py --quick    # 1 round (the CI smoke run)
    python benchmarks/bench_sync.py --rounds 2 --seconds 120   # drift over 2 minutes
    python benchmarks/bench_sync.py --json sync.json   # every mark's error, as JSON too

A run without --quick also draws every judged mark's error, per scenario, into
docs/figures/bench_sync.svg (``--no-chart``: not; ``--chart-dir DIR``: there).

Needs root (a network namespace), livekit-server (scripts/livekit-server.sh) and Go for the
client (scripts/go-programs.sh); both are built once and cached. Exits 1 if a scenario lost
its marks (a correctness check), never for a slow or late result.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import sync_rounds
from sync_marks import CLIP_S, Error, errors_against, make_clip

import _common
import livekit_server as lks


def _row(scenario: str, errors: list[Error]) -> str:
    every = [e for error in errors for e in error.errors_ms]
    senders = [e for error in errors for e in (error.sender_errors_ms or [])]
    within = sum(error.worst_ms <= 20 for error in errors)
    by_sender = f"{np.median(senders):+7.1f}" if senders else "      -"
    drift = max((abs(error.drift_ms) for error in errors), default=0.0)
    return (
        f"| {scenario:<31} | {np.median(every):+7.1f} | {min(every):+7.1f} | "
        f"{max(every):+7.1f} | {by_sender} | {drift:6.1f} | {within} of {len(errors)} |"
    )


def chart(errors: dict[str, list[Error]], title: str, out_dir: Path, load: str) -> Path:
    """Every judged mark's error (ms against the Go control), one row per scenario, a dot per
    mark, each round in its own shade; the band is issue 20's ±20 ms."""
    plt = _common.pyplot()
    figure, axis = plt.subplots(figsize=(9.0, 0.5 * len(errors) + 1.4))
    for row, rounds in enumerate(errors.values()):
        for i, error in enumerate(rounds):
            shade = plt.get_cmap("viridis")(i / max(len(rounds) - 1, 1))
            spread = np.linspace(-0.25, 0.25, len(rounds))[i] if len(rounds) > 1 else 0.0
            axis.plot(error.errors_ms, [row + spread] * len(error.errors_ms), "o", ms=3,
                      color=shade, alpha=0.8)  # fmt: skip
    axis.axvspan(-20, 20, color=_common.OTHER_COLOR, alpha=0.2, lw=0)
    axis.axvline(0, color="black", lw=0.8, ls="--")
    axis.set_yticks(range(len(errors)), list(errors))
    axis.invert_yaxis()
    axis.set_xlabel("beep - flash, minus the Go control's median in the same round (ms)")
    axis.set_title(f"{title}\n{load}", fontsize=9, loc="left")
    figure.tight_layout()
    return _common.save(figure, out_dir / "bench_sync.svg")


def main() -> int:
    parser = _common.parser(__doc__, quick="one round", json=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--seconds", type=int, default=CLIP_S, help=f"the clip's length (default {CLIP_S})"
    )
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    load = _common.machine()
    go = sync_rounds.go_client()
    with (
        tempfile.TemporaryDirectory(prefix="lkf-bench-sync-") as work,
        lks.network_namespace(f"lkf-bench-{os.getpid()}") as namespace,
        lks.running_server(lks.server_binary(), Path(work), namespace) as server,
    ):
        clip = make_clip(Path(work), seconds=args.seconds)
        results = [
            sync_rounds.sync_round(server, go, clip, Path(work) / f"r{i}", f"bench{i}")
            for i in range(rounds)
        ]
    control = sync_rounds.SCENARIOS[0]
    print(
        f"A/V sync vs the Go SDK (Go -> Go) in the same round, {rounds} round(s) "
        f"of a {args.seconds} s clip, ms"
    )
    print("(offset = beep - flash; error = offset - the control's median offset, marks >= 3.5 s)")
    print()
    print(
        "| scenario                        | median  |   min   |   max   | by SR   | drift  "
        "| within 20 ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    failed = False
    judged: dict[str, list[Error]] = {}
    for scenario in sync_rounds.SCENARIOS:
        errors = [errors_against(r[control], r[scenario], scenario) for r in results]
        judged[scenario] = errors
        if any(len(error.errors_ms) < 3 for error in errors):
            print(f"| {scenario} | lost its marks: {[e.errors_ms for e in errors]} |")
            failed = True
            continue
        print(_row(scenario, errors))
    title = f"python benchmarks/bench_sync.py: {rounds} round(s) of a {args.seconds} s clip"
    if args.json:
        rows = {scenario: [asdict(e) for e in errors] for scenario, errors in judged.items()}
        args.json.write_text(json.dumps({"run": title, "machine": load, "errors": rows}))
    if (out_dir := _common.chart_dir(args)) is not None:
        print(f"\nchart: {chart(judged, title, out_dir, load)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
