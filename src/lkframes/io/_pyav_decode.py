"""`PyAVDecoder`: an input's first audio stream decoded by FFmpeg, as ffmpeg reads damage.

Undecodable packets and unreadable stretches are skipped, and the decoding goes on; the
frames after them are placed by their timestamps, so a stretch the timestamps show was
lost becomes silence of its length (a damaged MP4 keeps its timeline) and is logged in a
`DamageLog`. Output starts at any sample (``start``): containers that seek exactly (an
index, timestamps) are sought, others are demuxed from the start without decoding up to a
little before it; either way samples are dropped up to ``start`` by their timestamps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.format import DType
from ._damage import DamageLog
from ._info import Probe, ffmpeg_reason
from ._lengths import TRUSTED_CONTAINERS
from ._opus import opus_skip_left

__all__ = ("EXACT_SEEK", "PyAVDecoder")

EXACT_SEEK = frozenset(
    {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "ogg", "flac", "wav", "w64", "aiff", "caf"}
)
"""Containers whose timestamps after a seek are exact (sample numbers, an index)."""

_PREROLL_S = Fraction(1, 2)
"""Decoded before a start and dropped: decoders need their previous frames (MP3's bit
reservoir, AAC's and Opus's overlap) to give the first sample right."""

_GAP_S = Fraction(1, 500)
"""Timestamps this far from where the previous frame ended count as continuous."""

_MAX_READ_FAILURES = 64
"""Read errors in a row, without a packet between them, after which the input is given
up on (FFmpeg cannot get past the damage)."""


class PyAVDecoder:
    """Blocks of ``probe``'s audio from sample ``start``, decoded by FFmpeg in a worker
    thread; ``close`` may come from another thread and waits for a read in progress."""

    def __init__(
        self,
        probe: Probe,
        dtype: DType,
        damage: DamageLog,
        *,
        start: int = 0,
        stop_at_damage: bool = False,
        seek: bool = True,
    ) -> None:
        import av

        self._container = probe.pending if probe.pending is not None else _open(probe)
        probe.pending = None
        self._stream = self._container.streams.audio[0]
        if self._stream.codec_context.name == "flac":
            # Check each frame's CRC and drop a frame that fails it (its timestamps then
            # show the gap, filled with silence), instead of outputting its garbage.
            self._stream.codec_context.options = {"err_detect": "crccheck+explode"}
        self._rate = int(self._stream.rate)
        self._channels = int(self._stream.channels)
        self._dtype = dtype
        self._packed = "s16" if dtype == "int16" else "flt"
        self._numpy_dtype = np.dtype(dtype)
        self._resampler = av.AudioResampler(
            format=self._packed, layout=self._stream.layout, rate=self._rate
        )
        base = self._stream.time_base or Fraction(1, self._rate)
        self._base = (int(base.numerator), int(base.denominator))
        self._fine_pts = self._base[0] * self._rate <= self._base[1]
        self.damage = damage
        self.damaged_at: tuple[int, str] | None = None
        """With ``stop_at_damage``: where decoding stopped at damage, and why."""
        self._stop_at_damage = stop_at_damage
        self._declared = _declared(probe, self._stream, self._rate)
        self.frame_size = max(int(getattr(self._stream.codec_context, "frame_size", 0) or 0), 1024)
        """Samples in one codec frame (at least 1024): how far a complete stream may fall
        short of its declared length."""
        self._container_name = self._container.format.name
        self._pipe = probe.source.kind == "pipe"
        self._start = start
        self._sought = not seek  # (never, when told not to: damage ahead can mislead a seek)
        self._timeline()
        self._pending: list[NDArray[Any]] = []
        self._pending_samples = 0
        self._suspect: int | None = None  # a packet failed here; the next frame says how much
        self._done = False
        self.ended_mid_frame = False  # the last packet did not decode: cut in it
        self.problem: str | None = None
        self._packets = self._tolerant_packets()
        self._lock = threading.Lock()
        self._closed = False

    def _timeline(self) -> None:
        """Where decoded samples go: the state `_place` keeps."""
        self._origin: int | None = None  # the first frame's pts
        self._next: int | None = None  # where the next sample goes (None: take the frame's)
        self._skip: int | None = None  # an Opus pre-skip FFmpeg left in, once known
        self._resync = False  # after a seek or a skip: take the next frame's timestamp
        self._elementary = self._container_name in ("mp3", "aac", "ac3", "eac3")
        self._last_packet: tuple[int, int, int | None] | None = None  # pos, size, duration
        self._shift = 0  # samples of skipped frames, not in the timestamps after them
        self._frame_samples = 0  # the last frame's length
        # Vorbis frames' timestamps swing by up to a block (448 samples, measured) where
        # long and short blocks meet; only a jump beyond two long blocks is a lost stretch.
        vorbis = self._stream.codec_context.name == "vorbis"
        self._tolerance = 4096 if vorbis else round(_GAP_S * self._rate)

    # -- reading ------------------------------------------------------------------------------

    def read(self, samples: int) -> NDArray[Any]:
        """Up to ``samples`` samples; empty at the end."""
        with self._lock:
            if self._closed:
                return np.empty((0, self._channels), self._dtype)
            while self._pending_samples < samples and not self._done:
                self._decode_more()
            if not self._pending:
                return np.empty((0, self._channels), self._dtype)
            data = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            block, rest = data[:samples], data[samples:]
            self._pending = [rest] if rest.shape[0] else []
            self._pending_samples = rest.shape[0]
            return np.ascontiguousarray(block)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._container.close()

    def _decode_more(self) -> None:
        try:
            packet = next(self._packets)
        except StopIteration:
            if self._suspect is not None:  # the last frame failed: cut in it, not damage
                self._suspect = None
                self.ended_mid_frame = True
            self._place(self._resampled(None), None)
            self._done = True
            return
        self._skipped_bytes(packet)
        if packet.pts is not None and self._skip_packet(packet):
            return
        try:
            frames = packet.decode()
        except Exception as exc:  # an undecodable packet: av.FFmpegError, ValueError, ...
            self._damaged(self._next_position(packet), ffmpeg_reason(exc))
            return
        for frame in frames:
            if frame.sample_rate != self._rate or frame.layout.nb_channels != self._channels:
                self.problem = (
                    f"the audio format changes mid-stream (from {self._rate} Hz "
                    f"{self._channels} ch to {frame.sample_rate} Hz {frame.layout.nb_channels} ch)"
                )
                self._done = True
                return
            if self._skip is None and packet.size:
                self._skip = opus_skip_left(self._stream, packet, frame)
            if frame.pts is not None and self._origin is None:
                self._origin = frame.pts
            self._frame_samples = frame.samples
            self._place(self._samples(frame), frame.pts)
            if self._done:
                return

    def _skipped_bytes(self, packet: Any) -> None:
        """In a bare MP3 or ADTS AAC stream, bytes between two packets are damage the
        parser skipped to find the next frame, and the timestamps (counted packet by
        packet) do not show it: that many frames (by the previous one's size) are lost
        there, so silence of their length goes in and later timestamps move on by it."""
        if not self._elementary or packet.pos is None or packet.pos < 0 or not packet.size:
            return
        last, self._last_packet = self._last_packet, (packet.pos, packet.size, packet.duration)
        if last is None or not last[1] or not last[2]:
            return
        skipped = packet.pos - (last[0] + last[1])
        frames = round(skipped / last[1]) if skipped > 0 else 0
        if frames and self._origin is not None:
            num, den = self._base
            lost = round(frames * last[2] * num * self._rate / den)
            if self._next is not None:
                self._fill(self._next, lost)
            self._shift += lost

    def _tolerant_packets(self) -> Iterator[Any]:
        """The stream's packets; a read error is logged and reading goes on after it."""
        failures = 0
        while failures <= _MAX_READ_FAILURES:
            try:
                for packet in self._container.demux(self._stream):
                    failures = 0
                    yield packet
                return
            except Exception as exc:  # FFmpeg cannot parse the data here
                failures += 1
                position = (self._next or 0) - self._skip_total
                if failures == 1:
                    self._damaged(max(position, self._start, 0), ffmpeg_reason(exc))
                if self._done:
                    return
        if self._next is None:  # nothing was ever read: not damage, an unreadable stream
            self.damage.spots.clear()
            self.problem = "FFmpeg could not read any of its audio"
            if self._container_name.startswith("mov,mp4") and self._pipe:
                self.problem += (
                    " (an MP4 read from a pipe needs its index before its audio, as "
                    "ffmpeg -movflags +faststart writes it; give the file's path instead)"
                )
            return
        self.problem = "reading failed: FFmpeg could not get past damaged data"

    def _damaged(self, position: int, reason: str) -> None:
        if self._stop_at_damage:
            self.damaged_at = (position, reason)
            self._done = True
            return
        if self._suspect is None:
            self._suspect = position

    # -- the timeline ---------------------------------------------------------------------------

    def _samples(self, frame: Any) -> NDArray[Any]:
        """The frame's samples as (samples, channels) in the dtype read: straight from its
        planes where it already holds that sample type, else through a conversion."""
        count = frame.samples
        name = frame.format.name
        if name == self._packed or (self._channels == 1 and name == self._packed + "p"):
            plane = frame.planes[0]
            return np.frombuffer(plane, self._numpy_dtype, count * self._channels).reshape(
                count, self._channels
            )
        if name == self._packed + "p" and self._channels < 8:
            # (PyAV 18 lists a ninth, bogus plane for 8 channels: reading it crashes)
            planes = [np.frombuffer(p, self._numpy_dtype, count) for p in frame.planes]
            return np.stack(planes, axis=1)
        return self._resampled(frame)

    def _resampled(self, frame: Any) -> NDArray[Any]:
        parts = [
            o.to_ndarray().reshape(-1, self._channels) for o in self._resampler.resample(frame)
        ]
        if not parts:
            return np.empty((0, self._channels), self._dtype)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _position(self, pts: int) -> int:
        """Where a sample decoded at ``pts`` (in the stream's time base) lies on the decoded
        timeline (0: the first sample decoded; the output starts `_skip_total` later)."""
        assert self._origin is not None
        num, den = self._base
        ticks = (pts - self._origin) * num * self._rate
        return (2 * ticks + den) // (2 * den) + self._shift

    @property
    def _skip_total(self) -> int:
        return self._skip or 0

    def _next_position(self, packet: Any) -> int:
        """Where ``packet``'s audio goes in the output (for a damage report)."""
        if packet.pts is not None and self._origin is not None:
            at = self._position(packet.pts)
        else:
            at = self._next or 0
        return max(0, self._start, at - self._skip_total)

    def _place(self, data: NDArray[Any], start: int | None) -> None:
        """Put ``data`` (decoded at pts ``start``, None: right after the last) on the
        timeline: fill a gap the timestamps show with silence, drop an overlap."""
        known = start is not None and self._origin is not None
        at = self._position(start) if known else (self._next or 0)  # type: ignore[arg-type]
        if self._resync:  # the first output after a jump: where its timestamp says
            self._resync = False
        elif self._next is not None and start is not None:
            gap = self._whole_frames(at - self._next)
            if gap > self._tolerance:
                self._fill(self._next, gap)
            elif gap < -self._tolerance:
                data = data[min(-gap, data.shape[0]) :]  # already played: an overlap
            at = self._next
        if self._suspect is not None:  # a packet failed, and the timestamps show no gap
            self.damage.add(self._suspect, None)
            self._suspect = None
        self._emit(data, at)

    def _whole_frames(self, gap: int) -> int:
        """``gap`` in whole frames where timestamps are coarse (Matroska's milliseconds)."""
        size = self._frame_samples
        if self._fine_pts or size <= 0 or gap <= 0:
            return gap
        whole = round(gap / size) * size
        return whole if abs(whole - gap) * 1000 <= self._rate else gap

    def _fill(self, at: int, gap: int) -> None:
        """Silence for ``gap`` samples lost at ``at`` (a damaged stretch)."""
        out = max(at - self._skip_total, self._start, 0)
        if self._stop_at_damage:
            self.damaged_at = (out, "a stretch of the stream is missing")
            self._done = True
            return
        if at + gap > self._start + self._skip_total:  # not before the start asked for
            self.damage.add(out, gap)
        self._suspect = None
        if self._declared is not None:
            gap = min(gap, max(0, self._declared - at))
        self._emit(np.zeros((gap, self._channels), self._numpy_dtype), at)

    def _emit(self, data: NDArray[Any], at: int) -> None:
        """Output ``data`` decoded at ``at``: what lies after the declared end (the
        encoder's padding), before the output's start (an Opus pre-skip) or before
        ``start`` is dropped."""
        if self._done:
            return
        end = at + data.shape[0]
        if self._declared is not None and end > self._declared:
            data = data[: max(0, self._declared - at)]
            end = at + data.shape[0]
        first = self._start + self._skip_total
        if at < first:
            data = data[min(first - at, data.shape[0]) :]
        self._next = end
        if data.shape[0]:
            self._pending.append(data)
            self._pending_samples += data.shape[0]

    # -- starting late ----------------------------------------------------------------------------

    def _skip_packet(self, packet: Any) -> bool:
        """Whether ``packet`` lies wholly before the start's pre-roll: not decoded then.

        Only where timestamps count single samples (a time base at least as fine as the
        rate): Matroska's milliseconds would place the start up to 24 samples off, so
        there every packet is decoded and the samples are counted instead.
        """
        if self._start == 0 or self._origin is None or not self._fine_pts:
            return False
        if not self._sought:
            self._sought = True
            if self._seek():
                return True
        first = self._start + self._skip_total
        end = self._position(packet.pts + (packet.duration or 0))
        if end < first - _PREROLL_S * self._rate:
            # Skipped on purpose: the next frame with a timestamp says where it goes (a
            # decoder gives nothing for the first packets after a jump), not a gap.
            self._next, self._resync = end, True
            return True
        return False

    def _seek(self) -> bool:
        """Seek to the pre-roll before the start where the container seeks exactly."""
        if self._container_name not in EXACT_SEEK or self._origin is None:
            return False
        num, den = self._base
        seconds = Fraction(self._start + self._skip_total, self._rate) - _PREROLL_S
        if seconds <= 0:
            return False
        target = self._origin + int(seconds * den / num)
        try:
            self._container.seek(target, stream=self._stream, backward=True)
        except Exception:
            return False  # demux on from here, skipping without decoding
        self._packets = self._tolerant_packets()
        self._next, self._resync = None, True
        return True


def _open(probe: Probe) -> Any:
    import av

    raw = probe.raw
    if raw is None:
        return av.open(probe.source.for_libraries())
    options = {"sample_rate": str(raw.sample_rate), "ch_layout": f"{raw.num_channels}c"}
    return av.open(probe.source.for_libraries(), format=raw.encoding, options=options)


def _declared(probe: Probe, stream: Any, rate: int) -> int | None:
    """The length the container really declares, on the decoded timeline (an Opus
    stream's counts its pre-skip), where its samples end: the encoder's padding after it
    is dropped. None for a pipe, or a container whose lengths are only estimates."""
    name = stream.container.format.name
    xing = probe.xing is not None and probe.xing.frames is not None
    trusted = name in TRUSTED_CONTAINERS or (name == "mp3" and xing)
    if probe.source.kind == "pipe" or not trusted or stream.duration is None:
        return None
    declared: int = round(stream.duration * stream.time_base * rate)
    return declared
