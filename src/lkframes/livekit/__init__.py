"""LiveKit: tracks and participants as sources, audio/video sources and rooms as sinks.

LiveKit's Python SDK (``livekit.rtc``) runs on asyncio only, and is imported only when one
of these is used, never by ``import lkframes``.
"""

from __future__ import annotations

from ._live import LiveStats as LiveStats
from ._live import OnMute as OnMute
from ._live import Overflow as Overflow
from ._publish_video import publish_video as publish_video
from ._room import connect as connect
from ._room import make_token as make_token
from ._room_audio import RoomStats as RoomStats
from ._room_audio import from_room as from_room
from ._sink import publish as publish
from ._sink import to_source as to_source
from ._track import from_participant as from_participant
from ._track import from_track as from_track
from ._video import from_participant_video as from_participant_video
from ._video import from_video_track as from_video_track
from ._video import to_video_source as to_video_source

__all__ = (
    "LiveStats",
    "OnMute",
    "Overflow",
    "RoomStats",
    "connect",
    "from_participant",
    "from_participant_video",
    "from_room",
    "from_track",
    "from_video_track",
    "make_token",
    "publish",
    "publish_video",
    "to_source",
    "to_video_source",
)
