"""Media in rooms: a file's audio and video published in sync (`publish_media`), and what a
participant sends recorded into one file in sync (`record_participant`).

This layer joins the files of `lkframes.io` and the rooms of `lkframes.livekit`.
"""

from __future__ import annotations

from ._publish import publish_media as publish_media
from ._record import record_participant as record_participant

__all__ = ("publish_media", "record_participant")
