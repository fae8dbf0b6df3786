"""Which voice activity model the speech stages run: Silero VAD or WebRTC's VAD.

Both give a number per model window that the same hysteresis and segment rules read
(`Segmenter`): Silero its speech probability per 32 ms, WebRTC 1.0 or 0.0 per 30 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np
from numpy.typing import NDArray

from .._core.checks import check_choice
from .._core.errors import ParameterError
from ._model import MODEL_RATES, SileroModel, load_session, window_samples
from ._webrtc import WEBRTC_RATES, WEBRTC_WINDOW_MS, WebRtcModel

__all__ = ("DEFAULT_AGGRESSIVENESS", "MODELS", "Engine", "Model", "engine_of")

MODELS = ("silero", "webrtc")
"""The models the stages take (``model=``)."""

DEFAULT_AGGRESSIVENESS = 3
"""WebRTC VAD's mode when none is given: the one that calls the least noise speech."""


class Model(Protocol):
    """One stream's model: a number per window (its speech probability), then closed."""

    def __call__(self, window: NDArray[np.float32], /) -> float: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Engine:
    """A model and its settings, checked.

    Attributes:
        model: ``"silero"`` or ``"webrtc"``.
        model_rate: Silero's rate; WebRTC's for an input at a rate it does not take.
        aggressiveness: WebRTC's mode (0 to 3); unused by Silero.
    """

    model: str
    model_rate: int
    aggressiveness: int

    def rate(self, input_rate: int) -> int:
        """The rate the model runs at for an input at ``input_rate``: WebRTC's the input's
        own when it takes it (8, 16, 32 or 48 kHz), else ``model_rate``."""
        if self.model == "webrtc" and input_rate in WEBRTC_RATES:
            return input_rate
        return self.model_rate

    def window(self, rate: int) -> int:
        """The model's window in samples at ``rate``: 32 ms for Silero, 30 for WebRTC."""
        if self.model == "webrtc":
            return rate * WEBRTC_WINDOW_MS // 1000
        return window_samples(rate)

    def open(self, rate: int) -> Model:
        """A new model for one stream at ``rate``.

        Raises:
            MissingExtraError: onnxruntime (Silero) or webrtcvad (WebRTC) is missing.
        """
        if self.model == "webrtc":
            return WebRtcModel(rate, self.aggressiveness)
        return SileroModel(load_session(), rate)


def engine_of(model: object, model_rate: object, aggressiveness: object) -> Engine:
    """The checked `Engine`; `ParameterError` naming the bad parameter."""
    name = check_choice(cast(str, model), MODELS, "model")
    rate = check_choice(cast(int, model_rate), MODEL_RATES, "model_rate")
    if aggressiveness is None:
        return Engine(name, rate, DEFAULT_AGGRESSIVENESS)
    if name != "webrtc":
        raise ParameterError(
            f"aggressiveness is WebRTC VAD's: pass model='webrtc' with it (got model={name!r})"
        )
    if not isinstance(aggressiveness, int | np.integer) or isinstance(aggressiveness, bool):
        raise ParameterError(f"aggressiveness must be an int (got {aggressiveness!r})")
    if aggressiveness not in (0, 1, 2, 3):
        raise ParameterError(f"aggressiveness must be 0, 1, 2 or 3 (got {aggressiveness!r})")
    return Engine(name, rate, int(aggressiveness))
