"""The records of the speech stages (`VoiceActivity`, `Utterance`) and `Stream`'s speech
methods, each the same as piping into the stage of the same name (lkframes.voice)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeAlias, cast

from . import registry
from .format import AudioFormat
from .frame import AudioFrame

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .stream import Stream

__all__ = ("ModelRate", "SpeechMethods", "Utterance", "VoiceActivity")

ModelRate: TypeAlias = Literal[8000, 16000]
"""The rates Silero VAD runs at (`vad`'s ``model_rate``): the stream is resampled to one.

WebRTC's VAD runs at the stream's own rate if it is 8, 16, 32 or 48 kHz, else at this.

Examples:
    >>> import lkframes as lk
    >>> windows = lk.run_sync(lk.silence(0.1, 8_000).vad(model_rate=8_000).collect())
    >>> windows[0].duration  # 256 samples, 32 ms, at 8 kHz
    256
"""


class VoiceActivity(NamedTuple):
    """The VAD's verdict on one model window, from `vad`.

    Silero's windows are 32 ms long, WebRTC's (``model="webrtc"``) 30 ms.

    Times are in the input stream's time base: samples at its rate, from its own ``pts``.

    Examples:
        >>> import lkframes as lk
        >>> w = lk.VoiceActivity(pts=48_000, duration=1_536, probability=0.9, speaking=True,
        ...                      sample_rate=48_000)
        >>> w.time, w.duration_ms
        (1.0, 32.0)
    """

    pts: int
    """The window's first sample, in the input stream's samples (as `AudioFrame.pts`)."""
    duration: int
    """The window's length in input samples (the last window of a stream may be shorter)."""
    probability: float
    """The model's speech probability for the window, 0 to 1 (not smoothed); WebRTC's VAD
    answers yes or no, read as 1.0 (speech) or 0.0."""
    speaking: bool
    """Whether speech is on after this window: on at ``threshold``, off once the
    probability stayed below ``threshold - 0.15`` for ``min_silence_ms``."""
    sample_rate: int
    """The input stream's rate, for seconds: ``pts / sample_rate``."""

    @property
    def time(self) -> float:
        """The window's start in seconds (``pts / sample_rate``)."""
        return self.pts / self.sample_rate

    @property
    def duration_ms(self) -> float:
        """The window's length in milliseconds."""
        return self.duration * 1000 / self.sample_rate


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Utterance:
    """One stretch of speech from `utterances`: its audio and where it starts and ends.

    Times are the input stream's ``pts``: samples at its rate.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> u = lk.Utterance(16_000, 24_000, np.zeros((8_000, 1), np.int16),
        ...                  lk.AudioFormat(16_000, 1))
        >>> u.time, u.duration_ms, u.frame().pts
        (1.0, 500.0, 16000)
    """

    start: int
    """The first sample's ``pts``."""
    end: int
    """The ``pts`` just after the last sample (``start + len(audio)``)."""
    audio: NDArray[Any]
    """The samples, ``(samples, channels)``, of the input's dtype (a copy)."""
    format: AudioFormat
    """The input's format (its rate gives seconds: ``start / format.sample_rate``)."""
    continues: bool = False
    """The speech goes on in the next utterance: this one was cut at ``max_ms``."""

    def __repr__(self) -> str:
        return (
            f"Utterance(start={self.start}, end={self.end}, {self.duration_ms:.0f} ms of "
            f"{self.format.sample_rate} Hz {self.format.dtype}, continues={self.continues})"
        )

    @property
    def time(self) -> float:
        """The start in seconds (``start / format.sample_rate``)."""
        return self.start / self.format.sample_rate

    @property
    def duration_ms(self) -> float:
        """The length in milliseconds."""
        return (self.end - self.start) * 1000 / self.format.sample_rate

    def frame(self) -> AudioFrame:
        """The audio as one `AudioFrame` at ``pts=start``."""
        return AudioFrame.of(self.audio, self.format, self.start)


class SpeechMethods:
    """`Stream`'s speech methods: each the same as ``stream | lkframes.<name>(...)``.

    A base of `Stream` (it keeps stream.py within its size); they take audio streams.
    """

    __slots__ = ()

    def vad(
        self,
        threshold: float = 0.5,
        *,
        min_silence_ms: float = 100,
        model: Literal["silero", "webrtc"] = "silero",
        model_rate: ModelRate = 16_000,
        aggressiveness: int | None = None,
    ) -> Stream[VoiceActivity]:
        """Voice activity (Silero, or WebRTC): a `VoiceActivity` per model window.
        See `lkframes.vad`."""
        stage = registry.stage("vad")(
            threshold,
            min_silence_ms=min_silence_ms,
            model=model,
            model_rate=model_rate,
            aggressiveness=aggressiveness,
        )
        return cast("Stream[AudioFrame]", self).pipe(stage)

    def utterances(
        self,
        threshold: float = 0.5,
        *,
        min_speech_ms: float = 250,
        min_silence_ms: float = 100,
        speech_pad_ms: float = 30,
        max_ms: float | None = None,
        model: Literal["silero", "webrtc"] = "silero",
        model_rate: ModelRate = 16_000,
        aggressiveness: int | None = None,
    ) -> Stream[Utterance]:
        """The speech segments with their audio. See `lkframes.utterances`."""
        stage = registry.stage("utterances")(
            threshold,
            min_speech_ms=min_speech_ms,
            min_silence_ms=min_silence_ms,
            speech_pad_ms=speech_pad_ms,
            max_ms=max_ms,
            model=model,
            model_rate=model_rate,
            aggressiveness=aggressiveness,
        )
        return cast("Stream[AudioFrame]", self).pipe(stage)

    def speech(
        self,
        threshold: float = 0.5,
        *,
        min_speech_ms: float = 250,
        min_silence_ms: float = 100,
        speech_pad_ms: float = 30,
        model: Literal["silero", "webrtc"] = "silero",
        model_rate: ModelRate = 16_000,
        aggressiveness: int | None = None,
    ) -> Stream[AudioFrame]:
        """Keep the speech, drop the rest (``pts`` kept). See `lkframes.speech`."""
        stage = registry.stage("speech")(
            threshold,
            min_speech_ms=min_speech_ms,
            min_silence_ms=min_silence_ms,
            speech_pad_ms=speech_pad_ms,
            model=model,
            model_rate=model_rate,
            aggressiveness=aggressiveness,
        )
        return cast("Stream[AudioFrame]", self).pipe(stage)
