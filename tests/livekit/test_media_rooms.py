"""Media through a real livekit-server: `publish_media` into a room, `record_participant`
out of it, and the SDK's own subscriber loops, with the flash-and-beep clip.

WebRTC lines audio up with video at the receiver from its RTCP reports, over the first
seconds, and then keeps them within its own dead band of 30 ms (libwebrtc's
StreamSynchronization). So the clip is 25 fps (a frame is 40 ms) and sync is judged from
the fourth second on; the first seconds are reported, not judged.

What lkframes records is judged against a plain SDK subscriber in the same run and
process (C in ``room_scenarios/media_sync.py``), not against an absolute limit: load
delays both alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lkframes as lk
from livekit_server import LiveKitServer
from media_clips import FLASH_S, beep_onsets, beeps, flash_frames, flash_times, pair_offsets

pytestmark = pytest.mark.livekit

FPS = 25
SECONDS = 8
CONTROL_SPREAD_MAX_S = 0.1
"""The most the plain SDK's own settled offsets may spread for the recording to be judged
against them: 18-26 ms beside two CPU hogs (3 runs); 436 ms (flash and beep up to 600 ms
apart, the video at 18.5 fps) beside six, where WebRTC itself keeps no sync."""
IN_FLIGHT_S = 0.5
"""What a recording may still have on its way into the file when it is cancelled."""
SETTLED_S = 3.5
"""From here on WebRTC has lined the streams up (measured: 2 to 4 s)."""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flash-and-beep clip as an MP4 (H.264 + AAC), 320x240 at 25 fps, 8 s."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    audio = lk.from_array(beeps(SECONDS), 48_000, block_ms=20)
    video = lk.from_video_frames(list(flash_frames(SECONDS, fps=FPS)))
    lk.run_sync(lk.to_media_file(path, audio=audio, video=video))
    return path


@pytest.fixture(scope="module")
def through_a_room(
    livekit_server: LiveKitServer, clip: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("room")
    return livekit_server.scenario(
        "media_sync", "media-sync", out, "--clip", str(clip), "--ext", "mkv"
    )


def _settled(offsets: list[float], flashes: list[float], first: float) -> list[float]:
    return [o for o, f in zip(offsets, flashes, strict=True) if f - first >= SETTLED_S]


def _ms(offsets: list[float]) -> list[float]:
    return [round(float(o) * 1000, 1) for o in offsets]


def _plain_settled(through_a_room: dict[str, Any]) -> list[float]:
    """The plain SDK subscriber's settled flash - beep offsets: the control."""
    plain = through_a_room["plain"]
    offsets = pair_offsets(plain["flashes"], plain["beeps"])
    return _settled(offsets, plain["flashes"], plain["beeps"][0])


def _in_step_with(settled: list[float], control: list[float]) -> bool:
    """Whether a recording's settled offsets are those of the control, within a frame.

    Both are measured in the same run and the same process, from the same packets: the
    median offsets agree within a frame, and no mark is more than a frame outside the
    control's range. Load moves both together (measured beside two CPU hogs: the plain
    SDK at -111…-133 ms, the recording at -110…-124 ms; idle both within ±40 ms).
    """
    frame = 1 / FPS
    return abs(float(np.median(settled)) - float(np.median(control))) < frame and all(
        min(control) - frame < o < max(control) + frame for o in settled
    )


def test_publish_media_sends_both_tracks_in_real_time(through_a_room: dict[str, Any]) -> None:
    sent = through_a_room["sent"]
    assert sent["audio_seconds"] == pytest.approx(SECONDS, abs=0.03)
    assert sent["video_frames"] == SECONDS * FPS
    assert sent["video_size"] == [320, 240]
    assert SECONDS - 0.2 <= sent["wall_seconds"] <= SECONDS + 1.5, "paced in real time"
    assert through_a_room["open_resources"] == {}, "tracks unpublished, streams closed"


def test_video_arrives_at_its_size_rate_and_colour(through_a_room: dict[str, Any]) -> None:
    plain = through_a_room["plain"]
    assert [320, 240] in plain["video_sizes"]
    # The frame rate is the plain SDK subscriber's of the same run: 25 fps on an idle
    # machine, fewer where the publisher's encoder is starved (18.5 with six CPU hogs).
    plain_fps = plain["video_frames"] / SECONDS
    media = lk.open_media(through_a_room["file"])
    assert media.video is not None
    assert (media.info.video.width, media.info.video.height) == (320, 240)  # type: ignore[union-attr]
    frames = lk.run_sync(media.video.collect())
    span = (frames[-1].timestamp_us - frames[0].timestamp_us) / 1e6
    assert (len(frames) - 1) / span == pytest.approx(plain_fps, rel=0.1)
    means = np.array([float(np.asarray(f.data, np.float32).mean()) for f in frames])
    assert np.median(means[means < 128]) < 30  # black stays black
    assert np.median(means[means >= 128]) > 225  # white stays white
    white = round(FLASH_S * FPS) / FPS  # 2 frames of each 25
    assert sum(means >= 128) / len(frames) == pytest.approx(white, abs=0.03)


def test_a_recording_keeps_flash_and_beep_as_the_plain_sdk_gets_them(
    through_a_room: dict[str, Any],
) -> None:
    # Judged against the plain SDK subscriber of the same run, not an absolute limit:
    # on a busy machine WebRTC itself (and Python's event loop, which sees the audio
    # arrive) puts flash and beep up to 133 ms apart, for lkframes and the plain SDK alike.
    media = lk.open_media(through_a_room["file"])
    assert media.audio is not None
    assert media.video is not None
    flashes = flash_times(lk.run_sync(media.video.collect()))
    onsets = beep_onsets(lk.run_sync(media.audio.to_array()), 48_000)
    offsets = pair_offsets(flashes, onsets)
    control = _plain_settled(through_a_room)
    report = f"flash - beep (ms): {_ms(offsets)}, plain SDK (settled): {_ms(control)}"
    print(report)
    # A flash lasts 2 frames, which a starved encoder may drop (measured: 6 of 8 flashes
    # beside two CPU hogs, the same for the plain SDK): as many as the control saw.
    assert len(flashes) >= len(through_a_room["plain"]["flashes"]) - 1, report
    if len(control) < 3 or max(control) - min(control) > CONTROL_SPREAD_MAX_S:
        pytest.skip(reason=f"nothing to judge by: the plain SDK's own offsets ({report})")
    settled = _settled(offsets, flashes, flashes[0])
    assert len(settled) >= 3, report
    # A placement 100 ms off fails the medians' check whatever the control's spread.
    assert _in_step_with(settled, control), report


def test_a_plain_sdk_subscriber_is_a_control_to_judge_by(
    through_a_room: dict[str, Any],
) -> None:
    # The plain SDK's own flash - beep offsets are WebRTC's business: within a frame on
    # an idle machine, 15-133 ms on a busy one (they include the event loop's delay in
    # seeing the audio arrive). They are reported and used as the recording's reference;
    # here only that the control heard enough to judge by: every beep (audio is not
    # dropped), most flashes, and at least 3 marks after WebRTC settled.
    plain = through_a_room["plain"]
    control = _plain_settled(through_a_room)
    report = f"plain SDK flash - beep (ms): {_ms(pair_offsets(plain['flashes'], plain['beeps']))}"
    print(report)
    assert len(plain["beeps"]) >= SECONDS - 1, report
    assert len(plain["flashes"]) >= SECONDS - 3, report
    assert len(control) >= 3, report


def test_cancels_and_leaves_close_everything(
    livekit_server: LiveKitServer, clip: Path, tmp_path: Path
) -> None:
    result = livekit_server.scenario("media_cancel", "media-cancel", tmp_path, "--clip", str(clip))
    # A cancelled publish_media unpublishes both tracks at once (A stays in the room).
    assert result["publish_outcome"] == "CancelledError"
    assert result["cancel_took"] < 1.0  # prompt: not the 3 s and more left of the clip
    assert result["published_after"] == 0
    assert len(result["unpublished_after"]) == 2
    assert max(result["unpublished_after"]) < 2.0
    # A recording whose participant leaves ends by itself; a cancelled one is closed:
    # both files play, with what was written.
    assert result["left_recording"] == "MediaSummary"
    assert result["left_frames"] > 40
    assert result["cancelled_recording"] == "CancelledError", result["cancelled_detail"]
    # Both files play and hold what a plain SDK listener beside each recording received
    # (B: A's whole visit, for left.mkv; C: until the cancel, for cancelled.mp4, which
    # comes once C had 1.5 s of each; each subscriber waits for its own key frame),
    # less what was still on its way into the file: judged by what arrived, not by wall
    # time, which subscribing and the first key frame eat into on a busy machine.
    lengths = {}
    for name, received in (
        ("left.mkv", result["b_received_in_all"]),
        ("cancelled.mp4", result["c_received_before_cancel"]),
    ):
        media = lk.open_media(tmp_path / name)
        assert media.video is not None, name
        assert media.audio is not None, name
        frames = lk.run_sync(media.video.collect())
        video_s = (frames[-1].timestamp_us - frames[0].timestamp_us) / 1e6
        audio_s = lk.run_sync(media.audio.to_array()).shape[0] / 48_000
        lengths[name] = {"video_s": video_s, "audio_s": audio_s, "received": received}
        print(name, lengths[name])
        # The clip's black after its last flash may be dropped with WebRTC's made-up black
        # (see test_an_unpublished_video_track_ends_without_made_up_black_frames).
        assert video_s >= received["to_last_flash_s"] - IN_FLIGHT_S, lengths
        # The file keeps audio and video interleaved: audio waits for the video held back.
        held_s = received["video_s"] - received["to_last_flash_s"]
        assert audio_s >= received["audio_s"] - held_s - IN_FLIGHT_S, lengths
    assert result["open_resources"] == {}


def test_an_unpublished_video_track_ends_without_made_up_black_frames(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    # WebRTC delivers pure black frames after an unpublish (measured: 6 over 150 ms,
    # after the blue); from_participant_video holds black back and drops it at a track's end.
    # Each colour lasts 2 s (50 frames): subscribing to a new track and its first key
    # frame took up to 1.3 s of that under CI load (8 of 25 red frames seen when red lasted
    # 1 s; 29 of 50 blue when the 3.12 wheel run loaded the machine), so at least 15 of
    # each are asked for; what matters is that no made-up black frame gets through.
    result = livekit_server.scenario("video_unpublish", "video-unpublish", tmp_path)
    for pixel_format, frames in result["seen"].items():
        colours = [tuple(colour) for _, colour in frames]
        dark = [c for c in colours if max(c) < 10]
        assert not dark, (pixel_format, len(dark))
        blue = [i for i, c in enumerate(colours) if c[2] > 150]
        red = [i for i, c in enumerate(colours) if c[0] > 150]
        assert len(blue) >= 15, pixel_format
        assert len(red) >= 15, pixel_format
        assert max(blue) < min(red), "blue, then red"


def test_publish_video_sends_a_stream_and_unpublishes(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario("publish_video", "publish-video", tmp_path)
    assert result["sent"] == 50
    assert result["left_published"] == []  # unpublished when the stream ended
    seen = result["seen"]
    # WebRTC starts low and may skip frames under load (see the test above): most arrive.
    assert len(seen) >= 15, len(seen)
    assert {(w, h) for w, h, _ in seen} == {(320, 240)}
    assert all(c[2] > 150 and c[0] < 80 for _, _, c in seen), "every frame blue"
