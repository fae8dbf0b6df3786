"""`vad`: Silero's speech probability for every model window of an audio stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import NamedTuple, cast

import numpy as np

from .._core.checks import FormatGuard, check_choice, finite_number
from .._core.errors import ParameterError
from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.registry import stage_entry
from .._core.resources import held
from .._core.samples import resampled_length
from .._core.stage import Stage
from .._core.stream import Stream
from .._core.voice import ModelRate, VoiceActivity
from ._model import MODEL_RATES, SileroModel, load_session, window_samples
from ._segments import Segmenter

_INT16_SCALE = np.float32(1 / 32768)
"""int16 full scale is float 1.0 (lkframes' `to_dtype`; an exact power of two)."""

__all__ = (
    "Window",
    "model_rate_of",
    "model_windows",
    "segmenter",
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


async def model_windows(
    frames: AsyncIterator[AudioFrame],
    model_rate: int,
    name: str,
    on_frame: Callable[[AudioFrame], object] | None = None,
) -> AsyncGenerator[Window, None]:
    """Every model window of ``frames`` with its probability, as Silero's
    ``get_speech_timestamps`` runs the model (the last partial window padded with zeros).

    The frames go to the model mono, float32, at ``model_rate``, through lkframes' own
    `resample`; ``on_frame`` sees each input frame first.
    """
    size = window_samples(model_rate)
    guard = FormatGuard(name, None)
    first: AudioFrame | None = None

    async def source() -> AsyncGenerator[AudioFrame, None]:
        """The input as mono float32 (channels averaged; int16 scaled as `to_dtype` does),
        one numpy step per frame instead of two stages."""
        nonlocal first
        mono: AudioFormat | None = None
        async for frame in frames:
            fmt = guard(frame)
            if first is None:
                first = frame
                mono = fmt.with_(num_channels=1, dtype="float32")
            if on_frame is not None:
                on_frame(frame)
            data = frame.data if fmt.num_channels == 1 else frame.data.mean(axis=1, keepdims=True)
            if fmt.dtype == "int16":
                data = np.multiply(data, _INT16_SCALE, dtype=np.float32)
            yield AudioFrame.of(np.asarray(data, np.float32), mono, frame.pts)  # type: ignore[arg-type]

    model_input = Stream(source, name=name).resample(model_rate)

    def window(position: int, probability: float, end: int) -> Window:
        assert first is not None
        rate = first.sample_rate
        pts = resampled_length(position, model_rate, rate)
        duration = resampled_length(min(end, position + size), model_rate, rate) - pts
        last = end < position + size
        return Window(position, first.pts + pts, duration, probability, last, rate)

    with held("vad.model"):
        model = SileroModel(load_session(), model_rate)
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
    model_rate: int,
    threshold: float,
    min_speech_ms: float,
    min_silence_ms: float,
    speech_pad_ms: float,
    max_ms: float | None = None,
) -> Segmenter:
    """A `Segmenter` with Silero's parameters, checked (ParameterError naming the bad one)."""
    threshold = finite_number(threshold, "threshold")
    if not 0 < threshold < 1:
        raise ParameterError(f"threshold must be between 0 and 1 (got {threshold!r})")
    ms = {"min_speech_ms": min_speech_ms, "min_silence_ms": min_silence_ms}
    ms |= {"speech_pad_ms": speech_pad_ms}
    for what, value in ms.items():
        if finite_number(value, what) < 0:
            raise ParameterError(f"{what} must be 0 or more (got {value!r})")
    size = window_samples(model_rate)
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


def model_rate_of(model_rate: object) -> int:
    """``model_rate`` if Silero VAD runs at it, else `ParameterError`."""
    return check_choice(cast(int, model_rate), MODEL_RATES, "model_rate")


@stage_entry(records=True)
def vad(
    threshold: float = 0.5,
    *,
    min_silence_ms: float = 100,
    model_rate: ModelRate = 16_000,
) -> Stage[AudioFrame, VoiceActivity]:
    """Silero VAD on the stream: one `VoiceActivity` per model window.

    The audio is mixed to mono (the channels averaged), made float32 and resampled to
    ``model_rate`` (lkframes' `resample`), cut into the model's windows (512 samples at 16 kHz, 256 at 8 kHz; the
    last partial window padded with zeros, as Silero's ``get_speech_timestamps`` does) and
    run through the Silero VAD v6 ONNX model that livekit-plugins-silero ships, with
    onnxruntime on one CPU thread. Probabilities equal that plugin's on the same audio
    (tests/voice/test_vad_reference.py). ``speaking`` follows Silero's hysteresis, live:
    on at the first window at ``threshold``, off once ``min_silence_ms`` stayed below
    ``threshold - 0.15`` (`utterances` adds Silero's padding and minimum length).

    Args:
        threshold: Probability from which a window is speech (Silero's 0.5).
        min_silence_ms: Quiet that ends speech (Silero's 100 ms).
        model_rate: 16000 (the default) or 8000: the rate the model runs at.

    Returns:
        The stage: audio frames in, `VoiceActivity` records out.

    Raises:
        ParameterError: ``threshold`` not strictly between 0 and 1, a negative
            ``min_silence_ms``, or a ``model_rate`` other than 8000 or 16000.
        MissingExtraError: (while running) onnxruntime is not installed:
            ``pip install 'lkframes[vad]'``.
        FormatError: (while running) the input format changes mid-stream.

    Examples:
        >>> import lkframes as lk
        >>> windows = lk.run_sync(lk.silence(0.1, 48_000).vad().collect())
        >>> [(w.pts, w.duration, w.probability < 0.1, w.speaking) for w in windows]
        [(0, 1536, True, False), (1536, 1536, True, False), (3072, 1536, True, False), (4608, 192, True, False)]
    """  # noqa: E501
    rate = model_rate_of(model_rate)
    hysteresis = _checked_hysteresis(rate, threshold, min_silence_ms)
    name = f"vad(threshold={threshold:g})"

    async def transform(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[VoiceActivity, None]:
        segments = hysteresis()
        async with aclosing(model_windows(frames, rate, name)) as windows:
            async for w in windows:
                segments.push(w.probability)
                speaking = segments.speaking
                yield VoiceActivity(w.pts, w.duration, w.probability, speaking, w.sample_rate)

    return Stage(name, transform, output_format=None)


def _checked_hysteresis(
    rate: int, threshold: float, min_silence_ms: float
) -> Callable[[], Segmenter]:
    segmenter(rate, threshold, 0, min_silence_ms, 0)  # refuse bad parameters now
    return lambda: segmenter(rate, threshold, 0, min_silence_ms, 0)
