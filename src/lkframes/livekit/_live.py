"""Live sources' settings: what happens when the pipeline falls behind, and the counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from .._core.checks import check_choice, finite_number
from .._core.errors import ParameterError
from .._core.format import AudioFormat
from ._sdk import on_put

if TYPE_CHECKING:
    from livekit import rtc

__all__ = (
    "DEFAULT_SAMPLE_RATE",
    "Live",
    "LiveStats",
    "OnMute",
    "Overflow",
    "audio_format",
    "count_frames",
    "is_audio",
)

DEFAULT_SAMPLE_RATE = 48_000
"""The rate LiveKit streams decode to unless told otherwise (WebRTC's Opus rate)."""


def audio_format(sample_rate: int, num_channels: int) -> AudioFormat:
    return AudioFormat(sample_rate, num_channels, "int16")


def is_audio(track: rtc.Track) -> bool:
    from livekit import rtc

    return bool(track.kind == rtc.TrackKind.KIND_AUDIO)


Overflow = Literal["block", "drop_oldest"]
"""What a live source does when the pipeline falls behind.

Keep every frame queued (``"block"``: nothing is lost, memory grows with the lag) or drop
the oldest beyond ``max_queue_ms`` (``"drop_oldest"``: bounded memory and latency, counted
in `LiveStats`).

Examples:
    >>> import typing
    >>> import lkframes as lk
    >>> typing.get_args(lk.Overflow)
    ('block', 'drop_oldest')
"""


OnMute = Literal["silence", "skip"]
"""What a live audio source does with the time its track is muted.

While a publisher is muted, LiveKit keeps delivering frames of digital silence (measured
against livekit-server 1.13: a 1.0 s mute arrives as 1.00 s of exact zeros). ``"silence"``
keeps them, so the stream stays aligned to wall time (a recording's minute 3 is minute 3 of
the call); ``"skip"`` drops them, so the stream holds only what was said.

Examples:
    >>> import typing
    >>> import lkframes as lk
    >>> typing.get_args(lk.OnMute)
    ('silence', 'skip')
"""


@dataclass
class LiveStats:
    """Frame counts of a live source, updated while it runs.

    ``delivered + dropped + skipped + queued == produced`` at every moment: nothing goes
    missing without being counted. Pass one to `from_track` / `from_participant` as ``stats=``.

    Examples:
        >>> import lkframes as lk
        >>> stats = lk.LiveStats(produced=10, delivered=7, dropped=1)
        >>> stats.queued
        2
    """

    produced: int = 0
    """Frames LiveKit handed over."""
    delivered: int = 0
    """Frames that went into the pipeline."""
    dropped: int = 0
    """Frames discarded by ``overflow="drop_oldest"`` because the pipeline fell behind."""
    skipped: int = 0
    """Frames left out on purpose: muted silence (``on_mute="skip"``), and the black frames
    WebRTC makes up when a remote video track is unpublished."""
    stalled: bool = False
    """Whether the stream ended because the publisher's connection died: the server
    reported it LOST and no packet came for ``stall_timeout``, or the server removed the
    participant for it (``CONNECTION_TIMEOUT``). The end of such a stream is silence
    LiveKit made up after the last packet."""

    @property
    def queued(self) -> int:
        """Frames waiting (or left unread when the pipeline stopped early)."""
        return self.produced - self.delivered - self.dropped - self.skipped


def count_frames(stream: Any, capacity: int, stats: LiveStats) -> None:
    """Count what LiveKit puts into ``stream``'s frame queue, and what its ring drops.

    ``rtc.AudioStream`` (and ``VideoStream``) keep frames in a ring that silently drops the
    oldest once it holds ``capacity`` frames: `on_put` is the only place those drops show.
    """

    def before(queued: int) -> None:
        stats.produced += 1
        if capacity and queued >= capacity:
            stats.dropped += 1

    on_put(stream, before)


@dataclass(frozen=True)
class Live:
    """A live source's settings, validated once when the stream is built."""

    overflow: Overflow
    max_queue_ms: int | None
    stats: LiveStats | None
    on_mute: OnMute = "silence"
    stall_timeout: float | None = None

    @classmethod
    def make(
        cls,
        overflow: str,
        max_queue_ms: int | None,
        stats: LiveStats | None,
        on_mute: str = "silence",
        stall_timeout: float | None = None,
    ) -> Live:
        check_choice(overflow, get_args(Overflow), "overflow")
        check_choice(on_mute, get_args(OnMute), "on_mute")
        if stall_timeout is not None:
            stall_timeout = finite_number(stall_timeout, "stall_timeout")
            if stall_timeout <= 0:
                raise ParameterError(
                    f"stall_timeout must be a number of seconds > 0 (got {stall_timeout!r})",
                    hint="pass None to wait for the server to notice a vanished participant",
                )
        if overflow == "drop_oldest":
            if max_queue_ms is None or max_queue_ms <= 0:
                raise ParameterError(
                    f"overflow='drop_oldest' needs max_queue_ms > 0 (got {max_queue_ms!r})"
                )
        elif max_queue_ms is not None:
            raise ParameterError("max_queue_ms applies to overflow='drop_oldest' only")
        if (overflow == "drop_oldest" or stall_timeout is not None) and stats is None:
            stats = LiveStats()  # drops and stalls are always counted, even if nobody reads
        return cls(overflow, max_queue_ms, stats, on_mute, stall_timeout)  # type: ignore[arg-type]

    def capacity(self, frame_size_ms: int | None) -> int:
        """Frames the native queue may hold (0: unbounded)."""
        if self.max_queue_ms is None:
            return 0
        return max(1, -(-self.max_queue_ms // (frame_size_ms or 10)))
