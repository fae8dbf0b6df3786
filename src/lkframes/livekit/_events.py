"""Watching a room: the event loop it needs, and when a track or the room goes away."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio

from .._core import loops
from .._core.errors import WrongEventLoopError
from ._sdk import room_of, simulated

if TYPE_CHECKING:
    from livekit import rtc

__all__ = (
    "on_disconnect",
    "on_track_end",
    "participant_of",
    "removed_as_dead",
    "require_asyncio",
    "timed_out",
    "while_published",
)


def require_asyncio(what: str, on: object = None) -> None:
    """Raise `WrongEventLoopError` unless running on asyncio, or (for ``on``, a room, track
    or source of a simulated room: no native SDK behind it) on asyncio or trio."""
    library = loops.library()
    if library == "asyncio":
        return
    if on is not None and simulated(on):
        if library != "trio":
            raise WrongEventLoopError(what, expected="asyncio or trio", got=library)
        return
    raise WrongEventLoopError(what, got=library)


def participant_of(track: rtc.Track) -> rtc.RemoteParticipant | None:
    """The remote participant who published ``track`` (subscribed in its room), if any.

    The same object stays valid after they leave; it then carries the reason they left.
    """
    room = room_of(track)
    if room is None:
        return None
    for participant in room.remote_participants.values():
        publication = participant.track_publications.get(track.sid)
        if publication is not None:
            return participant
    return None


def timed_out(participant: rtc.RemoteParticipant | None) -> bool:
    """Whether the server removed ``participant`` because its connection died.

    livekit-server keeps a participant whose process was killed or froze for ~20 s, then
    removes it with ``CONNECTION_TIMEOUT`` (a leave says ``CLIENT_INITIATED``); a signal
    connection closed without a leave or failed media say ``SIGNAL_CLOSE`` or
    ``MEDIA_FAILURE``.
    """
    from livekit import rtc

    reason = None if participant is None else participant.disconnect_reason
    dead = (
        rtc.DisconnectReason.CONNECTION_TIMEOUT,
        rtc.DisconnectReason.SIGNAL_CLOSE,
        rtc.DisconnectReason.MEDIA_FAILURE,
    )
    return reason in dead


REASON_S = 0.25
"""How long `removed_as_dead` may wait for a participant's disconnect (and its reason)."""


async def removed_as_dead(
    room: rtc.Room | None, participant: rtc.RemoteParticipant | None, wait: bool
) -> bool:
    """`timed_out`; with ``wait``, once ``room`` said whether ``participant`` left (at most
    `REASON_S`). Pass the room found while the track was subscribed (`room_of` finds none
    after).

    The SDK reports a removed participant's track unsubscribed before the participant's
    disconnect, which carries the reason; a stream can end between the two (seen on CI:
    a killed publisher's stream ended, its reason not yet known). A participant who only
    unpublished stays, and costs the whole wait.
    """
    if participant is None:
        return False
    if (
        wait
        and room is not None
        and room.remote_participants.get(participant.identity) is participant
    ):
        left = anyio.Event()

        def on_left(gone: rtc.RemoteParticipant) -> None:
            if gone is participant:
                left.set()

        room.on("participant_disconnected", on_left)
        try:
            with anyio.move_on_after(REASON_S):
                await left.wait()
        finally:
            room.off("participant_disconnected", on_left)
    return timed_out(participant)


def on_disconnect(room: rtc.Room, callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback`` when ``room`` disconnects; returns the function that stops watching.

    Watches ``connection_state_changed`` as well as ``disconnected``: when the SDK handles
    the state change and the room's event stream then ends before its ``disconnected``
    event, only the state change arrives (livekit 1.2.1 against livekit-server 1.13: about
    1 in 6 ``room.disconnect()`` calls). ``callback`` may be called twice.
    """
    from livekit import rtc

    def on_disconnected(*_: Any) -> None:
        callback()

    def on_state(state: rtc.ConnectionState.ValueType) -> None:
        if state == rtc.ConnectionState.CONN_DISCONNECTED:
            callback()

    room.on("disconnected", on_disconnected)
    room.on("connection_state_changed", on_state)

    def stop() -> None:
        room.off("disconnected", on_disconnected)
        room.off("connection_state_changed", on_state)

    return stop


def on_track_end(
    track: rtc.Track,
    callback: Callable[[], object],
    unsubscribed: Callable[[], object] | None = None,
) -> Callable[[], None]:
    """Call ``callback`` when ``track`` is unsubscribed or its room disconnects.

    LiveKit does not end a track's ``AudioStream``/``VideoStream`` when the remote track is
    unpublished or its participant leaves, so the streams are closed from here. With
    ``unsubscribed``, that is called instead of ``callback`` on an unsubscription (to let
    what is still in flight arrive first). Returns the function that stops watching (a
    no-op for a track without a room, e.g. a local one).
    """
    room = room_of(track)
    if room is None:
        return lambda: None
    on_gone = callback if unsubscribed is None else unsubscribed

    def on_unsubscribed(gone: rtc.Track, *_: Any) -> None:
        if gone is track or gone.sid == track.sid:
            on_gone()

    room.on("track_unsubscribed", on_unsubscribed)
    stop_disconnect = on_disconnect(room, callback)

    def stop() -> None:
        room.off("track_unsubscribed", on_unsubscribed)
        stop_disconnect()

    return stop


@contextmanager
def while_published(room: rtc.Room, sids: Collection[str], gone: str) -> Iterator[None]:
    """Run the block until it ends, or until one of the tracks ``sids`` (looked at when
    it happens) is unpublished or the room disconnects: then the block is cancelled and
    ``anyio.BrokenResourceError(gone)`` raised. Without this, a room that went away would
    not stop a ``capture_frame`` loop: the rest would go, in real time, to nobody.
    """
    with anyio.CancelScope() as playing:

        def on_unpublished(publication: Any, *_: Any) -> None:
            if publication.sid in sids:
                playing.cancel()

        room.on("local_track_unpublished", on_unpublished)
        stop_watching = on_disconnect(room, playing.cancel)
        try:
            yield
        finally:
            room.off("local_track_unpublished", on_unpublished)
            stop_watching()
    if playing.cancelled_caught:
        # A disconnecting room unpublishes its tracks first, so the two look alike here.
        raise anyio.BrokenResourceError(gone)
