"""`to_media_file`: audio and video into one MP4, MKV, WebM or MOV file, written as they come."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import numpy as np

from .._core.checks import FormatGuard, PtsGuard, check_finite
from .._core.errors import InvalidVideoError, MediaFileError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.resources import held
from .._core.stream import RunSummary, Stream
from .._core.tasks import one_error
from .._core.video import VideoFrame
from ._encode import MediaEncoder, codecs_for
from ._replace import Destination, check_output

__all__ = ("MediaSummary", "to_media_file", "write_media")

LOCKSTEP_S = 1.0
"""How far (in media time) one stream may run ahead of the other while both are written:
FFmpeg's muxer holds the packets of the one ahead until the other catches up."""


@dataclass(frozen=True, slots=True)
class MediaSummary:
    """What `to_media_file` wrote.

    Examples:
        >>> import lkframes as lk
        >>> summary = lk.MediaSummary(None, video_frames=3, video_size=(64, 48), video_seconds=0.12)
        >>> summary.video_frames, summary.video_dropped
        (3, 0)
    """

    audio: RunSummary | None
    """The audio written (frames, samples, format), None without audio."""
    video_frames: int
    """Video frames written."""
    video_size: tuple[int, int] | None
    """Width and height of the video stream (rounded down to even), None without video."""
    video_seconds: float
    """From the first video frame's timestamp to the last one's."""
    video_dropped: int = 0
    """Video frames left out because their ``timestamp_us`` was not after the previous
    written frame's (a repeated or backwards timestamp), as FFmpeg's ``-fps_mode vfr``
    drops them: a container holds one picture per instant."""


class _Lockstep:
    """Holds both writers until each has added its stream (a muxer takes no stream once
    it has written a packet), and keeps them within ``window`` seconds of media time of
    each other (FFmpeg's muxer holds the packets of the one ahead until the other catches
    up). With ``start_timeout``, a stream whose first frame has not come that long after
    the other's is given up: written without, its frames are read and dropped."""

    def __init__(self, kinds: set[str], window: float | None, start_timeout: float | None):
        self._at = dict.fromkeys(kinds, 0.0)
        self._window = window
        self._timeout = start_timeout
        self._pending = set(kinds)  # neither in the file nor finished yet
        self._joining: set[str] = set()  # adding its stream now
        self.abandoned: set[str] = set()
        self._changed = anyio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def join(self, kind: str) -> bool:
        """``kind``'s first frame came: True if it is to be written (not given up)."""
        if kind in self.abandoned:
            return False
        self._joining.add(kind)
        return True

    async def added(self, kind: str) -> None:
        """``kind``'s stream is in the file: wait for the other's (or give up on it)."""
        self._pending.discard(kind)
        self._joining.discard(kind)
        self._notify()
        with anyio.move_on_after(math.inf if self._timeout is None else self._timeout):
            while self._pending:
                await self._changed.wait()
        late = self._pending - self._joining
        self.abandoned |= late
        self._pending -= late
        for other in late:
            self._at.pop(other, None)
        while self._pending:  # one being added now: its stream must be in before any packet
            await self._changed.wait()

    async def advance(self, kind: str, seconds: float) -> None:
        """``kind`` is about to write at ``seconds``: wait while it is too far ahead."""
        if self._window is None:
            return
        self._at[kind] = seconds
        self._notify()
        others = [k for k in self._at if k != kind]
        while others and seconds > min(self._at[k] for k in others) + self._window:
            await self._changed.wait()
            others = [k for k in self._at if k != kind]

    def finish(self, kind: str) -> None:
        self._at.pop(kind, None)
        self._pending.discard(kind)
        self._joining.discard(kind)
        self._notify()


async def _write_audio(
    stream: Stream[AudioFrame], encoder: MediaEncoder, step: _Lockstep
) -> RunSummary:
    guard = FormatGuard("to_media_file (audio)", stream.format)
    timeline = PtsGuard("to_media_file (audio)")
    count = samples = 0
    fmt: AudioFormat | None = None
    writing = True
    try:
        async with stream.open() as frames:
            async for frame in frames:
                fmt = guard(frame)
                gap = timeline(frame)
                if count == 0 and writing:
                    writing = step.join("audio")
                    if writing:
                        await anyio.to_thread.run_sync(encoder.add_audio, fmt)
                        await step.added("audio")
                if not writing:
                    continue  # given up on: read, so that a live source does not queue
                await step.advance("audio", frame.pts / fmt.sample_rate)
                check_finite(frame.data, "to_media_file: the audio", frame.pts)
                if gap:
                    await _write_silence(encoder, fmt, frame.pts - gap, gap)
                await anyio.to_thread.run_sync(encoder.write_audio, frame)
                count += 1
                samples += gap + frame.samples_per_channel
    finally:
        step.finish("audio")
    return RunSummary(count, samples, fmt or guard.format)


async def _write_silence(encoder: MediaEncoder, fmt: AudioFormat, pts: int, samples: int) -> None:
    """Encode ``samples`` of silence from ``pts`` (a gap in the audio), a second at a time."""
    block = np.zeros((min(samples, fmt.sample_rate), fmt.num_channels), fmt.numpy_dtype)
    for at in range(0, samples, block.shape[0]):
        silence = AudioFrame.of(block[: samples - at], fmt, pts + at)
        await anyio.to_thread.run_sync(encoder.write_audio, silence)


async def _write_video(
    stream: Stream[VideoFrame], encoder: MediaEncoder, step: _Lockstep
) -> tuple[int, tuple[int, int] | None, float, int]:
    count, first, last, dropped = 0, 0, 0, 0
    size = None
    writing = True
    try:
        async with stream.open() as frames:
            async for frame in frames:
                if not isinstance(frame, VideoFrame):
                    raise InvalidVideoError(
                        f"video= takes lkframes.VideoFrame items (got {type(frame).__name__})"
                    )
                if count == 0 and writing:
                    writing = step.join("video")
                    if writing:
                        await anyio.to_thread.run_sync(encoder.add_video, frame.width, frame.height)
                        await step.added("video")
                        first = frame.timestamp_us
                        size = (frame.width - frame.width % 2, frame.height - frame.height % 2)
                if not writing:
                    continue
                if count and frame.timestamp_us <= last:
                    dropped += 1  # a repeated or backwards instant: one picture per instant
                    continue
                await step.advance("video", frame.timestamp_us / 1e6)
                await anyio.to_thread.run_sync(encoder.write_video, frame)
                last = frame.timestamp_us
                count += 1
    finally:
        step.finish("video")
    return count, size, (last - first) / 1e6, dropped


async def to_media_file(
    path: str | os.PathLike[str],
    *,
    audio: Stream[AudioFrame] | None = None,
    video: Stream[VideoFrame] | None = None,
    overwrite: bool = False,
    video_codec: str | None = None,
    audio_codec: str | None = None,
    video_bitrate: int | None = None,
    video_options: dict[str, str] | None = None,
    fps: float = 30.0,
) -> MediaSummary:
    """Encode an audio and/or a video stream into one media file, as the frames come.

    The extension picks the container and its default codecs: ``.mp4``/``.mov`` H.264 and
    AAC, ``.mkv`` H.264 and Opus, ``.webm`` VP8 and Opus. Both streams are read at once (in
    two tasks, kept within a second of media time of each other) and put on one timeline:
    an audio frame at ``pts / sample_rate`` seconds, a video frame at ``timestamp_us``. The
    video is sized by its first frame (rounded down to even; later frames are scaled to
    it) and encoded as yuv420p (from any `PixelFormat`, ``bgr24`` and ``gray`` too, by
    FFmpeg's swscale) with its own timestamps (variable frame rate is kept); a
    frame whose ``timestamp_us`` is not after the previous one's is left out and counted
    in ``video_dropped`` (as FFmpeg's ``-fps_mode vfr``: one picture per instant).
    Audio starts at its first frame's pts; a gap between audio frames is encoded as
    silence of exactly its length, and a frame that starts before the previous one ends
    (`merge`'s overlapping frames, ``map(ordered=False)``) raises `TimestampError`.

    A new file is written in place, so a run that fails or is cancelled leaves a playable
    file with what was written (an MKV or WebM file also survives a kill; an MP4 does not:
    its index is written at the end). An existing file, with ``overwrite=True``, is
    replaced only when the run succeeds, as `to_file` does.

    Args:
        path: The file; its extension chooses the container.
        audio: The audio stream, or None.
        video: The video stream, or None.
        overwrite: Replace ``path`` if it exists.
        video_codec: An FFmpeg encoder or ``"h264"``, ``"vp8"``, ``"vp9"``, ``"av1"``.
        audio_codec: An FFmpeg encoder or ``"aac"``, ``"opus"``.
        video_bitrate: Bits per second (default: x264's CRF 23; 2 Mb/s for VP8/VP9).
        video_options: Encoder options, e.g. ``{"preset": "ultrafast"}`` for x264.
        fps: The frame rate the encoder plans for (rate control, keyframe interval);
            timestamps still come from the frames.

    Returns:
        A `MediaSummary`.

    Raises:
        ParameterError: Neither stream, an unknown extension, or a codec the container
            cannot hold.
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
        MediaFileError: The file cannot be written, or the streams held no frame.
        TimestampError: An audio frame starts before the previous one ends.
        InvalidAudioError: NaN or infinity in float audio samples.

    Examples:
        >>> import lkframes as lk, numpy as np, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.mp4")
        >>> frames = [lk.VideoFrame(np.zeros((48, 64, 3), np.uint8), "rgb24",
        ...                         timestamp_us=i * 100_000) for i in range(10)]
        >>> summary = lk.run_sync(lk.to_media_file(
        ...     path, audio=lk.sine(440, 1.0, 48_000), video=lk.from_video_frames(frames)))
        >>> summary.video_frames, summary.audio.duration
        (10, 1.0)
    """
    return await write_media(
        path,
        audio=audio,
        video=video,
        overwrite=overwrite,
        video_codec=video_codec,
        audio_codec=audio_codec,
        video_bitrate=video_bitrate,
        video_options=video_options,
        fps=fps,
    )


async def write_media(
    path: str | os.PathLike[str],
    *,
    audio: Stream[AudioFrame] | None,
    video: Stream[VideoFrame] | None,
    overwrite: bool,
    video_codec: str | None,
    audio_codec: str | None,
    video_bitrate: int | None,
    video_options: dict[str, str] | None,
    fps: float,
    lockstep: float | None = LOCKSTEP_S,
    start_timeout: float | None = None,
) -> MediaSummary:
    """`to_media_file`, with the knobs live recording needs: no lockstep (live streams
    come in real time; FFmpeg flushes what it holds for interleaving after 10 s) and a
    ``start_timeout`` for a stream that may never come."""
    if audio is None and video is None:
        raise ParameterError("to_media_file needs audio=, video= or both")
    file = Path(path)
    codecs = codecs_for(file, video_codec, audio_codec)
    check_output(file, overwrite)
    destination = Destination(file, overwrite)
    encoder = await anyio.to_thread.run_sync(
        lambda: MediaEncoder(
            destination.write_to,
            codecs,
            video_bitrate=video_bitrate,
            video_options=video_options,
            fps_hint=fps,
        )
    )
    kinds = {k for k, s in (("audio", audio), ("video", video)) if s is not None}
    step = _Lockstep(kinds, lockstep, start_timeout)
    results: dict[str, Any] = {}
    done = False
    with held("file"):
        try:
            with one_error():
                async with anyio.create_task_group() as group:
                    if audio is not None:
                        sound = _write_audio(audio, encoder, step)
                        group.start_soon(_store, results, "audio", sound)
                    if video is not None:
                        picture = _write_video(video, encoder, step)
                        group.start_soon(_store, results, "video", picture)
            summary = _summary(file, results)
            done = True
        finally:
            await _finish(encoder, destination, done, sys.exception(), bool(results))
    return summary


async def _store(results: dict[str, Any], key: str, work: Any) -> None:
    results[key] = await work


async def _finish(
    encoder: MediaEncoder,
    destination: Destination,
    done: bool,
    failure: BaseException | None,
    started: bool,
) -> None:
    """Close the file (playable with what was written) and put it in place, shielded. A
    new file that holds no frame at all is removed."""
    with anyio.CancelScope(shield=True):
        try:
            await anyio.to_thread.run_sync(encoder.close)
        except Exception as exc:
            if failure is None:
                raise MediaFileError(f"closing the file failed: {exc}") from None
            failure.add_note(f"closing the file also failed: {exc}")
            done = False
        finally:
            await anyio.to_thread.run_sync(destination.commit if done else destination.discard)
            if not done and not encoder.wrote and not destination.replacing:
                destination.write_to.unlink(missing_ok=True)


def _summary(file: Path, results: dict[str, Any]) -> MediaSummary:
    audio: RunSummary | None = results.get("audio")
    frames, size, seconds, dropped = results.get("video", (0, None, 0.0, 0))
    if (audio is None or audio.frames == 0) and frames == 0:
        raise MediaFileError(f"nothing was written to {str(file)!r}: the streams held no frame")
    return MediaSummary(audio, frames, size, seconds, dropped)
