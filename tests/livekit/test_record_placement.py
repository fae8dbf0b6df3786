"""Where `record_participant` places received audio: a gap between two tracks keeps to wall
time, a stall of the recording process does not (no room needed: frames and arrival times
are made up)."""

from __future__ import annotations

import numpy as np
import pytest

import lkframes as lk
from lkframes.media._record import CATCH_UP_S, SETTLE_S, _AudioPlacement, _Zero

RATE = 48_000
FRAME = 480  # 10 ms, as LiveKit delivers audio


def _frames(count: int) -> list[lk.AudioFrame]:
    return [
        lk.AudioFrame(np.full((FRAME, 1), i + 1, np.int16), RATE, pts=i * FRAME)
        for i in range(count)
    ]


def _place(arrivals: list[float]) -> list[lk.AudioFrame]:
    placing = _AudioPlacement(_Zero())
    out = []
    for frame, arrived in zip(_frames(len(arrivals)), arrivals, strict=True):
        out += placing.add(frame, arrived)
    return out + placing.flush()


def _steady(count: int, start: float = 0.0) -> list[float]:
    """Frame i handed over as it begins to play: LiveKit pulls each 10 ms at its tick."""
    return [start + i * FRAME / RATE for i in range(count)]


def test_a_frame_is_placed_where_it_begins_when_handed_over() -> None:
    # The video came first (the recording's zero at 0.0); the audio's frames arrive from
    # 0.1 s on, each as it begins to play, a few with a little delay (the event loop):
    # the least delayed says where sample 0 is, 0.1 s after the zero.
    placing = _AudioPlacement(_Zero())
    placing._zero.set(0.0)
    arrivals = [0.1 + i * FRAME / RATE + (0.003 if i % 3 else 0.0) for i in range(100)]
    placed = []
    for frame, arrived in zip(_frames(100), arrivals, strict=True):
        placed += placing.add(frame, arrived)
    placed += placing.flush()
    data = np.concatenate([np.asarray(f.data)[:, 0] for f in placed])
    assert np.flatnonzero(data)[0] == round(0.1 * RATE)  # silence until then, not 90 ms
    assert data.size == round(0.1 * RATE) + 100 * FRAME


@pytest.mark.parametrize("burst_pace", [0.0, 0.006])
def test_a_stall_of_the_recorder_adds_no_silence(burst_pace: float) -> None:
    # 1 s at pace, then the process is held up 0.5 s: LiveKit kept the audio and hands
    # it over faster than real time (at once, or 6 ms a frame on a busy machine), then
    # the pace resumes.
    before = _steady(100)
    stall = CATCH_UP_S + 0.3
    burst = [before[-1] + stall + i * burst_pace for i in range(80)]
    after = _steady(20, burst[-1])
    placed = _place(before + burst + after)
    # All of it, back to back, nothing added.
    assert sum(f.samples_per_channel for f in placed) == 200 * FRAME
    data = np.concatenate([np.asarray(f.data)[:, 0] for f in placed])
    assert np.count_nonzero(data == 0) == 0


def test_a_gap_between_tracks_is_kept_as_silence() -> None:
    # 1 s, then nothing for 0.5 s (the next track), then audio at its pace again.
    first = _steady(100)
    assert SETTLE_S < 1.0
    gap = CATCH_UP_S + 0.3
    second = _steady(100, first[-1] + gap)
    placed = _place(first + second)
    total = sum(f.samples_per_channel for f in placed)
    assert abs(total - (200 * FRAME + round(gap * RATE))) <= FRAME
    data = np.concatenate([np.asarray(f.data)[:, 0] for f in placed])
    silence = np.flatnonzero(data == 0)
    assert silence.size >= round(gap * RATE) - FRAME
    assert silence[0] == 100 * FRAME  # between the two tracks
