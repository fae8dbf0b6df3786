"""`vad`, `utterances` and `speech` on generated speech (`lkframes.testing.speech_like`):
timestamps in the input's time base, the input's own samples, the same result however the
input is split, live delivery, typed errors, and nothing left open on an early exit."""

from __future__ import annotations

import itertools
import sys
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

import lkframes as lk
from lkframes.testing import open_resources, speech_like
from lkframes.voice import _model

pytestmark = pytest.mark.anyio

PARTS = [0.6, 1.2, 0.7, 0.9, 0.6]  # silence, speech, silence, speech, silence (seconds)


def _starts_and_ends(rate: int) -> list[tuple[float, float]]:
    edges = np.cumsum(PARTS)
    return [(edges[0], edges[1]), (edges[2], edges[3])]


@pytest.mark.parametrize(("rate", "channels"), [(8_000, 1), (16_000, 1), (44_100, 2), (48_000, 1)])
async def test_windows_tile_the_input_in_its_own_time_base(
    anyio_backend: str, rate: int, channels: int
) -> None:
    mono = speech_like(PARTS, rate)
    audio = np.repeat(mono[:, None], channels, axis=1)
    first_pts = 12_345
    frames = [lk.AudioFrame.of(audio, lk.AudioFormat(rate, channels), first_pts)]
    windows = await lk.from_frames(frames).chunk(ms=20).vad().collect()
    assert windows[0].pts == first_pts
    for before, after in itertools.pairwise(windows):
        assert after.pts == before.pts + before.duration  # no gap, no overlap
    assert windows[-1].pts + windows[-1].duration == first_pts + len(mono)
    assert {w.sample_rate for w in windows} == {rate}
    full = [w.duration_ms for w in windows[:-1]]
    assert min(full) > 31.9
    assert max(full) < 32.1
    # speech where the speech is, quiet where the silence is
    for w in windows:
        t = (w.pts - first_pts) / rate
        inside = any(s + 0.1 < t < e - 0.1 for s, e in _starts_and_ends(rate))
        outside = all(t + 0.1 < s or t > e + 0.3 for s, e in _starts_and_ends(rate))
        if inside:
            assert w.probability > 0.5, t
        if outside:
            assert w.probability < 0.2, t
            assert not w.speaking, t


async def test_utterances_carry_the_inputs_own_samples(anyio_backend: str) -> None:
    rate = 48_000
    audio = speech_like(PARTS, rate)
    found = await lk.from_array(audio, rate).chunk(ms=20).utterances().collect()
    assert len(found) == 2
    for u, (start_s, end_s) in zip(found, _starts_and_ends(rate), strict=True):
        assert u.format == lk.AudioFormat(rate, 1)
        assert abs(u.start / rate - (start_s - 0.03)) < 0.07  # 30 ms padding
        assert abs(u.end / rate - (end_s + 0.03)) < 0.1
        assert u.end - u.start == u.audio.shape[0]
        np.testing.assert_array_equal(u.audio[:, 0], audio[u.start : u.end])
        assert not u.continues
        np.testing.assert_array_equal(u.frame().data, u.audio)


@pytest.mark.parametrize("block_ms", [5, 20, 37, 1000])
async def test_the_result_does_not_depend_on_how_the_input_is_split(
    anyio_backend: str, block_ms: int
) -> None:
    audio = speech_like(PARTS, 44_100)
    whole = await lk.from_array(audio, 44_100).vad().collect()
    split = await lk.from_array(audio, 44_100, block_ms=block_ms).vad().collect()
    assert [(w.pts, w.duration, w.speaking) for w in split] == [
        (w.pts, w.duration, w.speaking) for w in whole
    ]
    np.testing.assert_allclose(
        [w.probability for w in split], [w.probability for w in whole], atol=1e-5
    )


async def test_max_ms_cuts_clean_consecutive_pieces(anyio_backend: str) -> None:
    rate = 16_000
    audio = speech_like(PARTS, rate)
    whole = await lk.from_array(audio, rate).utterances().collect()
    pieces = await lk.from_array(audio, rate).utterances(max_ms=400).collect()
    assert all(p.duration_ms <= 400 for p in pieces)
    assert [p.continues for p in pieces].count(False) == len(whole)
    joined = iter(pieces)
    for u in whole:
        parts = [next(joined)]
        while parts[-1].continues:
            parts.append(next(joined))
        assert [p.start for p in parts[1:]] == [p.end for p in parts[:-1]]
        assert (parts[0].start, parts[-1].end) == (u.start, u.end)
        np.testing.assert_array_equal(np.concatenate([p.audio for p in parts]), u.audio)


async def test_utterances_come_while_the_stream_goes_on(anyio_backend: str) -> None:
    # A live-like source: 20 ms frames, counting how many were read when each utterance
    # arrives. Each must come min_silence_ms (100) + a window or so after its speech ends,
    # not at the end of the stream.
    rate = 48_000
    audio = speech_like(PARTS, rate)
    step = rate // 50
    read = 0

    async def frames() -> AsyncGenerator[lk.AudioFrame, None]:
        nonlocal read
        for at in range(0, len(audio), step):
            read = at + step
            yield lk.AudioFrame.of(audio[at : at + step, None], lk.AudioFormat(rate, 1), at)

    async with lk.Stream(frames).utterances().open() as found:
        arrivals = [(read - u.end) / rate async for u in found]
    assert len(arrivals) == 2
    for lag in arrivals:
        assert 0.05 < lag < 0.25, arrivals


async def test_speech_keeps_speech_frames_with_their_pts(
    anyio_backend: str, tmp_path: Path
) -> None:
    rate = 16_000
    audio = speech_like(PARTS, rate)
    utterances = await lk.from_array(audio, rate).utterances().collect()
    frames = await lk.from_array(audio, rate).chunk(ms=20).speech().collect()
    kept = {f.pts + i for f in frames for i in range(f.samples_per_channel)}
    wanted = {pts for u in utterances for pts in range(u.start, u.end)}
    assert kept == wanted
    for f in frames:
        np.testing.assert_array_equal(f.data[:, 0], audio[f.pts : f.pts + f.samples_per_channel])
    # written out (from the first frame's pts on), the gaps are silence of their length
    out = tmp_path / "speech.wav"
    await lk.from_array(audio, rate).speech().to_file(out)
    written, _ = sf.read(str(out), dtype="int16")
    expected = np.zeros_like(audio)
    for u in utterances:
        expected[u.start : u.end] = audio[u.start : u.end]
    np.testing.assert_array_equal(written, expected[utterances[0].start : utterances[-1].end])


async def test_an_early_exit_closes_the_model_and_the_upstream(anyio_backend: str) -> None:
    stream = lk.from_array(speech_like([0.1, 3.0, 0.1]), 16_000).chunk(ms=20).vad()
    async with stream.open() as windows:
        await anext(windows)
        assert open_resources().get("vad.model") == 1
    assert open_resources() == {}
    endless = lk.concat(lk.from_array(speech_like([0.1, 1.0]), 16_000), lk.noise(None, 16_000))
    async with endless.utterances(max_ms=500).open() as found:
        first = await anext(found)
        assert first.audio.size
    assert open_resources() == {}


async def test_an_empty_stream_gives_nothing(anyio_backend: str) -> None:
    empty = lk.from_array(np.zeros(0, np.int16), 16_000)
    assert await empty.vad().collect() == []
    assert await empty.utterances().collect() == []
    assert await empty.speech().collect() == []


@pytest.mark.parametrize(
    ("stage", "kwargs", "message"),
    [
        ("vad", {"threshold": 0.0}, "threshold must be between 0 and 1"),
        ("vad", {"threshold": 1.5}, "threshold must be between 0 and 1"),
        ("vad", {"threshold": float("nan")}, "threshold"),
        ("vad", {"model_rate": 22_050}, "model_rate"),
        ("vad", {"min_silence_ms": -1}, "min_silence_ms must be 0 or more"),
        ("utterances", {"min_speech_ms": -5}, "min_speech_ms must be 0 or more"),
        ("utterances", {"speech_pad_ms": float("inf")}, "speech_pad_ms"),
        ("utterances", {"max_ms": 10}, "max_ms must be at least one model window, 32 ms"),
        ("utterances", {"max_ms": 10, "model_rate": 8_000}, "32 ms"),
        ("speech", {"threshold": -0.1}, "threshold"),
    ],
)
def test_bad_parameters_are_typed_errors_naming_the_parameter(
    stage: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(lk.ParameterError, match=message):
        getattr(lk, stage)(**kwargs)
    with pytest.raises(lk.ParameterError, match=message):
        getattr(lk.silence(0.1, 16_000), stage)(**kwargs)


async def test_without_onnxruntime_the_error_names_the_extra(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime fails
    monkeypatch.setattr(_model, "_session", None)  # as in a process that never loaded it
    stream = lk.silence(0.1, 16_000).vad()  # building it needs no onnxruntime
    with pytest.raises(lk.MissingExtraError, match=r"pip install 'lkframes\[vad\]'"):
        await stream.collect()
    assert open_resources() == {}
