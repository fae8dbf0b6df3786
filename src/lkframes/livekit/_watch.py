"""Watching a live audio track: a publisher whose connection died, and the silence of a
mute that ``on_mute="skip"`` leaves out."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np
from numpy.typing import NDArray

from .._core.clock import monotonic
from ._sdk import packets_received

if TYPE_CHECKING:
    from livekit import rtc

    from ._live import LiveStats

__all__ = ("MuteSkip", "StallWatch")


class StallWatch:
    """Notices a remote track whose publisher's connection died (not one who is silent).

    No packets is not enough: a participant who is present but silent sends none (LiveKit's
    Go SDK while nothing is written, browsers in DTX silence), and from a subscriber they
    look exactly like one whose process was killed (measured, livekit-server 1.13.5: no
    packets, the server's RTCP sender reports go on for both, both reported POOR). Only the
    server can tell, when it stops hearing from the publisher's connection at all: it
    reports the participant's connection quality LOST (8.5-10.7 s after a SIGKILL or
    SIGSTOP in 4 of 6 runs; never for a silent participant in 3 runs of 30 s) and removes
    the participant ~20 s after (reason ``CONNECTION_TIMEOUT``). So the track is stalled
    when both hold: the server reports the publisher's connection LOST, and no packet
    arrived for ``timeout`` seconds while the track was not muted.
    """

    __slots__ = (
        "_next_check",
        "_packets",
        "_participant",
        "_progress_at",
        "_timeout",
        "_track",
        "interval",
    )

    def __init__(
        self, track: rtc.Track, timeout: float, participant: rtc.RemoteParticipant | None
    ) -> None:
        self._track = track
        self._timeout = timeout
        self._participant = participant
        self.interval = min(0.25, timeout / 4)
        """Seconds between two looks at the statistics."""
        now = monotonic()
        self._progress_at = now
        self._next_check = now + self.interval
        self._packets = -1

    async def events(
        self, audio: AsyncIterator[Any], stats: LiveStats | None
    ) -> AsyncGenerator[Any, None]:
        """``audio``'s events, ending (and setting ``stats.stalled``) when the track stalls.

        Looks at the statistics at least every `interval`, also while no frame arrives.
        """
        while True:
            event = None
            try:
                with anyio.move_on_after(self.interval):
                    event = await anext(audio)
            except StopAsyncIteration:
                return
            if await self.stalled():
                if stats is not None:
                    stats.stalled = True
                return
            if event is not None:
                yield event

    async def stalled(self) -> bool:
        """Whether the publisher's connection is reported LOST and no packet arrived for
        ``timeout`` seconds of unmuted time."""
        now = monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self.interval
        packets = await packets_received(self._track)
        if packets != self._packets or self._track.muted:
            self._packets = packets
            self._progress_at = now
            return False
        return now - self._progress_at >= self._timeout and self._connection_lost()

    def _connection_lost(self) -> bool:
        from livekit import rtc

        participant = self._participant
        return participant is not None and (
            participant.connection_quality == rtc.ConnectionQuality.QUALITY_LOST
        )


class MuteSkip:
    """Which frames ``on_mute="skip"`` leaves out: the digital silence of a mute.

    The mute event arrives ~70 ms before the audio falls silent, and the unmute ~70 ms
    before sound returns (measured on livekit-server 1.13). So from a mute on, frames of
    exact zeros are left out until sound returns after the unmute: nothing that was said
    is dropped, whichever arrives first.
    """

    __slots__ = ("_skipping", "_track")

    def __init__(self, track: rtc.Track) -> None:
        self._track = track
        self._skipping = False

    def drops(self, data: NDArray[np.int16]) -> bool:
        """Whether the frame of ``data`` is muted silence to leave out."""
        self._skipping = self._skipping or self._track.muted
        if not self._skipping:
            return False
        if not data.any():
            return True
        self._skipping = self._track.muted
        return False
