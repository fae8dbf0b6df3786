"""A contract test: what the Python SDK (livekit 1.x) tells a subscriber about sender time.

``record_room`` places each participant by arrival (`lkframes.livekit._timeline`), not by
the speakers' own clocks as Egress and LiveKit's Go SDK do (RTP timestamps mapped through
RTCP sender reports), because the Python SDK hands over none of that for audio. This test
pins down exactly what is missing, so that an SDK release that starts exposing it fails
here and says what to use instead (issue 20, item 3; docs/cookbook/record-room.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from livekit_server import LiveKitServer

pytestmark = pytest.mark.livekit


def test_the_sdk_gives_no_sender_time_for_received_audio(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    result = livekit_server.scenario("sender_time", "sender-time", tmp_path)
    assert result["frames"] == 10
    # The stats do flow: the jitter buffer hands out more samples at every poll.
    emitted = result["jitter_buffer_emitted"]
    assert len(emitted) >= 5, emitted
    assert emitted[-1] > emitted[0] > 0, emitted
    # What would place audio by the sender's clock, and is absent. If one of these fails,
    # the SDK now exposes it: place record_room's participants by it.
    assert result["frame_timing_fields"] == [], "frames now carry a time"
    assert result["estimated_playout"] == [0.0], "estimatedPlayoutTimestamp is filled now"
    # remote-outbound-rtp may appear (every few seconds, with a sender report's NTP time),
    # but without the report's RTP timestamp it maps nothing: see docs/reliability.md.
