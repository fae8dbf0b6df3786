"""lkframes: typed, streaming, zero-copy audio pipelines for LiveKit.

```python
import lkframes as lk
frames = await lk.from_array(x, sample_rate=44_100).resample(16_000).chunk(ms=20).collect()
```
"""

from __future__ import annotations

from ._apm import auto_gain as auto_gain
from ._apm import denoise as denoise
from ._apm import echo_cancel as echo_cancel
from ._apm import high_pass as high_pass
from ._apm import process as process
from ._buffer import FrameBuffer as FrameBuffer
from ._display import FrameList as FrameList
from ._errors import FormatError as FormatError
from ._errors import InvalidAudioError as InvalidAudioError
from ._errors import LkFramesError as LkFramesError
from ._errors import ParameterError as ParameterError
from ._files import AudioFileError as AudioFileError
from ._files import AudioFileInfo as AudioFileInfo
from ._files import OutputExistsError as OutputExistsError
from ._files import TruncatedAudioError as TruncatedAudioError
from ._files import TruncatedAudioWarning as TruncatedAudioWarning
from ._files import UnsupportedAudioError as UnsupportedAudioError
from ._files import file_info as file_info
from ._files import from_file as from_file
from ._format import AudioFormat as AudioFormat
from ._format import DType as DType
from ._frame import AudioFrame as AudioFrame
from ._livekit import LiveStats as LiveStats
from ._livekit import Overflow as Overflow
from ._livekit import connect as connect
from ._livekit import from_participant as from_participant
from ._livekit import from_track as from_track
from ._livekit import make_token as make_token
from ._livekit import publish as publish
from ._livekit import to_source as to_source
from ._pipeline import PipelineError as PipelineError
from ._pipeline import PipelineSpec as PipelineSpec
from ._sources import concat as concat
from ._sources import from_array as from_array
from ._sources import from_frames as from_frames
from ._sources import noise as noise
from ._sources import silence as silence
from ._sources import sine as sine
from ._stages import chunk as chunk
from ._stages import filter as filter
from ._stages import gain as gain
from ._stages import map as map
from ._stages import remix as remix
from ._stages import resample as resample
from ._stages import resampled_length as resampled_length
from ._stages import skip as skip
from ._stages import take as take
from ._stages import tap as tap
from ._stages import to_dtype as to_dtype
from ._stream import Quality as Quality
from ._stream import RunSummary as RunSummary
from ._stream import Stage as Stage
from ._stream import Stream as Stream
from ._stream import Tail as Tail
from ._sync import run_sync as run_sync
from ._video import InvalidVideoError as InvalidVideoError
from ._video import PixelFormat as PixelFormat
from ._video import VideoFrame as VideoFrame
from ._video import from_video_track as from_video_track
from ._video import to_video_source as to_video_source

__version__ = "0.1.0.dev0"

__all__ = (
    "AudioFileError",
    "AudioFileInfo",
    "AudioFormat",
    "AudioFrame",
    "DType",
    "FormatError",
    "FrameBuffer",
    "FrameList",
    "InvalidAudioError",
    "InvalidVideoError",
    "LiveStats",
    "LkFramesError",
    "OutputExistsError",
    "Overflow",
    "ParameterError",
    "PipelineError",
    "PipelineSpec",
    "PixelFormat",
    "Quality",
    "RunSummary",
    "Stage",
    "Stream",
    "Tail",
    "TruncatedAudioError",
    "TruncatedAudioWarning",
    "UnsupportedAudioError",
    "VideoFrame",
    "auto_gain",
    "chunk",
    "concat",
    "connect",
    "denoise",
    "echo_cancel",
    "file_info",
    "filter",
    "from_array",
    "from_file",
    "from_frames",
    "from_participant",
    "from_track",
    "from_video_track",
    "gain",
    "high_pass",
    "make_token",
    "map",
    "noise",
    "process",
    "publish",
    "remix",
    "resample",
    "resampled_length",
    "run_sync",
    "silence",
    "sine",
    "skip",
    "take",
    "tap",
    "to_dtype",
    "to_source",
    "to_video_source",
)
