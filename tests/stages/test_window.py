"""window: each window is the whole signal sliced at hop steps, with exact pts, for any
block sizes; views where a window lies in one block; the three tail policies."""

from __future__ import annotations

from typing import Any

import anyio
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

import lkframes as lk
from lkframes._core.plan import planning
from lkframes.testing import check_stage, frame_streams


def _windows(frames: list[lk.AudioFrame], **kwargs: Any) -> list[lk.AudioFrame]:
    async def main() -> list[lk.AudioFrame]:
        return await lk.from_frames(frames).window(**kwargs).collect()

    return anyio.run(main)


def _whole(frames: list[lk.AudioFrame]) -> NDArray[Any]:
    return np.concatenate([f.data for f in frames])


def _starts(n: int, size: int, hop: int, tail: str) -> list[int]:
    """Where librosa.util.frame's frames start (tail "drop"), plus the first window past
    the end for "pad" and "keep"."""
    starts = list(range(0, n - size + 1, hop)) if n >= size else []
    following = starts[-1] + hop if starts else 0
    if tail != "drop" and following < n:
        starts.append(following)
    return starts


@given(
    frame_streams(),
    st.integers(1, 600),
    st.integers(1, 700),
    st.sampled_from(["drop", "pad", "keep"]),
    st.integers(0, 10_000),
)
def test_windows_are_the_signal_sliced_at_hop_steps(
    frames: list[lk.AudioFrame], size: int, hop: int, tail: str, first_pts: int
) -> None:
    frames = [lk.AudioFrame(f.data, f.sample_rate, pts=f.pts + first_pts) for f in frames]
    whole = _whole(frames)
    n = whole.shape[0]
    out = _windows(frames, samples=size, hop_samples=hop, tail=tail)
    starts = _starts(n, size, hop, tail)
    assert [w.pts for w in out] == [first_pts + s for s in starts]
    for window, start in zip(out, starts, strict=True):
        expected = whole[start : start + size]
        got = window.data
        assert not got.flags.writeable
        assert window.format == frames[0].format
        if tail == "pad":
            assert got.shape[0] == size
            assert not got[expected.shape[0] :].any()
            got = got[: expected.shape[0]]
        np.testing.assert_array_equal(got, expected)


def test_windows_equal_librosa_style_frames_built_with_numpy() -> None:
    x = np.arange(16_000, dtype=np.int16)
    blocks = lk.from_array(x, 16_000, block_ms=30)
    out = lk.run_sync(blocks.window(ms=25, hop_ms=10).collect())
    frames = np.lib.stride_tricks.sliding_window_view(x, 400)[::160]  # librosa.util.frame
    assert len(out) == frames.shape[0] == 98
    np.testing.assert_array_equal(np.stack([w.data[:, 0] for w in out]), frames)


def test_windows_inside_one_block_are_views_and_straddling_ones_copies() -> None:
    x = np.arange(1_000, dtype=np.int16).reshape(-1, 1)
    frames = [lk.AudioFrame(x[:500], 8_000), lk.AudioFrame(x[500:], 8_000, pts=500)]
    out = _windows(frames, samples=200, hop_samples=100)
    inside = [w for w in out if w.pts + 200 <= 500 or w.pts >= 500]
    straddling = [w for w in out if w.pts < 500 < w.pts + 200]
    assert [w.pts for w in straddling] == [400]
    assert all(np.shares_memory(w.data, x) for w in inside)
    assert not np.shares_memory(straddling[0].data, x)


def test_a_hop_longer_than_the_window_leaves_gaps() -> None:
    x = np.arange(100, dtype=np.int16)
    out = lk.run_sync(lk.from_array(x, 1_000).window(samples=10, hop_samples=30).collect())
    assert [w.pts for w in out] == [0, 30, 60, 90]
    assert [int(w.data[0, 0]) for w in out] == [0, 30, 60, 90]
    gapped = lk.run_sync(lk.from_array(x, 1_000).window(samples=10, hop_samples=30).to_array())
    assert gapped.shape == (100,)  # to_array fills the gaps between windows with silence
    assert not gapped[10:30].any()


def test_planned_and_unplanned_windows_agree() -> None:
    def build() -> lk.Stream[lk.AudioFrame]:
        return lk.noise(0.3, 16_000, seed=1).window(ms=25, hop_ms=10, tail="pad").gain(-6)

    with planning(False):
        plain = build()
    planned = build()
    a, b = (lk.run_sync(s.collect()) for s in (plain, planned))
    assert [w.pts for w in a] == [w.pts for w in b]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.data, y.data)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ms": 0, "hop_ms": 10}, "ms must be positive"),
        ({"ms": 25, "hop_ms": -1}, "hop_ms must be positive"),
        ({"ms": 25}, "hop_ms="),
        ({"ms": 25, "samples": 400, "hop_ms": 10}, "exactly one of ms= or samples="),
        ({"samples": 400, "hop_samples": 0}, "hop_samples must be positive"),
        ({"ms": 25, "hop_ms": 10, "tail": "wrap"}, "tail"),
    ],
)
def test_bad_parameters_are_refused_naming_them(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        lk.window(**kwargs)


def test_a_hop_that_is_not_whole_samples_is_refused_at_the_rate() -> None:
    message = r"hop_ms: 0\.1 ms at 16000 Hz is 1\.6 samples.*hop_samples="
    with pytest.raises(lk.ParameterError, match=message):
        lk.silence(0.1, 16_000).window(ms=25, hop_ms=0.1)


def test_window_without_overlap_passes_the_stage_kit() -> None:
    # hop == size: contiguous pts, split-independent, closes its source, re-iterable
    check_stage(
        lambda fmt: lk.window(samples=64, hop_samples=64, tail="keep"),
        expected_length=lambda n, fmt: n,
        max_examples=25,
    )
