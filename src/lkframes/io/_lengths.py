"""What a compressed file's container really says about its length, so that a file that
decodes to less is judged cut or damaged only on a length the file declares, never on an
estimate.

- MP3: a Xing/Info tag (LAME, FFmpeg) counts the frames, and libsndfile (mpg123) then
  reports the exact length; without one, libsndfile and FFmpeg only estimate it from the
  bit rate. The tag usually counts the stream's bytes too: a file holding them all was
  not cut, so audio it lacks was lost to damage.
- Ogg (Vorbis, Opus): a finished stream ends with a page marked end-of-stream; a cut file
  ends without it, or in the middle of a page.
- FFmpeg's elementary-stream and raw demuxers (ADTS AAC, AC-3, ...) estimate durations
  from the bit rate; containers with an index or timestamps (MP4, Matroska, Ogg, WAV,
  FLAC, ...) declare them.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from ._source import Source

__all__ = (
    "TRUSTED_CONTAINERS",
    "XingTag",
    "mp3_complete",
    "mp3_damaged",
    "ogg_damaged",
    "ogg_problem",
    "xing_tag",
)

TRUSTED_CONTAINERS = frozenset(
    {
        "mov,mp4,m4a,3gp,3g2,mj2",
        "matroska,webm",
        "ogg",
        "wav",
        "w64",
        "aiff",
        "caf",
        "flac",
        "asf",
        "avi",
    }
)
"""FFmpeg demuxers whose stream durations come from the file (an index, timestamps, a
header that counts samples), not from a bit rate: only theirs judge a file cut."""


@dataclass(frozen=True, slots=True)
class XingTag:
    """An MP3's Xing/Info tag: frames and bytes it counts (None for a field it lacks)."""

    frames: int | None
    stream_bytes: int | None
    offset: int
    """Where the tag's frame starts in the file: its byte count starts there."""


def mp3_complete(xing: XingTag, size: int) -> bool:
    """Whether an MP3 of ``size`` bytes holds the stream its Xing tag counts the bytes of
    (to two frames: a tag may count, or not, frames of its own)."""
    frame_bytes = (xing.stream_bytes or 0) // max(1, xing.frames or 1)
    return size + 2 * frame_bytes >= xing.offset + (xing.stream_bytes or 0)


_OGG_EOS = 0x04


def xing_tag(source: Source) -> XingTag | None:
    """The Xing/Info tag at the start of an MP3 input, if it has one."""
    data = source.head(64 * 1024)
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:  # skip an ID3v2 tag
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        start = 10 + size + (10 if data[5] & 0x10 else 0)
        data = source.head(start + 64 * 1024)
    sync = next(
        (i for i in range(start, len(data) - 4) if data[i] == 0xFF and data[i + 1] & 0xE0 == 0xE0),
        None,
    )
    if sync is None:
        return None
    mpeg1 = (data[sync + 1] >> 3) & 3 == 3
    mono = (data[sync + 3] >> 6) & 3 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag = sync + 4 + side_info
    if data[tag : tag + 4] not in (b"Xing", b"Info") or len(data) < tag + 8:
        return None
    (flags,) = struct.unpack(">I", data[tag + 4 : tag + 8])
    fields = []
    at = tag + 8
    for bit in (1, 2):
        if flags & bit and len(data) >= at + 4:
            fields.append(struct.unpack(">I", data[at : at + 4])[0])
            at += 4
        else:
            fields.append(None)
    return XingTag(frames=fields[0], stream_bytes=fields[1], offset=sync)


def ogg_problem(source: Source) -> str | None:
    """Why an Ogg input looks cut (None when its last page ends the stream, at its end, or
    when its end cannot be looked at: a pipe)."""
    tail_start, tail = source.tail(128 * 1024)
    size = tail_start + len(tail)
    at = tail.rfind(b"OggS")
    if at >= 0 and len(tail) - at < 27:
        return "the last Ogg page is incomplete (the file was cut)"  # cut in its header
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


_BIT_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _ogg_crc(page: bytes) -> int:
    """Ogg's page checksum (CRC-32, polynomial 0x04C11DB7, not reflected, no inversion),
    computed by zlib's reflected CRC-32 on the bit-reversed bytes."""
    reflected = zlib.crc32(page.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def ogg_damaged(source: Source) -> bool:
    """Whether an Ogg input has a damaged page before its end: one whose checksum fails,
    or bytes that are not a page where one should start. libvorbis drops such pages
    without a word and the audio after them moves earlier; FFmpeg places what follows by
    its timestamps. A cut last page is not damage (`ogg_problem` says it was cut)."""
    if source.kind == "pipe":
        return False
    with source.reading() as (file, _):
        while True:
            header = file.read(27)
            if len(header) < 27:
                return False  # the end (or a cut: not damage)
            table = file.read(header[26])
            body = file.read(sum(table))
            if len(table) < header[26] or len(body) < sum(table):
                return False  # a cut last page
            if header[:4] != b"OggS":
                return True
            stored = int.from_bytes(header[22:26], "little")
            if _ogg_crc(header[:22] + b"\0\0\0\0" + header[26:] + table + body) != stored:
                return True


_MP3_KBPS = {  # (MPEG-1?, bitrate index) -> kb/s, Layer III
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}
_MP3_TRAILERS = (b"TAG", b"APETAGEX", b"LYRICS")


def _mp3_frame_bytes(header: bytes) -> int:
    """The length of the Layer III frame this 4-byte header starts (0: not a header)."""
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0 or (header[1] >> 1) & 3 != 1:
        return 0
    version, bitrate, rate = (header[1] >> 3) & 3, header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or bitrate in (0, 15) or rate == 3:
        return 0
    kbps = _MP3_KBPS[version == 3][bitrate]
    per_second = 144 if version == 3 else 72
    return per_second * kbps * 1000 // _MP3_RATES[version][rate] + ((header[2] >> 1) & 1)


def mp3_damaged(source: Source) -> bool:
    """Whether an MP3 input's frames stop following one another before its end: bytes
    where a frame header should be. mpg123 resyncs past them without a word (the audio
    after them moves earlier); FFmpeg's parser shows where, and how many frames they held.
    Reads 4 bytes a frame (a 1-hour file: about 0.3 s)."""
    if source.kind == "pipe":
        return False
    size = source.size or 0
    with source.reading() as (file, base):
        head = file.read(10)
        at = 0
        if head[:3] == b"ID3" and len(head) == 10:
            at = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
        file.seek(base + at)
        first = file.read(4096)
        skip = next((i for i, byte in enumerate(first) if byte == 0xFF), len(first))
        at += skip  # padding before the first frame
        while at + 4 <= size:
            file.seek(base + at)
            header = file.read(8)
            frame = _mp3_frame_bytes(header[:4])
            if not frame:
                return not header.startswith(_MP3_TRAILERS) and size - at > 128
            at += frame
        return False
