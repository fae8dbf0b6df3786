"""LiveKit without a server: AudioSource -> LocalAudioTrack -> AudioStream loops back locally.

The SDK is asyncio-only, so these tests run on asyncio; one test checks the error on trio.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import anyio
import numpy as np
import pytest
from livekit import rtc
from numpy.typing import NDArray

import lkframes as lk

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """LiveKit's Python SDK runs on asyncio only."""
    return "asyncio"


@pytest.fixture
async def loop_track() -> AsyncIterator[tuple[rtc.AudioSource, rtc.LocalAudioTrack]]:
    source = rtc.AudioSource(48_000, 1, queue_size_ms=200)
    track = rtc.LocalAudioTrack.create_audio_track("loop", source)
    yield source, track
    await source.aclose()


def _dominant_hz(x: NDArray[np.float64], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.shape[0])))
    return float(np.argmax(spectrum) * rate / x.shape[0])


async def _receive(
    track: rtc.LocalAudioTrack, seconds: float, *, sample_rate: int, num_channels: int
) -> list[lk.AudioFrame]:
    frames: list[lk.AudioFrame] = []
    stream = lk.from_track(track, sample_rate=sample_rate, num_channels=num_channels)
    assert stream.format is not None
    wanted = round(seconds * stream.format.sample_rate)
    async with stream.open() as received:
        async for frame in received:
            frames.append(frame)
            if sum(f.samples_per_channel for f in frames) >= wanted:
                break
    return frames


@pytest.mark.parametrize(("rate", "channels"), [(48_000, 1), (16_000, 1), (24_000, 2)])
async def test_to_source_then_from_track_carries_the_signal(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack], rate: int, channels: int
) -> None:
    source, track = loop_track
    receiver = asyncio.create_task(_receive(track, 0.8, sample_rate=rate, num_channels=channels))
    await asyncio.sleep(0.05)  # let the AudioStream attach before audio flows
    sent = await lk.sine(440, 1.0, 44_100, num_channels=2, dtype="float32").to_source(source)
    assert sent.format == lk.AudioFormat(48_000, 1, "int16")
    assert sent.samples_per_channel == 48_000
    frames = await asyncio.wait_for(receiver, 5)
    assert {f.format for f in frames} == {lk.AudioFormat(rate, channels, "int16")}
    assert [f.pts for f in frames] == [
        sum(g.samples_per_channel for g in frames[:i]) for i in range(len(frames))
    ]
    y = np.concatenate([f.data for f in frames]).astype(np.float64)
    steady = y[rate // 10 :, 0]
    assert _dominant_hz(steady, rate) == pytest.approx(440, abs=5)
    peak = np.abs(steady).max()
    assert 0.4 * 32768 < peak < 0.6 * 32768  # sine() is at half scale
    if channels == 2:
        assert np.array_equal(y[:, 0], y[:, 1])


async def test_to_source_paces_in_real_time(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack],
) -> None:
    source, _ = loop_track
    started = time.monotonic()
    summary = await lk.silence(1.0, 16_000).to_source(source)
    elapsed = time.monotonic() - started
    assert summary.frames == 50
    # queue_size_ms=200: capture_frame blocks once 200 ms are queued, then at 1x.
    assert 0.8 <= elapsed < 2.0


async def test_to_source_without_waiting_for_playout_returns_early(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack],
) -> None:
    source, _ = loop_track
    started = time.monotonic()
    await lk.silence(0.15, 48_000).to_source(source, wait_for_playout=False)
    assert time.monotonic() - started < 0.1


async def test_breaking_out_closes_the_native_stream(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack],
) -> None:
    source, track = loop_track
    pusher = asyncio.create_task(lk.sine(440, 1.0, 48_000).to_source(source))
    async with lk.from_track(track).open() as frames:
        async for _ in frames:
            assert len(track._audio_streams) == 1
            break
    assert len(track._audio_streams) == 0, "rtc.AudioStream left open after break"
    pusher.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pusher


async def test_cancelled_receive_closes_the_native_stream(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack],
) -> None:
    _, track = loop_track
    with anyio.move_on_after(0.1) as scope:
        await lk.from_track(track).run()  # no audio ever arrives
    assert scope.cancelled_caught
    assert len(track._audio_streams) == 0


async def test_from_track_is_reiterable(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack],
) -> None:
    source, track = loop_track
    stream = lk.from_track(track, sample_rate=16_000)
    for _ in range(2):
        receiver = asyncio.create_task(_receive_from(stream, 3))
        await asyncio.sleep(0.05)
        await lk.silence(0.1, 48_000).to_source(source)
        assert len(await asyncio.wait_for(receiver, 5)) == 3


async def _receive_from(stream: lk.Stream[lk.AudioFrame], n: int) -> list[lk.AudioFrame]:
    return await stream.take(n).collect()


async def test_a_capture_that_never_returns_stops_to_source_with_a_typed_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real AudioSource whose capture_frame stalls on the fourth frame, as a buffered
    # source's does when its drain stalls (livekit/rust-sdks#1289).
    from lkframes.livekit import _sink

    monkeypatch.setattr(_sink, "CAPTURE_STALL_S", 0.3)
    source = rtc.AudioSource(48_000, 1, queue_size_ms=200)
    taken: list[int] = []
    cleared: list[int] = []
    capture, clear = source.capture_frame, source.clear_queue

    async def stalling(frame: rtc.AudioFrame) -> None:
        if len(taken) == 3:
            await asyncio.Event().wait()  # never returns
        taken.append(frame.samples_per_channel)
        await capture(frame)

    def clearing() -> None:
        cleared.append(len(taken))
        clear()

    monkeypatch.setattr(source, "capture_frame", stalling)
    monkeypatch.setattr(source, "clear_queue", clearing)
    started = time.monotonic()
    with pytest.raises(lk.StreamTimeoutError, match=r"did not return within 0\.3 s, 0\.060 s in"):
        await lk.silence(1.0, 48_000).to_source(source)
    assert time.monotonic() - started > 0.3  # one to two periods of the watchdog
    assert taken == [960, 960, 960]
    assert cleared == [3]  # the queue cleared once, which lets a pending native call end
    await source.aclose()


async def test_video_loops_back_as_numpy_frames() -> None:
    source = rtc.VideoSource(64, 48)
    track = rtc.LocalVideoTrack.create_video_track("cam", source)
    stream = lk.from_track(track)

    def picture(i: int) -> lk.VideoFrame:
        pixels = np.zeros((48, 64, 4), np.uint8)
        pixels[:, :, 0] = 40 * i  # red grows frame by frame
        pixels[:, :, 3] = 255
        return lk.VideoFrame(pixels, "rgba", timestamp_us=i * 40_000)

    received = asyncio.create_task(stream.take(3).collect())
    await asyncio.sleep(0.05)

    async def pictures() -> AsyncGenerator[lk.VideoFrame, None]:
        for i in range(50):
            yield picture(i)

    pushed = asyncio.create_task(lk.Stream(pictures).to_source(source, realtime=True))
    got = await asyncio.wait_for(received, 10)
    pushed.cancel()
    await source.aclose()
    assert all(isinstance(f, lk.VideoFrame) for f in got)
    assert {(f.width, f.height, f.pixel_format) for f in got} == {(64, 48, "rgba")}
    assert got[0].data.shape == (48, 64, 4)
    assert not got[0].data.flags.writeable
    reds = [int(np.median(f.data[:, :, 0])) for f in got]
    assert reds == sorted(reds), "frames out of order"  # lossy round trip through I420


async def test_to_source_rejects_a_frame_size_that_is_not_whole(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack],
) -> None:
    source, _ = loop_track
    with pytest.raises(lk.ParameterError, match="not a whole number"):
        await lk.silence(0.1, 48_000).to_source(source, frame_ms=0.03)  # type: ignore[arg-type]


def test_livekit_functions_say_they_need_asyncio() -> None:
    async def main() -> None:
        source = object()
        with pytest.raises(lk.LkFramesError, match=r"needs asyncio.*got trio"):
            await lk.silence(0.1, 48_000).to_source(source)  # type: ignore[arg-type]

    anyio.run(main, backend="trio")


async def test_connect_needs_url_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(lk.ParameterError, match="no LiveKit URL"):
        async with lk.connect():
            pass
    monkeypatch.setenv("LIVEKIT_URL", "ws://127.0.0.1:9")
    with pytest.raises(lk.ParameterError, match="no credentials"):
        async with lk.connect():
            pass


def test_make_token_carries_identity_room_and_grants() -> None:
    from livekit import api

    token = lk.make_token("key", "secret" * 6, room="r1", identity="alice")
    claims = api.TokenVerifier("key", "secret" * 6).verify(token)
    assert claims.identity == "alice"
    assert claims.video is not None
    assert claims.video.room == "r1"
    assert claims.video.room_join
    assert claims.video.can_publish


# -- live-source overflow: nothing goes missing without being counted ---------------------


async def _slow_read(
    track: rtc.LocalAudioTrack, source: rtc.AudioSource, **kwargs: object
) -> tuple[lk.LiveStats, int]:
    stats = lk.LiveStats()
    stream = lk.from_track(track, frame_size_ms=10, stats=stats, **kwargs)  # type: ignore[call-overload]
    speaker = asyncio.create_task(lk.sine(440, 1.0, 48_000).to_source(source))
    got = 0
    async with stream.open() as frames:
        async for _ in frames:
            got += 1
            if got == 1:
                await asyncio.sleep(0.5)  # fall 500 ms behind the live track
            if speaker.done() and stats.queued == 0:
                break
            assert stats.delivered + stats.dropped + stats.queued == stats.produced
    await speaker
    return stats, got


async def test_drop_oldest_bounds_the_queue_and_counts_every_drop(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack],
) -> None:
    source, track = loop_track
    stats, got = await _slow_read(track, source, overflow="drop_oldest", max_queue_ms=100)
    assert stats.dropped >= 30  # ~50 frames arrived during the 500 ms stall, 10 were kept
    assert stats.delivered == got
    assert stats.delivered + stats.dropped + stats.queued == stats.produced
    assert stats.produced >= 90  # 1 s of 10 ms frames (the first may race the subscription)


async def test_block_keeps_every_frame(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack],
) -> None:
    source, track = loop_track
    stats, got = await _slow_read(track, source)
    assert stats.dropped == 0
    assert stats.delivered == got == stats.produced - stats.queued
    assert stats.produced >= 90


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"overflow": "newest"}, r"overflow must be one of \('block', 'drop_oldest'\)"),
        ({"overflow": "drop_oldest"}, "needs max_queue_ms > 0"),
        ({"overflow": "drop_oldest", "max_queue_ms": 0}, "needs max_queue_ms > 0"),
        ({"max_queue_ms": 100}, "applies to overflow='drop_oldest' only"),
        ({"on_mute": "drop"}, r"on_mute must be one of \('silence', 'skip'\)"),
        ({"stall_timeout": 0}, r"stall_timeout must be a number of seconds > 0 \(got 0.0\)"),
        ({"stall_timeout": float("nan")}, "stall_timeout must be finite"),
        ({"stall_timeout": "2"}, "stall_timeout must be a number"),
        ({"stall_timeout": 2}, "stall_timeout applies to remote tracks .got a LocalAudioTrack"),
    ],
)
async def test_live_parameters_are_checked(
    loop_track: tuple[rtc.AudioSource, rtc.LocalAudioTrack], kwargs: dict[str, object], message: str
) -> None:
    _, track = loop_track
    with pytest.raises(lk.ParameterError, match=message):
        lk.from_track(track, **kwargs)  # type: ignore[call-overload]


_CANCEL_AND_EXIT = """
import asyncio
import subprocess
import sys
from livekit import rtc
import lkframes as lk

async def main():
    source = rtc.AudioSource(48_000, 1)
    speaker = asyncio.create_task(lk.sine(440, None, 48_000).to_source(source))
    await asyncio.sleep(0.3)  # the source's 1 s queue is full: a capture is waiting
    speaker.cancel()
    await asyncio.gather(speaker, return_exceptions=True)
    await source.aclose()

asyncio.run(main())
"""


def test_cancelling_to_source_and_exiting_logs_no_native_error() -> None:
    # A capture_frame cancelled in Python used to be completed by LiveKit's native layer up
    # to a second later, after the interpreter had exited: it logged "ERROR ...
    # [AUDIO_CAPTURE] Failed to send callback ...: the server is not configured".
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", _CANCEL_AND_EXIT], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "Failed to send callback" not in done.stderr
        assert "ERROR" not in done.stderr, done.stderr


async def _video_read_slowly(**kwargs: Any) -> tuple[lk.LiveStats, int]:
    """A local video track fed 60 frames at 100 fps, read by a consumer that stalls 0.5 s
    after its first frame."""
    source = rtc.VideoSource(32, 24)
    track = rtc.LocalVideoTrack.create_video_track("cam", source)
    stats = lk.LiveStats()
    got = 0
    pixels = lk.VideoFrame(np.zeros((24, 32, 4), np.uint8), "rgba")

    async def feed() -> None:
        await asyncio.sleep(0.05)
        for i in range(60):
            source.capture_frame(pixels.to_rtc(), timestamp_us=i * 10_000)
            await asyncio.sleep(0.01)

    feeding = asyncio.create_task(feed())
    with anyio.move_on_after(2.0):  # the feed takes ~0.7 s; a local track never ends
        async with lk.from_video_track(track, stats=stats, **kwargs).open() as frames:
            async for _ in frames:
                got += 1
                if got == 1:
                    await asyncio.sleep(0.5)  # 50 frames arrive meanwhile
                assert stats.delivered + stats.dropped + stats.queued == stats.produced
    await feeding
    await source.aclose()
    return stats, got


async def test_live_video_drops_the_oldest_by_default_and_counts_it() -> None:
    # An unread video stream must not queue without bound (pipecat hit ~3 GB/min so).
    stats, got = await _video_read_slowly(max_queue_frames=5)
    assert stats.dropped >= 30
    assert got == stats.delivered <= stats.produced - stats.dropped
    assert stats.produced >= 50


async def test_live_video_can_keep_every_frame() -> None:
    stats, got = await _video_read_slowly(overflow="block")
    assert stats.dropped == 0
    assert got == stats.delivered == stats.produced


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_queue_frames": 0}, r"needs max_queue_frames > 0 \(got 0\)"),
        ({"overflow": "block", "max_queue_frames": 5}, "applies to overflow='drop_oldest' only"),
        ({"overflow": "latest"}, "overflow must be one of"),
    ],
)
def test_live_video_parameters_are_checked(kwargs: dict[str, Any], message: str) -> None:
    track = rtc.LocalVideoTrack.create_video_track("cam", rtc.VideoSource(4, 2))
    with pytest.raises(lk.ParameterError, match=message):
        lk.from_video_track(track, **kwargs)
