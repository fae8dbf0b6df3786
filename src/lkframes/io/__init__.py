"""Files: audio files (`from_file`, `file_info`, `to_file`, read by libsndfile or FFmpeg and
written incrementally) and media files with video (`open_media`, `from_video_file`,
`to_media_file`, through FFmpeg)."""

from __future__ import annotations

from ._damage import OnDamaged as OnDamaged
from ._info import AudioFileInfo as AudioFileInfo
from ._media import MediaFile as MediaFile
from ._media import MediaInfo as MediaInfo
from ._media import VideoInfo as VideoInfo
from ._media import from_video_file as from_video_file
from ._media import open_media as open_media
from ._media_write import MediaSummary as MediaSummary
from ._media_write import to_media_file as to_media_file
from ._raw import RawEncoding as RawEncoding
from ._read import OnTruncated as OnTruncated
from ._read import file_info as file_info
from ._read import from_file as from_file
from ._write import to_file as to_file

__all__ = (
    "AudioFileInfo",
    "MediaFile",
    "MediaInfo",
    "MediaSummary",
    "OnDamaged",
    "OnTruncated",
    "RawEncoding",
    "VideoInfo",
    "file_info",
    "from_file",
    "from_video_file",
    "open_media",
    "to_file",
    "to_media_file",
)
