"""Speech: Silero voice activity detection as stages (`vad`, `speech`, `utterances`).

The model (Silero VAD v6, MIT) ships inside lkframes; running it needs onnxruntime:
``pip install 'lkframes[vad]'``. onnxruntime is imported when a stream first runs the
model, never by ``import lkframes``.
"""

from __future__ import annotations

from ._vad import ModelRate as ModelRate
from ._vad import VoiceActivity as VoiceActivity
from ._vad import vad as vad

__all__ = ("ModelRate", "VoiceActivity", "vad")
