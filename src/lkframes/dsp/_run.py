"""Running LiveKit's audio processing module over a stream: 10 ms pieces in, the same out."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.buffer import FrameBuffer
from .._core.checks import FormatGuard
from .._core.errors import FormatError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.samples import float_to_int16, int16_to_float32
from .._core.stage import Stage
from .._core.stream import Stream, consume

__all__ = ("SUPPORTED_RATES", "Features", "apm_stage", "check_rate", "check_reference")

SUPPORTED_RATES: tuple[int, ...] = (8_000, 16_000, 32_000, 48_000)
"""Sample rates the stages take: WebRTC's native APM rates (``AudioProcessing::NativeRate``).

LiveKit's APM accepts some other rates too and resamples them internally (WebRTC's own
resampler, undocumented in the LiveKit SDK, with a high-pass filter that behaves
differently there); these stages refuse them instead, with a hint to `resample` first.
"""

_INT16 = np.dtype(np.int16)


@dataclass(frozen=True, slots=True)
class Features:
    """Which of the APM's features run."""

    noise_suppression: bool
    echo_cancellation: bool
    auto_gain_control: bool
    high_pass_filter: bool


def _rate_hint(rate: int) -> str:
    target = next((r for r in SUPPORTED_RATES if r >= rate), SUPPORTED_RATES[-1])
    return f"resample to {target} Hz first"


def check_rate(stage: str, fmt: AudioFormat) -> None:
    if fmt.sample_rate not in SUPPORTED_RATES:
        raise FormatError(
            f"{stage}: LiveKit's audio processing module does not take this sample rate",
            ", ".join(f"{r}" for r in SUPPORTED_RATES[:-1]) + f" or {SUPPORTED_RATES[-1]} Hz",
            f"{fmt.sample_rate} Hz",
            hint=_rate_hint(fmt.sample_rate),
        )


def _layout(fmt: AudioFormat) -> str:
    return f"{fmt.sample_rate} Hz, {fmt.num_channels} ch"


def check_reference(stage: str, near: AudioFormat, far: AudioFormat) -> None:
    if (far.sample_rate, far.num_channels) != (near.sample_rate, near.num_channels):
        raise FormatError(
            f"{stage}: the reference must have the stream's sample rate and channel count",
            _layout(near),
            _layout(far),
            hint="resample/remix the reference to match",
        )


def apm_stage(
    name: str, features: Features, reference: Stream[AudioFrame] | None, delay_ms: int
) -> Stage[AudioFrame, AudioFrame]:
    """The stage behind `process` and its one-feature forms."""

    def output_format(fmt: AudioFormat) -> AudioFormat:
        check_rate(name, fmt)
        if reference is not None and reference.format is not None:
            check_reference(name, fmt, reference.format)
        return fmt

    if reference is not None and reference.format is not None:
        check_rate(f"{name} reference", reference.format)

    def transform(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[AudioFrame, None]:
        return _run(frames, name, features, reference, delay_ms)

    return Stage(name, transform, output_format=output_format)


async def _run(
    frames: AsyncIterator[AudioFrame],
    name: str,
    features: Features,
    reference: Stream[AudioFrame] | None,
    delay_ms: int,
) -> AsyncGenerator[AudioFrame, None]:
    guard = FormatGuard(name, None)
    fmt: AudioFormat | None = None
    buf: FrameBuffer | None = None
    apm: _Processor | None = None
    far: _ReferenceFeed | None = None
    pts = 0
    async with _open_reference(reference) as far_frames:
        async for frame in frames:
            if fmt is None:
                fmt = guard(frame)
                check_rate(name, fmt)
                buf = FrameBuffer(fmt.num_channels, "int16")
                apm = _Processor(features, fmt, delay_ms)
                if far_frames is not None:
                    far = _ReferenceFeed(far_frames, name, reference, fmt)
                pts = frame.pts
            else:
                guard(frame)
            assert buf is not None
            assert apm is not None
            data = frame.data
            buf.push(data if data.dtype == _INT16 else float_to_int16(data))
            ready = buf.available - buf.available % apm.samples_10ms
            if not ready:
                continue
            # A fresh, writable int16 copy: the APM writes its result into it.
            work = np.array(buf.pop(ready), dtype=np.int16, order="C", copy=True)
            ref = await far.take(ready) if far is not None else None
            _process(apm, work, ref, name, pts)
            yield _output(work, fmt, pts)
            pts += ready
        if fmt is None or buf is None or apm is None or not buf.available:
            return
        # The last partial 10 ms: pad with silence for the APM, trim back after.
        rest = buf.pop_all()
        work = np.zeros((apm.samples_10ms, fmt.num_channels), np.int16)
        work[: rest.shape[0]] = rest
        ref = await far.take(apm.samples_10ms) if far is not None else None
        _process(apm, work, ref, name, pts)
        tail = work[: rest.shape[0]]
    yield _output(tail, fmt, pts)


def _output(work: NDArray[np.int16], fmt: AudioFormat, pts: int) -> AudioFrame:
    data: NDArray[Any] = work if fmt.dtype == "int16" else int16_to_float32(work)
    return AudioFrame.of(data, fmt, pts)


def _process(
    apm: _Processor, work: NDArray[np.int16], ref: NDArray[np.int16] | None, name: str, pts: int
) -> None:
    try:
        apm.run(work, ref)
    except Exception as exc:
        exc.add_note(f"raised in lkframes stage {name} at pts={pts}")
        raise


@contextlib.asynccontextmanager
async def _open_reference(
    reference: Stream[AudioFrame] | None,
) -> AsyncGenerator[AsyncIterator[AudioFrame] | None, None]:
    """`consume` for an optional reference stream: None when there is none."""
    if reference is None:
        yield None
        return
    async with consume(reference) as frames:
        yield frames


class _ReferenceFeed:
    """The far-end stream, handed out in pieces that match the near-end's, as fresh copies."""

    __slots__ = ("_buf", "_ended", "_frames", "_guard", "_near", "_stage")

    def __init__(
        self,
        frames: AsyncIterator[AudioFrame],
        stage: str,
        reference: Stream[AudioFrame] | None,
        near: AudioFormat,
    ) -> None:
        self._frames = frames
        self._stage = stage
        self._near = near
        declared = reference.format if reference is not None else None
        self._guard = FormatGuard(f"{stage} reference", declared)
        self._buf = FrameBuffer(near.num_channels, "int16")
        self._ended = False

    async def take(self, samples: int) -> NDArray[np.int16]:
        """The next ``samples`` of the reference, zero-padded once it has ended."""
        buf = self._buf
        while not self._ended and buf.available < samples:
            try:
                frame = await anext(self._frames)
            except StopAsyncIteration:
                self._ended = True
                break
            fmt = self._guard(frame)
            check_reference(self._stage, self._near, fmt)
            data = frame.data
            buf.push(data if data.dtype == _INT16 else float_to_int16(data))
        out = np.zeros((samples, self._near.num_channels), np.int16)
        got = min(samples, buf.available)
        piece = buf.pop(got) if got else None
        if piece is not None:
            out[:got] = piece
        return out


class _Processor:
    """One ``rtc.AudioProcessingModule``, fed whole 10 ms pieces of writable int16 arrays."""

    __slots__ = ("_aliased", "_apm", "_channels", "_frame", "_rate", "_step", "samples_10ms")

    def __init__(self, features: Features, fmt: AudioFormat, delay_ms: int) -> None:
        from livekit import rtc

        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=features.echo_cancellation,
            noise_suppression=features.noise_suppression,
            high_pass_filter=features.high_pass_filter,
            auto_gain_control=features.auto_gain_control,
        )
        if features.echo_cancellation:
            self._apm.set_stream_delay_ms(delay_ms)
        self._frame = rtc.AudioFrame
        self._rate = fmt.sample_rate
        self._channels = fmt.num_channels
        self.samples_10ms = fmt.sample_rate // 100
        self._step = self.samples_10ms * fmt.num_channels * _INT16.itemsize
        # Whether the rtc frame wraps our memory (checked on the first call): LiveKit
        # processes in place, so the result is already in ``work``; if a LiveKit version
        # copied the buffer instead, the result is copied back from the rtc frame.
        self._aliased: bool | None = None

    def run(self, work: NDArray[np.int16], reference: NDArray[np.int16] | None) -> None:
        """Process ``work`` (C-contiguous int16, whole 10 ms) in place, 10 ms at a time.

        ``reference``, of the same shape, goes to ``process_reverse_stream`` first, piece
        by piece in lockstep (the APM also writes into it).
        """
        near = work.reshape(-1).view(np.uint8)
        make = self._frame
        process = self._apm.process_stream
        rate, channels, samples, step = self._rate, self._channels, self.samples_10ms, self._step
        if self._aliased is None:
            self._aliased = self._first_call(near[:step], reference)
            start = step
        else:
            start = 0
        if not self._aliased:
            self._run_copying(near, reference, start)
            return
        # ``.data`` of a numpy slice is a memoryview owned by exactly that slice, which
        # rtc.AudioFrame wraps without copying (a slice of one big memoryview is copied).
        if reference is None:
            for i in range(start, near.size, step):
                process(make(near[i : i + step].data, rate, channels, samples))
            return
        far = reference.reshape(-1).view(np.uint8)
        render = self._apm.process_reverse_stream
        for i in range(start, near.size, step):
            render(make(far[i : i + step].data, rate, channels, samples))
            process(make(near[i : i + step].data, rate, channels, samples))

    def _first_call(self, piece: NDArray[np.uint8], reference: NDArray[np.int16] | None) -> bool:
        """Process the first 10 ms and tell whether the rtc frame wrapped our memory."""
        if reference is not None:
            far = reference.reshape(-1).view(np.uint8)[: self._step]
            self._apm.process_reverse_stream(
                self._frame(far.data, self._rate, self._channels, self.samples_10ms)
            )
        frame = self._frame(piece.data, self._rate, self._channels, self.samples_10ms)
        self._apm.process_stream(frame)
        if np.shares_memory(np.frombuffer(frame.data, np.int16), piece):
            return True
        piece[:] = np.frombuffer(frame.data, np.uint8, count=self._step)
        return False

    def _run_copying(
        self, near: NDArray[np.uint8], reference: NDArray[np.int16] | None, start: int
    ) -> None:
        """The slow path, for a LiveKit that copies the buffer: copy each result back."""
        far = reference.reshape(-1).view(np.uint8) if reference is not None else None
        step = self._step
        for i in range(start, near.size, step):
            if far is not None:
                self._apm.process_reverse_stream(
                    self._frame(
                        far[i : i + step].data, self._rate, self._channels, self.samples_10ms
                    )
                )
            frame = self._frame(
                near[i : i + step].data, self._rate, self._channels, self.samples_10ms
            )
            self._apm.process_stream(frame)
            near[i : i + step] = np.frombuffer(frame.data, np.uint8, count=step)
