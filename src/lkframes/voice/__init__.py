"""Speech: Silero voice activity detection as stages (`vad`, `speech`, `utterances`).

The model (Silero VAD v6, MIT) ships inside lkframes; running it needs onnxruntime:
``pip install 'lkframes[vad]'``. ``model="webrtc"`` runs WebRTC's VAD instead, the light
option: ``pip install 'lkframes[vad-webrtc]'`` (webrtcvad-wheels, no onnxruntime). Both
are imported when a stream first runs the model, never by ``import lkframes``.
"""

from __future__ import annotations

from .._core.voice import ModelRate as ModelRate
from .._core.voice import Utterance as Utterance
from .._core.voice import VoiceActivity as VoiceActivity
from ._utterances import speech as speech
from ._utterances import utterances as utterances
from ._vad import vad as vad

__all__ = ("ModelRate", "Utterance", "VoiceActivity", "speech", "utterances", "vad")
