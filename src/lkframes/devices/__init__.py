"""Local audio devices: a microphone as a source (`from_microphone`), a speaker as a sink
(`to_speaker`, `play`), through PortAudio (python-sounddevice, ``lkframes[devices]``).

sounddevice is imported only when a device is opened, never by ``import lkframes``.
"""

from __future__ import annotations

from ._microphone import from_microphone as from_microphone
from ._speaker import play as play
from ._speaker import to_speaker as to_speaker

__all__ = ("from_microphone", "play", "to_speaker")
