"""Following a participant's track of one source across re-publishes, until they leave."""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .._core.opening import consume
from ._events import on_disconnect, require_asyncio

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("follow_participant",)

T = TypeVar("T")


async def follow_participant(
    room: rtc.Room,
    identity: str,
    wanted: rtc.TrackSource.ValueType,
    matches: Callable[[rtc.Track], bool],
    frames_of: Callable[[rtc.Track], AsyncGenerator[T, None]],
    what: str,
    *,
    stop_after_track: Callable[[], bool] = lambda: False,
) -> AsyncGenerator[T, None]:
    """The items of ``identity``'s track of source ``wanted``, track after track.

    Waits until the participant has a subscribed track of that source for which
    ``matches`` holds, reads it with ``frames_of`` until it ends, then waits for the
    next one. Ends when the participant leaves or the room disconnects, or after a track
    when ``stop_after_track()`` says so.
    """
    require_asyncio(what, room)
    events, received = anyio.create_memory_object_stream[tuple[str, Any]](math.inf)

    def on_subscribed(track: rtc.Track, publication: Any, participant: Any) -> None:
        if participant.identity == identity and publication.source == wanted and matches(track):
            events.send_nowait(("track", track))

    def on_left(participant: Any) -> None:
        if participant.identity == identity:
            events.send_nowait(("left", None))

    room.on("track_subscribed", on_subscribed)
    room.on("participant_disconnected", on_left)
    stop_watching = on_disconnect(room, lambda: events.send_nowait(("disconnected", None)))
    try:
        ended: rtc.Track | None = None
        track = _current_track(room, identity, wanted, matches)
        while room.isconnected():
            if track is None:
                kind, value = await received.receive()
                if kind != "track":
                    return  # the participant left or the room disconnected
                if value is ended:
                    continue  # a late event for the track that just ended
                track = value
            async with consume(frames_of(track)) as items:
                async for item in items:
                    yield item
            if stop_after_track():
                return
            ended, track = track, None
    finally:
        room.off("track_subscribed", on_subscribed)
        room.off("participant_disconnected", on_left)
        stop_watching()
        events.close()
        received.close()


def _current_track(
    room: rtc.Room,
    identity: str,
    wanted: rtc.TrackSource.ValueType,
    matches: Callable[[rtc.Track], bool],
) -> rtc.Track | None:
    """The participant's subscribed track of source ``wanted`` now, if any."""
    participant = next(
        (p for p in room.remote_participants.values() if p.identity == identity), None
    )
    if participant is None:
        return None
    for publication in participant.track_publications.values():
        track = publication.track
        if publication.source == wanted and track is not None and matches(track):
            return track
    return None
