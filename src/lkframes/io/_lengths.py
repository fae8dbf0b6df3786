"""What a compressed file's container says about its length, so that a file that decodes
to less (cut, damaged) is reported as truncated, as a WAV or FLAC file is.

- MP3: a Xing/Info tag (LAME, FFmpeg) counts the frames, and libsndfile (mpg123) then
  reports the exact length; without one, libsndfile only estimates it from the bit rate.
- Ogg (Vorbis, Opus): a finished stream ends with a page marked end-of-stream; a cut file
  ends without it, or in the middle of a page.
"""

from __future__ import annotations

import struct
from pathlib import Path

__all__ = ("mp3_has_frame_count", "ogg_problem")

_OGG_EOS = 0x04


def mp3_has_frame_count(path: Path) -> bool:
    """Whether the MP3 file starts with a Xing/Info tag that counts its frames."""
    with open(path, "rb") as file:
        data = file.read(64 * 1024)
        start = 0
        if data[:3] == b"ID3" and len(data) >= 10:  # skip an ID3v2 tag
            size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
            start = 10 + size + (10 if data[5] & 0x10 else 0)
            file.seek(start)
            data = file.read(64 * 1024)
            start = 0
    sync = next(
        (i for i in range(start, len(data) - 4) if data[i] == 0xFF and data[i + 1] & 0xE0 == 0xE0),
        None,
    )
    if sync is None:
        return False
    mpeg1 = (data[sync + 1] >> 3) & 3 == 3
    mono = (data[sync + 3] >> 6) & 3 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag = sync + 4 + side_info
    if data[tag : tag + 4] not in (b"Xing", b"Info") or len(data) < tag + 8:
        return False
    (flags,) = struct.unpack(">I", data[tag + 4 : tag + 8])
    return bool(flags & 1)


def ogg_problem(path: Path) -> str | None:
    """Why an Ogg file looks cut (None when its last page ends the stream, at the file's end)."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        file.seek(max(0, size - 128 * 1024))
        tail_start = file.tell()
        tail = file.read()
    at = tail.rfind(b"OggS")
    while at >= 0:
        header = tail[at : at + 27]
        if len(header) == 27 and header[4] == 0:  # stream structure version 0
            segments = header[26]
            table = tail[at + 27 : at + 27 + segments]
            end = tail_start + at + 27 + segments + sum(table)
            if len(table) == segments and end == size:
                if header[5] & _OGG_EOS:
                    return None
                return "the Ogg stream has no end-of-stream page (the file was cut)"
            if end > size:
                return "the last Ogg page is incomplete (the file was cut)"
        at = tail.rfind(b"OggS", 0, at)
    return None  # no page structure found near the end: leave the verdict to the decoder
