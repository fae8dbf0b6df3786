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
    python benchmarks/bench_impaired.py --room      # and record_room under 5 % loss

With ``--room`` it also runs ``room_mix.py`` (A, B and C each play a tone, R records the
room with ``record_room`` and reads each track with a plain SDK loop) under 5 % loss and
prints where each participant's tone starts after its send time, in the mix and in the
plain stream placed at its first sample's playout (issue 20, item 3).

Needs root (namespaces, nftables, tc) and the livekit-server the room tests use.

A full run also draws, per condition, lkframes' mark delay over the plain stream's into
docs/figures/bench_impaired.svg (``--no-chart``: not).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

import _common

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
    inbound = [r["rtp_stats"].get("inboundRtp", {}) for r, _ in runs]
    lost = [int(i.get("received", {}).get("packetsLost", 0)) for i in inbound]
    buffered = [  # the jitter buffer's mean delay over the run, in s
        float(i["inbound"]["jitterBufferDelay"]) / int(i["inbound"]["jitterBufferEmittedCount"])
        for i in inbound
        if int(i.get("inbound", {}).get("jitterBufferEmittedCount", 0))
    ]
    reordered = [r["relay"]["reordered"] for r, _ in runs]
    marks = [f"{len(f.marks)}" for f in got]
    same = all(f.offset is not None and not any(f.sample_errors) for f in got)
    return (
        f"| {name} | {'/'.join(marks)} of 11 | {'yes' if same else 'NO'} "
        f"| {span([float(np.median(f.sync_errors_s)) for f in got if f.sync_errors_s])} "
        f"({span([max(f.sync_errors_s, key=abs) for f in got if f.sync_errors_s])}) "
        f"| {span([d for f in got for d in f.lk_delays_s])} "
        f"| {span([d for f in got for d in f.plain_delays_s])} "
        f"| {span([f.lk_length_vs_wall_s for f in got])} "
        f"| {span([f.plain_length_vs_wall_s for f in got])} "
        f"| {span([f.lk_end_s or 0.0 for f in got])} "
        f"| {span([f.plain_end_s or 0.0 for f in got])} "
        f"| {'/'.join(map(str, lost))} | {'/'.join(map(str, reordered))} "
        f"| {span(buffered)} |"
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


def onset_s(x: Any, hz: float) -> float | None:
    """When the tone at ``hz`` (±50 Hz) first reaches half of room_mix.py's amplitude."""
    y = np.asarray(x, np.float64).reshape(-1) / 32768
    spectrum = np.fft.rfft(y)
    spectrum[np.abs(np.fft.rfftfreq(y.size, 1 / fig.RATE) - hz) > 50] = 0
    band = np.fft.irfft(spectrum, y.size)
    window = round(0.005 * fig.RATE)
    envelope = np.sqrt(2 * np.convolve(band**2, np.ones(window) / window, mode="same"))
    loud = np.flatnonzero(envelope > 0.25 / 2)
    return float(loud[0] / fig.RATE) if loud.size else None


def room_placement(site: imp.ImpairedServer, workdir: str, runs: int) -> list[str]:
    """``record_room`` under 5 % loss: where each participant's tone starts in the mix, and
    in a plain SDK stream placed at its first sample's playout, after its send time."""
    rows = []
    for i in range(runs):
        out = Path(workdir, f"mix-{i}")
        out.mkdir()
        try:
            with site.network.impair(loss_percent=5):
                result = site.scenario("room_mix", f"bench-mix-{i}", out, timeout=90)
        except (lks.ScenarioError, lks.ProcessTimeout) as exc:
            rows.append(f"| {i + 1} | failed: {str(exc).splitlines()[0]} | | | |")
            continue
        mixed, _ = soundfile.read(out / "room.wav", dtype="int16")
        zero = result["mixed"]["started_at"]
        lk_ms, plain_ms = {}, {}
        for identity, sent in result["tones"].items():
            start = onset_s(mixed, sent["hz"])
            heard = onset_s(np.load(out / f"plain-{identity}.npy"), sent["hz"])
            sent_at = sent["start"] - zero
            if start is not None:
                lk_ms[identity] = 1000 * (start - sent_at)
            if heard is not None:
                heard_at = result["plain_start"][identity] - zero + heard
                plain_ms[identity] = 1000 * (heard_at - sent_at)
        spread = max(lk_ms.values()) - min(lk_ms.values()) if lk_ms else float("nan")
        rows.append(
            f"| {i + 1} | "
            + ", ".join(f"{k} {v:+.0f}" for k, v in sorted(lk_ms.items()))
            + " | "
            + ", ".join(f"{k} {v:+.0f}" for k, v in sorted(plain_ms.items()))
            + f" | {spread:.0f} | {result['mixed']['late_samples']} |"
        )
    return rows


def print_table(runs: int, table: list[str]) -> None:
    print(f"# lkframes beside the plain SDK on an impaired network ({runs} runs each)\n")
    print(
        "| impairment | marks (per run) | same samples as the SDK | mark handover vs SDK, "
        "median (worst) (ms) "
        "| mark delay lkframes (ms) | mark delay SDK (ms) | length - wall lkframes (ms) "
        "| length - wall SDK (ms) | end after leave lkframes (ms) | last audio after leave "
        "SDK (ms) | packets lost | packets reordered | jitter buffer, mean (ms) |"
    )
    print("| --- |" + " ---: |" * 12)
    print("\n".join(table))


def main() -> int:
    parser = _common.parser(__doc__, quick="1 run of each condition")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--room", action="store_true", help="also record_room's placement under 5 % loss"
    )
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    failures: list[str] = []
    table = []
    measured: dict[str, list[fig.Figures]] = {}
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

                    def publishing(outage: tuple[float, float] = outage or (0, 0)) -> None:
                        time.sleep(outage[0])
                        site.network.outage(outage[1], applied)

                    result = site.scenario(
                        "impaired",
                        f"bench-{n}-{i}",
                        out,
                        on_publishing=publishing if outage else None,
                    )
                result["relay"] = applied.relay_counts
                got = fig.figures(result)
                failures += problems(name, result, got)
                done.append((result, got))
            table.append(row(name, done))
            measured[name] = [got for _, got in done]
            print(f"{name}: done ({time.strftime('%H:%M:%S')})", file=sys.stderr)
        print_table(runs, table)
        placement = room_placement(site, workdir, runs) if args.room else []
    if placement:
        print("\n## record_room under 5 % loss: tone starts after their send time (ms)\n")
        print("| run | in the mix (record_room) | plain SDK stream | spread in the mix ", end="")
        print("| late samples |")
        print("| ---: | --- | --- | ---: | ---: |")
        print("\n".join(placement))
    for failure in failures:
        print(f"FAILED: {failure}")
    out_dir = _common.chart_dir(args)
    if out_dir is not None and not failures:
        print(f"\nchart: {chart(measured, runs, out_dir)}")
    return 1 if failures else 0


def chart(measured: dict[str, list[fig.Figures]], runs: int, out_dir: Path) -> Path:
    """Per condition, lkframes' mark delay (send to handover, median over every mark of
    every run) over the plain ``rtc.AudioStream`` loop's on the same subscription."""
    rows = []
    for name, got in measured.items():
        ours = [d for f in got for d in f.lk_delays_s]
        plain = [d for f in got for d in f.plain_delays_s]
        if ours and plain and float(np.median(plain)) > 0:
            ms = float(np.median(ours)) * 1000
            rows.append((f"lkframes, {name} ({ms:.0f} ms)", ms / 1000 / float(np.median(plain))))
    return _common.write_chart(
        "impaired",
        {"from_participant beside a plain AudioStream loop, the same subscription": rows},
        command=f"python benchmarks/bench_impaired.py: {runs} runs per condition, "
        "impaired network, real livekit-server",
        xlabel="lkframes' mark delay (median) / the plain loop's (lower is sooner)",
        out_dir=out_dir,
    )


if __name__ == "__main__":
    sys.exit(main())
