"""`from_microphone`: an input device as a live source of frames."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any

import anyio
import numpy as np

from .._core.checks import finite_number
from .._core.errors import DeviceError, ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.resources import acquire, release
from .._core.stream import Stream
from ._portaudio import Waker, device_error, find_device, sounddevice

__all__ = ("from_microphone",)

log = logging.getLogger("lkframes")


class _Capture:
    """What PortAudio's audio thread hands over: blocks of samples, and how it ended."""

    def __init__(self, waker: Waker) -> None:
        self.blocks: deque[bytes] = deque()
        self.overflows = 0
        self.stopped = False
        self._waker = waker

    def callback(self, data: Any, frames: int, time: Any, status: Any) -> None:
        # PortAudio's thread: copy, hand over, never block.
        self.blocks.append(bytes(data))
        if status.input_overflow:
            self.overflows += 1
        self._waker.set()

    def finished(self) -> None:
        self.stopped = True
        self._waker.set()


def _open(device: int | None, fmt: AudioFormat, block: int, capture: _Capture) -> Any:
    sd = sounddevice()
    try:
        stream = sd.RawInputStream(
            samplerate=fmt.sample_rate,
            channels=fmt.num_channels,
            dtype="int16",
            blocksize=block,
            device=device,
            latency="low",
            callback=capture.callback,
            finished_callback=capture.finished,
        )
        stream.start()
    except sd.PortAudioError as exc:
        raise device_error(exc, _name(device, "input")) from exc
    return stream


def _name(device: int | None, kind: str) -> str:
    return f"the default {kind} device" if device is None else f"{kind} device {device}"


async def _frames(
    device: int | str | None, fmt: AudioFormat, block: int, stall_timeout: float
) -> AsyncGenerator[AudioFrame, None]:
    index = find_device(device, "input")
    waker = Waker()
    capture = _Capture(waker)
    with anyio.CancelScope(shield=True):  # an opened device is always closed again
        stream = await anyio.to_thread.run_sync(_open, index, fmt, block, capture)
    acquire("device.input")
    pts = 0
    reported = 0
    try:
        while True:
            while capture.blocks:
                data = np.frombuffer(capture.blocks.popleft(), np.int16)
                frame = AudioFrame.of(data.reshape(-1, fmt.num_channels), fmt, pts)
                pts += frame.samples_per_channel
                yield frame
            if capture.overflows != reported:
                log.warning("microphone: audio lost, the pipeline fell behind the device")
                reported = capture.overflows
            if capture.stopped:
                raise DeviceError(f"{_name(index, 'input')} stopped (unplugged?)")
            with anyio.move_on_after(stall_timeout) as waited:
                await waker.wait()
            if waited.cancelled_caught:
                raise DeviceError(
                    f"no audio from {_name(index, 'input')} for {stall_timeout:g} s "
                    "(unplugged, or its sound server went away?)"
                )
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_close, stream)
        release("device.input")


def _close(stream: Any) -> None:
    try:
        stream.abort()  # stop at once: nothing waits for the last block
    except Exception:
        pass
    finally:
        stream.close(ignore_errors=True)


def from_microphone(
    device: int | str | None = None,
    *,
    sample_rate: int = 48_000,
    num_channels: int = 1,
    block_ms: float = 10,
    stall_timeout: float = 2.0,
) -> Stream[AudioFrame]:
    """Frames from a microphone (an input device), live, until the stream is closed.

    Opens the device through PortAudio (python-sounddevice; ``pip install
    'lkframes[devices]'``) when the stream is iterated and closes it when the iteration
    ends. Each block PortAudio delivers becomes one int16 frame with continuous ``pts``.

    Args:
        device: A PortAudio device index, part of its name, or None for the system
            default (on Linux with PulseAudio or PipeWire, the default source).
        sample_rate: The rate to capture at (the device or its sound server converts).
        num_channels: Channels to capture.
        block_ms: Milliseconds per frame (and per PortAudio block).
        stall_timeout: Raise `DeviceError` when no audio arrives for this many seconds
            (a device that vanished delivers nothing, without an error).

    Returns:
        A live int16 stream of known format.

    Raises:
        ParameterError: A bad rate, channel count, ``block_ms`` or ``stall_timeout``.
        MissingExtraError: (while running) sounddevice is not installed.
        DeviceError: (while running) PortAudio is missing, no device matches
            ``device`` (the message lists them), it is busy or refuses the format, or
            it stopped delivering.

    Examples:
        Building the stream opens nothing; its format is known at once:

        >>> import lkframes as lk
        >>> lk.from_microphone(sample_rate=16_000).format
        AudioFormat(sample_rate=16000, num_channels=1, dtype='int16')
    """
    fmt = AudioFormat(sample_rate, num_channels, "int16")
    block_ms = finite_number(block_ms, "block_ms")
    block = round(block_ms * sample_rate / 1000)
    if not 1 <= block <= sample_rate:
        raise ParameterError(f"block_ms must give 1 sample to 1 s per block (got {block_ms!r})")
    stall = finite_number(stall_timeout, "stall_timeout")
    if stall <= 0:
        raise ParameterError(f"stall_timeout must be > 0 seconds (got {stall_timeout!r})")
    return Stream(
        lambda: _frames(device, fmt, block, stall),
        format=fmt,
        name=f"from_microphone({device!r})",
        live=True,
    )
