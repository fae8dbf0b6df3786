"""LiveKit's audio processing module (WebRTC's APM) as stages: noise suppression, echo
cancellation, automatic gain control and a high-pass filter, run locally."""

from __future__ import annotations

from ._apm import auto_gain as auto_gain
from ._apm import denoise as denoise
from ._apm import echo_cancel as echo_cancel
from ._apm import high_pass as high_pass
from ._apm import process as process

__all__ = ("auto_gain", "denoise", "echo_cancel", "high_pass", "process")
