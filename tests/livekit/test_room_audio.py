"""A whole room's audio through a real livekit-server (issue 13): three publishers with
tones of their own join one after the other and leave; ``record_room`` writes the mix and
a file per participant at the same time.

Each tone must be in the mix from its start to its end as it was heard: level within
0.5 dB of what was sent, start and end within 40 ms of where a plain SDK loop's samples
place them (placed afterwards, knowing every arrival; WebRTC's own jitter buffer is not
lkframes' to judge: it delays a tone by 50-100 ms and may shorten it by tens of ms). The
per-participant files must line up with the mix within 20 ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from numpy.typing import NDArray

from livekit_server import LiveKitServer

pytestmark = pytest.mark.livekit

RATE = 48_000
AMPLITUDE = 0.25  # of full scale, as room_mix.py sends


def envelope(x: NDArray[Any], hz: float) -> NDArray[np.float64]:
    """The amplitude of the tone at ``hz`` over time (±50 Hz band, 5 ms moving RMS)."""
    y = x.astype(np.float64) / 32768
    spectrum = np.fft.rfft(y)
    freqs = np.fft.rfftfreq(y.size, 1 / RATE)
    spectrum[np.abs(freqs - hz) > 50] = 0
    band = np.fft.irfft(spectrum, y.size)
    window = round(0.005 * RATE)
    power = np.convolve(band**2, np.ones(window) / window, mode="same")
    return np.sqrt(2 * power)


def loud_spans(env: NDArray[np.float64]) -> list[tuple[int, int]]:
    """(start, end) sample ranges where ``env`` is above half the sent amplitude, runs
    closer than 0.1 s joined (a fade flickers around the threshold)."""
    loud = np.concatenate([[False], env > AMPLITUDE / 2, [False]])
    edges = np.flatnonzero(np.diff(loud.astype(np.int8)))
    spans: list[tuple[int, int]] = []
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if spans and start - spans[-1][1] < RATE // 10:
            spans[-1] = (spans[-1][0], int(end))
        else:
            spans.append((int(start), int(end)))
    return spans


def tone_span(x: NDArray[Any], hz: float) -> tuple[float, float, float]:
    """(start s, end s, level dB re the sent amplitude) of the tone at ``hz`` in ``x``."""
    env = envelope(x, hz)
    loud = np.flatnonzero(env > AMPLITUDE / 2)
    assert loud.size, f"no {hz} Hz tone"
    start, end = loud[0] / RATE, (loud[-1] + 1) / RATE
    steady = env[loud[0] + RATE // 5 : loud[-1] - RATE // 5]
    return start, end, float(20 * np.log10(np.median(steady) / AMPLITUDE))


@pytest.fixture(scope="module")
def recorded(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("room-mix")
    result = livekit_server.scenario("room_mix", "room-mix", out)
    return result, out


def test_the_mix_holds_each_tone_from_its_start_to_its_end(recorded: Any) -> None:
    result, out = recorded
    mixed, rate = soundfile.read(out / "room.wav", dtype="int16")
    assert rate == RATE
    zero = result["mixed"]["started_at"]
    report = {}
    for identity, sent in result["tones"].items():
        start, end, level = tone_span(mixed, sent["hz"])
        # Where the tone was heard: a plain SDK loop's samples, placed afterwards.
        plain = np.load(out / f"plain-{identity}.npy")
        heard_start, heard_end, _ = tone_span(plain, sent["hz"])
        heard_at = result["plain_start"][identity] - zero
        report[identity] = {
            "start_ms": round((start - heard_at - heard_start) * 1000, 1),
            "end_ms": round((end - heard_at - heard_end) * 1000, 1),
            "level_db": round(level, 2),
            "after_sending_ms": round((start - (sent["start"] - zero)) * 1000, 1),
        }
    print("mix:", report, "late samples:", result["mixed"]["late_samples"])
    for identity, r in report.items():
        assert abs(r["start_ms"]) <= 40, (identity, report)
        assert abs(r["end_ms"]) <= 40, (identity, report)
        assert abs(r["level_db"]) <= 0.5, (identity, report)
        # Never before it was sent; how late is judged against the plain SDK (start_ms):
        # the delay itself is WebRTC's and grows with load (44-132 ms beside two CPU hogs).
        assert r["after_sending_ms"] >= 0, (identity, report)
    assert result["mixed"]["participants"] == sorted(result["tones"])


def test_the_files_per_participant_line_up(recorded: Any) -> None:
    result, out = recorded
    mixed, _ = soundfile.read(out / "room.wav", dtype="int16")
    shift = result["apart"]["started_at"] - result["mixed"]["started_at"]
    files = result["apart"]["files"]
    assert sorted(files) == sorted(result["tones"])
    report = {}
    for identity, sent in result["tones"].items():
        path = Path(files[identity])
        assert path.parent == out / "apart"
        assert path.name == f"{identity}.wav"
        alone, rate = soundfile.read(path, dtype="int16")
        assert rate == RATE
        start, _, level = tone_span(alone, sent["hz"])
        in_mix, _, _ = tone_span(mixed, sent["hz"])
        report[identity] = {"offset_ms": round((start + shift - in_mix) * 1000, 1)}
        assert abs(level) <= 0.5, (identity, level)
        for other in result["tones"].values():
            if other["hz"] != sent["hz"]:  # nobody else is in this file
                leak = np.median(envelope(alone, other["hz"])[round(start * RATE) :])
                assert leak < AMPLITUDE / 100, (identity, other["hz"], leak)
    print("files vs the mix:", report)
    assert all(abs(r["offset_ms"]) <= 20 for r in report.values()), report


def test_a_participants_gain_applies_to_them_alone(recorded: Any) -> None:
    result, out = recorded
    gained, _ = soundfile.read(out / "gained.wav", dtype="int16")
    levels = {i: tone_span(gained, t["hz"])[2] for i, t in result["tones"].items()}
    print("levels with gains={'B': 0.5}:", levels)
    assert abs(levels["B"] - 20 * np.log10(0.5)) <= 0.5, levels
    assert abs(levels["A"]) <= 0.5, levels
    assert abs(levels["C"]) <= 0.5, levels


def test_the_recordings_end_when_the_room_empties(recorded: Any) -> None:
    result, _ = recorded
    # The last publisher left: both recordings end within the delay and a block (a guard
    # against waiting for a fallback, not a measurement: 253-258 ms).
    assert result["ended_after"] < 1.0, result["ended_after"]
    last_end = max(t["end"] for t in result["tones"].values())
    recorded_until = result["mixed"]["started_at"] + result["mixed"]["duration"]
    assert recorded_until >= last_end, (recorded_until, last_end)


def test_leaving_and_coming_back_disconnecting_and_cancelling(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario("room_ends", "room-ends", tmp_path)
    # until_empty=False: the empty room does not end the mixed recording; disconnecting does.
    assert result["still_mixing_when_empty"]
    assert result["end_took"] < 1.0, result["end_took"]  # a guard: on the event, not a timeout
    # The per-participant one was cancelled: it stops at once and its file is valid.
    assert result["apart_outcome"] == "CancelledError"
    assert result["cancel_took"] < 1.0, result["cancel_took"]
    assert result["tasks"] == []
    assert result["open_resources"] == {}
    zero = result["started_at"]
    for path in (tmp_path / "room.flac", tmp_path / "apart" / "A.wav"):
        audio, rate = soundfile.read(path, dtype="int16")
        assert rate == RATE
        visits = loud_spans(envelope(audio, 440.0))
        assert len(visits) == 2, (path.name, visits)
        edges = np.array([edge for span in visits for edge in span])  # on, off, on, off
        ons = edges[::2] / RATE
        gap_sent = result["starts"][1] - result["starts"][0]
        # Both visits, each 1 s long, as far apart as they were sent (the second track
        # placed by its own arrival). WebRTC's jitter buffer stretches or squeezes a
        # track's first second by tens of ms (measured: 1.018 and 1.023 s, the same in
        # both files, without a discontinuity). A publisher that stalled past its
        # source's 50 ms queue (a busy machine) made the tone longer by as much, at most
        # ("starved", measured in its own process).
        assert abs((ons[1] - ons[0]) - gap_sent) <= 0.1, (path.name, ons, gap_sent)
        visits_s = [(off - on) / RATE for on, off in zip(edges[::2], edges[1::2], strict=True)]
        for length, starved in zip(visits_s, result["starved"], strict=True):
            assert 0.9 <= length <= 1.06 + starved, (path.name, visits_s, result["starved"])
        assert 0 <= ons[0] - (result["starts"][0] - zero) <= 0.3, path.name
