"""The room timeline (`from_room`'s bookkeeping) driven with made-up arrival times: where
each participant's audio lands, and that nothing goes missing without being counted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

import lkframes as lk
from lkframes.livekit._timeline import CATCH_UP_S, Timeline

RATE = 8_000
FMT = lk.AudioFormat(RATE, 1, "int16")
FRAME = 80  # 10 ms
ZERO = 100.0  # the timeline's 0 on the (made-up) monotonic clock

Arrivals = list[tuple[float, NDArray[np.int16]]]


def frames_from(start_s: float, values: NDArray[np.int16], lateness: list[float]) -> Arrivals:
    """10 ms frames of ``values`` whose playout began at ``start_s`` (seconds after
    ZERO), each arriving ``lateness[i]`` after its first sample's time (LiveKit hands a
    frame over as it begins to play), in order (a frame held up holds up those behind it,
    as LiveKit's queue does)."""
    out: Arrivals = []
    arrived = 0.0
    for i, late in enumerate(lateness):
        data = values[i * FRAME : (i + 1) * FRAME].reshape(-1, 1)
        arrived = max(arrived, ZERO + start_s + i * FRAME / RATE + late)
        out.append((arrived, data))
    return out


def drive(
    arrivals: dict[str, Arrivals], delay: float, seconds: float
) -> tuple[dict[str, NDArray[np.int16]], Timeline]:
    """Run the timeline as `from_room` does: block k is handed out ``delay`` after its
    end, with every frame that arrived by then added first. Returns each participant's
    audio on the whole timeline (zeros where they had none)."""
    timeline = Timeline(FMT, ZERO)
    events = sorted(
        (
            (arrived, identity, data)
            for identity, frames in arrivals.items()
            for arrived, data in frames
        ),
        key=lambda event: (event[0], event[1]),
    )
    total = round(seconds * RATE)
    out = {identity: np.zeros(total, np.int16) for identity in arrivals}
    pending = 0
    for k in range(total // FRAME):
        due = ZERO + (k + 1) * FRAME / RATE + delay
        while pending < len(events) and events[pending][0] <= due:
            arrived, identity, data = events[pending]
            timeline.add(identity, data, arrived)
            pending += 1
        for identity, block in timeline.block(FRAME).items():
            out[identity][k * FRAME : (k + 1) * FRAME] = block[:, 0]
    return out, timeline


def mix_settings(gains: dict[str, float]) -> Any:
    """`from_room`'s settings for a mixed stream of `FMT` with ``gains``."""
    from lkframes.livekit._room_audio import _Settings

    return _Settings(
        fmt=FMT,
        mix=True,
        gains=gains,
        identities=frozenset(),
        delay=0.0,
        until_empty=False,
        duration=None,
        stall_timeout=None,
        stats=None,
    )


def ramp(n: int, first: int = 1) -> NDArray[np.int16]:
    return (np.arange(n) % 30_000 + first).astype(np.int16)


def test_audio_lands_where_it_played_out_and_all_of_it() -> None:
    values = ramp(50 * FRAME)
    out, timeline = drive({"a": frames_from(0.25, values, [0.0] * 50)}, 0.05, 1.0)
    start = round(0.25 * RATE)
    assert not out["a"][:start].any()
    assert np.array_equal(out["a"][start : start + values.size], values)
    assert timeline.late == 0
    assert timeline.placed == {"a": values.size}


def test_a_late_first_frame_does_not_shift_what_follows() -> None:
    # The event loop was 7 ms late for the first frame, on time later: the start is the
    # earliest the arrivals allow, so the audio lands where it played out.
    values = ramp(30 * FRAME)
    lateness = [0.007, 0.004, 0.0] + [0.002] * 27
    out, timeline = drive({"a": frames_from(0.1, values, lateness)}, 0.05, 0.6)
    start = round(0.1 * RATE)
    assert np.array_equal(out["a"][start : start + values.size], values)
    assert timeline.late == 0


def test_audio_later_than_the_delay_is_dropped_and_counted() -> None:
    # The event loop stalls 120 ms at frame 10 (it and those held up behind it arrive at
    # 220 ms): frames 10-15 then arrive after their block was handed out (50 ms after its
    # end), frame 16 just in time for it.
    values = ramp(40 * FRAME)
    lateness = [0.0] * 10 + [0.12] + [0.0] * 29
    out, timeline = drive({"a": frames_from(0.0, values, lateness)}, 0.05, 0.6)
    heard = out["a"][: values.size]
    missing = np.flatnonzero(heard != values)
    assert missing.min() == 10 * FRAME
    assert missing.max() == 16 * FRAME - 1
    assert not heard[missing].any()  # silence where they were, nothing shifted
    assert timeline.late == missing.size
    assert timeline.placed["a"] + timeline.late == values.size


def test_a_gap_between_tracks_keeps_to_wall_time() -> None:
    first, second = ramp(20 * FRAME), ramp(20 * FRAME, first=5_000)
    arrivals = frames_from(0.0, first, [0.0] * 20) + frames_from(0.7, second, [0.003, 0.0] * 10)
    assert CATCH_UP_S < 0.7 - 0.2  # the gap between the tracks
    out, _ = drive({"a": arrivals}, 0.05, 1.0)
    assert np.array_equal(out["a"][: first.size], first)
    assert not out["a"][first.size : round(0.7 * RATE)].any()
    at = round(0.7 * RATE)
    assert np.array_equal(out["a"][at : at + second.size], second)


def test_participants_who_joined_apart_stay_apart() -> None:
    a, b = ramp(40 * FRAME), ramp(20 * FRAME, first=9_000)
    arrivals = {
        "a": frames_from(0.05, a, [0.001, 0.0] * 20),
        "b": frames_from(0.33, b, [0.004, 0.0] * 10),
    }
    out, _ = drive(arrivals, 0.03, 0.8)
    for identity, values, start_s in (("a", a, 0.05), ("b", b, 0.33)):
        at = round(start_s * RATE)
        assert np.array_equal(out[identity][at : at + values.size], values), identity
        assert not out[identity][:at].any()


def test_a_block_names_only_those_heard_in_it() -> None:
    timeline = Timeline(FMT, ZERO)
    timeline.add("a", np.ones((FRAME, 1), np.int16), ZERO)  # it begins at 0
    assert set(timeline.block(FRAME)) == {"a"}
    assert timeline.block(FRAME) == {}
    assert timeline.taken == 2 * FRAME


@given(
    lateness=st.lists(st.floats(0.0, 0.15), min_size=5, max_size=60),
    delay=st.sampled_from([0.0, 0.02, 0.05]),
    start_s=st.floats(0.0, 0.3),
)
def test_every_sample_is_placed_or_counted_late(
    lateness: list[float], delay: float, start_s: float
) -> None:
    values = ramp(len(lateness) * FRAME)
    seconds = start_s + len(lateness) * FRAME / RATE + 0.5
    out, timeline = drive({"a": frames_from(start_s, values, lateness)}, delay, seconds)
    assert timeline.placed.get("a", 0) + timeline.late == values.size
    heard = out["a"][out["a"] != 0]
    # What was placed keeps its order (each sample of the ramp is unique here).
    assert np.all(np.diff(heard.astype(np.int64)) > 0)


@pytest.mark.parametrize("gain", [0.5, 2.0])
def test_mixing_saturates_instead_of_wrapping(gain: float) -> None:
    from lkframes.livekit._room_audio import _mixed

    settings = mix_settings({"b": gain})
    loud = np.full((4, 1), 30_000, np.int16)
    mixed = _mixed({"a": loud, "b": loud}, settings, 4)
    expected = min(32_767, round(30_000 + 30_000 * gain))
    assert mixed.dtype == np.int16
    assert mixed[:, 0].tolist() == [expected] * 4
    assert _mixed({}, settings, 4).tolist() == [[0]] * 4


def test_jitter_after_the_start_moves_nothing_but_a_real_offset_does() -> None:
    # Frames 0-9 all arrive 2 ms late (the estimate starts 2 ms late), then on time:
    # moving by 2 ms would drop samples (a click), so it stays; 30 ms late does move.
    values = ramp(40 * FRAME)
    small = [0.002] * 10 + [0.0] * 30
    out, timeline = drive({"a": frames_from(0.0, values, small)}, 0.05, 0.6)
    at = round(0.002 * RATE)
    assert np.array_equal(out["a"][at : at + values.size], values)
    assert timeline.late == 0
    big = [0.03] * 10 + [0.0] * 30
    out, timeline = drive({"a": frames_from(0.0, values, big)}, 0.0, 0.6)
    assert timeline.late > 0  # the move dropped what overlapped
    later = slice(20 * FRAME, values.size)  # back where it played out
    assert np.array_equal(out["a"][later], values[later])


def test_mixing_rounds_to_the_nearest_sample() -> None:
    from lkframes.livekit._room_audio import _mixed

    settings = mix_settings({"a": 0.5})
    odd = np.array([[3], [-3], [1001]], np.int16)
    assert _mixed({"a": odd}, settings, 3)[:, 0].tolist() == [2, -2, 500]  # rint: half to even
