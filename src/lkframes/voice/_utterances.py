"""`utterances` and `speech`: the audio of the speech segments (Silero's rules over Silero's
or WebRTC's VAD), as records or frames."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .._core.format import AudioFormat
from .._core.frame import AudioFrame
from .._core.registry import stage_entry
from .._core.samples import resampled_length
from .._core.stage import Stage
from .._core.voice import ModelRate, Utterance
from ._engine import Engine, engine_of
from ._segments import Segment, Segmenter
from ._vad import Window, model_windows, segmenters, stage_name

__all__ = ("speech", "utterances")


class _Recording:
    """The input frames still needed, by sample offset from the first frame's ``pts``."""

    def __init__(self) -> None:
        self.blocks: list[tuple[int, NDArray[Any]]] = []
        self.length = 0
        self.first: AudioFrame | None = None

    def add(self, frame: AudioFrame) -> None:
        self.first = self.first or frame
        self.blocks.append((self.length, frame.data))
        self.length += frame.samples_per_channel

    def drop_before(self, offset: int) -> None:
        keep = 0
        while keep < len(self.blocks) - 1 and self.blocks[keep + 1][0] <= offset:
            keep += 1
        del self.blocks[:keep]

    def audio(self, start: int, end: int) -> NDArray[Any]:
        end = min(end, self.length)
        parts = [
            data[max(0, start - at) : end - at]
            for at, data in self.blocks
            if at < end and at + data.shape[0] > start
        ]
        return np.concatenate(parts) if len(parts) != 1 else parts[0].copy()


async def _utterances(
    frames: AsyncIterator[AudioFrame],
    engine: Engine,
    make: Callable[[int], Segmenter],
    name: str,
) -> AsyncGenerator[Utterance, None]:
    """The utterances of ``frames``, each as soon as the segmenter is sure of it."""
    recording = _Recording()
    segments: Segmenter | None = None
    rate, margin = 0, 0.0  # the model's rate and window, known from the first window

    def utterance(segment: Segment) -> Utterance:
        first = recording.first
        assert first is not None
        start = resampled_length(segment.start, rate, first.sample_rate)
        end = resampled_length(segment.end, rate, first.sample_rate)
        audio = recording.audio(start, end)
        pts = first.pts + start
        return Utterance(pts, pts + audio.shape[0], audio, first.format, segment.continues)

    last: Window | None = None
    async with aclosing(model_windows(frames, engine, name, recording.add)) as windows:
        async for window in windows:
            if segments is None:
                rate, segments = window.model_rate, make(window.model_rate)
                margin = engine.window(rate) + segments.pad
            if window.last:
                last = window
                break
            for segment in segments.push(window.probability):
                yield utterance(segment)
            needed = int(max(0, segments.needed_from - margin))
            in_rate = window.sample_rate
            recording.drop_before(resampled_length(needed, rate, in_rate))
    if recording.first is None or segments is None:
        return
    length = resampled_length(recording.length, recording.first.sample_rate, rate)
    for segment in segments.finish(length, None if last is None else last.probability):
        if segment.end > segment.start:
            yield utterance(segment)


@stage_entry(records=True)
def utterances(
    threshold: float = 0.5,
    *,
    min_speech_ms: float = 250,
    min_silence_ms: float = 100,
    speech_pad_ms: float = 30,
    max_ms: float | None = None,
    model: Literal["silero", "webrtc"] = "silero",
    model_rate: ModelRate = 16_000,
    aggressiveness: int | None = None,
) -> Stage[AudioFrame, Utterance]:
    """The speech segments of the stream, each as an `Utterance` with its audio.

    The segments are those of Silero's ``get_speech_timestamps`` with the same parameters
    (the model's probabilities from `vad`): speech starts at the first window at
    ``threshold`` and ends where the quiet (below ``threshold - 0.15``) began once it has
    lasted ``min_silence_ms``; segments of ``min_speech_ms`` or less are dropped; each is
    padded by ``speech_pad_ms`` on both sides (two closer than twice that share the gap).
    Each is given as soon as it is certain, so the stage works live (from a track: an
    utterance arrives ``min_silence_ms`` plus a window after its speech ended) as well
    as on files. The audio is the input's own samples, in its format, not the model's.
    Times count the input's samples from its first frame's ``pts``: a gap in the input's
    ``pts`` (a `filter` before) is not heard as silence, so times after it run early.
    With ``model="webrtc"`` the same rules run over WebRTC's decisions per 30 ms window
    (probability 1.0 or 0.0; see `vad`).

    Args:
        threshold: Probability from which a window is speech (Silero's 0.5).
        min_speech_ms: Speech this long or shorter is dropped (Silero's 250).
        min_silence_ms: Quiet that ends an utterance (Silero's 100).
        speech_pad_ms: Audio kept before and after the speech (Silero's 30).
        max_ms: The longest utterance: longer speech comes in consecutive pieces of
            exactly ``max_ms`` (at model windows' precision), given while it goes on,
            with ``continues`` set on all but the last; None: no limit.
        model: ``"silero"`` (the default) or ``"webrtc"`` (see `vad`).
        model_rate: 16000 (the default) or 8000: the rate Silero runs at (WebRTC's for
            an input at another rate than 8, 16, 32 or 48 kHz).
        aggressiveness: WebRTC's mode, 0 to 3 (None: 3); only with ``model="webrtc"``.

    Returns:
        The stage: audio frames in, `Utterance` records out.

    Raises:
        ParameterError: ``threshold`` not strictly between 0 and 1, a negative duration,
            ``max_ms`` shorter than one model window, a ``model_rate`` other than 8000
            or 16000, or a bad ``model`` or ``aggressiveness`` (as `vad`).
        MissingExtraError: (while running) onnxruntime is not installed:
            ``pip install 'lkframes[vad]'``; webrtcvad (``model="webrtc"``):
            ``pip install 'lkframes[vad-webrtc]'``.
        FormatError: (while running) the input format changes mid-stream.

    Examples:
        >>> import lkframes as lk
        >>> from lkframes.testing import speech_like
        >>> talk = lk.from_array(speech_like([0.5, 1.0, 0.5]), 16_000)  # 1 s of "speech"
        >>> [(round(u.time, 2), round(u.duration_ms)) for u in lk.run_sync(talk.utterances().collect())]
        [(0.48, 1052)]
        >>> lk.run_sync(lk.noise(1.0, 16_000, amplitude=0.01, seed=1).utterances().collect())
        []
    """  # noqa: E501
    engine = engine_of(model, model_rate, aggressiveness)
    make = segmenters(engine, threshold, min_speech_ms, min_silence_ms, speech_pad_ms, max_ms)
    name = stage_name("utterances", threshold, engine)

    def transform(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[Utterance, None]:
        return _utterances(frames, engine, make, name)

    return Stage(name, transform, output_format=None)


@stage_entry()
def speech(
    threshold: float = 0.5,
    *,
    min_speech_ms: float = 250,
    min_silence_ms: float = 100,
    speech_pad_ms: float = 30,
    model: Literal["silero", "webrtc"] = "silero",
    model_rate: ModelRate = 16_000,
    aggressiveness: int | None = None,
) -> Stage[AudioFrame, AudioFrame]:
    """Keep the speech that the VAD finds and drop the rest, ``pts`` kept so gaps show.

    The frames are the audio of `utterances`; the dropped stretches show as gaps in
    ``pts`` (`to_file` writes them as silence). Speech flows on while it lasts, one
    model window (32 ms; WebRTC's 30) at a time once ``min_speech_ms`` of it has passed; frames come
    in the input's format, a model window long. Follow with `chunk` for a fixed size.

    Args:
        threshold: Probability from which a window is speech (Silero's 0.5).
        min_speech_ms: Speech this long or shorter is dropped (Silero's 250).
        min_silence_ms: Quiet that ends speech (Silero's 100).
        speech_pad_ms: Audio kept before and after the speech (Silero's 30).
        model: ``"silero"`` (the default) or ``"webrtc"`` (see `vad`).
        model_rate: 16000 (the default) or 8000: the rate Silero runs at (WebRTC's for
            an input at another rate than 8, 16, 32 or 48 kHz).
        aggressiveness: WebRTC's mode, 0 to 3 (None: 3); only with ``model="webrtc"``.

    Returns:
        The stage.

    Raises:
        ParameterError: As `utterances`.
        MissingExtraError: (while running) onnxruntime is not installed:
            ``pip install 'lkframes[vad]'``; webrtcvad (``model="webrtc"``):
            ``pip install 'lkframes[vad-webrtc]'``.
        FormatError: (while running) the input format changes mid-stream.

    Examples:
        >>> import lkframes as lk
        >>> from lkframes.testing import speech_like
        >>> talk = lk.from_array(speech_like([0.5, 1.0, 0.5]), 16_000)
        >>> kept = lk.run_sync(talk.speech().collect())
        >>> kept[0].pts, sum(f.samples_per_channel for f in kept)  # from 0.48 s, 1.05 s of it
        (7712, 16832)
        >>> lk.run_sync(lk.noise(1.0, 16_000, amplitude=0.01, seed=1).speech().collect())
        []
    """
    engine = engine_of(model, model_rate, aggressiveness)
    window_ms = engine.window(engine.model_rate) * 1000 / engine.model_rate
    make = segmenters(engine, threshold, min_speech_ms, min_silence_ms, speech_pad_ms, window_ms)
    name = stage_name("speech", threshold, engine)

    def output_format(fmt: AudioFormat) -> AudioFormat:
        return fmt

    async def transform(frames: AsyncIterator[AudioFrame]) -> AsyncGenerator[AudioFrame, None]:
        async with aclosing(_utterances(frames, engine, make, name)) as found:
            async for utterance in found:
                yield utterance.frame()

    return Stage(name, transform, output_format=output_format)
