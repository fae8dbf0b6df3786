"""`to_speaker` and `play`: a stream played on an output device, paced by the device."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import numpy as np

from .._core.checks import finite_number
from .._core.errors import FormatError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.registry import method_entry
from .._core.resources import acquire, release
from .._core.run import RunSummary
from .._core.stream import Stream
from .._core.sync import run_sync
from ..sources import from_array, from_frames
from ._portaudio import device_error, find_device, sounddevice

__all__ = ("play", "to_speaker")

log = logging.getLogger("lkframes")


class _Output:
    """An open PortAudio output stream, written from worker threads."""

    def __init__(self, device: int | None, fmt: AudioFormat, latency: float) -> None:
        sd = sounddevice()
        self.format = fmt
        self.underflows = 0
        self._started = False
        self._what = "the default output device" if device is None else f"output device {device}"
        try:
            self._stream = sd.RawOutputStream(
                samplerate=fmt.sample_rate,
                channels=fmt.num_channels,
                dtype=fmt.dtype,
                device=device,
                latency=latency,
            )
            self._stream.start()
        except sd.PortAudioError as exc:
            raise device_error(exc, self._what) from exc

    def write(self, data: np.ndarray[Any, Any]) -> None:
        sd = sounddevice()
        try:
            if self._stream.write(np.ascontiguousarray(data)) and self._started:
                self.underflows += 1  # not the first write: the stream starts out empty
            self._started = True
        except sd.PortAudioError as exc:
            raise device_error(exc, self._what) from exc

    def finish(self, played: bool) -> None:
        """Let what was written play out (``played``), or drop it at once."""
        try:
            if played:
                # Closing drops what the sound server still holds (measured on PulseAudio:
                # the last 50 ms at latency=0.05): push it through with silence first.
                fmt = self.format
                tail = round((self._stream.latency + 0.02) * fmt.sample_rate)
                self._stream.write(np.zeros((tail, fmt.num_channels), np.dtype(fmt.dtype)))
                self._stream.stop()
            else:
                self._stream.abort()
        except Exception:
            pass
        finally:
            self._stream.close(ignore_errors=True)


async def _open_output(index: int | None, fmt: AudioFormat, latency: float) -> _Output:
    with anyio.CancelScope(shield=True):  # an opened device is always closed again
        output = await anyio.to_thread.run_sync(_Output, index, fmt, latency)
    acquire("device.output")
    return output


@method_entry
async def to_speaker(
    stream: Stream[AudioFrame], device: int | str | None = None, *, latency: float = 0.05
) -> RunSummary:
    """Play ``stream`` on a speaker (an output device), in real time.

    The device paces the pipeline: each frame is handed to PortAudio (python-sounddevice;
    ``pip install 'lkframes[devices]'``) when it has room, so a file plays at its speed
    and a live stream with the device's small buffer of latency. Returns once the last
    frame has played; cancelling stops the sound at once.

    Args:
        stream: int16 or float32 audio; its rate and channels are the device's (the sound
            server converts; resample first for a device that refuses the rate).
        device: A PortAudio device index, part of its name, or None for the default.
        latency: Seconds of audio handed to the device ahead of time: less is snappier,
            but a pipeline that stalls longer than that leaves a gap (counted, and
            logged as a warning at the end).

    Returns:
        A `RunSummary` of what was played.

    Raises:
        ParameterError: ``latency`` is not a number of seconds > 0.
        MissingExtraError: sounddevice is not installed.
        DeviceError: PortAudio is missing, no device matches ``device``, it is busy,
            refuses the format, or fails while playing.
        FormatError: The format changes mid-stream.

    Examples:
        Playing takes a device, so this only shows the call (see ``lk.play``):

        >>> import lkframes as lk
        >>> playing = lk.sine(440, 0.5).to_speaker  # await playing() in a coroutine
    """
    latency = finite_number(latency, "latency")
    if latency <= 0:
        raise ParameterError(f"latency must be > 0 seconds (got {latency!r})")
    index = find_device(device, "output")
    output: _Output | None = None
    count = samples = 0
    played = False
    try:
        async with stream.open() as frames:
            async for frame in frames:
                if output is None:
                    output = await _open_output(index, frame.format, latency)
                if frame.format != output.format:
                    raise FormatError(
                        "to_speaker: the format changed mid-stream", output.format, frame.format
                    )
                await anyio.to_thread.run_sync(output.write, frame.data)
                count += 1
                samples += frame.samples_per_channel
        played = True
    finally:
        if output is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(output.finish, played)
            release("device.output")
            if output.underflows:
                log.warning(
                    "to_speaker: the device ran dry %d times (the stream came slower than "
                    "real time)",
                    output.underflows,
                )
    fmt = output.format if output is not None else stream.format
    return RunSummary(count, samples, fmt)


def play(
    audio: Stream[AudioFrame] | AudioFrame | list[AudioFrame] | np.ndarray[Any, Any],
    sample_rate: int | None = None,
    *,
    device: int | str | None = None,
) -> RunSummary:
    """Play audio on the speaker and return once it has played (sync: scripts, notebooks).

    Args:
        audio: A stream, a frame, a list of frames (e.g. what ``collect()`` returned) or
            a numpy array of samples (then ``sample_rate`` is needed).
        sample_rate: The rate of a numpy array.
        device: A PortAudio device index, part of its name, or None for the default.

    Returns:
        A `RunSummary` of what was played.

    Raises:
        ParameterError: A numpy array without ``sample_rate``, or something else that
            is not audio.
        DeviceError: See `to_speaker`.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> try:
        ...     lk.play(np.zeros(480, np.int16))
        ... except lk.ParameterError as exc:
        ...     print(exc)
        play needs sample_rate= for a numpy array
    """
    stream: Stream[AudioFrame]
    if isinstance(audio, Stream):
        stream = audio
    elif isinstance(audio, AudioFrame):
        stream = from_frames([audio])
    elif isinstance(audio, np.ndarray):
        if sample_rate is None:
            raise ParameterError("play needs sample_rate= for a numpy array")
        stream = from_array(audio, sample_rate)
    elif isinstance(audio, list) and all(isinstance(f, AudioFrame) for f in audio):
        stream = from_frames(audio)
    else:
        raise ParameterError(f"play takes a stream, frames or a numpy array (got {audio!r:.60})")
    return run_sync(to_speaker(stream, device))
