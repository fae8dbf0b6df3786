"""Audio files: `from_file` and `file_info` read what libsndfile or FFmpeg reads; `to_file`
writes incrementally."""

from __future__ import annotations

from ._info import AudioFileInfo as AudioFileInfo
from ._info import file_info as file_info
from ._read import OnTruncated as OnTruncated
from ._read import from_file as from_file
from ._write import to_file as to_file

__all__ = ("AudioFileInfo", "OnTruncated", "file_info", "from_file", "to_file")
