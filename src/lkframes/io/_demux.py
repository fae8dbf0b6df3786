"""One pass over a media file: `Demux` decodes the wanted streams packet by packet (in a
worker thread), `Hub` shares that pass between an audio and a video consumer.

Time: both streams are put on one timeline whose zero is the earliest start of the file's
audio and video (or 0 if a stream starts before 0, as an encoder's pre-skip does). Video
frames get ``timestamp_us`` on it; audio ``pts`` counts samples on it, so audio that starts
late begins with silence, a gap is filled with silence and an overlap is dropped: sample
``n`` is always at ``n / rate`` seconds, the video frame at ``timestamp_us``, in sync.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import anyio
import numpy as np

from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.video import PixelFormat, VideoFrame
from .._core.video_av import from_av
from ._info import ffmpeg_reason
from ._lengths import TRUSTED_CONTAINERS
from ._opus import opus_skip_left

__all__ = ("Demux", "Hub", "Kind")

Kind = Literal["audio", "video"]

_CUT_SLACK_S = Fraction(1, 2)
"""A file this much shorter than its container declares is reported as cut: the last
video frame starts a frame before the end, and containers round the duration."""

_MAX_READ_FAILURES = 64
"""Read errors in a row after which the file is given up on."""

_GAP_TOLERANCE_S = 0.002
"""Audio timestamps this close to where the previous frame ended count as continuous."""


class _AudioTimeline:
    """Places decoded audio on the file's timeline: pads before, fills gaps, drops overlaps."""

    def __init__(self, fmt: AudioFormat, t0: Fraction, end_s: Fraction | None) -> None:
        self.fmt = fmt
        self._t0 = t0
        self.next = 0  # the sample the next block should start at
        self._tolerance = max(1, round(_GAP_TOLERANCE_S * fmt.sample_rate))
        # Where the container says the audio ends: the encoder's padding after it is cut.
        self._end = None if end_s is None else round((end_s - t0) * fmt.sample_rate)

    def place(self, data: np.ndarray[Any, Any], start_s: Fraction | None) -> list[AudioFrame]:
        """Frames for ``data`` decoded at ``start_s`` (None: right after the previous)."""
        out = []
        if start_s is not None:
            start = round((start_s - self._t0) * self.fmt.sample_rate)
            gap = start - self.next
            if gap > self._tolerance:  # late start or a gap: silence keeps the timeline
                silence = np.zeros((gap, self.fmt.num_channels), data.dtype)
                out.append(AudioFrame.of(silence, self.fmt, self.next))
                self.next += gap
            elif gap < -self._tolerance:  # before zero, or an overlap: already played
                data = data[min(-gap, data.shape[0]) :]
        if self._end is not None:
            data = data[: max(0, self._end - self.next)]
        if data.shape[0]:
            out.append(AudioFrame.of(np.ascontiguousarray(data), self.fmt, self.next))
            self.next += data.shape[0]
        return out


STEP_PACKETS = 8
"""Packets decoded in one step: about 5 frames of a 30 fps video with its audio."""

STEP_BYTES = 8 * 1024 * 1024
"""Pictures decoded in one step at most (more than one frame only below 4K)."""


def _nbytes(frames: list[VideoFrame]) -> int:
    return sum(frame.data.nbytes for frame in frames)


class Demux:
    """The file's packets, decoded for the wanted streams; every method runs in one thread
    at a time (the `Hub` holds a lock)."""

    def __init__(
        self,
        path: Path,
        wanted: set[Kind],
        pixel_format: PixelFormat,
        audio_fmt: AudioFormat | None,
        threads: str = "AUTO",
    ) -> None:
        import av

        self._container = av.open(str(path))
        self.problem: str | None = None
        self.damaged: list[float] = []
        """Where undecodable packets were skipped, in seconds on the timeline (as ffmpeg
        skips them; the audio timeline fills what they held with silence)."""
        self._failures = 0  # read errors in a row
        self.done = False
        self._pixel_format = pixel_format
        self._audio = self._container.streams.audio[0] if "audio" in wanted else None
        self._video = self._container.streams.video[0] if "video" in wanted else None
        self.wanted = set(wanted)
        if self._video is not None:
            self._video.thread_type = threads
        self._t0 = timeline_zero(self._container)
        self._timeline = None
        self._resampler: Any = None
        if self._audio is not None and audio_fmt is not None:
            self._timeline = _AudioTimeline(audio_fmt, self._t0, _declared_end(self._audio))
            self._resampler = av.AudioResampler(
                format="s16" if audio_fmt.dtype == "int16" else "flt",
                layout=self._audio.layout,
                rate=self._audio.rate,
            )
        self._opus_skip: int | None = None  # decided at the first audio packet
        self._reached = Fraction(0)  # the latest time decoded
        streams = [s for s in (self._audio, self._video) if s is not None]
        self._packets: Iterator[Any] = self._container.demux(*streams)

    def step(self) -> tuple[list[AudioFrame], list[VideoFrame]]:
        """Decode a batch: at least one frame of a wanted stream (unless the file ends),
        `STEP_PACKETS` packets or `STEP_BYTES` of pictures. Batches keep the handing over
        between threads rare (one for every frame costs a tenth more CPU)."""
        audio: list[AudioFrame] = []
        video: list[VideoFrame] = []
        packets = 0
        while not self.done and not (
            (audio or video) and (packets >= STEP_PACKETS or _nbytes(video) >= STEP_BYTES)
        ):
            packets += 1
            try:
                packet = next(self._packets)
            except StopIteration:
                self.done = True
                audio.extend(self._flush_audio())
                self._check_length()
                break
            except Exception as exc:  # FFmpeg cannot parse the data here: read on past it
                self._failures += 1
                if self._failures == 1:
                    self.damaged.append(self._where())
                if self._failures > _MAX_READ_FAILURES:
                    self.problem = f"reading failed: {ffmpeg_reason(exc)}"
                    self.done = True
                    break
                streams = [s for s in (self._audio, self._video) if s is not None]
                self._packets = self._container.demux(*streams)
                continue
            self._failures = 0
            try:
                if packet.stream is self._video and "video" in self.wanted:
                    video.extend(self._video_frames(packet))
                elif packet.stream is self._audio and "audio" in self.wanted:
                    audio.extend(self._audio_frames(packet))
            except Exception:  # an undecodable packet: skipped, as ffmpeg skips it
                self.damaged.append(self._where())
        return audio, video

    def _where(self) -> float:
        """How far the decoding has got, in seconds on the timeline."""
        audio = 0.0
        if self._timeline is not None:
            audio = self._timeline.next / self._timeline.fmt.sample_rate
        return round(max(float(self._reached), audio), 3)

    def _video_frames(self, packet: Any) -> Iterator[VideoFrame]:
        for frame in packet.decode():
            if frame.pts is None:
                continue
            t = Fraction(frame.pts) * frame.time_base - self._t0
            if t < 0:
                continue
            self._reached = max(self._reached, t)
            yield from_av(frame, self._pixel_format, round(t * 1_000_000))

    def _expected_end(self) -> Fraction | None:
        """Where the streams read should end, on the timeline: their own declared ends, or
        the container's duration when every stream it has is read (Matroska has no other)."""
        ends = [
            end - self._t0
            for stream in (self._audio, self._video)
            if stream is not None and (end := _declared_end(stream)) is not None
        ]
        if ends:
            return max(ends)
        duration = self._container.duration
        all_read = len(self._container.streams) == len(self.wanted)
        return Fraction(duration, 1_000_000) - self._t0 if duration and all_read else None

    def _check_length(self) -> None:
        """A file that ends well before the duration its container declares was cut."""
        if self._timeline is not None:
            reached = Fraction(self._timeline.next, self._timeline.fmt.sample_rate)
            self._reached = max(self._reached, reached)
        expected = self._expected_end()
        if expected is None or self._reached >= expected - _CUT_SLACK_S:
            return
        if self.problem is None and self._reached > 0:
            self.problem = (
                f"the file ended at {float(self._reached):.3f} s of the "
                f"{float(expected):.3f} s its container declares"
            )

    def _audio_frames(self, packet: Any) -> Iterator[AudioFrame]:
        assert self._timeline is not None
        assert self._audio is not None
        decoded = packet.decode()
        if self._opus_skip is None and packet.size and decoded:
            self._opus_skip = opus_skip_left(self._audio, packet, decoded[0])
        for frame in decoded:
            start = None if frame.pts is None else Fraction(frame.pts) * frame.time_base
            data = self._samples(frame)
            if self._opus_skip:
                dropped = min(self._opus_skip, data.shape[0])
                data, self._opus_skip = data[dropped:], self._opus_skip - dropped
                if start is not None:
                    start += Fraction(dropped, self._audio.rate)
            yield from self._timeline.place(data, start)

    def _samples(self, frame: Any) -> np.ndarray[Any, Any]:
        assert self._timeline is not None
        channels = self._timeline.fmt.num_channels
        parts = [out.to_ndarray().reshape(-1, channels) for out in self._resampler.resample(frame)]
        if not parts:
            return np.empty((0, channels), np.dtype(self._timeline.fmt.dtype))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _flush_audio(self) -> list[AudioFrame]:
        if self._timeline is None:
            return []
        outs = self._resampler.resample(None)
        data = [o.to_ndarray().reshape(-1, self._timeline.fmt.num_channels) for o in outs]
        if not data:
            return []
        return self._timeline.place(np.concatenate(data), None)

    def close(self) -> None:
        self._container.close()


def _declared_end(stream: Any) -> Fraction | None:
    """When the container says the stream ends, in seconds, if it really says (Matroska
    says it in a ``DURATION`` tag, as ``HH:MM:SS.nnnnnnnnn``); never a bit-rate guess
    (an ADTS or a bare MP3 stream's)."""
    if stream.container.format.name not in TRUSTED_CONTAINERS:
        return None
    if stream.duration is None or stream.time_base is None:
        tag = str(stream.metadata.get("DURATION", ""))
        hours, _, rest = tag.partition(":")
        minutes, _, seconds = rest.partition(":")
        try:
            return Fraction(int(hours) * 3600 + int(minutes) * 60) + Fraction(seconds)
        except ValueError:
            return None
    base = Fraction(stream.time_base)
    end: Fraction = Fraction(stream.start_time or 0) * base + Fraction(stream.duration) * base
    return end


def timeline_zero(container: Any) -> Fraction:
    """The earliest start of the file's first audio and video streams, or 0 if that is
    negative (an encoder's pre-skip) or unknown."""
    starts = [
        Fraction(group[0].start_time) * group[0].time_base
        for group in (container.streams.audio, container.streams.video)
        if group and group[0].start_time is not None and group[0].time_base is not None
    ]
    return max(Fraction(0), min(starts)) if starts else Fraction(0)


class Hub:
    """One `Demux` shared by the consumers that claimed it before it started.

    A consumer pulls with `next`; when its queue is empty, the file is demuxed further (in
    a worker thread, one step at a time) and the other consumer's frames are queued for it.
    A consumer that leaves stops its stream being decoded; the file closes with the last.
    """

    def __init__(self, opener: Callable[[set[Kind]], Demux]) -> None:
        self._opener = opener
        self._demux: Demux | None = None
        self._claims: set[Kind] = set()
        self._queues: dict[Kind, deque[Any]] = {"audio": deque(), "video": deque()}
        self._lock = anyio.Lock()
        self.started = False

    def claim(self, kind: Kind) -> bool:
        """Join this pass for ``kind``; False if it has started or ``kind`` is taken."""
        if self.started or kind in self._claims:
            return False
        self._claims.add(kind)
        return True

    async def next(self, kind: Kind) -> Any | None:
        """The next frame of ``kind``, or None at the end."""
        queue = self._queues[kind]
        while not queue:
            async with self._lock:
                if queue:
                    break
                if self._demux is None:
                    self.started = True
                    self._demux = await anyio.to_thread.run_sync(self._opener, set(self._claims))
                if self._demux.done:
                    return None
                audio, video = await anyio.to_thread.run_sync(self._demux.step)
                if "audio" in self._claims:
                    self._queues["audio"].extend(audio)
                if "video" in self._claims:
                    self._queues["video"].extend(video)
        return queue.popleft()

    @property
    def damaged(self) -> list[float]:
        """Where damaged data was skipped, in seconds, once the end has been reached."""
        return [] if self._demux is None else self._demux.damaged

    @property
    def problem(self) -> str | None:
        """What went wrong while reading, once the end has been reached."""
        return None if self._demux is None else self._demux.problem

    async def release(self, kind: Kind) -> None:
        """``kind``'s consumer is done: stop decoding it; close the file after the last."""
        self._claims.discard(kind)
        self._queues[kind].clear()
        demux = self._demux
        if demux is not None:
            demux.wanted.discard(kind)
            if not self._claims:
                with anyio.CancelScope(shield=True):
                    async with self._lock:
                        await anyio.to_thread.run_sync(demux.close)
                self._demux = None
