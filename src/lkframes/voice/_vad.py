"""`vad`: the speech probability (Silero's, or WebRTC's 1.0 or 0.0) for every model window
of an audio stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Literal, NamedTuple

import numpy as np

from .._core.checks import FormatGuard, finite_number
from .._core.errors import ParameterError
from .._core.frame import AudioFrame
from .._core.registry import stage_entry
from .._core.resources import held
from .._core.samples import resampled_length
from .._core.stage import Stage
from .._core.stream import Stream
from .._core.voice import ModelRate, VoiceActivity
from ._engine import Engine, engine_of
from ._segments import Segmenter

_INT16_SCALE = np.float32(1 / 32768)
"""int16 full scale is float 1.0 (lkframes' `to_dtype`; an exact power of two)."""

__all__ = (
    "Window",
    "model_windows",
    "segmenter",
    "segmenters",
    "stage_name",
    "vad",
)


class Window(NamedTuple):
    """One model window: where it starts at the model's rate and in the input's, and its
    probability; ``last`` for a partial window the end of the stream padded with zeros."""

    position: int
    pts: int
    duration: int
    probability: float
    last: bool
    sample_rate: int
    model_rate: int


async def model_windows(
    frames: AsyncIterator[AudioFrame],
    engine: Engine,
    name: str,
    on_frame: Callable[[AudioFrame], object] | None = None,
) -> AsyncGenerator[Window, None]:
    """Every model window of ``frames`` with its probability, as Silero's
    ``get_speech_timestamps`` runs the model (the last partial window padded with zeros).

    The frames go to the model mono, float32, at ``engine.rate`` of the input's rate,
    through lkframes' own `resample`; ``on_frame`` sees each input frame first.
    """
    guard = FormatGuard(name, None)
    first = await anext(frames, None)
    if first is None:
        return
    rate, model_rate = first.sample_rate, engine.rate(first.sample_rate)
    size = engine.window(model_rate)
    mono = first.format.with_(num_channels=1, dtype="float32")

    async def source() -> AsyncGenerator[AudioFrame, None]:
        """The input as mono float32 (channels averaged; int16 scaled as `to_dtype` does),
        one numpy step per frame instead of two stages."""
        frame: AudioFrame | None = first
        while frame is not None:
            fmt = guard(frame)
            if on_frame is not None:
                on_frame(frame)
            data = frame.data if fmt.num_channels == 1 else frame.data.mean(axis=1, keepdims=True)
            if fmt.dtype == "int16":
                data = np.multiply(data, _INT16_SCALE, dtype=np.float32)
            yield AudioFrame.of(np.asarray(data, np.float32), mono, frame.pts)
            frame = await anext(frames, None)

    model_input = Stream(source, name=name).resample(model_rate)

    def window(position: int, probability: float, end: int) -> Window:
        pts = resampled_length(position, model_rate, rate)
        duration = resampled_length(min(end, position + size), model_rate, rate) - pts
        last = end < position + size
        return Window(position, first.pts + pts, duration, probability, last, rate, model_rate)

    with held("vad.model"):
        model = engine.open(model_rate)
        try:
            pending = np.empty(0, np.float32)
            position = 0
            async with model_input.open() as blocks:
                async for block in blocks:
                    pending = np.concatenate((pending, block.data[:, 0]))
                    count = pending.shape[0] // size
                    for i in range(count):
                        p = model(pending[i * size : (i + 1) * size])
                        yield window(position, p, position + size)
                        position += size
                    pending = pending[count * size :]
            if pending.shape[0]:
                padded = np.zeros(size, np.float32)
                padded[: pending.shape[0]] = pending
                yield window(position, model(padded), position + pending.shape[0])
        finally:
            model.close()


def segmenter(
    size: int,
    model_rate: int,
    threshold: float,
    min_speech_ms: float,
    min_silence_ms: float,
    speech_pad_ms: float,
    max_ms: float | None = None,
) -> Segmenter:
    """A `Segmenter` with Silero's parameters for windows of ``size`` samples at
    ``model_rate``, checked (ParameterError naming the bad one)."""
    threshold = finite_number(threshold, "threshold")
    if not 0 < threshold < 1:
        raise ParameterError(f"threshold must be between 0 and 1 (got {threshold!r})")
    ms = {"min_speech_ms": min_speech_ms, "min_silence_ms": min_silence_ms}
    ms |= {"speech_pad_ms": speech_pad_ms}
    for what, value in ms.items():
        if finite_number(value, what) < 0:
            raise ParameterError(f"{what} must be 0 or more (got {value!r})")
    max_samples = None
    if max_ms is not None:
        max_samples = round(finite_number(max_ms, "max_ms") * model_rate / 1000)
        if max_samples < size:
            raise ParameterError(
                f"max_ms must be at least one model window, {size * 1000 // model_rate} ms "
                f"(got {max_ms!r})"
            )
    per_ms = model_rate / 1000
    return Segmenter(
        size,
        threshold=threshold,
        neg_threshold=max(threshold - 0.15, 0.01),
        min_speech=per_ms * min_speech_ms,
        min_silence=per_ms * min_silence_ms,
        speech_pad=per_ms * speech_pad_ms,
        max_samples=max_samples,
    )


def segmenters(
    engine: Engine,
    threshold: float,
    min_speech_ms: float,
    min_silence_ms: float,
    speech_pad_ms: float,
    max_ms: float | None = None,
) -> Callable[[int], Segmenter]:
    """A maker of `segmenter`s for ``engine`` at a model rate; the parameters are checked
    now (at ``engine.model_rate``: the windows are as long in ms at every rate)."""
    args = (threshold, min_speech_ms, min_silence_ms, speech_pad_ms, max_ms)
    segmenter(engine.window(engine.model_rate), engine.model_rate, *args)
    return lambda rate: segmenter(engine.window(rate), rate, *args)


def stage_name(stage: str, threshold: float, engine: Engine) -> str:
    """The stage's name: its model's settings."""
    if engine.model == "webrtc":
        return f"{stage}(model='webrtc', aggressiveness={engine.aggressiveness})"
    return f"{stage}(threshold={threshold:g})"


@stage_entry(records=True)
def vad(
    threshold: float = 0.5,
    *,
    min_silence_ms: float = 100,
    model: Literal["silero", "webrtc"] = "silero",
    model_rate: ModelRate = 16_000,
    aggressiveness: int | None = None,
) -> Stage[AudioFrame, VoiceActivity]:
    """Voice activity on the stream (Silero VAD, or WebRTC's): a `VoiceActivity` a window.

    The audio is mixed to mono (the channels averaged), made float32 and resampled to
    ``model_rate`` (lkframes' `resample`), cut into the model's windows (512 samples at
    16 kHz, 256 at 8 kHz; the last partial window padded with zeros, as Silero's
    ``get_speech_timestamps`` does) and run through the Silero VAD v6 ONNX model that
    livekit-plugins-silero ships, with onnxruntime on one CPU thread. Probabilities equal
    that plugin's on the same audio (tests/voice/test_vad_reference.py). ``speaking``
    follows Silero's hysteresis, live: on at the first window at ``threshold``, off once
    ``min_silence_ms`` stayed below ``threshold - 0.15`` (`utterances` adds Silero's
    padding and minimum length).

    With ``model="webrtc"`` WebRTC's VAD (webrtcvad-wheels) decides instead, per 30 ms
    window at the input's own rate when it is 8, 16, 32 or 48 kHz (else at
    ``model_rate``), on the mono samples made int16; its decisions equal
    ``webrtcvad.Vad(aggressiveness).is_speech`` on those windows. It gives no
    probability: ``probability`` is 1.0 (speech) or 0.0, so any ``threshold`` reads it
    the same, and the same hysteresis runs over it.

    Args:
        threshold: Probability from which a window is speech (Silero's 0.5).
        min_silence_ms: Quiet that ends speech (Silero's 100 ms).
        model: ``"silero"`` (the default) or ``"webrtc"``, the light option: no
            onnxruntime, about a quarter of Silero's time, less sure in noise.
        model_rate: 16000 (the default) or 8000: the rate Silero runs at, and WebRTC's
            for an input at another rate than 8, 16, 32 or 48 kHz.
        aggressiveness: WebRTC's mode, 0 to 3: how readily it calls audio non-speech
            (None: 3, the most); only with ``model="webrtc"``.

    Returns:
        The stage: audio frames in, `VoiceActivity` records out.

    Raises:
        ParameterError: ``threshold`` not strictly between 0 and 1, a negative
            ``min_silence_ms``, a ``model_rate`` other than 8000 or 16000, an unknown
            ``model``, or an ``aggressiveness`` not 0 to 3 or without ``model="webrtc"``.
        MissingExtraError: (while running) onnxruntime is not installed:
            ``pip install 'lkframes[vad]'``; webrtcvad (``model="webrtc"``):
            ``pip install 'lkframes[vad-webrtc]'``.
        FormatError: (while running) the input format changes mid-stream.

    Examples:
        >>> import lkframes as lk
        >>> windows = lk.run_sync(lk.silence(0.1, 48_000).vad().collect())
        >>> [(w.pts, w.duration, w.probability < 0.1, w.speaking) for w in windows]
        [(0, 1536, True, False), (1536, 1536, True, False), (3072, 1536, True, False), (4608, 192, True, False)]
        >>> windows = lk.run_sync(lk.silence(0.1, 48_000).vad(model="webrtc").collect())
        >>> [(w.pts, w.duration, w.probability, w.speaking) for w in windows]
        [(0, 1440, 0.0, False), (1440, 1440, 0.0, False), (2880, 1440, 0.0, False), (4320, 480, 0.0, False)]
    """  # noqa: E501
    engine = engine_of(model, model_rate, aggressiveness)
    hysteresis = segmenters(engine, threshold, 0, min_silence_ms, 0)
    name = stage_name("vad", threshold, engine)

    async def transform(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[VoiceActivity, None]:
        segments: Segmenter | None = None
        async with aclosing(model_windows(frames, engine, name)) as windows:
            async for w in windows:
                if segments is None:
                    segments = hysteresis(w.model_rate)
                segments.push(w.probability)
                speaking = segments.speaking
                yield VoiceActivity(w.pts, w.duration, w.probability, speaking, w.sample_rate)

    return Stage(name, transform, output_format=None)
