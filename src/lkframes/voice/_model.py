"""The Silero VAD model, run with onnxruntime as livekit-plugins-silero runs it.

``silero_vad.onnx`` beside this module is Silero VAD v6 (MIT, LICENSE.silero-vad): the
``silero_vad/data/silero_vad.onnx`` of the ``silero-vad`` 6.2.3 package on PyPI, the same
file (sha256 ``1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3``) that
livekit-plugins-silero 1.8.9 ships as ``livekit/plugins/silero/resources/silero_vad.onnx``.

The model takes one window (512 samples at 16 kHz, 256 at 8 kHz) after the last 64 (32)
samples of the window before it, and a (2, 1, 128) recurrent state; it returns the
window's speech probability and the next state. The session is single-threaded on the CPU
(inter- and intra-op threads 1, no spinning), as the plugin's ``new_inference_session``.
"""

from __future__ import annotations

import hashlib
import threading
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.errors import MissingExtraError

__all__ = ("MODEL_SHA256", "SileroModel", "context_samples", "load_session", "window_samples")

MODEL_SHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
"""The sha256 of the shipped model file (Silero VAD v6, silero-vad 6.2.3's)."""

MODEL_RATES = (8_000, 16_000)
"""The sample rates the model takes."""


def window_samples(sample_rate: int) -> int:
    """The model's window at ``sample_rate``: 512 samples at 16 kHz (32 ms), 256 at 8 kHz."""
    return 512 if sample_rate == 16_000 else 256


def context_samples(sample_rate: int) -> int:
    """The samples of the previous window the model sees again: 64 at 16 kHz, 32 at 8 kHz."""
    return 64 if sample_rate == 16_000 else 32


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise MissingExtraError(
            "voice activity detection", extra="vad", module="onnxruntime"
        ) from None
    return onnxruntime


_session: Any = None
_session_lock = threading.Lock()


def load_session() -> Any:
    """The process's single-threaded CPU ``onnxruntime.InferenceSession`` of the shipped
    model, made on first use (0.1 to 0.4 s) and shared by every stream after, as
    livekit-plugins-silero's ``VAD.load()`` shares one (onnxruntime runs a session from
    several threads at once; each stream keeps its own state in a `SileroModel`).

    Raises:
        MissingExtraError: onnxruntime is not installed (``pip install 'lkframes[vad]'``).
    """
    global _session
    with _session_lock:
        if _session is None:
            _session = _new_session()
        return _session


def _new_session() -> Any:
    ort = _onnxruntime()
    model = resources.files(__package__).joinpath("silero_vad.onnx").read_bytes()
    if hashlib.sha256(model).hexdigest() != MODEL_SHA256:  # pragma: no cover - a broken install
        raise RuntimeError("lkframes/voice/silero_vad.onnx is not the model lkframes ships")
    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


class SileroModel:
    """One stream's Silero VAD: the session, the recurrent state and the context.

    Args:
        session: From `load_session` (shared: the state is this object's).
        sample_rate: 8000 or 16000.
    """

    __slots__ = ("_input", "_inputs", "_session", "_size", "_state")

    def __init__(self, session: Any, sample_rate: int) -> None:
        self._session = session
        context = context_samples(sample_rate)
        self._size = window_samples(sample_rate)
        # [context | window], the context being the last samples of the window before.
        self._input = np.zeros((1, context + self._size), np.float32)
        self._state = np.zeros((2, 1, 128), np.float32)
        self._inputs = {
            "input": self._input,
            "state": self._state,
            "sr": np.array(sample_rate, np.int64),
        }

    def __call__(self, window: NDArray[np.float32]) -> float:
        """The speech probability of ``window`` (``window_samples`` float32 samples)."""
        row = self._input[0]
        row[-self._size :] = window
        out, state = self._session.run(None, self._inputs)
        self._inputs["state"] = state
        context = row.shape[0] - self._size
        row[:context] = row[-context:]
        return float(out.item())

    def close(self) -> None:
        """Let go of the session; the model is unusable after."""
        self._session = None
