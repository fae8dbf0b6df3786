"""Media in rooms: a file's audio and video published in sync (`publish_media`), and what a
participant sends recorded into one file in sync (`record_participant`), and a whole room's
audio recorded mixed or per participant (`record_room`).

This layer joins the files of `lkframes.io` and the rooms of `lkframes.livekit`.
"""

from __future__ import annotations

from ._publish import publish_media as publish_media
from ._record import record_participant as record_participant
from ._record_room import RoomRecording as RoomRecording
from ._record_room import record_room as record_room

__all__ = ("RoomRecording", "publish_media", "record_participant", "record_room")
