"""Testing tools for lkframes and for your own sources, stages and sinks.

- A conformance kit: `check_source`, `check_stage` and `check_sink` assert the invariants
  every source, stage and sink keeps (no loss or duplication, split-independence, one
  declared format, continuous pts, errors propagate unchanged, `aclose` idempotent, prompt
  close on break, cancellation and error). Each has an ``_async`` twin that runs inside
  the caller's event loop (asyncio or trio), like ``trio.testing``.
- Hypothesis strategies: `audio_formats`, `audio_arrays`, `audio_frames`, `splits`,
  `frame_streams` (irregular frame sizes, including 0 and 1 sample).
- `speech_like`: vowel-like sound that Silero VAD takes for speech, for testing `vad`,
  `utterances` and `speech` without a recording.
- `open_resources`: what lkframes holds open right now (stages, files, LiveKit streams and
  sources), for asserting that nothing leaks.
- A simulated LiveKit room: `SimulatedRoom` (scripted participants, their audio and
  video, mutes, leaves, vanishes, and a `Network` each) on a virtual clock (`run_virtual`), which
  lkframes' room functions use unchanged; `room_scenarios` and `check_room_consumer` try
  generated rooms (with cameras if asked) on a function that consumes one, which returns
  what it kept (a `RoomKept`, or a mapping of audio).

`open_resources` and the source kit need nothing more; the strategies and the stage and
sink kits need ``hypothesis`` (``pip install 'lkframes[testing]'``), imported when first
used.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from .._core.errors import MissingExtraError as _MissingExtraError
from .._core.resources import open_resources as open_resources
from ._sim_audio import Network as Network
from ._source_kit import check_source as check_source
from ._source_kit import check_source_async as check_source_async
from ._speech import speech_like as speech_like
from ._virtual_clock import VirtualClockLoop as VirtualClockLoop
from ._virtual_clock import run_virtual as run_virtual

if _typing.TYPE_CHECKING:
    from ._room_kit import RoomConsumer as RoomConsumer
    from ._room_kit import RoomKept as RoomKept
    from ._room_kit import RoomScenario as RoomScenario
    from ._room_kit import Talker as Talker
    from ._room_kit import check_room_consumer as check_room_consumer
    from ._room_kit import room_scenarios as room_scenarios
    from ._sim_room import SimulatedParticipant as SimulatedParticipant
    from ._sim_room import SimulatedRoom as SimulatedRoom
    from ._sim_room import SimulatedTrack as SimulatedTrack
    from ._sim_room import SimulatedVideoTrack as SimulatedVideoTrack
    from ._sink_kit import check_sink as check_sink
    from ._sink_kit import check_sink_async as check_sink_async
    from ._stage_kit import StageFactory as StageFactory
    from ._stage_kit import check_stage as check_stage
    from ._stage_kit import check_stage_async as check_stage_async
    from ._strategies import audio_arrays as audio_arrays
    from ._strategies import audio_formats as audio_formats
    from ._strategies import audio_frames as audio_frames
    from ._strategies import frame_streams as frame_streams
    from ._strategies import splits as splits
    from ._virtual_trio import VirtualTrioClock as VirtualTrioClock

__all__ = (
    "Network",
    "RoomConsumer",
    "RoomKept",
    "RoomScenario",
    "SimulatedParticipant",
    "SimulatedRoom",
    "SimulatedTrack",
    "SimulatedVideoTrack",
    "StageFactory",
    "Talker",
    "VirtualClockLoop",
    "VirtualTrioClock",
    "audio_arrays",
    "audio_formats",
    "audio_frames",
    "check_room_consumer",
    "check_sink",
    "check_sink_async",
    "check_source",
    "check_source_async",
    "check_stage",
    "check_stage_async",
    "frame_streams",
    "open_resources",
    "room_scenarios",
    "run_virtual",
    "speech_like",
    "splits",
)

_NEEDS_HYPOTHESIS = {
    "RoomConsumer": "._room_kit",
    "RoomKept": "._room_kit",
    "RoomScenario": "._room_kit",
    "Talker": "._room_kit",
    "check_room_consumer": "._room_kit",
    "room_scenarios": "._room_kit",
    "StageFactory": "._stage_kit",
    "check_stage": "._stage_kit",
    "check_stage_async": "._stage_kit",
    "check_sink": "._sink_kit",
    "check_sink_async": "._sink_kit",
    "audio_arrays": "._strategies",
    "audio_formats": "._strategies",
    "audio_frames": "._strategies",
    "frame_streams": "._strategies",
    "splits": "._strategies",
}


_SIMULATION = {
    "SimulatedParticipant": "._sim_room",
    "SimulatedRoom": "._sim_room",
    "SimulatedTrack": "._sim_room",
    "SimulatedVideoTrack": "._sim_room",
    "VirtualTrioClock": "._virtual_trio",
}
"""Imported when first used: they import livekit.rtc (or trio)."""


def __getattr__(name: str) -> object:
    if name in _SIMULATION:
        value = getattr(_importlib.import_module(_SIMULATION[name], __name__), name)
        globals()[name] = value
        return value
    module = _NEEDS_HYPOTHESIS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(_importlib.import_module(module, __name__), name)
    except ModuleNotFoundError as exc:
        if exc.name != "hypothesis":
            raise
        raise _MissingExtraError(
            f"lkframes.testing.{name}", extra="testing", module="hypothesis"
        ) from None
    globals()[name] = value
    return value
