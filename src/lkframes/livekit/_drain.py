"""How a remote track's stream ends after its unsubscription: what was in flight is read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .._core.loops import Later, Started, call_later, loop_clock, start
from ._sdk import frame_ready

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("DRAIN_S", "IN_FLIGHT_S", "SILENT_WAIT_S", "Closer")

DRAIN_S = 0.3
"""After a remote track is unsubscribed (unpublished, or its participant left), LiveKit
still delivers the audio that was in flight (measured against livekit-server 1.13: 40-60 ms
of it, then ~170 ms of exact zeros, then nothing; more behind a slow link). The stream
reads on until a frame of digital silence once `IN_FLIGHT_S` was read, or until it has
waited this long for a next frame, so a participant's last words are kept. Only waiting
counts: frames LiveKit has queued while the reader was busy (a slow consumer, a busy
machine) are all read."""

IN_FLIGHT_S = 0.06
"""After an unsubscription, digital silence ends the stream only after this much audio:
the jitter buffer's content (40-60 ms measured) may begin with silence and end with the
last words (a pause, lost packets, a TTS gap just before the leave). Stopping at the first
silent frame lost them (found by lkframes.testing's room kit: a 20 ms word after a gap).
Once silence came, the drain waits only `SILENT_WAIT_S` for a next frame (after an
unpublish LiveKit sends a few silent frames, then nothing)."""

SILENT_WAIT_S = 0.03
"""After silence following an unsubscription, how long to wait for a next frame (three
10 ms frame periods) before ending the stream, instead of `DRAIN_S`."""


class Closer:
    """Closes a native ``rtc.AudioStream`` exactly once (a second close makes the native
    layer log an unknown handle): at once (`end`), or after what is in flight (`drain`).

    The reader notes in ``waiting_since`` when it began to wait for LiveKit's next frame
    (None while it is busy with the last one): a drain ends after `DRAIN_S` of waiting in
    vain, never while frames are queued behind a reader busy elsewhere.
    """

    def __init__(self, audio: rtc.AudioStream, values_per_second: int) -> None:
        self._audio = audio
        self._in_flight = round(IN_FLIGHT_S * values_per_second)
        self._read = 0
        self._time = loop_clock()
        self._closing: Started | None = None
        self._timer: Later | None = None
        self._drain_began = 0.0
        self._limit = DRAIN_S
        self.waiting_since: float | None = None

    @property
    def draining(self) -> bool:
        return self._timer is not None

    def end(self) -> None:
        if self._closing is None:
            self._closing = start(self._audio.aclose(), name="lkframes: closing an AudioStream")

    def drain(self) -> None:
        if self._timer is None:
            self._drain_began = self._time()
            self._timer = call_later(self._limit, self._drained)

    def played_out(self, data: NDArray[np.int16]) -> bool:
        """While draining: whether the frame of ``data`` (all channels' samples) ends the
        stream, being digital silence after `IN_FLIGHT_S` of what was in flight."""
        if not data.any():
            if self._read >= self._in_flight:
                return True
            self.silent()
        self._read += data.size
        return False

    def silent(self) -> None:
        """Digital silence came after the unsubscription: wait `SILENT_WAIT_S` for more."""
        if self._timer is not None and self._limit != SILENT_WAIT_S:
            self._limit = SILENT_WAIT_S
            self._timer.cancel()
            self._timer = call_later(SILENT_WAIT_S, self._drained)

    def _drained(self) -> None:
        since = self.waiting_since
        waited = 0.0 if since is None else self._time() - max(since, self._drain_began)
        if frame_ready(self._audio):
            waited = 0.0  # a frame is due now: the reader takes it, then waits again
        if waited >= self._limit:
            self.end()
        else:
            self._timer = call_later(self._limit - waited, self._drained)

    async def closed(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.end()
        assert self._closing is not None
        await self._closing.wait()
