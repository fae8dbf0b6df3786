"""lkframes over an impaired network: 1 % and 5 % loss, 50 ± 20 ms delay with reordering,
a 300 kbit/s cap and a 3 s outage between the clients and livekit-server.

The network is real (``impaired_network.py``: three namespaces, nftables, ``tc tbf`` and a
UDP relay for the delay). Each test runs ``room_scenarios/impaired.py``: A publishes a
train of pitched marks with lkframes; B reads A's track with ``lk.from_participant`` and,
as the control on the same subscription, with a plain ``rtc.AudioStream`` loop. Every
figure is compared with that control in the same run, never with an absolute limit, so
what the network and LiveKit's jitter buffer do (conceal, stretch, drop a start) is the
same on both sides and only lkframes' own doing shows.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from impaired_figures import FRAME, QUIET, RATE, Figures, figures
from impaired_network import ImpairedServer

pytestmark = pytest.mark.livekit

SYNC_S = 0.02
"""How much later lkframes may hand marks over than the plain SDK stream, in the median
(wall clock)."""
DURATION_S = 0.1
"""How far a recording's length may be from the wall time it covers."""
OUTAGE = (1.0, 3.0)
"""Begins 1 s after B has subscribed to A's track, lasts 3 s (of a 6 s signal)."""
CONDITIONS: dict[str, dict[str, Any]] = {
    "1% loss": {"loss_percent": 1},
    "5% loss": {"loss_percent": 5},
    "50+-20 ms delay, reordered": {"delay_ms": 50, "jitter_ms": 20, "reorder": True},
    "300 kbit/s cap": {"cap_kbit": 300},
}


def run(
    site: ImpairedServer,
    tmp_path: Path,
    room: str,
    *args: str,
    outage: bool = False,
    delay_once_publishing_ms: float = 0.0,
    **impairment: Any,
) -> dict[str, Any]:
    """The scenario's result (with ``args``) under ``impairment``, with the 3 s `OUTAGE`
    or a delay (from when A publishes: a connection over it takes long to set up), with
    what the relay forwarded meanwhile (``relay``) and when the outage ran."""
    with site.network.impair(**impairment) as applied:

        def publishing() -> None:
            if delay_once_publishing_ms:
                site.network.relay_settings(delay_once_publishing_ms, 0.0, False)
            if outage:
                time.sleep(OUTAGE[0])
                site.network.outage(OUTAGE[1], applied)

        wanted = outage or delay_once_publishing_ms
        result = site.scenario(
            "impaired", room, tmp_path, *args, on_publishing=publishing if wanted else None
        )
    result["relay"] = applied.relay_counts
    result["outage"] = (applied.outage_began, applied.outage_ended)
    return result


def assert_same_as_the_sdk(result: dict[str, Any], log: str) -> Figures:
    """Everything lkframes must share with the plain SDK stream under any impairment."""
    lk = result["lkframes"]
    assert lk["error"] is None
    assert lk["pts_continuous"]
    # Media went over UDP, through the relay (not ICE-TCP, which would bypass the impairment).
    assert result["relay"]["to_client"] > 100, result["relay"]
    assert not re.search(r"selected:1\](\[\w+\])? tcp", log), "an ICE-TCP pair was selected"
    got = figures(result)
    assert got.offset is not None, "lkframes' samples are not the SDK's"
    # Nothing ends early: after lkframes' last sample the SDK delivered only silence.
    assert got.tail_peak < QUIET, "lkframes ended while the SDK still delivered audio"
    assert got.lk_end_s is not None
    assert got.lk_end_s >= 0.0, "ended before A left"
    # pts keep wall time: the recording is as long as the time it covers.
    assert abs(got.lk_length_vs_wall_s) <= DURATION_S
    # Sync: each mark where, and when, the plain stream has it.
    assert not got.missing_in_one
    assert len(got.marks) >= 3, got.marks
    assert not any(got.sample_errors), got.sample_errors  # the same place on the timeline
    # ... handed over no later than the SDK's own loop gets it (each reader's wall clock: a
    # busy machine delays either now and then, by 20-300 ms, seen beside stress-ng; lkframes
    # ahead of the control is no fault).
    assert float(np.median(got.sync_errors_s)) <= SYNC_S, got.sync_errors_s
    return got


def server_log(site: ImpairedServer) -> str:
    return site.server.log_path.read_text(errors="replace")


@pytest.mark.parametrize("condition", CONDITIONS)
def test_lkframes_receives_what_the_sdk_does_under(
    impaired_server: ImpairedServer, tmp_path: Path, condition: str
) -> None:
    room = re.sub(r"\W+", "-", condition)
    result = run(impaired_server, tmp_path, room, **CONDITIONS[condition])
    assert_same_as_the_sdk(result, server_log(impaired_server))


def test_an_outage_is_kept_as_silence_of_its_length_and_the_stream_resumes(
    impaired_server: ImpairedServer, tmp_path: Path
) -> None:
    result = run(impaired_server, tmp_path, "outage", outage=True)
    assert_same_as_the_sdk(result, server_log(impaired_server))
    began, ended = result["outage"]
    assert began is not None
    assert ended is not None
    lk = result["lkframes"]
    # LiveKit keeps delivering frames through the outage: no stall, no early end ...
    assert lk["longest_gap"] < 1.0
    # ... concealment, then silence, for about the outage's length ...
    x = np.load(lk["file"])
    frames = x[: x.size // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    quiet = np.sqrt((frames**2).mean(axis=1)) < QUIET
    longest = max(len(run) for run in "".join("1" if q else "0" for q in quiet).split("0"))
    assert longest * FRAME / RATE >= (ended - began) - 1.0, "no silence as long as the outage"
    # ... and the marks sent after it come back, in order, on a timeline that kept the gap.
    starts = result["publish_started"]
    marks = lk["marks"]
    resumed = [k for k, _, _ in marks if starts + k * result["every"] > ended]
    before = [k for k, _, _ in marks if starts + k * result["every"] < began]
    assert resumed, marks
    assert before, marks
    assert [k for k, _, _ in marks] == sorted(k for k, _, _ in marks)
    first, last = marks[0], marks[-1]
    spacing = (last[1] - first[1]) / RATE - (last[0] - first[0]) * result["every"]
    assert abs(spacing) < 0.5, f"the gap is not the outage's length: {spacing:+.3f} s off"


def test_a_reader_busy_when_the_participant_leaves_still_gets_their_last_audio(
    impaired_server: ImpairedServer, tmp_path: Path
) -> None:
    """lkframes' reader stops for 1 s as A begins to leave (a slow consumer, or a busy
    machine) while A's last audio is still on its way (a 200 ms delay). LiveKit queues it
    meanwhile; the stream must read all of it, not end 0.3 s after the unsubscription on a
    clock that counted the reader's own pause (it did: the tail up to the SDK's last
    audible frame was lost)."""
    result = run(
        impaired_server, tmp_path, "busy-reader", "--pause", "1.0", "--seconds", "3",
        delay_once_publishing_ms=200,
    )  # fmt: skip
    lk = result["lkframes"]
    assert lk["error"] is None
    assert lk["pts_continuous"]
    got = figures(result)
    assert got.plain_end_s is not None
    assert lk["paused_at"] is not None
    tail_s = result["left_at"] + got.plain_end_s - lk["paused_at"]
    assert tail_s > 0.05, f"only {tail_s:.3f} s of audio came during the pause: nothing tested"
    assert got.offset is not None, "lkframes' samples are not the SDK's"
    assert got.tail_peak < QUIET, "the stream ended before the SDK's last audible frame"
