"""`SimulatedRoom`'s camera tracks: lkframes' video functions, unchanged, against a scripted
room on a virtual clock. Each frame carries its index in its pixels, so every test checks
which frames came, when (``timestamp_us`` against the script) and that their pixels are
the published ones."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit import rtc

import lkframes as lk
from lkframes.livekit._sdk import packets_received
from lkframes.testing import Network, SimulatedRoom, open_resources, run_virtual
from media_clips import mov_clip

FPS = 30
W, H = 64, 48


def camera(count: int, channels: int = 4) -> np.ndarray:
    """``count`` frames whose pixels say their index (red + 256 * green), never black."""
    frames = np.zeros((count, H, W, channels), np.uint8)
    index = np.arange(count)
    frames[..., 0] = (index % 256)[:, None, None]
    frames[..., 1] = (index // 256)[:, None, None]
    frames[..., 2] = 200
    if channels == 4:
        frames[..., 3] = 255
    frames[:, :4, :4, :3] = np.random.default_rng(count).integers(0, 256, (count, 4, 4, 3))
    return frames


def index_of(frame: lk.VideoFrame) -> int:
    pixel = frame.data[H // 2, W // 2]
    return int(pixel[0]) + 256 * int(pixel[1])


def shown_us(room: SimulatedRoom, at: float) -> int:
    """A frame shown at ``at`` on the room's clock, as ``timestamp_us`` says it."""
    return round(room.loop_time(at) * 1e6)


Seen = tuple[list[int], list[int], list[lk.VideoFrame], float, SimulatedRoom]


def seen(
    frames: np.ndarray, network: Network, *, leaves: float, seed: int = 0, at: float = 0.0
) -> Seen:
    """(frame indices, timestamps, the frames, when the stream ended, the room) that
    `from_participant_video` reads of "a", alone, who publishes ``frames`` from ``at``."""

    async def main() -> Seen:
        room = SimulatedRoom(seed=seed)
        room.participant("a", leaves=leaves, network=network).publish_video(frames, at=at)
        async with room:
            got = await lk.from_participant_video(room, "a").collect()
            ended = room.clock()
        return [index_of(f) for f in got], [f.timestamp_us for f in got], got, ended, room

    return run_virtual(main)


def test_every_frame_arrives_in_order_at_its_time_with_its_pixels() -> None:
    frames = camera(60)
    network = Network(delay=0.05, jitter=0.02)
    indices, stamps, got, ended, room = seen(frames, network, leaves=3.0, at=0.5)
    # Published at 0.5, seen 0.05 later, subscribed 0.05 after that (0.6); frame k is
    # shown at 0.5 + k / 30 + 0.05 + 0.02 (delay + jitter): from k = 1 (0.603 s) on.
    assert indices == list(range(1, 60))
    assert stamps == [shown_us(room, 0.5 + k / FPS + 0.07) for k in indices]
    for k, frame in zip(indices, got, strict=True):
        assert frame.pixel_format == "rgba"
        assert np.array_equal(frame.data, frames[k])
    assert ended == pytest.approx(3.05, abs=1e-9)  # the leave, heard
    assert not any(open_resources().values())


def test_lost_frames_are_missing_not_replaced_and_the_rest_keep_their_times() -> None:
    frames = camera(300)
    indices, stamps, got, _, room = seen(frames, Network(delay=0.03, loss=0.2), leaves=11.0)
    assert indices == sorted(set(indices))  # in order, none twice
    lost = 300 - len(indices)
    assert 30 <= lost <= 90  # 20 % of 300 (binomial: 60 ± 7, ±4 sd)
    assert stamps == [shown_us(room, k / FPS + 0.03) for k in indices]
    assert all(np.array_equal(f.data, frames[k]) for k, f in zip(indices, got, strict=True))


def test_an_outage_and_a_mute_remove_exactly_the_frames_sent_during_them() -> None:
    frames = camera(120)

    async def main() -> tuple[list[int], list[str]]:
        room = SimulatedRoom()
        network = Network(delay=0.04, outages=((1.0, 1.5),))
        track = room.participant("a", leaves=5.0, network=network).publish_video(frames)
        track.mute(at=2.0).unmute(at=2.5)
        events: list[str] = []
        room.on("track_muted", lambda *_: events.append(f"muted {room.clock():.2f}"))
        room.on("track_unmuted", lambda *_: events.append(f"unmuted {room.clock():.2f}"))
        async with room:
            got = await lk.from_participant_video(room, "a").collect()
        return [index_of(f) for f in got], events

    indices, events = run_virtual(main)
    sent = np.arange(120) / FPS
    gone = ((sent >= 1.0) & (sent < 1.5)) | ((sent >= 2.0) & (sent < 2.5))
    # Subscribed at 0.05: frame k is shown at k / 30 + 0.04, from k = 1 on.
    assert indices == [k for k in range(1, 120) if not gone[k]]
    assert events == ["muted 2.04", "unmuted 2.54"]


def test_the_same_seed_gives_the_same_frames_bit_for_bit() -> None:
    frames = camera(150)
    network = Network(delay=0.05, jitter=0.03, loss=0.1)

    def run(seed: int) -> tuple[list[int], list[int], list[bytes]]:
        indices, stamps, got, _, _ = seen(frames, network, leaves=6.0, seed=seed)
        return indices, stamps, [f.data.tobytes() for f in got]

    first = run(7)
    assert run(7) == first
    assert run(8)[0] != first[0]  # another seed, other losses


def test_a_generator_of_rgb_video_frames_is_read_as_streams_need_it() -> None:
    rgb = camera(90, channels=3)
    read: list[int] = []

    def produce() -> Iterator[lk.VideoFrame]:
        for k in range(90):
            read.append(k)
            yield lk.VideoFrame(np.ascontiguousarray(rgb[k]), "rgb24", timestamp_us=7)

    async def main() -> tuple[list[lk.VideoFrame], int, list[lk.VideoFrame]]:
        room = SimulatedRoom()
        alice = room.participant("a", leaves=2.0, network=Network(delay=0.02))
        alice.publish_video(produce(), fps=15)
        async with room:
            read_before = len(read)
            got = await lk.from_participant_video(room, "a", pixel_format="i420").collect()
        return got, read_before, got

    got, read_before, _ = run_virtual(main)
    assert read_before == 1  # the first frame, looked at when it was published
    indices = [round((f.timestamp_us / 1e6 - 0.02) * 15) for f in got]
    # Subscribed at 0.05: frame k is shown at k / 15 + 0.02, from k = 1 until the leave
    # (heard at 2.02: k = 29 the last).
    assert indices == list(range(1, 30))
    assert read == list(range(30))  # read no further than it was shown
    opaque = np.concatenate([rgb[5], np.full((H, W, 1), 255, np.uint8)], axis=2)
    expected = lk.VideoFrame(opaque).convert("i420")  # RGB sent as opaque RGBA
    assert np.array_equal(got[indices.index(5)].data, expected.data)


def test_from_track_reads_the_camera_until_it_is_unpublished() -> None:
    async def main() -> tuple[list[int], float, list[str], int]:
        room = SimulatedRoom()
        alice = room.participant("a", leaves=5.0, network=Network(delay=0.05))
        alice.publish_video(camera(150), at=0.5).unpublish(at=2.0)
        subscribed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        events: list[str] = []
        for name in ("track_published", "track_subscribed", "track_unsubscribed"):
            room.on(name, lambda *_, name=name: events.append(name))

        def on_subscribed(track: Any, publication: Any, participant: Any) -> None:
            assert track.kind == rtc.TrackKind.KIND_VIDEO
            assert publication.source == rtc.TrackSource.SOURCE_CAMERA
            assert (publication.width, publication.height) == (W, H)
            subscribed.set_result(track)

        room.on("track_subscribed", on_subscribed)
        async with room:
            track = await subscribed
            got = await lk.from_track(track).collect()
            received = await packets_received(track)
            return [index_of(f) for f in got], room.clock(), events, received

    indices, ended, events, received = run_virtual(main)
    assert ended == pytest.approx(2.05, abs=1e-9)  # the unpublish, heard
    assert received == 45  # frames 0 to 44 (sent from 0.5 s, 1/30 s apart) reached us
    # Subscribed at 0.6: frames sent from 0.55 (k = 2, shown 0.6167) until the unpublish
    # (k = 44 was sent at 1.967; k = 45 was not sent).
    assert indices == list(range(2, 45))
    assert events == ["track_published", "track_subscribed", "track_unsubscribed"]


def test_a_slow_reader_loses_only_what_its_queue_drops_and_counts_it() -> None:
    async def main() -> tuple[list[int], lk.LiveStats]:
        room = SimulatedRoom()
        room.participant("a", leaves=4.0).publish_video(camera(120))
        stats = lk.LiveStats()
        got: list[int] = []
        stream = lk.from_participant_video(room, "a", max_queue_frames=10, stats=stats)
        async with room, stream.open() as frames:
            async for frame in frames:
                got.append(index_of(frame))
                if len(got) == 5:
                    await asyncio.sleep(1.0)  # 30 frames come meanwhile: 20 dropped
        return got, stats

    got, stats = run_virtual(main)
    # Subscribed at 0.05: from frame 2 (shown at 0.067) on; 7 to 36 come during the sleep.
    assert stats.dropped == 20
    assert got == [*range(2, 7), *range(27, 120)]
    assert stats.produced == stats.delivered + stats.dropped == 118


def ffprobe_streams(path: Path) -> dict[str, dict[str, str]]:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration,nb_frames",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {s["codec_type"]: s for s in json.loads(probe.stdout)["streams"]}


def test_record_participant_writes_audio_and_video_on_the_virtual_clock(tmp_path: Path) -> None:
    out = tmp_path / "alice.mp4"
    said = (np.random.default_rng(0).standard_normal(3 * 48_000) * 3_000).astype(np.int16)

    async def main() -> tuple[lk.MediaSummary, float]:
        room = SimulatedRoom()
        alice = room.participant("a", leaves=3.5, network=Network(delay=0.05))
        alice.publish_audio(said)
        alice.publish_video(camera(90))
        async with room:
            summary = await lk.record_participant(room, "a", out)
            return summary, room.clock()

    summary, ended = run_virtual(main)
    # Both subscribed at 0.05 (frame 0 shown then: the recording's zero); all 90 frames,
    # 1/30 s apart; the audio from 0.05 to the leave heard (3.55), and the 60 ms after it
    # that the stream reads of what may still be in flight (it ends at the first silence).
    assert summary.video_frames == 90
    assert summary.video_seconds == pytest.approx(89 / FPS, abs=1e-6)
    assert summary.audio is not None
    audio_s = summary.audio.samples_per_channel / 48_000
    assert audio_s == pytest.approx(3.55 - 0.05 + 0.06, abs=0.005)  # each frame where it begins
    assert ended == pytest.approx(3.55 + 0.06, abs=1e-9)
    streams = ffprobe_streams(out)
    assert streams["video"]["nb_frames"] == "90"
    assert float(streams["video"]["duration"]) == pytest.approx(3.0, abs=1e-3)
    assert float(streams["audio"]["duration"]) == pytest.approx(audio_s, abs=0.03)  # AAC


def test_publish_media_keeps_what_it_sent_paced_on_the_rooms_clock(tmp_path: Path) -> None:
    clip = mov_clip(tmp_path / "clip.mov", 2)  # PCM audio: what was sent compares sample for sample
    pictures = lk.open_media(clip, pixel_format="i420").video
    sounds = lk.open_media(clip, dtype="int16").audio
    assert pictures is not None
    assert sounds is not None
    decoded = lk.run_sync(pictures.collect())
    sound = lk.run_sync(sounds.to_array())

    async def main() -> tuple[lk.MediaSummary, dict[str, Any], float]:
        room = SimulatedRoom()
        async with room:
            summary = await lk.publish_media(room, clip)
            return summary, dict(room.you.published), room.clock()

    summary, published, ended = run_virtual(main)
    video, audio = published["media-video"], published["media-audio"]
    assert summary.video_frames == len(video.frames) == len(decoded) == 50
    # Each frame sent at its time on the audio's clock (15 ms after: the audio's send delay).
    assert [at for at, _ in video.frames] == pytest.approx(
        [0.015 + f.timestamp_us / 1e6 for f in decoded], abs=1e-9
    )
    assert all(
        np.array_equal(sent.data, frame.data)
        for (_, sent), frame in zip(video.frames, decoded, strict=True)
    )
    assert np.array_equal(audio.audio(), sound)
    assert audio.started_at == 0.0
    assert ended == pytest.approx(2.0, abs=0.021)  # played in real time: 2 s of the clock
    assert not any(open_resources().values())


def test_bad_video_is_refused_when_it_is_published() -> None:
    who = SimulatedRoom().participant("a")
    with pytest.raises(lk.ParameterError, match=r"frames, height, width"):
        who.publish_video(np.zeros((48, 64, 4), np.uint8))
    with pytest.raises(lk.ParameterError, match=r"frame 0 must be a uint8 .* float32 array"):
        who.publish_video(np.zeros((2, 48, 64, 4), np.float32))
    with pytest.raises(lk.ParameterError, match=r"frame 0 has 2 channels"):
        who.publish_video([np.zeros((48, 64, 2), np.uint8)])
    with pytest.raises(lk.ParameterError, match="no frames"):
        who.publish_video(iter([]))
    with pytest.raises(lk.ParameterError, match=r"fps= must be .* \(got 0\)"):
        who.publish_video(camera(2), fps=0)


def test_publishing_a_track_lkframes_did_not_make_is_refused() -> None:
    async def main() -> None:
        room = SimulatedRoom()
        track = rtc.LocalVideoTrack.create_video_track("cam", rtc.VideoSource(W, H))
        async with room:
            await room.local_participant.publish_track(track)

    with pytest.raises(TypeError, match=r"tracks lkframes made for it .* not LocalVideoTrack"):
        run_virtual(main)


def test_a_drifting_clock_sends_its_frames_faster_by_its_ppm() -> None:
    indices, stamps, _, _, room = seen(camera(90), Network(drift_ppm=10_000), leaves=4.0)
    assert indices == list(range(2, 90))  # subscribed at 0.05: frame 2 shown at 0.066
    assert stamps == [shown_us(room, k / (FPS * 1.01)) for k in indices]


def test_a_long_generator_is_let_go_of_as_it_is_shown() -> None:
    made: list[weakref.ref[np.ndarray]] = []

    def produce() -> Iterator[np.ndarray]:
        for _ in range(30 * 20):
            block = camera(1)  # owns the pixels the frame is a view of
            made.append(weakref.ref(block))
            yield block[0]

    async def main() -> tuple[int, int]:
        room = SimulatedRoom()
        room.participant("a", leaves=21.0).publish_video(produce())
        count = alive = 0
        async with room, lk.from_participant_video(room, "a").open() as frames:
            async for _ in frames:
                count += 1
                if count % 50 == 0:
                    gc.collect()
                    alive = max(alive, sum(ref() is not None for ref in made))
        return count, alive

    count, alive = run_virtual(main)
    assert count == 30 * 20 - 2  # from the subscription (0.05 s) on
    assert alive <= 3  # the frame being read, and the one being made


@pytest.mark.parametrize("layout", ["bgr24", "gray"])
def test_a_camera_read_in_bgr24_or_gray_is_opencvs_conversion_of_it(layout: str) -> None:
    import cv2

    frames = camera(20)

    async def main() -> list[lk.VideoFrame]:
        room = SimulatedRoom()
        room.participant("a", leaves=1.0, network=Network(delay=0.02)).publish_video(frames)
        async with room:
            return await lk.from_participant_video(room, "a", pixel_format=layout).collect()  # type: ignore[arg-type]

    got = run_virtual(main)
    assert len(got) > 10
    code = cv2.COLOR_RGBA2BGR if layout == "bgr24" else cv2.COLOR_RGBA2GRAY
    for frame in got:
        assert frame.pixel_format == layout
        matches = [
            k for k in range(20) if np.array_equal(frame.data, cv2.cvtColor(frames[k], code))
        ]
        assert len(matches) == 1


def test_bgr24_and_gray_frames_are_published_as_bgra() -> None:
    import cv2

    rgba = camera(6)
    bgr = [cv2.cvtColor(f, cv2.COLOR_RGBA2BGR) for f in rgba]
    published = [lk.VideoFrame(b, "bgr24") for b in bgr[:3]]
    published += [lk.VideoFrame(cv2.cvtColor(b, cv2.COLOR_BGR2GRAY), "gray") for b in bgr[3:]]

    async def main() -> list[lk.VideoFrame]:
        room = SimulatedRoom()
        room.participant("a", leaves=1.0).publish_video(published, fps=10)
        async with room:
            return await lk.from_participant_video(room, "a", pixel_format="bgra").collect()

    got = run_virtual(main)
    assert len(got) >= 5
    for frame in got:
        sent = [
            k for k, f in enumerate(published) if np.array_equal(frame.data, f.convert("bgra").data)
        ]
        assert len(sent) == 1
        k = sent[0]
        expected = (
            cv2.cvtColor(bgr[k], cv2.COLOR_BGR2BGRA)
            if k < 3
            else cv2.cvtColor(cv2.cvtColor(bgr[k], cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGRA)
        )
        np.testing.assert_array_equal(frame.data, expected)
