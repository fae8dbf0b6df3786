"""The checks the sinks share: `PtsGuard` (frames follow one another in time) and
`check_finite` (no NaN or infinity in float samples)."""

from __future__ import annotations

import numpy as np
import pytest

import lkframes as lk
from lkframes._core.checks import PtsGuard, check_finite

FMT = lk.AudioFormat(8_000, 2)


def _frame(pts: int, samples: int = 10) -> lk.AudioFrame:
    return lk.AudioFrame.of(np.zeros((samples, 2), np.int16), FMT, pts)


def test_continuous_frames_have_no_gap_from_any_first_pts() -> None:
    guard = PtsGuard("sink")
    assert [guard(_frame(pts)) for pts in (1_000, 1_010, 1_020)] == [0, 0, 0]
    assert guard.end == 1_030


def test_a_gap_is_measured_in_samples() -> None:
    guard = PtsGuard("sink")
    assert [guard(_frame(0)), guard(_frame(25)), guard(_frame(35, 0)), guard(_frame(40))] == [
        0,
        15,
        0,
        5,
    ]


@pytest.mark.parametrize(
    ("second", "samples"),
    [(5, 10), (0, 10), (-10, 10), (9, 0)],
    ids=["overlap", "repeat", "backwards", "empty-inside"],
)
def test_a_frame_that_starts_before_the_end_is_refused(second: int, samples: int) -> None:
    guard = PtsGuard("my_sink")
    guard(_frame(0))
    with pytest.raises(lk.TimestampError) as info:
        guard(_frame(second, samples))
    assert str(info.value).startswith(
        f"my_sink: a frame at pts {second} starts before the previous frame ends "
        f"(expected pts >= 10, got {second})"
    )
    assert guard.end == 10  # the refused frame does not move the timeline


def test_check_finite_names_the_first_bad_value_and_its_pts() -> None:
    data = np.zeros((6, 2), np.float32)
    data[4, 0] = -np.inf
    data[3, 1] = np.nan
    with pytest.raises(lk.InvalidAudioError) as info:
        check_finite(data, "what", 100, hint="why")
    assert str(info.value) == (
        "what has NaN or infinity in float samples (expected finite samples, got nan at "
        "pts 103); why"
    )


def test_check_finite_passes_finite_floats_and_any_int16() -> None:
    check_finite(np.full((4, 1), 3e38, np.float32), "what", 0)  # huge but finite
    check_finite(np.full((4, 1), -32_768, np.int16), "what", 0)
    check_finite(np.empty((0, 2), np.float32), "what", 0)
