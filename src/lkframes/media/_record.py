"""`record_participant`: what a participant sends, audio and video, into one file, in sync."""

from __future__ import annotations

import math
import os
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import numpy as np
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._core.clock import monotonic
from .._core.errors import ParameterError
from .._core.frame import AudioFrame
from .._core.stream import Stream
from .._core.tasks import one_error
from .._core.video import VideoFrame
from ..io import MediaSummary
from ..io._encode import codecs_for
from ..io._media_write import write_media
from ..io._replace import check_output
from ..livekit import LiveStats, from_participant, from_participant_video
from ..livekit._events import require_asyncio
from ._playout import PlayoutDelays

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("record_participant",)

T = TypeVar("T")
_Delays = tuple[PlayoutDelays, "rtc.Room", str]
"""The playout delays to place video by, and whose they are."""

CATCH_UP_S = 0.2
"""Audio that arrives this much later than its sample count says (a gap between two of the
participant's tracks) is preceded by silence, so the audio keeps to wall time."""

HOLD_S = 5.0
"""The most audio held while it is not clear whether a late frame began a gap or a stall
(then taken as a stall: nothing added)."""

SETTLE_S = 0.5
"""Audio held back at the start of a recording to find when it really started."""

VIDEO_QUEUE_FRAMES = 90
"""Video frames kept while the encoder is busy or the audio has not started: 3 s at 30 fps."""


class _Zero:
    """The recording's time zero on the monotonic clock: when its first audio or video
    arrived (a remote video frame's ``timestamp_us`` is on the same clock)."""

    def __init__(self) -> None:
        self.at: float | None = None

    def set(self, seconds: float) -> float:
        if self.at is None:
            self.at = seconds
        return self.at


async def _pump_audio(
    audio: Stream[AudioFrame],
    out: MemoryObjectSendStream[AudioFrame],
    zero: _Zero,
    stats: LiveStats,
    stalled: anyio.Event,
) -> None:
    """Read the live audio as it arrives (never held back by the encoder) and place it on
    the recording's wall-time timeline; pts renumbered to match."""
    placing = _AudioPlacement(zero)
    with _until_the_writer_leaves():
        async with out, audio.open() as frames:
            async for frame in frames:
                for placed in placing.add(frame, monotonic()):
                    await out.send(placed)
            for placed in placing.flush():
                await out.send(placed)
    if stats.stalled:
        stalled.set()  # the participant vanished: the video ends too


class _AudioPlacement:
    """Where received audio goes on the recording's timeline.

    LiveKit delivers audio as it plays it out, 10 ms at a time, each frame as it begins to
    play (its audio is pulled at each 10 ms tick), to this process's event loop, which may
    be late by a few milliseconds to tens. The audio's start is found from its first
    `SETTLE_S` (the earliest arrival less the audio before that frame: the frame that
    waited least), which is held back that long; after that, sample ``n`` is at
    ``start + n / rate``, and audio that arrives more than `CATCH_UP_S` later than that (a
    gap between two tracks) is preceded by silence, unless what follows it comes at once
    (this process was held up, and LiveKit kept the audio meanwhile).
    """

    def __init__(self, zero: _Zero) -> None:
        self._zero = zero
        self._held: list[tuple[AudioFrame, float]] = []
        self._start: float | None = None  # when sample 0 was played out
        self._written = 0  # samples placed, silence included
        self._received = 0  # samples held before the last one added
        self._late: list[tuple[AudioFrame, float]] = []  # held since one came late
        self._gap = 0  # how late the first of them came, samples

    def add(self, frame: AudioFrame, arrived: float) -> list[AudioFrame]:
        self._zero.set(arrived)
        if self._start is None:
            self._held.append((frame, arrived))
            if self._received < SETTLE_S * frame.format.sample_rate:  # before this frame
                self._received += frame.samples_per_channel
                return []
            return self.flush()
        return self._place(frame, arrived)

    def flush(self) -> list[AudioFrame]:
        """Decide the start from what is held, and place it all."""
        if not self._held:
            rate = self._late[0][0].format.sample_rate if self._late else 1
            return self._resolve_late(None, rate) if self._late else []
        rate = self._held[0][0].format.sample_rate
        position = 0
        start = float("inf")
        for frame, arrived in self._held:
            start = min(start, arrived - position / rate)  # the frame begins as it arrives
            position += frame.samples_per_channel
        assert self._zero.at is not None
        self._start = start
        held, self._held = self._held, []
        offset = round((start - self._zero.at) * rate)
        out = self._silence(offset, held[0][0])  # the video came first
        skip = max(0, -offset)  # the audio started before the recording's zero
        for frame, _ in held:
            data = frame.data[min(skip, frame.samples_per_channel) :]
            skip = max(0, skip - frame.samples_per_channel)
            if data.shape[0]:
                out.append(AudioFrame.of(data, frame.format, self._written))
                self._written += data.shape[0]
        return out

    def _place(self, frame: AudioFrame, arrived: float) -> list[AudioFrame]:
        assert self._zero.at is not None
        rate = frame.format.sample_rate
        held = sum(f.samples_per_channel for f, _ in self._late)
        late = (arrived - self._zero.at) * rate - self._written - held  # as it begins
        if self._late:
            self._late.append((frame, arrived))
            return self._resolve_late(late <= CATCH_UP_S * rate / 2, rate)
        if late > CATCH_UP_S * rate:  # a gap between two tracks, or a stall of this process
            self._gap = round(late)
            self._late.append((frame, arrived))
            return []
        out = [AudioFrame.of(frame.data, frame.format, self._written)]
        self._written += frame.samples_per_channel
        return out

    def _resolve_late(self, caught_up: bool | None, rate: int) -> list[AudioFrame]:
        """Place the audio held since a frame came late, once it is clear why.

        After a stall of this process (a busy machine), LiveKit hands over what it kept
        meanwhile faster than real time until it has caught up, and nothing is missing:
        silence there would put all that follows late. After a gap between two tracks,
        the audio comes at its pace and stays late by the gap: it is preceded by silence
        as long. ``caught_up`` None: the stream ended, decide by the pace so far.
        """
        first_arrived, last_arrived = self._late[0][1], self._late[-1][1]
        held_s = sum(f.samples_per_channel for f, _ in self._late) / rate
        paced = last_arrived - first_arrived >= 0.8 * (held_s - self._late[-1][0].duration)
        if caught_up is False and (held_s < CATCH_UP_S or (not paced and held_s < HOLD_S)):
            return []  # not clear yet
        out = self._silence(self._gap, self._late[0][0]) if not caught_up and paced else []
        for frame, _ in self._late:
            out.append(AudioFrame.of(frame.data, frame.format, self._written))
            self._written += frame.samples_per_channel
        self._late = []
        return out

    def _silence(self, samples: int, like: AudioFrame) -> list[AudioFrame]:
        if samples <= 0:
            return []
        fmt = like.format
        silence = np.zeros((samples, fmt.num_channels), np.dtype(fmt.dtype))
        frame = AudioFrame.of(silence, fmt, self._written)
        self._written += samples
        return [frame]


async def _pump_video(
    video: Stream[VideoFrame],
    out: MemoryObjectSendStream[VideoFrame],
    zero: _Zero,
    stalled: anyio.Event,
    delays: _Delays | None,
) -> None:
    """Video timestamps counted from the recording's zero, never going back, moved by the
    playout delays (if any); ends when the audio found the participant vanished."""
    with _until_the_writer_leaves():
        await _send_video(video, out, zero, stalled, delays)


@contextmanager
def _until_the_writer_leaves() -> Iterator[None]:
    """A pump ends quietly when the file's writer has stopped reading (it failed or was
    cancelled; its own error is the one to report), also from inside a task group."""
    try:
        yield
    except* (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass


async def _send_video(
    video: Stream[VideoFrame],
    out: MemoryObjectSendStream[VideoFrame],
    zero: _Zero,
    stalled: anyio.Event,
    delays: _Delays | None,
) -> None:
    async with out, anyio.create_task_group() as group:

        async def stop_when_stalled() -> None:
            await stalled.wait()
            group.cancel_scope.cancel()

        group.start_soon(stop_when_stalled)
        if delays is not None:
            group.start_soon(delays[0].follow, *delays[1:])
        last = -1
        async with video.open() as frames:
            async for frame in frames:
                start = zero.set(frame.timestamp_us / 1e6)
                shift = 0 if delays is None else delays[0].video_shift_us
                at = max(round(frame.timestamp_us + shift - start * 1e6), last + 1, 0)
                last = at
                await out.send(frame.at(at))
        group.cancel_scope.cancel()


def _received(items: MemoryObjectReceiveStream[T], fmt: Any = None) -> Stream[T]:
    """A one-shot stream of what a pump sends."""

    async def run() -> AsyncGenerator[T, None]:
        async with items:
            async for item in items:
                yield item

    return Stream(run, format=fmt, name="record_participant")


async def record_participant(
    room: rtc.Room,
    identity: str,
    path: str | os.PathLike[str],
    *,
    audio: bool = True,
    video: bool = True,
    overwrite: bool = False,
    sample_rate: int = 48_000,
    num_channels: int = 1,
    stall_timeout: float | None = None,
    video_codec: str | None = None,
    audio_codec: str | None = None,
    video_options: dict[str, str] | None = None,
    wait_for_tracks: float = 2.0,
    stats: LiveStats | None = None,
) -> MediaSummary:
    """Record a participant's microphone and camera into one media file, in sync.

    Follows the participant's tracks across re-publishes and ends when they leave (or
    the room disconnects). Both streams are put on one timeline, the wall time since the
    first audio or video arrived: muted time is kept as silence, a gap between two
    audio tracks is filled with silence, and video keeps its own (variable) frame rate.
    Video is placed by when it arrived on the audio's playout timeline (the SDK's
    jitter-buffer stats say how long each waited), not where WebRTC's lip sync scheduled
    it, which leaves the two up to 30 ms apart and moves with the audio's jitter buffer.
    If only one kind arrives, the other is given up ``wait_for_tracks`` seconds later
    and the file holds the one. The file is written as it goes (see `to_media_file`: an
    MKV or WebM file survives even a kill).

    Args:
        room: A connected ``rtc.Room`` that subscribes to the participant.
        identity: Whose tracks to record.
        path: The file; its extension chooses the container (``.mp4``, ``.mkv``, ``.webm``).
        audio: Record the microphone.
        video: Record the camera.
        overwrite: Replace ``path`` if it exists (only once the recording succeeds).
        sample_rate: The audio rate to receive and write.
        num_channels: Audio channels to receive and write.
        stall_timeout: End the recording sooner when the participant's connection died
            (reported LOST by the server, and no audio packet for this long; a silent
            participant is recorded until they leave; see `from_participant`).
        video_codec: An FFmpeg encoder or ``"h264"``, ``"vp8"``, ``"vp9"``.
        audio_codec: An FFmpeg encoder or ``"aac"``, ``"opus"``.
        video_options: Encoder options, e.g. ``{"preset": "ultrafast"}``.
        wait_for_tracks: Seconds to wait for the second kind once the first arrived.
        stats: A `LiveStats` counting the video frames received and dropped (frames are
            dropped only when encoding falls 3 s behind).

    Returns:
        A `MediaSummary` of what was written.

    Raises:
        ParameterError: Neither audio nor video, or a bad path or codec.
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
        WrongEventLoopError: Not running on asyncio.

    Examples:
        Nothing is read before the room delivers; a path the container cannot be told
        from is refused first:

        >>> import asyncio
        >>> import lkframes as lk
        >>> from livekit import rtc
        >>> async def main():
        ...     try:
        ...         await lk.record_participant(rtc.Room(), "alice", "alice.avi")
        ...     except lk.ParameterError as exc:
        ...         print("refused")
        >>> asyncio.run(main())
        refused
    """
    require_asyncio("record_participant", room)
    if not (audio or video):
        raise ParameterError("record_participant needs audio=True, video=True or both")
    file = Path(path)
    codecs_for(file, video_codec, audio_codec)
    check_output(file, overwrite)  # refused before anything starts
    zero = _Zero()
    stalled = anyio.Event()
    streams: dict[str, Any] = {}
    receives: list[MemoryObjectReceiveStream[Any]] = []
    with one_error():
        async with anyio.create_task_group() as pumps:
            try:
                if audio:
                    audio_stats = LiveStats()
                    sound = from_participant(
                        room,
                        identity,
                        sample_rate=sample_rate,
                        num_channels=num_channels,
                        stall_timeout=stall_timeout,
                        stats=audio_stats,
                    )
                    send, receive = anyio.create_memory_object_stream[AudioFrame](math.inf)
                    receives.append(receive)
                    pumps.start_soon(_pump_audio, sound, send, zero, audio_stats, stalled)
                    streams["audio"] = _received(receive, sound.format)
                if video:
                    picture = from_participant_video(
                        room,
                        identity,
                        pixel_format="i420",
                        max_queue_frames=VIDEO_QUEUE_FRAMES,
                        stats=stats,
                    )
                    video_send, video_receive = anyio.create_memory_object_stream[VideoFrame](4)
                    receives.append(video_receive)
                    delays = (PlayoutDelays(), room, identity) if audio else None
                    pumps.start_soon(_pump_video, picture, video_send, zero, stalled, delays)
                    streams["video"] = _received(video_receive)
                summary = await write_media(
                    file,
                    audio=streams.get("audio"),
                    video=streams.get("video"),
                    overwrite=overwrite,
                    video_codec=video_codec,
                    audio_codec=audio_codec,
                    video_bitrate=None,
                    video_options=video_options,
                    fps=30.0,
                    lockstep=None,
                    start_timeout=wait_for_tracks,
                )
            finally:
                for each in receives:  # a writer that never started reading
                    each.close()
    return summary
