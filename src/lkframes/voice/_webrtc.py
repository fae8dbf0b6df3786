"""WebRTC's voice activity detector (the ``webrtcvad`` module of ``webrtcvad-wheels``).

The detector is the Gaussian-mixture VAD of the WebRTC project (Google, BSD), the one
``py-webrtcvad`` wraps. It takes 10, 20 or 30 ms of 16-bit mono PCM at 8, 16, 32 or
48 kHz and answers speech or not: there is no probability. lkframes gives it 30 ms
windows and reads its answer as probability 1.0 (speech) or 0.0. Its ``mode``, 0 to 3,
is how aggressively it calls audio non-speech (3: most).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.errors import MissingExtraError
from .._core.samples import float_to_int16

__all__ = ("WEBRTC_RATES", "WEBRTC_WINDOW_MS", "WebRtcModel", "load_webrtcvad")

WEBRTC_RATES = (8_000, 16_000, 32_000, 48_000)
"""The sample rates the detector takes."""

WEBRTC_WINDOW_MS = 30
"""The window lkframes gives it (of its 10, 20 and 30 ms): the longest, the fewest calls."""


def load_webrtcvad() -> Any:
    """The ``webrtcvad`` module.

    Raises:
        MissingExtraError: webrtcvad-wheels is not installed
            (``pip install 'lkframes[vad-webrtc]'``).
    """
    try:
        import webrtcvad
    except ImportError:
        raise MissingExtraError(
            "WebRTC voice activity detection", extra="vad-webrtc", module="webrtcvad"
        ) from None
    return webrtcvad


class WebRtcModel:
    """One stream's WebRTC VAD: a ``webrtcvad.Vad`` in ``mode`` at ``sample_rate``.

    Args:
        sample_rate: One of `WEBRTC_RATES`.
        mode: The aggressiveness, 0 to 3.

    Raises:
        MissingExtraError: webrtcvad-wheels is not installed.
    """

    __slots__ = ("_rate", "_vad")

    def __init__(self, sample_rate: int, mode: int) -> None:
        self._vad: Any = load_webrtcvad().Vad(mode)
        self._rate = sample_rate

    def __call__(self, window: NDArray[np.float32]) -> float:
        """1.0 if the detector hears speech in ``window`` (30 ms of float32 samples, made
        int16 as `to_dtype` does: times 32768, rounded, clipped), else 0.0."""
        pcm = float_to_int16(window).tobytes()
        return 1.0 if self._vad.is_speech(pcm, self._rate) else 0.0

    def close(self) -> None:
        """Let go of the detector; the model is unusable after."""
        self._vad = None
