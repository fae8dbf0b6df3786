"""lkframes against a real livekit-server: publish, receive, record, end, cancel.

Each test runs one script of ``tests/room_scenarios/`` inside the server's network namespace
(see ``livekit_server.py``) and asserts on the JSON it prints and the audio it saved. The
participants of a scenario share one process; their media still goes through the server
over WebRTC (Opus), so levels and waveforms are compared with tolerances, and waveforms
segment by segment: WebRTC's jitter buffer may drop or stretch a few milliseconds while it
settles, which shifts everything after it by a fraction of a cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

import lkframes as lk
from audio_analysis import align, band_level_db, dominant_hz, nonsilent, rms_dbfs
from livekit_server import LiveKitServer

pytestmark = pytest.mark.livekit

END_LATENCY_S = 2.0
"""How soon a receiving stream must end after its track, participant or room goes away.

A guard, not a measurement (measured 7-220 ms): it tells an end on the event from one by
a fallback, a stall timeout or the server's ~20 s."""
SENT_DBFS = -9.03
"""RMS of ``lk.sine``'s default half-scale tone."""
LEVEL_TOLERANCE_DB = 3.0


def _load(result: dict[str, Any], key: str = "file") -> Any:
    return np.load(result[key])


def _assert_ended(latency: float | None, what: str) -> None:
    assert latency is not None, f"{what}: the stream did not end within 5 s"
    assert latency < END_LATENCY_S, f"{what}: ended {latency:.3f} s late"


def _assert_clean_stream(received: dict[str, Any], sample_rate: int = 48_000) -> None:
    assert received["error"] is None
    assert received["formats"] == [f"{sample_rate} Hz mono int16"]
    assert received["first_pts"] == 0
    assert received["pts_continuous"]


def test_published_tone_and_chirp_arrive_in_real_time(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario("publish_receive", "publish-receive", tmp_path)
    published = result["published"]
    assert published["seconds"] == 2.0
    assert published["format"] == "48000 Hz mono int16"
    assert 1.8 <= published["wall_seconds"] <= 3.5, "publish is paced in real time"

    sent = lk.run_sync(
        lk.from_array(np.load(tmp_path / "sent.npy"), 48_000).resample(16_000).to_array()
    )
    tone, chirp = sent[:16_000], sent[16_000:]
    for name in ("by_participant", "by_track"):
        received = result[name]
        _assert_clean_stream(received, 16_000)
        assert 1.7 <= received["seconds"] <= 2.5
        x = _load(received)
        # Where the chirp (one sharp correlation peak) starts; the tone is the second before.
        chirp_at, _ = align(chirp, x)
        steady_tone = x[max(chirp_at - 12_800, 1_600) : chirp_at - 1_600]
        assert steady_tone.shape[0] >= 8_000
        assert dominant_hz(steady_tone, 16_000) == pytest.approx(440, abs=5)
        assert rms_dbfs(steady_tone) == pytest.approx(rms_dbfs(tone), abs=LEVEL_TOLERANCE_DB)
        # Waveform: each 100 ms of the chirp, aligned on its own, against what arrived.
        similarity = [align(chirp[i : i + 1_600], x)[1] for i in range(0, 16_000, 1_600)]
        assert np.median(similarity) > 0.9, similarity
        assert sum(s > 0.8 for s in similarity) >= 8, similarity
    _assert_ended(result["by_track"]["end"], "from_track after A unpublished and left")
    _assert_ended(result["by_participant"]["end"], "from_participant after A left")


def test_track_stream_ends_on_unpublish_participant_stream_when_they_leave(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario(
        "end_of_stream", "end-unpublish", tmp_path, "--case", "unpublish"
    )
    _assert_ended(result["track_end"], "from_track after the unpublish")
    assert result["participant_stream_open_after_unpublish"], (
        "from_participant must wait for a next track while A is still in the room"
    )
    _assert_ended(result["participant_end"], "from_participant after A left")
    for name in ("by_participant", "by_track"):
        _assert_clean_stream(result[name])
        assert result[name]["seconds"] >= 0.9


def test_streams_end_when_the_receiving_room_disconnects(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario(
        "end_of_stream", "end-b-disconnects", tmp_path, "--case", "b_disconnects"
    )
    _assert_ended(result["track_end"], "from_track after B disconnected")
    _assert_ended(result["participant_end"], "from_participant after B disconnected")
    assert result["publish_outcome"].startswith("CancelledError"), result["publish_outcome"]
    for name in ("by_participant", "by_track"):
        _assert_clean_stream(result[name])


def test_publish_stops_and_streams_end_when_the_publishing_room_disconnects(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario(
        "end_of_stream", "end-a-disconnects", tmp_path, "--case", "a_disconnects"
    )
    _assert_ended(result["track_end"], "from_track after A disconnected")
    _assert_ended(result["participant_end"], "from_participant after A disconnected")
    # publish() must not go on pushing the rest of its 10 s into a dead source.
    assert result["publish_end"] is not None
    assert result["publish_end"] < END_LATENCY_S
    assert result["publish_outcome"].startswith("BrokenResourceError"), result["publish_outcome"]


def test_from_participant_follows_a_republish(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario("republish", "republish", tmp_path)
    _assert_clean_stream(result)
    assert result["subscribed"] == ["first", "second"]
    assert result["open_between_tracks"]
    _assert_ended(result["end"], "from_participant after A left")
    x = nonsilent(_load(result))
    assert 1.0 <= x.shape[0] / 48_000 <= 1.6  # 2 x 0.6 s; the 0.3 s pause is not streamed
    first, last = x[2_400:19_200], x[-19_200:-2_400]
    assert dominant_hz(first, 48_000) == pytest.approx(440, abs=5)
    assert dominant_hz(last, 48_000) == pytest.approx(880, abs=5)


def test_recording_a_participant_to_a_wav_file(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario("record", "record", tmp_path)
    _assert_ended(result["end"], "to_file(from_participant) after A left")
    assert result["written_format"] == "48000 Hz mono int16"
    x, rate = soundfile.read(result["file"], dtype="int16")
    assert rate == 48_000
    assert x.ndim == 1
    assert x.shape[0] / rate == pytest.approx(result["written_seconds"], abs=0.01)
    assert 1.3 <= x.shape[0] / rate <= 2.0  # 1.5 s sent
    tone = nonsilent(x)[4_800:-4_800]
    assert tone.shape[0] / rate >= 1.0
    assert dominant_hz(tone, rate) == pytest.approx(440, abs=5)
    assert rms_dbfs(tone) == pytest.approx(SENT_DBFS, abs=LEVEL_TOLERANCE_DB)


def test_publishing_a_44k_stereo_file_resamples_and_mixes_it_down(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    path = tmp_path / "stereo.wav"
    t = np.arange(round(1.5 * 44_100)) / 44_100
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 1_000 * t)
    soundfile.write(path, np.stack([left, right], axis=1), 44_100, subtype="PCM_16")

    result = livekit_server.scenario("file_publish", "file", tmp_path, "--file", str(path))
    assert result["file_format"] == "44100 Hz stereo int16"
    assert result["published_format"] == "48000 Hz mono int16"
    assert result["published_seconds"] == pytest.approx(1.5, abs=0.001)
    assert 1.3 <= result["wall_seconds"] <= 3.0
    _assert_clean_stream(result)
    _assert_ended(result["end"], "from_participant after A left")
    x = nonsilent(_load(result))
    assert 1.3 <= x.shape[0] / 48_000 <= 1.7
    steady = x[4_800:-4_800]
    # Both channels are in the mono mix, each at half its level (mean of the channels).
    assert band_level_db(steady, 48_000, 440) == pytest.approx(-3.0, abs=1.0)
    assert band_level_db(steady, 48_000, 1_000) == pytest.approx(-3.0, abs=1.0)
    assert rms_dbfs(steady) == pytest.approx(SENT_DBFS - 3.0, abs=LEVEL_TOLERANCE_DB)


def test_cancelling_publish_unpublishes_and_leaves_nothing_behind(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario("cancel_publish", "cancel", tmp_path)
    assert result["outcome"] == "CancelledError"
    assert result["cancel_took"] < 1.0
    assert result["published_while_running"] == 1
    assert result["published_after"] == 0
    assert result["a_still_connected"]
    assert result["track_unpublished_after"] < END_LATENCY_S
    _assert_ended(result["track_end"], "from_track after the cancelled publish")
    _assert_clean_stream(result["received"])
    assert result["tasks_left"] == []
    assert result["open_resources"] == {}


def _longest_zero_run(x: np.ndarray[Any, Any]) -> int:
    """The most consecutive exact zeros in ``x``."""
    zero = np.concatenate([[False], x == 0, [False]])
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))
    return int((edges[1::2] - edges[::2]).max()) if edges.size else 0


def test_muted_time_is_kept_as_silence_or_skipped(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario("mute", "mute", tmp_path)
    assert result["muted_events"] == ["muted", "unmuted"]
    muted_s = result["muted_for"]
    rate = 48_000
    for name in ("silence", "skip"):
        _assert_clean_stream(result[name])
        _assert_ended(result[name]["end"], f"on_mute={name!r} after A left")

    # "silence": the mute arrives as exact zeros as long as the mute, between tone.
    kept = nonsilent(_load(result, "silence_file"))
    assert result["silence"]["skipped"] == 0
    # As long as what was sent, or as the publishing took where a busy machine made it
    # late: the mute is filled for as long as it lasted (3.19 s kept of 3.0 s sent once,
    # beside stress-ng).
    kept_s = kept.shape[0] / rate
    assert result["sent_seconds"] - 0.15 <= kept_s <= result["publish_wall_seconds"] + 0.15
    # As long as the mute lasted at A (its own clock, the same run); mute and unmute reach
    # B as signalling events, late by up to ~0.1 s each on a busy machine (1.72 s of zeros
    # for a mute of 1.60 s beside stress-ng).
    assert _longest_zero_run(kept) / rate == pytest.approx(muted_s, abs=0.25)
    assert dominant_hz(kept[:24_000], rate) == pytest.approx(440, abs=5)

    # "skip": the same tone without the mute, nothing of the tone lost.
    skipped = nonsilent(_load(result, "skip_file"))
    assert _longest_zero_run(skipped) < 0.02 * rate
    assert skipped.shape[0] / rate == pytest.approx(result["sent_seconds"] - muted_s, abs=0.15)
    assert result["skip"]["skipped"] == pytest.approx(muted_s * 100, abs=15)  # 10 ms frames
    loud = np.abs(kept.astype(np.int32)) > 30
    assert np.count_nonzero(np.abs(skipped.astype(np.int32)) > 30) == pytest.approx(
        np.count_nonzero(loud), rel=0.02
    )


def test_stall_timeout_ends_a_dead_connection_but_never_a_silent_participant(
    livekit_server: LiveKitServer, silent_publisher: Path, tmp_path: Path
) -> None:
    result = livekit_server.scenario(
        "vanish",
        "vanish",
        tmp_path,
        *("--go-publisher", str(silent_publisher), "--silent", "6", "--timeout", "90"),
        timeout=110,
    )
    # Present but sending nothing for 6 s: recorded until it left, for as long as it was there.
    silent = result["silent"]
    _assert_clean_stream(silent)
    assert silent["stalled"] is False
    _assert_ended(silent["end"], "the silent participant's leave")
    assert silent["seconds"] == pytest.approx(silent["presence"], abs=0.1)
    assert silent["presence"] >= 6.0
    # Killed (SIGKILL) and frozen (SIGSTOP): when the server reports the connection LOST
    # (8.5-10.7 s later in some runs, never in others), the stall rule ends the stream 1 s
    # on; else the server's removal (~20 s) does. Either way stats.stalled says so.
    for gone in ("killed", "stopped"):
        got = result[gone]
        _assert_clean_stream(got)
        assert got["stalled"] is True, gone
        assert got["end"] is not None, f"{gone}: not ended by the server's timeout"
        assert got["removed_at"] is not None or got["lost_at"] is not None, gone
        reported = min(t for t in (got["lost_at"], got["removed_at"]) if t is not None)
        assert 5.0 <= got["end"] <= reported + 1.0 + 1.0, gone  # stall_timeout, 1 s slack
    received = _load(result, "bounded_file")
    tone = nonsilent(received)
    assert tone.shape[0] / 48_000 >= 0.9
    assert dominant_hz(tone, 48_000) == pytest.approx(440, abs=5)
    # Without stall_timeout only the server's removal ends the stream.
    assert result["unbounded_end_after_killed"] is not None
    assert result["unbounded_end_after_killed"] >= result["killed"]["end"] - 0.5
    assert result["unbounded_end_after_killed"] >= 15.0
    # A participant who publishes and captures nothing is not mistaken for a dead one.
    assert result["idle_open"] is True
    assert result["idle_seconds"] >= 3.0
