"""How long LiveKit holds a participant's audio and video before playing them out, from the
SDK's stats, so that a recording places both by when they arrived."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from livekit import rtc

POLL_S = 0.5
"""How often the stats are read."""

RENDER_DELAY_S = 0.010
"""WebRTC's video render delay: a frame's ``timestamp_us`` is this long after it is decoded."""


class PlayoutDelays:
    """A participant's playout delays, from the SDK's inbound-rtp stats (see `follow`).

    WebRTC plays audio out as soon as its jitter buffer (NetEq) allows and schedules video
    frames by its own lip sync, which leaves the two up to 30 ms apart and moves the audio
    whenever NetEq's delay grows or shrinks. The Python SDK gives neither the RTP
    timestamps nor the sender reports that would place both by the sender's clock (audio
    frames carry no timestamp; ``estimated_playout_timestamp`` is always 0), but its stats
    tell how long each waited since it arrived: the audio in NetEq
    (``jitter_buffer_delay`` per emitted sample), the video in its jitter buffer and decoder
    (``total_processing_delay`` per decoded frame) plus `RENDER_DELAY_S`. Placing the video
    by its arrival on the audio's playout timeline keeps each mark where the sender put it,
    as far as the network delays both alike.
    """

    def __init__(self) -> None:
        self.audio_s: float | None = None
        """The audio's latest delay from arrival to playout, seconds."""
        self.video_s: float | None = None
        """The video's latest delay from arrival to ``timestamp_us``, seconds."""
        self._totals: dict[str, tuple[float, float]] = {}

    @property
    def video_shift_us(self) -> int:
        """How much later than its ``timestamp_us`` to place a video frame so it lines up
        with audio placed when it was played out: the audio's delay less the video's (0
        until both are known)."""
        if self.audio_s is None or self.video_s is None:
            return 0
        return round((self.audio_s - self.video_s) * 1e6)

    async def follow(self, room: rtc.Room, identity: str) -> None:
        """Read the stats of ``identity``'s tracks every `POLL_S`, until cancelled."""
        while True:
            await anyio.sleep(POLL_S)
            who = room.remote_participants.get(identity)
            if who is None:
                continue
            for publication in list(who.track_publications.values()):
                if publication.track is not None:
                    await self._read(publication.track)

    async def _read(self, track: Any) -> None:
        try:
            with anyio.fail_after(2):
                stats = await track.get_stats()
        except Exception:  # the track went away, or no answer: keep what is known
            return
        for entry in stats:
            if entry.WhichOneof("stats") == "inbound_rtp":
                self._update(entry.inbound_rtp)

    def _update(self, inbound: Any) -> None:
        kind, stats = inbound.stream.kind, inbound.inbound
        if kind == "audio":
            total = (stats.jitter_buffer_delay, float(stats.jitter_buffer_emitted_count))
        elif kind == "video":
            total = (stats.total_processing_delay, float(stats.frames_decoded))
        else:
            return
        key = f"{kind}:{inbound.stream.ssrc}"
        before, self._totals[key] = self._totals.get(key), total
        if before is None or total[1] <= before[1]:
            return
        recent = (total[0] - before[0]) / (total[1] - before[1])
        if kind == "audio":
            self.audio_s = recent
        else:
            self.video_s = recent + RENDER_DELAY_S
