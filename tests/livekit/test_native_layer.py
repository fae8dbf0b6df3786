"""LiveKit's native layer: frame queues that drop nothing unseen, and a clean exit.

See ``src/lkframes/livekit/_sdk.py``: LiveKit's native layer queues each stream's
frames until its callback (which needs the GIL) hands them to Python. A bounded queue drops
there, logging only its first drop and every 100th, so `LiveStats` could not count them.
``src/lkframes/livekit/_exit.py`` closes that layer at exit before the interpreter goes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from livekit import rtc
from livekit.rtc._ffi_client import FfiClient

from livekit_server import LiveKitServer
from lkframes.livekit._sdk import UNBOUNDED, video_stream


def _requests(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every request sent to the native layer from now on."""
    client = FfiClient.instance
    sent: list[Any] = []
    request = client.request

    def recording(req: Any) -> Any:
        sent.append(req)
        return request(req)

    monkeypatch.setattr(client, "request", recording)
    return sent


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sdks_are_asked_to_keep_every_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = _requests(monkeypatch)
    source = rtc.VideoSource(4, 2)
    video = video_stream(
        rtc.LocalVideoTrack.create_video_track("cam", source), rtc.VideoBufferType.RGBA, 0
    )
    microphone = rtc.AudioSource(48_000, 1)
    audio = rtc.AudioStream(rtc.LocalAudioTrack.create_audio_track("mic", microphone))
    try:
        video_requests = [r.new_video_stream for r in sent if r.HasField("new_video_stream")]
        audio_requests = [r.new_audio_stream for r in sent if r.HasField("new_audio_stream")]
        # lkframes' video stream asks for an unbounded native queue (the SDK's own
        # VideoStream asks for nothing: 1 frame); the SDK's AudioStream already does.
        assert [r.HasField("queue_size_frames") for r in video_requests] == [True]
        assert [r.queue_size_frames for r in video_requests] == [UNBOUNDED]
        assert [r.HasField("queue_size_frames") for r in audio_requests] == [True]
        assert [r.queue_size_frames for r in audio_requests] == [UNBOUNDED]
    finally:
        await video.aclose()
        await audio.aclose()
        await microphone.aclose()


@pytest.mark.livekit
def test_a_consumer_holding_the_gil_loses_no_frame_uncounted(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    # B holds its GIL for 1 s twice while A (another process) sends audio and 30 fps video;
    # B's video reader also pauses 1 s twice (a slow consumer, the event loop free).
    result = livekit_server.scenario("sdk_overflow", "sdk-overflow", tmp_path, timeout=90)
    assert result["sdk_lines"] == [], "the SDK dropped frames where LiveStats cannot see"
    audio, video = result["audio"], result["video"]
    for counts in (audio, video):
        assert counts["received"] == counts["delivered"]
        assert counts["queued"] >= 0
    # Audio is kept (overflow="block"): 4 s of 10 ms frames, none dropped.
    assert audio["dropped"] == 0
    assert audio["produced"] >= 350  # not 2 s short: nothing was lost during the holds
    # Video beyond max_queue_frames=3 is dropped while the reader pauses, and counted: a
    # pause brings up to 30 frames (WebRTC's first seconds often fewer: 8-29 dropped seen
    # over two 0.5 s pauses), more than the queue holds. A GIL hold alone dropped 0-2 (the
    # backlog reached the reader about as fast as it took it). The black frames of the
    # unpublish are counted skipped.
    assert video["dropped"] >= 5
    kept = video["delivered"] + video["dropped"] + video["skipped"] + video["queued"]
    assert video["produced"] == kept


CLOSING = """
import logging, time
import lkframes
from lkframes.livekit import _exit
from livekit.rtc._ffi_client import FfiClient

forwarded = []
class Keep(logging.Handler):
    def emit(self, record):
        forwarded.append(record.getMessage())
logging.getLogger("livekit").addHandler(Keep())
lib = FfiClient.instance._ffi_lib  # starts the native layer
lib.livekit_ffi_drop_handle(987654321)  # a native warning, forwarded through the callback
time.sleep(0.5)
before = len(forwarded)
started = time.monotonic()
_exit.close_native_layer()
took = time.monotonic() - started
lib.livekit_ffi_drop_handle(987654321)
time.sleep(0.5)
print(before, len(forwarded) - before, FfiClient._ffi_disposed, round(took, 3))
"""


def test_the_native_layer_is_closed_before_the_interpreter_finalises() -> None:
    # Forwarded SDK log lines are the callback a native thread runs at exit; once lkframes
    # closed the layer, none reaches Python, and the callbacks in flight had DRAIN_S.
    done = subprocess.run(
        [sys.executable, "-c", CLOSING], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    before, after, disposed, took = done.stdout.split()
    assert int(before) >= 1  # the callback forwarded the first warning
    assert int(after) == 0  # after closing, the native layer calls no Python code
    assert disposed == "True"
    assert float(took) >= 0.1


EXITING = """
import time
import lkframes
from lkframes.livekit import _exit
from livekit.rtc._ffi_client import FfiClient

_exit.DRAIN_S = 1.5  # long enough to see from outside
FfiClient.instance  # starts the native layer
print(time.time(), flush=True)
"""


def test_import_lkframes_closes_the_native_layer_at_exit() -> None:
    # The hook is registered by `import lkframes`: the process outlives its last line by
    # the wait, after the SDK's own dispose.
    done = subprocess.run(
        [sys.executable, "-c", EXITING], capture_output=True, text=True, timeout=60, check=False
    )
    ended = time.time()
    assert done.returncode == 0, done.stderr[-3000:]
    assert ended - float(done.stdout.split()[0]) >= 1.5
