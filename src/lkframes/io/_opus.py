"""Opus's pre-skip: the encoder's look-ahead, dropped from the start of the decoded audio."""

from __future__ import annotations

from typing import Any

__all__ = ("opus_pre_skip", "opus_skip_left")

_OPUS_FRAME_MS = (10, 20, 40, 60) * 3 + (10, 20) * 2 + (2.5, 5, 10, 20) * 4
"""The duration of one Opus frame by the TOC byte's configuration number (RFC 6716, 3.1)."""


def _opus_packet_samples(packet: bytes) -> int:
    """How many 48 kHz samples an Opus packet holds, from its TOC byte (RFC 6716, 3.1)."""
    toc = packet[0]
    code = toc & 3
    count = (
        1 if code == 0 else 2 if code in (1, 2) else (packet[1] & 0x3F if len(packet) > 1 else 0)
    )
    return int(_OPUS_FRAME_MS[toc >> 3] * 48 * count)


def opus_skip_left(stream: Any, packet: Any, first: Any) -> int:
    """The part of an Opus stream's pre-skip that FFmpeg's decoder did not drop.

    The pre-skip (the encoder's look-ahead, in 48 kHz samples, OpusHead bytes 10-11) must
    be dropped from the start of the decoded audio. FFmpeg 8 (PyAV's) drops the container's
    codec delay instead, which for a WebM/Matroska or MP4 file that ffmpeg encoded from a
    16 or 22.05 kHz source is in the encoder's input rate: a third or half of it (measured:
    156 of 312 samples). Counted from the first packet: its TOC byte says how many samples
    it holds, the first frame how many came out.
    """
    if stream.codec_context.name != "opus":
        return 0
    head = bytes(stream.codec_context.extradata or b"")
    if len(head) < 12 or not head.startswith(b"OpusHead"):
        return 0
    pre_skip = int.from_bytes(head[10:12], "little")
    data = bytes(packet)
    if not data:
        return 0
    dropped = _opus_packet_samples(data) - int(first.samples)
    return max(0, pre_skip - max(0, dropped))


def opus_pre_skip(stream: Any) -> int:
    """The pre-skip an Opus stream's header declares (OpusHead bytes 10-11), 0 without one."""
    head = bytes(stream.codec_context.extradata or b"")
    if len(head) < 12 or not head.startswith(b"OpusHead"):
        return 0
    return int.from_bytes(head[10:12], "little")
