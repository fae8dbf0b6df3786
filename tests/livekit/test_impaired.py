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
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from impaired_network import ImpairedServer

pytestmark = pytest.mark.livekit

RATE = 48_000
FRAME = 480
"""LiveKit's 10 ms frames, as both readers get them."""
SYNC_S = 0.02
"""How far a mark may land from where the plain SDK stream has it (±, wall clock)."""
DURATION_S = 0.1
"""How far a recording's length may be from the wall time it covers, and from the SDK's."""
QUIET = 100
"""Below the quietest of A's signal (the tone under the marks, peak 600; rms 425)."""
OUTAGE = (1.0, 3.0)
"""Begins 1 s after A starts publishing, lasts 3 s (of a 6 s signal)."""
CONDITIONS: dict[str, dict[str, Any]] = {
    "1% loss": {"loss_percent": 1},
    "5% loss": {"loss_percent": 5},
    "50+-20 ms delay, reordered": {"delay_ms": 50, "jitter_ms": 20, "reorder": True},
    "300 kbit/s cap": {"cap_kbit": 300},
}


def run(site: ImpairedServer, tmp_path: Path, room: str, **impairment: Any) -> dict[str, Any]:
    """The scenario's result under ``impairment`` (``outage=True`` for the 3 s outage),
    with what the relay forwarded meanwhile (``relay``) and when the outage ran."""
    outage = impairment.pop("outage", False)
    with site.network.impair(**impairment) as applied:
        result = site.scenario(
            "impaired", room, tmp_path, outage=OUTAGE if outage else None, applied=applied
        )
    result["relay"] = applied.relay_counts
    result["outage"] = (applied.outage_began, applied.outage_ended)
    return result


def offset_in(lk: NDArray[np.int16], plain: NDArray[np.int16]) -> int:
    """Where lkframes' samples start in the plain stream's (whole 10 ms frames; the two
    readers subscribe within a few frames of each other), or fail."""
    for frames in range(-20, 21):
        start = frames * FRAME
        a, b = (lk, plain[start:]) if start >= 0 else (lk[-start:], plain)
        n = min(a.size, b.size)
        if n > RATE and np.array_equal(a[:n], b[:n]):
            return start
    raise AssertionError("lkframes' samples are not the SDK's, at any offset of ±20 frames")


def assert_same_as_the_sdk(result: dict[str, Any], log: str) -> dict[str, float]:
    """Everything both readers share; returns the figures for the table."""
    lk, plain = result["lkframes"], result["plain"]
    assert lk["error"] is None
    assert lk["pts_continuous"]
    # Media went over UDP, through the relay (not ICE-TCP, which would bypass the impairment).
    assert result["relay"]["to_client"] > 100, result["relay"]
    assert not re.search(r"selected:1\](\[\w+\])? tcp", log), "an ICE-TCP pair was selected"
    x, y = np.load(lk["file"]), np.load(plain["file"])
    start = offset_in(x, y)
    # Nothing ends early: after lkframes' last sample the SDK delivered only silence (and
    # the jitter buffer's faint noise once its packets ran out: seen up to 30 of 32767).
    after = y[start + x.size :] if start >= 0 else y[x.size + start :]
    assert np.abs(after, dtype=np.int32).max(initial=0) < QUIET, "lkframes ended early"
    assert lk["end"] is not None
    assert lk["end"] >= 0.0, "ended before A left"
    covered = lk["last_arrival"] - lk["first_arrival"] + FRAME / RATE
    assert lk["seconds"] == pytest.approx(covered, abs=DURATION_S), "pts left wall time"
    # Sync: each mark where, and when, the plain stream has it.
    lk_marks = {k: (sample, arrived) for k, sample, arrived in lk["marks"]}
    plain_marks = {k: (sample, arrived) for k, sample, arrived in plain["marks"]}
    assert lk_marks.keys() == plain_marks.keys()
    assert len(lk_marks) >= 3, lk_marks
    errors = [lk_marks[k][1] - plain_marks[k][1] for k in lk_marks]
    assert max(map(abs, errors)) <= SYNC_S, errors
    for k, (sample, _) in lk_marks.items():
        assert sample + start == plain_marks[k][0]
    return {"sync_error_ms": 1000 * max(map(abs, errors)), "seconds": lk["seconds"]}


@pytest.mark.parametrize("condition", CONDITIONS)
def test_lkframes_receives_what_the_sdk_does_under(
    impaired_server: ImpairedServer, tmp_path: Path, condition: str
) -> None:
    room = re.sub(r"\W+", "-", condition)
    result = run(impaired_server, tmp_path, room, **CONDITIONS[condition])
    assert_same_as_the_sdk(result, impaired_server.server.log_path.read_text(errors="replace"))


def test_an_outage_is_kept_as_silence_of_its_length_and_the_stream_resumes(
    impaired_server: ImpairedServer, tmp_path: Path
) -> None:
    result = run(impaired_server, tmp_path, "outage", outage=True)
    assert_same_as_the_sdk(result, impaired_server.server.log_path.read_text(errors="replace"))
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
    assert longest * FRAME / RATE >= (ended - began) - 1.0
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
