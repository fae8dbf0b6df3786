"""`map` and `flat_map` refuse NaN and infinity in float results, naming the stage and pts.

Measured before: a map returning NaN passed, and became 0 in an int16 conversion or a
full-scale -1.0 in a 16-bit WAV. Now it is an `InvalidAudioError` where it was made,
whatever the sink (or none), in every form of the stage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import lkframes as lk

pytestmark = pytest.mark.anyio

RATE = 16_000
FRAME = 320
BAD_PTS = 3 * FRAME + 5  # the sample set to NaN or infinity, in the fourth frame


def _floats() -> lk.Stream[lk.AudioFrame]:
    tone = 0.25 * np.sin(2 * np.pi * 440 * np.arange(RATE // 10) / RATE)
    return lk.from_array(tone.astype(np.float32), RATE).chunk(samples=FRAME)


def _spoil(frame: lk.AudioFrame, value: float) -> NDArray[Any]:
    data = frame.data * 0.5
    if frame.pts <= BAD_PTS < frame.end_pts:
        data[BAD_PTS - frame.pts] = value
    return data


def _maps(value: float) -> dict[str, lk.Stage[Any, Any]]:
    def spoil(frame: lk.AudioFrame) -> NDArray[Any]:
        return _spoil(frame, value)

    async def spoil_async(frame: lk.AudioFrame) -> NDArray[Any]:
        return _spoil(frame, value)

    def spoil_frame(frame: lk.AudioFrame) -> lk.AudioFrame:
        return lk.AudioFrame.of(_spoil(frame, value), frame.format, frame.pts)

    def halves(frame: lk.AudioFrame) -> list[NDArray[Any]]:
        data = _spoil(frame, value)
        return [data[: FRAME // 2], data[FRAME // 2 :]]

    return {
        "map(spoil)": lk.map(spoil),
        "map(spoil_async)": lk.map(spoil_async),
        "map(spoil_frame)": lk.map(spoil_frame),  # a frame made without a scan
        "map(spoil) in a window": lk.map(spoil, concurrency=3),
        "flat_map(halves)": lk.flat_map(halves),
    }


async def _collect(stream: lk.Stream[lk.AudioFrame], tmp_path: Path) -> object:
    return await stream.collect()


async def _to_array(stream: lk.Stream[lk.AudioFrame], tmp_path: Path) -> object:
    return await stream.to_array()


async def _to_file(stream: lk.Stream[lk.AudioFrame], tmp_path: Path) -> object:
    return await stream.to_file(tmp_path / "out.wav")


Sink = Callable[[lk.Stream[lk.AudioFrame], Path], Any]


@pytest.mark.parametrize("form", list(_maps(0.0)))
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("sink", [_collect, _to_array, _to_file], ids=lambda s: s.__name__[1:])
async def test_non_finite_results_are_refused_naming_the_stage_and_pts(
    anyio_backend: str, tmp_path: Path, form: str, value: float, sink: Sink
) -> None:
    stage = _maps(value)[form]
    with pytest.raises(lk.InvalidAudioError) as info:
        await sink(_floats() | stage, tmp_path)
    assert str(info.value) == (
        f"the audio {stage.name} returned has NaN or infinity in float samples (expected "
        f"finite samples, got {np.float32(value)} at pts {BAD_PTS})"
    )
    assert info.value.__notes__ == [f"raised in lkframes stage {stage.name} at pts={3 * FRAME}"]


@pytest.mark.parametrize("form", list(_maps(0.0)))
async def test_finite_float_results_pass_unchanged(anyio_backend: str, form: str) -> None:
    out = await (_floats() | _maps(0.0)[form]).to_array()
    expected = await _floats().to_array() * 0.5
    expected[BAD_PTS] = 0.0
    np.testing.assert_array_equal(out, expected)


async def test_a_map_that_passes_its_input_on_is_not_blamed_for_it(anyio_backend: str) -> None:
    # NaN that a custom stage let in (AudioFrame.of does not scan) is not what map made:
    # the stage passes it on, and the file sink refuses it (tests/io/test_sink_timeline.py).
    fmt = lk.AudioFormat(RATE, 1, "float32")
    nan_frame = lk.AudioFrame.of(np.full((FRAME, 1), np.nan, np.float32), fmt, 0)
    frames = await lk.Stream(_one(nan_frame), format=fmt).map(lambda frame: frame).collect()
    assert frames[0] is nan_frame


def _one(frame: lk.AudioFrame) -> Any:
    async def run() -> Any:
        yield frame

    return run
