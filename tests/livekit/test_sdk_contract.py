"""What lkframes assumes of livekit.rtc's private parts (``src/lkframes/livekit/_sdk.py``).

One test per assumption, on the installed livekit, without a server: CI runs them on the
oldest allowed livekit and the newest, so a release that changes one fails here, by name.
(`video_stream`'s unbounded native queue: ``test_native_layer.py``.)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import numpy as np
import pytest
from livekit import rtc

from lkframes.livekit._sdk import end_stream, on_put, room_of, video_stream

ANYIO = pytest.mark.anyio
ASYNCIO = pytest.mark.parametrize("anyio_backend", ["asyncio"])

RATE = 48_000


def _frame(value: int) -> rtc.AudioFrame:
    data = np.full(RATE // 100, value, np.int16)
    return rtc.AudioFrame(data.tobytes(), RATE, 1, RATE // 100)


async def _captured(source: rtc.AudioSource, values: range) -> None:
    for value in values:
        await source.capture_frame(_frame(value))
    await source.wait_for_playout()


@ANYIO
@ASYNCIO
async def test_every_frame_goes_through_the_queues_put_and_a_full_ring_drops_its_oldest() -> None:
    # on_put: LiveKit puts each frame with RingQueue.put; capacity=2 keeps the newest two.
    source = rtc.AudioSource(RATE, 1, queue_size_ms=1000)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1, capacity=2)
    queued: list[int] = []
    all_put = asyncio.Event()

    def put(before: int) -> None:
        queued.append(before)
        if len(queued) == 10:
            all_put.set()

    on_put(stream, put)
    try:
        await _captured(source, range(1, 11))
        async with asyncio.timeout(5):
            await all_put.wait()
        got: list[rtc.AudioFrame] = []
        async with asyncio.timeout(5):
            while len(got) < 2:
                got.append((await anext(stream)).frame)
        # Ten frames put, none read meanwhile: the ring held 0, 1, then 2 before each.
        assert queued[:3] == [0, 1, 2]
        assert all(n == 2 for n in queued[2:])
        # The ring kept the newest two: frames 9 and 10, or (when the track went on with
        # its silence after the source ran dry, seen 1 in 20) 10 and silence; or, when the
        # track put a frame of silence before the first capture (beside stress-ng, 1 run
        # in 3), two frames as much earlier: 8 and 9. Never two that were not the last put.
        values = [int(np.frombuffer(f.data, np.int16)[0]) for f in got]
        assert values in ([9, 10], [10, 0], [0, 0], [8, 9]), values
    finally:
        await stream.aclose()
        await source.aclose()


@ANYIO
@ASYNCIO
async def test_end_stream_ends_a_reader_waiting_for_the_next_video_frame() -> None:
    # (A source of 4x2 pixels crashes WebRTC's native layer once a stream reads it: a
    # chroma plane of height 0. 64x48 is fine.)
    source = rtc.VideoSource(64, 48)
    track = rtc.LocalVideoTrack.create_video_track("cam", source)
    stream = video_stream(track, rtc.VideoBufferType.RGBA, 0)
    try:
        source.capture_frame(rtc.VideoFrame(64, 48, rtc.VideoBufferType.RGBA, bytes(64 * 48 * 4)))
        async with asyncio.timeout(5):
            assert (await anext(stream)).frame.width == 64
        reader = asyncio.ensure_future(anext(stream, "ended"))
        await asyncio.sleep(0.1)
        assert not reader.done()  # waiting: no second frame was captured
        end_stream(stream)
        async with asyncio.timeout(2):
            assert await reader == "ended"
    finally:
        await stream.aclose()


@ANYIO
@ASYNCIO
async def test_a_local_track_has_no_room() -> None:
    # room_of relies on Track._resolve_room (None until a remote track is subscribed; a
    # subscribed one's room is what every room test's stream end depends on).
    assert callable(getattr(rtc.Track, "_resolve_room", None))
    source = rtc.AudioSource(RATE, 1)
    try:
        assert room_of(rtc.LocalAudioTrack.create_audio_track("mic", source)) is None
    finally:
        await source.aclose()


DISPOSE = """
from livekit import rtc
from livekit.rtc._ffi_client import FfiClient
from lkframes.livekit._sdk import dispose_native_layer
before = dispose_native_layer()
source = rtc.AudioSource(48000, 1)  # starts the native layer
print(before, dispose_native_layer(), FfiClient._ffi_disposed, dispose_native_layer())
"""


def test_the_native_layer_is_disposed_only_once_started() -> None:
    done = subprocess.run(
        [sys.executable, "-c", DISPOSE], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Not started: nothing to do; started: disposed; a second call: the SDK's no-op.
    assert done.stdout.split() == ["False", "True", "True", "True"]
