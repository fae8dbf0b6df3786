"""lkframes: typed, streaming, zero-copy audio pipelines for LiveKit.

```python
import lkframes as lk
frames = await lk.from_array(x, sample_rate=44_100).resample(16_000).chunk(ms=20).collect()
```

The layers, each importing only those below it: ``_core`` (errors, formats, frames,
`Stream`, `Stage`, the registry), then ``stages`` ``sources`` ``io`` ``livekit`` ``dsp``
``voice``, then ``media`` ``devices``, then ``pipeline`` ``batch`` and ``cli``.
``import lkframes`` imports none of them: each public name imports its module on first
use, so livekit, PyAV, soundfile or pydantic load only when used (tests/test_startup.py).
"""

from __future__ import annotations

import atexit as _atexit
import importlib as _importlib
import sys as _sys
import typing as _typing

from ._core import registry as _registry

if _typing.TYPE_CHECKING:
    from ._core.buffer import FrameBuffer as FrameBuffer
    from ._core.checks import FormatGuard as FormatGuard
    from ._core.errors import AudioFileError as AudioFileError
    from ._core.errors import DamagedAudioError as DamagedAudioError
    from ._core.errors import DeviceError as DeviceError
    from ._core.errors import FormatError as FormatError
    from ._core.errors import InvalidAudioError as InvalidAudioError
    from ._core.errors import InvalidMediaError as InvalidMediaError
    from ._core.errors import InvalidVideoError as InvalidVideoError
    from ._core.errors import LkFramesError as LkFramesError
    from ._core.errors import MediaFileError as MediaFileError
    from ._core.errors import MissingExtraError as MissingExtraError
    from ._core.errors import NeedsOpenError as NeedsOpenError
    from ._core.errors import NotConnectedError as NotConnectedError
    from ._core.errors import OutputExistsError as OutputExistsError
    from ._core.errors import ParameterError as ParameterError
    from ._core.errors import PipelineError as PipelineError
    from ._core.errors import StreamTimeoutError as StreamTimeoutError
    from ._core.errors import TimestampError as TimestampError
    from ._core.errors import TruncatedAudioError as TruncatedAudioError
    from ._core.errors import TruncatedMediaError as TruncatedMediaError
    from ._core.errors import UnsupportedAudioError as UnsupportedAudioError
    from ._core.errors import UnsupportedMediaError as UnsupportedMediaError
    from ._core.errors import UnsupportedSDKError as UnsupportedSDKError
    from ._core.errors import WrongEventLoopError as WrongEventLoopError
    from ._core.format import AudioFormat as AudioFormat
    from ._core.format import DType as DType
    from ._core.frame import AudioFrame as AudioFrame
    from ._core.framelist import FrameList as FrameList
    from ._core.loudness import Loudness as Loudness
    from ._core.loudness import LoudnessReading as LoudnessReading
    from ._core.params import Interpolation as Interpolation
    from ._core.params import Partial as Partial
    from ._core.params import Quality as Quality
    from ._core.params import Tail as Tail
    from ._core.samples import resampled_length as resampled_length
    from ._core.stage import OutputFormat as OutputFormat
    from ._core.stage import Stage as Stage
    from ._core.stream import RunSummary as RunSummary
    from ._core.stream import Stream as Stream
    from ._core.stream import close_upstream as close_upstream
    from ._core.stream import consume as consume
    from ._core.stream import current_task_group as current_task_group
    from ._core.sync import run_sync as run_sync
    from ._core.video import PixelFormat as PixelFormat
    from ._core.video import VideoFrame as VideoFrame
    from ._core.voice import ModelRate as ModelRate
    from ._core.voice import Utterance as Utterance
    from ._core.voice import VoiceActivity as VoiceActivity
    from ._core.warnings import AssumedFormatWarning as AssumedFormatWarning
    from ._core.warnings import DamagedAudioWarning as DamagedAudioWarning
    from ._core.warnings import LoudnessWarning as LoudnessWarning
    from ._core.warnings import TruncatedAudioWarning as TruncatedAudioWarning
    from .devices import from_microphone as from_microphone
    from .devices import play as play
    from .devices import to_speaker as to_speaker
    from .dsp import auto_gain as auto_gain
    from .dsp import denoise as denoise
    from .dsp import echo_cancel as echo_cancel
    from .dsp import high_pass as high_pass
    from .dsp import process as process
    from .io import AudioFileInfo as AudioFileInfo
    from .io import MediaFile as MediaFile
    from .io import MediaInfo as MediaInfo
    from .io import MediaSummary as MediaSummary
    from .io import OnDamaged as OnDamaged
    from .io import OnTruncated as OnTruncated
    from .io import RawEncoding as RawEncoding
    from .io import VideoInfo as VideoInfo
    from .io import file_info as file_info
    from .io import from_file as from_file
    from .io import from_video_file as from_video_file
    from .io import open_media as open_media
    from .io import to_file as to_file
    from .io import to_media_file as to_media_file
    from .livekit import LiveStats as LiveStats
    from .livekit import OnMute as OnMute
    from .livekit import Overflow as Overflow
    from .livekit import RoomStats as RoomStats
    from .livekit import connect as connect
    from .livekit import from_participant as from_participant
    from .livekit import from_participant_video as from_participant_video
    from .livekit import from_room as from_room
    from .livekit import from_track as from_track
    from .livekit import from_video_track as from_video_track
    from .livekit import make_token as make_token
    from .livekit import publish as publish
    from .livekit import publish_video as publish_video
    from .livekit import to_source as to_source
    from .livekit import to_video_source as to_video_source
    from .media import RoomRecording as RoomRecording
    from .media import publish_media as publish_media
    from .media import record_participant as record_participant
    from .media import record_room as record_room
    from .pipeline import PipelineSpec as PipelineSpec
    from .sources import concat as concat
    from .sources import from_array as from_array
    from .sources import from_frames as from_frames
    from .sources import from_video_frames as from_video_frames
    from .sources import merge as merge
    from .sources import mix as mix
    from .sources import noise as noise
    from .sources import silence as silence
    from .sources import sine as sine
    from .sources import zip as zip
    from .stages import chunk as chunk
    from .stages import filter as filter
    from .stages import flat_map as flat_map
    from .stages import fps as fps
    from .stages import gain as gain
    from .stages import limit as limit
    from .stages import loudness as loudness
    from .stages import map as map
    from .stages import meter_loudness as meter_loudness
    from .stages import normalize as normalize
    from .stages import remix as remix
    from .stages import resample as resample
    from .stages import resize as resize
    from .stages import skip as skip
    from .stages import skip_while as skip_while
    from .stages import take as take
    from .stages import take_while as take_while
    from .stages import tap as tap
    from .stages import timeout as timeout
    from .stages import to_dtype as to_dtype
    from .stages import to_pixel_format as to_pixel_format
    from .stages import window as window
    from .voice import speech as speech
    from .voice import utterances as utterances
    from .voice import vad as vad

_PUBLIC: dict[str, str] = {
    "._core.buffer": "FrameBuffer",
    "._core.checks": "FormatGuard",
    "._core.errors": (
        "AudioFileError DamagedAudioError DeviceError FormatError InvalidAudioError "
        "InvalidMediaError InvalidVideoError LkFramesError MediaFileError MissingExtraError "
        "NeedsOpenError NotConnectedError OutputExistsError ParameterError PipelineError "
        "StreamTimeoutError TimestampError TruncatedAudioError TruncatedMediaError "
        "UnsupportedAudioError UnsupportedMediaError UnsupportedSDKError WrongEventLoopError"
    ),
    "._core.format": "AudioFormat DType",
    "._core.frame": "AudioFrame",
    "._core.framelist": "FrameList",
    "._core.loudness": "Loudness LoudnessReading",
    "._core.params": "Interpolation Partial Quality Tail",
    "._core.samples": "resampled_length",
    "._core.stage": "OutputFormat Stage",
    "._core.voice": "ModelRate Utterance VoiceActivity",
    "._core.stream": "RunSummary Stream close_upstream consume current_task_group",
    "._core.sync": "run_sync",
    "._core.video": "PixelFormat VideoFrame",
    "._core.warnings": (
        "AssumedFormatWarning DamagedAudioWarning LoudnessWarning TruncatedAudioWarning"
    ),
    ".devices": "from_microphone play to_speaker",
    ".dsp": "auto_gain denoise echo_cancel high_pass process",
    ".io": (
        "AudioFileInfo MediaFile MediaInfo MediaSummary OnDamaged OnTruncated RawEncoding "
        "VideoInfo file_info from_file from_video_file open_media to_file to_media_file"
    ),
    ".livekit": (
        "LiveStats OnMute Overflow RoomStats connect from_participant from_participant_video "
        "from_room from_track from_video_track make_token publish publish_video to_source "
        "to_video_source"
    ),
    ".media": "RoomRecording publish_media record_participant record_room",
    ".pipeline": "PipelineSpec",
    ".sources": "concat from_array from_frames from_video_frames merge mix noise silence sine zip",
    ".voice": "speech utterances vad",
    ".stages": (
        "chunk filter flat_map fps gain limit loudness map meter_loudness "
        "normalize remix resample resize skip skip_while take take_while tap timeout to_dtype "
        "to_pixel_format window"
    ),
}
"""Where each public name is defined, by module: ``import lkframes`` imports none of them;
the first use of a name imports its module (PEP 562), and type checkers read the imports
above. tests/test_startup.py checks that this table and those imports agree."""

_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names.split()}

_SUBPACKAGES = ("_core", "devices", "dsp", "io", "livekit", "media", "sources", "stages", "voice")
"""What ``lk.io``, ``lk.stages``, ... reach without an import of their own."""

__version__: str
"""The installed version of lkframes (from the package metadata), read on first use."""


def _lazy(name: str) -> object:
    """The module attribute ``name``, imported on first use (PEP 562's ``__getattr__``)."""
    module = _MODULE_OF.get(name)
    if module is not None:
        value = getattr(_importlib.import_module(module, __name__), name)
        globals()[name] = value  # the next use is a plain global lookup
        return value
    if name in _SUBPACKAGES:
        return _importlib.import_module(f".{name}", __name__)
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'lkframes' has no attribute {name!r}")


if not _typing.TYPE_CHECKING:  # type checkers read the imports above: a typo stays an error
    __getattr__ = _lazy


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES, "__version__"})


def _version() -> str:
    """The installed version of lkframes (from the package metadata)."""
    import importlib.metadata  # 10 ms that only --version needs

    try:
        version = importlib.metadata.version("lkframes")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a source tree
        version = "0.0.0+unknown"
    globals()["__version__"] = version
    return version


def _register(name: str | None) -> None:
    """Import the module registering stage/method ``name`` (None: every stage module)."""
    if name is None:
        for module in (".stages", ".dsp", ".voice"):  # tests/test_startup.py: these are all of them
            _importlib.import_module(module, __name__)
    elif name in _MODULE_OF:
        _lazy(name)


_registry.set_loader(_register)


@_atexit.register
def _close_livekit_at_exit() -> None:
    """At exit, close LiveKit's native layer if a script started it (livekit/_exit.py)."""
    if "livekit.rtc" in _sys.modules:
        from .livekit._exit import close_native_layer

        close_native_layer()


__all__ = (
    "AssumedFormatWarning",
    "AudioFileError",
    "AudioFileInfo",
    "AudioFormat",
    "AudioFrame",
    "DType",
    "DamagedAudioError",
    "DamagedAudioWarning",
    "DeviceError",
    "FormatError",
    "FormatGuard",
    "FrameBuffer",
    "FrameList",
    "Interpolation",
    "InvalidAudioError",
    "InvalidMediaError",
    "InvalidVideoError",
    "LiveStats",
    "LkFramesError",
    "Loudness",
    "LoudnessReading",
    "LoudnessWarning",
    "MediaFile",
    "MediaFileError",
    "MediaInfo",
    "MediaSummary",
    "MissingExtraError",
    "ModelRate",
    "NeedsOpenError",
    "NotConnectedError",
    "OnDamaged",
    "OnMute",
    "OnTruncated",
    "OutputExistsError",
    "OutputFormat",
    "Overflow",
    "ParameterError",
    "Partial",
    "PipelineError",
    "PipelineSpec",
    "PixelFormat",
    "Quality",
    "RawEncoding",
    "RoomRecording",
    "RoomStats",
    "RunSummary",
    "Stage",
    "Stream",
    "StreamTimeoutError",
    "Tail",
    "TimestampError",
    "TruncatedAudioError",
    "TruncatedAudioWarning",
    "TruncatedMediaError",
    "UnsupportedAudioError",
    "UnsupportedMediaError",
    "UnsupportedSDKError",
    "Utterance",
    "VideoFrame",
    "VideoInfo",
    "VoiceActivity",
    "WrongEventLoopError",
    "auto_gain",
    "chunk",
    "close_upstream",
    "concat",
    "connect",
    "consume",
    "current_task_group",
    "denoise",
    "echo_cancel",
    "file_info",
    "filter",
    "flat_map",
    "fps",
    "from_array",
    "from_file",
    "from_frames",
    "from_microphone",
    "from_participant",
    "from_participant_video",
    "from_room",
    "from_track",
    "from_video_file",
    "from_video_frames",
    "from_video_track",
    "gain",
    "high_pass",
    "limit",
    "loudness",
    "make_token",
    "map",
    "merge",
    "meter_loudness",
    "mix",
    "noise",
    "normalize",
    "open_media",
    "play",
    "process",
    "publish",
    "publish_media",
    "publish_video",
    "record_participant",
    "record_room",
    "remix",
    "resample",
    "resampled_length",
    "resize",
    "run_sync",
    "silence",
    "sine",
    "skip",
    "skip_while",
    "speech",
    "take",
    "take_while",
    "tap",
    "timeout",
    "to_dtype",
    "to_file",
    "to_media_file",
    "to_pixel_format",
    "to_source",
    "to_speaker",
    "to_video_source",
    "utterances",
    "vad",
    "window",
    "zip",
)
