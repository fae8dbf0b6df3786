"""Every exception lkframes raises on purpose, in one module, one meaning per class.

One root (`LkFramesError`); each class also derives from the builtin a caller would expect
(`ValueError`, `OSError`, ...), so code that does not know lkframes still catches it. Closing
reuses anyio's exceptions (`anyio.ClosedResourceError`, `anyio.BrokenResourceError`). The
warnings lkframes gives are in `lkframes._core.warnings`.

```
LkFramesError
├── ParameterError (ValueError)          a parameter lkframes cannot work with
│   └── PipelineError                    a pipeline file (JSON/YAML) is invalid
├── FormatError (ValueError)             frames of one format where another was expected
├── TimestampError (ValueError)          a sink got frames that overlap or go back in time
├── InvalidMediaError (ValueError)       data that cannot be a frame as given
│   ├── InvalidAudioError
│   └── InvalidVideoError
├── MediaFileError (OSError)             a file cannot be read or written
│   ├── AudioFileError                   missing, empty, a directory, not audio
│   │   ├── UnsupportedAudioError        no decoder for it
│   │   ├── TruncatedAudioError          ends before its declared length (cut)
│   │   └── DamagedAudioError            undecodable data mid-way (on_damaged="error")
│   ├── UnsupportedMediaError            not media FFmpeg reads, or no such stream
│   ├── TruncatedMediaError              media data cut or corrupt
│   └── OutputExistsError (FileExistsError)
├── DeviceError (OSError)                an audio device is missing, busy or stopped
├── WrongEventLoopError (RuntimeError)   LiveKit code awaited outside asyncio
├── NotConnectedError (RuntimeError)     a room that is not connected
├── NeedsOpenError (RuntimeError)        tasks of a pipeline run outside `Stream.open`
├── UnsupportedSDKError (RuntimeError)   the installed livekit lacks what is needed
├── MissingExtraError (ImportError)      an optional dependency is not installed
└── StreamTimeoutError (TimeoutError)    no item in time, or a LiveKit source stalled
```
"""

from __future__ import annotations

__all__ = (
    "AudioFileError",
    "DamagedAudioError",
    "DemoCheckError",
    "DeviceError",
    "FormatError",
    "InvalidAudioError",
    "InvalidMediaError",
    "InvalidVideoError",
    "LkFramesError",
    "MediaFileError",
    "MissingExtraError",
    "NeedsOpenError",
    "NotConnectedError",
    "OutputExistsError",
    "ParameterError",
    "PipelineError",
    "StreamTimeoutError",
    "TimestampError",
    "TruncatedAudioError",
    "TruncatedMediaError",
    "UnsupportedAudioError",
    "UnsupportedMediaError",
    "UnsupportedSDKError",
    "WrongEventLoopError",
)


class LkFramesError(Exception):
    """Base class of every error lkframes raises on purpose.

    Examples:
        >>> import lkframes as lk
        >>> try:
        ...     lk.AudioFormat(0, 1, "int16")
        ... except lk.LkFramesError as exc:
        ...     print(type(exc).__name__)
        ParameterError
    """


class ParameterError(LkFramesError, ValueError):
    """A stage, source or format was given a parameter it cannot work with.

    Raised when the pipeline is built, or at the first frame if the format is known then.

    Args:
        message: What is wrong, in words that hold for every caller.
        hint: What a Python caller can do about it (``pass matrix=``), appended after a
            semicolon; the command line gives its own hint instead.

    Examples:
        >>> import lkframes as lk
        >>> try:
        ...     lk.sine(440, 1.0, sample_rate=-1)
        ... except lk.ParameterError as exc:
        ...     print(isinstance(exc, ValueError))
        True
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        """The problem, without the Python hint."""
        self.hint = hint
        """What a Python caller can do about it (may be empty)."""
        super().__init__(f"{message}; {hint}" if hint else message)


class PipelineError(ParameterError):
    """A pipeline file is unreadable or invalid; the message names the offending key.

    Examples:
        >>> import lkframes as lk
        >>> try:
        ...     lk.PipelineSpec.parse({"input": "in.wav", "stages": [{"stage": "reverse"}]})
        ... except lk.PipelineError as exc:
        ...     print(isinstance(exc, lk.ParameterError))
        True
    """


class FormatError(LkFramesError, ValueError):
    """Frames arrived in a format other than the one expected (the message names both).

    Args:
        what: What went wrong, without the values.
        expected: What was expected.
        got: What arrived.
        hint: How to fix it, appended after a semicolon.

    Examples:
        >>> import lkframes as lk
        >>> error = lk.FormatError("sample_rate changed mid-stream", 48_000, 16_000)
        >>> print(error)
        sample_rate changed mid-stream (expected 48000, got 16000)
        >>> error.expected, error.got
        (48000, 16000)
    """

    def __init__(self, what: str, expected: object, got: object, *, hint: str = "") -> None:
        self.what = what
        self.expected = expected
        self.got = got
        message = f"{what} (expected {expected}, got {got})"
        if hint:
            message = f"{message}; {hint}"
        super().__init__(message)


class TimestampError(LkFramesError, ValueError):
    """A sink got a frame that starts before the previous one ends (overlapping or backwards pts).

    Examples:
        >>> import lkframes as lk  # two 1 s streams merged overlap in time: mix them instead
        >>> lk.run_sync(lk.merge(lk.silence(1.0), lk.silence(1.0)).to_array())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        lkframes._core.errors.TimestampError: to_array: a frame at pts 0 starts before ...
    """


class InvalidMediaError(LkFramesError, ValueError):
    """Data that cannot be a frame as given: the base of audio and video data errors.

    Examples:
        >>> import lkframes as lk
        >>> issubclass(lk.InvalidAudioError, lk.InvalidMediaError)
        True
        >>> issubclass(lk.InvalidVideoError, lk.InvalidMediaError)
        True
    """


class InvalidAudioError(InvalidMediaError):
    """Sample data that cannot be audio as given.

    Wrong dtype, wrong number of dimensions, a non-contiguous array, an odd byte length in a
    LiveKit frame, NaN or infinity in float samples, an item that is not a frame.

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> lk.AudioFrame(np.zeros((2, 2, 2), np.int16), 16_000)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        lkframes._core.errors.InvalidAudioError: audio data has invalid shape (2, 2, 2) ...
    """


class InvalidVideoError(InvalidMediaError):
    """Pixel data that cannot be a video frame as given (shape, dtype, size).

    Examples:
        >>> import lkframes as lk, numpy as np
        >>> lk.VideoFrame(np.zeros((2, 2, 4), np.float32))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        lkframes._core.errors.InvalidVideoError: ...
    """


class MediaFileError(LkFramesError, OSError):
    """A media file could not be read or written: the base of the file errors.

    Examples:
        >>> import lkframes as lk
        >>> issubclass(lk.AudioFileError, lk.MediaFileError), issubclass(lk.MediaFileError, OSError)
        (True, True)
    """


class AudioFileError(MediaFileError):
    """A file could not be read or written as audio: missing, empty, a directory, not audio.

    Examples:
        >>> import lkframes as lk, os, tempfile
        >>> lk.file_info(os.path.join(tempfile.mkdtemp(), "missing.wav"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        lkframes._core.errors.AudioFileError: ...
    """


class UnsupportedAudioError(AudioFileError):
    """Neither libsndfile nor FFmpeg (PyAV) can decode the file.

    Examples:
        >>> import lkframes as lk, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> with open(path, "w") as file:
        ...     _ = file.write("not audio " * 50)
        >>> lk.file_info(path)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        lkframes._core.errors.UnsupportedAudioError: ...
    """


class TruncatedAudioError(AudioFileError):
    """The file ends before the length its header really declares: it was cut.

    Raised after every decodable sample has been yielded (policy ``on_truncated="raise"``).

    Examples:
        >>> import io, lkframes as lk
        >>> wav = io.BytesIO()
        >>> _ = lk.run_sync(lk.sine(440, 0.5, 16_000).to_file(wav, format="WAV"))
        >>> lk.run_sync(lk.from_file(wav.getvalue()[:4_000]).run())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        lkframes._core.errors.TruncatedAudioError: ...
    """


class DamagedAudioError(AudioFileError):
    """Undecodable data mid-file, with ``on_damaged="error"`` (``position_s``: where).

    Examples:
        >>> import lkframes as lk  # from_file(path, on_damaged="error") raises it
        >>> issubclass(lk.DamagedAudioError, lk.AudioFileError), lk.DamagedAudioError.position_s
        (True, 0.0)
    """

    position_s: float = 0.0


class UnsupportedMediaError(MediaFileError):
    """A media file FFmpeg cannot read, or without the stream asked for (no video, say).

    Examples:
        >>> import lkframes as lk
        >>> issubclass(lk.UnsupportedMediaError, lk.MediaFileError)
        True
    """


class TruncatedMediaError(MediaFileError):
    """A media file's data is corrupt or ends early; raised after every decodable frame.

    Examples:
        >>> import lkframes as lk
        >>> issubclass(lk.TruncatedMediaError, lk.MediaFileError)
        True
    """


class OutputExistsError(MediaFileError, FileExistsError):
    """A sink would replace an existing file; pass ``overwrite=True`` to allow it.

    Examples:
        >>> import lkframes as lk, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> _ = lk.run_sync(lk.sine(440, 0.1, 16_000).to_file(path))
        >>> lk.run_sync(lk.sine(440, 0.1, 16_000).to_file(path))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        lkframes._core.errors.OutputExistsError: '...tone.wav' exists; pass overwrite=True ...
    """


class WrongEventLoopError(LkFramesError, RuntimeError):
    """LiveKit code was awaited under an event loop it cannot run on.

    LiveKit's Python SDK runs on asyncio only, so its sources and sinks (`from_track`,
    `to_source`, `publish`, `connect`, ...) raise this under trio; given a simulated room
    (``lkframes.testing.SimulatedRoom``) they run on trio too.

    Examples:
        >>> import anyio, lkframes as lk
        >>> async def main():
        ...     try:
        ...         async with lk.connect("ws://localhost:7880", token="t"):
        ...             pass
        ...     except lk.WrongEventLoopError as exc:
        ...         print(exc.expected, exc.got)
        >>> anyio.run(main, backend="trio")
        asyncio trio
    """

    def __init__(self, what: str, *, expected: str = "asyncio", got: str) -> None:
        self.expected = expected
        self.got = got
        why = "LiveKit's Python SDK runs on asyncio only; " * (expected == "asyncio")
        super().__init__(f"{what} needs {expected} ({why}expected {expected}, got {got}): use "
                         "asyncio.run() or anyio.run(..., backend='asyncio')")  # fmt: skip


class DeviceError(LkFramesError, OSError):
    """A microphone or speaker cannot be used (missing, busy, refuses the format, stopped).

    Examples:
        >>> import lkframes as lk
        >>> issubclass(lk.DeviceError, OSError)
        True
    """


class NotConnectedError(LkFramesError, RuntimeError):
    """A LiveKit room was passed that is not connected (connect it first, see `connect`).

    Examples:
        >>> import asyncio, lkframes as lk
        >>> from livekit import rtc
        >>> async def main():
        ...     try:
        ...         await lk.publish(lk.sine(440, 1.0), rtc.Room(), "tone")
        ...     except lk.NotConnectedError as exc:
        ...         print(exc)
        >>> asyncio.run(main())
        publish needs a connected room (got a disconnected rtc.Room)
    """


class NeedsOpenError(LkFramesError, RuntimeError):
    """A pipeline that runs tasks was iterated without `Stream.open` (or a terminal).

    Stages that run tasks (`merge`, ``map(concurrency=n)``) start them in the task group
    `Stream.open` holds for the pipeline; a bare ``async for`` has none to give them.

    Examples:
        >>> import lkframes as lk
        >>> async def bare():
        ...     async for frame in lk.silence(0.1).map(lambda f: f, concurrency=2):
        ...         pass
        >>> lk.run_sync(bare())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        lkframes._core.errors.NeedsOpenError: ...stream.open()...
    """


class UnsupportedSDKError(LkFramesError, RuntimeError):
    """The installed LiveKit SDK lacks something lkframes needs for the requested feature.

    Examples:
        >>> import lkframes as lk
        >>> issubclass(lk.UnsupportedSDKError, RuntimeError)
        True
    """


class MissingExtraError(LkFramesError, ImportError):
    """An optional dependency is not installed; the message says which extra brings it.

    Args:
        feature: What needs the dependency.
        extra: The lkframes extra that installs it (``pip install 'lkframes[extra]'``).
        module: The module that could not be imported.

    Examples:
        >>> import lkframes as lk
        >>> print(lk.MissingExtraError("making tokens", extra="room", module="livekit.api"))
        making tokens needs livekit.api: pip install 'lkframes[room]'
    """

    def __init__(self, feature: str, *, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(f"{feature} needs {module}: pip install 'lkframes[{extra}]'", name=module)


class StreamTimeoutError(LkFramesError, TimeoutError):
    """`Stream.timeout`'s next item did not arrive in time, or a LiveKit source stalled.

    Examples:
        >>> import lkframes as lk
        >>> issubclass(lk.StreamTimeoutError, TimeoutError)  # see Stream.timeout
        True
    """


class DemoCheckError(LkFramesError, AssertionError):
    """``lkframes demo`` produced output that breaks a promise of the pipeline (a bug)."""
