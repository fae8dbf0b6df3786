"""lkframes: typed, streaming, zero-copy audio pipelines for LiveKit.

```python
import lkframes as lk
frames = await lk.from_array(x, sample_rate=44_100).resample(16_000).chunk(ms=20).collect()
```

The layers, each importing only those below it: ``_core`` (errors, formats, frames, the
frame buffer, `Stream`, `Stage`, the stage registry), then ``stages``, ``sources``, ``io``,
``livekit`` and ``dsp``, then ``pipeline`` and ``cli``. ``import lkframes`` does not import
livekit, PyAV, soundfile or matplotlib; they load when first used.
"""

from __future__ import annotations

import importlib.metadata as _metadata
import typing as _typing

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
from ._core.warnings import AssumedFormatWarning as AssumedFormatWarning
from ._core.warnings import DamagedAudioWarning as DamagedAudioWarning
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
from .livekit import to_source as to_source
from .livekit import to_video_source as to_video_source
from .media import RoomRecording as RoomRecording
from .media import publish_media as publish_media
from .media import record_participant as record_participant
from .media import record_room as record_room
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
from .stages import map as map
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

if _typing.TYPE_CHECKING:
    from .pipeline import PipelineSpec as PipelineSpec


def __getattr__(name: str) -> object:
    # Pipeline files need pydantic, which `import lkframes` leaves unloaded until used.
    if name == "PipelineSpec":
        from .pipeline import PipelineSpec

        return PipelineSpec
    raise AttributeError(f"module 'lkframes' has no attribute {name!r}")


try:
    __version__ = _metadata.version("lkframes")
    """The installed version of lkframes (from the package metadata)."""
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

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
    "MediaFile",
    "MediaFileError",
    "MediaInfo",
    "MediaSummary",
    "MissingExtraError",
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
    "VideoFrame",
    "VideoInfo",
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
    "make_token",
    "map",
    "merge",
    "mix",
    "noise",
    "open_media",
    "play",
    "process",
    "publish",
    "publish_media",
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
    "zip",
)
