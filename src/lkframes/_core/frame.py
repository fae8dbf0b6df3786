"""`AudioFrame`: an immutable block of audio samples with its format and timestamp."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidAudioError
from .format import SUPPORTED_DTYPES, AudioFormat, DType
from .samples import float_to_int16

if TYPE_CHECKING:
    from livekit import rtc

__all__ = ("AudioFrame", "ensure_finite", "fitted", "readonly", "trusted_frame", "validate_samples")

NOT_AN_ARRAY = "{what} must be a numpy array (expected numpy.ndarray, got {got})"
WRONG_DTYPE = "{what} has unsupported dtype (expected {expected}, got {got}){hint}"
WRONG_SHAPE = "{what} has invalid shape {shape} (expected {expected})"
NOT_CONTIGUOUS = (
    "{what} is not C-contiguous (expected interleaved samples, got strides {strides}); "
    "pass np.ascontiguousarray(array)"
)


def _dtype_hint(dtype: np.dtype[Any]) -> str:
    if dtype.kind == "f":
        return "; convert with array.astype(np.float32)"
    if dtype.kind in "iu":
        return "; convert with array.astype(np.int16) after scaling to 16-bit range"
    return ""


def validate_samples(data: object, *, what: str = "audio data") -> NDArray[Any]:
    """Check that ``data`` can be used as samples and return it as a 2-D array.

    Accepts a C-contiguous numpy array of int16 or float32, 1-D (mono) or 2-D
    ``(samples_per_channel, num_channels)``. Never copies.

    Raises:
        InvalidAudioError: Not an ndarray, wrong dtype, wrong number of dimensions, zero
            channels, or not C-contiguous. The message names expected and got.
    """
    if not isinstance(data, np.ndarray):
        raise InvalidAudioError(NOT_AN_ARRAY.format(what=what, got=type(data).__name__))
    if data.dtype.name not in SUPPORTED_DTYPES:
        raise InvalidAudioError(
            WRONG_DTYPE.format(
                what=what, expected="int16 or float32", got=data.dtype, hint=_dtype_hint(data.dtype)
            )
        )
    if data.ndim == 1 and data.flags.c_contiguous:
        data = data.reshape(-1, 1)
    if data.ndim not in (1, 2):
        raise InvalidAudioError(
            WRONG_SHAPE.format(
                what=what,
                shape=data.shape,
                expected=f"(samples,) or (samples, channels), got {data.ndim} dimensions",
            )
        )
    if data.ndim == 2 and data.shape[1] == 0:
        raise InvalidAudioError(
            WRONG_SHAPE.format(what=what, shape=data.shape, expected=">= 1 channel, got 0")
        )
    if not data.flags.c_contiguous:
        raise InvalidAudioError(NOT_CONTIGUOUS.format(what=what, strides=data.strides))
    return data


def ensure_finite(data: NDArray[Any], *, what: str = "audio data") -> None:
    """Raise `InvalidAudioError` if float samples contain NaN or infinity."""
    if data.dtype.kind == "f" and data.size and not np.isfinite(data).all():
        bad = np.flatnonzero(~np.isfinite(data.reshape(-1)))
        first = int(bad[0]) // data.shape[1] if data.ndim == 2 else int(bad[0])
        raise InvalidAudioError(
            f"{what} contains {bad.size} non-finite sample(s) (expected finite floats, got "
            f"{data.reshape(-1)[bad[0]]} at sample {first})"
        )


def readonly(data: NDArray[Any]) -> NDArray[Any]:
    """``data`` itself if it is read-only, else a read-only view of it (never a copy)."""
    if data.flags.writeable:
        data = data.view()
        data.setflags(write=False)
    return data


class AudioFrame:
    """A block of audio: samples, their format and the timestamp of the first sample.

    ``data`` is a read-only numpy array of shape ``(samples_per_channel, num_channels)``,
    int16 or float32. Frames are immutable; lkframes never writes into a frame it has
    handed out, so a frame stays valid for as long as you hold it.

    Two ways to build one: the constructor checks everything (dtype, shape, contiguity and,
    for float data, NaN or infinity); `AudioFrame.of` takes a known `AudioFormat` and makes
    only O(1) checks, which is what stages use per frame.

    Args:
        data: Samples, 1-D (mono) or 2-D ``(samples_per_channel, num_channels)``, C-contiguous
            int16 or float32. Not copied; a writable array is wrapped in a read-only view, so
            do not change it afterwards through your own reference.
        sample_rate: Samples per second per channel.
        pts: Index of the first sample, counted in samples at ``sample_rate`` from the start
            of the stream.
        check_finite: Reject NaN or infinity in float data (the default).

    Raises:
        InvalidAudioError: The data is not valid audio (see `validate_samples`), or contains
            NaN/infinity while ``check_finite`` is true.
        ParameterError: ``sample_rate`` is not a positive int.

    Examples:
        >>> import numpy as np
        >>> f = AudioFrame(np.zeros(320, np.int16), 16_000, pts=640)
        >>> f.samples_per_channel, f.num_channels, f.duration, f.pts
        (320, 1, 0.02, 640)
    """

    __slots__ = ("_data", "_format", "_pts")

    _data: NDArray[Any]
    _format: AudioFormat
    _pts: int

    def __init__(
        self,
        data: NDArray[Any],
        sample_rate: int,
        *,
        pts: int = 0,
        check_finite: bool = True,
    ) -> None:
        arr = validate_samples(data)
        if check_finite:
            ensure_finite(arr)
        if isinstance(pts, bool) or not isinstance(pts, int | np.integer):
            raise InvalidAudioError(f"pts must be an int sample index (got {type(pts).__name__})")
        self._format = AudioFormat(sample_rate, arr.shape[1], arr.dtype.name)  # type: ignore[arg-type]
        self._data = readonly(arr)
        self._pts = int(pts)

    @classmethod
    def of(cls, data: NDArray[Any], format: AudioFormat, pts: int = 0) -> AudioFrame:
        """A frame of ``format`` over ``data``, with O(1) checks only (no scan of the samples).

        This is how stages (the built-in ones and yours) make frames: the format is built
        once per stream and shared, and ``data`` is checked for type, dtype, shape and
        contiguity, not for NaN.

        Args:
            data: ``(samples, format.num_channels)`` samples of ``format.dtype``, C-contiguous
                (1-D is accepted for mono). Not copied; made read-only as in the constructor.
            format: The frame's format.
            pts: Index of the first sample.

        Returns:
            The frame.

        Raises:
            InvalidAudioError: ``data`` does not fit ``format``; the message names
                expected and got.

        Examples:
            >>> import numpy as np
            >>> fmt = AudioFormat(16_000, 2)
            >>> AudioFrame.of(np.zeros((160, 2), np.int16), fmt, pts=320)
            AudioFrame(160 samples, 16000 Hz stereo int16, pts=320, 10 ms)
        """
        return fitted(data, format, pts) or _conformed(data, format, pts)

    @property
    def data(self) -> NDArray[Any]:
        """Samples, read-only, shape ``(samples_per_channel, num_channels)``."""
        return self._data

    @property
    def format(self) -> AudioFormat:
        """The frame's `AudioFormat`."""
        return self._format

    @property
    def sample_rate(self) -> int:
        """Samples per second per channel."""
        return self._format._sample_rate

    @property
    def num_channels(self) -> int:
        """Number of interleaved channels."""
        return self._format._num_channels

    @property
    def dtype(self) -> DType:
        """``"int16"`` or ``"float32"`` (the `DType` literal)."""
        return self._format._dtype

    @property
    def samples_per_channel(self) -> int:
        """Number of samples in each channel."""
        return int(self._data.shape[0])

    @property
    def pts(self) -> int:
        """Index of the first sample in the stream, in samples at `sample_rate`."""
        return self._pts

    @property
    def end_pts(self) -> int:
        """``pts + samples_per_channel``: the pts the next contiguous frame starts at."""
        return self._pts + int(self._data.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return int(self._data.shape[0]) / self._format._sample_rate

    @property
    def timestamp(self) -> float:
        """Start time in seconds (``pts / sample_rate``)."""
        return self._pts / self._format._sample_rate

    def replace(self, data: NDArray[Any] | None = None, *, pts: int | None = None) -> AudioFrame:
        """A frame with new data and/or pts and the same sample rate (O(1) checks).

        New data may have another channel count or dtype; the frame's format follows it.

        Raises:
            InvalidAudioError: ``data`` is not valid audio.

        Examples:
            >>> import numpy as np
            >>> f = AudioFrame(np.ones(4, np.int16), 8_000)
            >>> f.replace(f.data * 2, pts=4).data.ravel().tolist()
            [2, 2, 2, 2]
        """
        fmt = self._format
        if data is None:
            data = self._data
        elif not (
            type(data) is np.ndarray
            and data.dtype is fmt._numpy_dtype
            and data.ndim == 2
            and data.shape[1] == fmt._num_channels
        ):
            data = validate_samples(data)
            fmt = AudioFormat(fmt._sample_rate, data.shape[1], data.dtype.name)  # type: ignore[arg-type]
        return AudioFrame.of(data, fmt, self._pts if pts is None else pts)

    def __repr__(self) -> str:
        return (
            f"AudioFrame({self.samples_per_channel} samples, {self._format}, pts={self._pts}, "
            f"{self.duration * 1000:g} ms)"
        )

    def _repr_html_(self) -> str:
        """Waveform and audio player for Jupyter."""
        from .display import audio_html

        return audio_html(self._data, self.sample_rate, repr(self))

    # -- LiveKit interop -------------------------------------------------------------

    @classmethod
    def from_rtc(cls, frame: rtc.AudioFrame, *, pts: int = 0) -> AudioFrame:
        """Wrap a `livekit.rtc.AudioFrame` without copying its samples.

        Args:
            frame: A LiveKit frame (always interleaved int16).
            pts: Timestamp to give the frame, in samples at its rate.

        Returns:
            An int16 frame whose data is a read-only view of the LiveKit frame's buffer.

        Raises:
            InvalidAudioError: The buffer's byte length is odd or does not match
                ``samples_per_channel * num_channels``.
        """
        raw = memoryview(frame._data).cast("B")
        channels = frame.num_channels
        spc = frame.samples_per_channel
        if raw.nbytes % 2:
            raise InvalidAudioError(
                f"LiveKit frame has an odd byte length (expected a multiple of 2 for int16, "
                f"got {raw.nbytes} bytes)"
            )
        needed = spc * channels * 2
        if raw.nbytes < needed or channels <= 0:
            raise InvalidAudioError(
                f"LiveKit frame buffer too short (expected {needed} bytes for {spc} samples x "
                f"{channels} channels, got {raw.nbytes})"
            )
        data = np.frombuffer(raw, dtype=np.int16, count=spc * channels).reshape(spc, channels)
        return cls.of(data, AudioFormat(frame.sample_rate, channels, "int16"), int(pts))

    def to_rtc(self, *, copy: bool = False) -> rtc.AudioFrame:
        """Convert to a `livekit.rtc.AudioFrame`.

        int16 data is shared with the LiveKit frame when numpy can hand out a writable view
        of it (LiveKit's native layer needs a writable buffer), otherwise copied once.
        float32 frames are scaled to int16 and clipped (a new buffer).

        Args:
            copy: Always copy, so that LiveKit code that changes frames in place (such as
                ``rtc.AudioProcessingModule``) cannot change this frame.

        Returns:
            A LiveKit frame with the same rate, channels and samples.
        """
        from livekit import rtc

        data = self._data
        if data.dtype != np.int16:
            data = float_to_int16(data)
        elif copy:
            data = data.copy()
        else:
            data = _writable_view(data)
        buf = memoryview(data.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
        return rtc.AudioFrame(buf, self.sample_rate, self.num_channels, self.samples_per_channel)


def _conformed(data: object, fmt: AudioFormat, pts: int) -> AudioFrame:
    """The slow path of `AudioFrame.of`: accept 1-D mono, else raise naming the problem."""
    arr = validate_samples(data)
    if arr.dtype is not fmt._numpy_dtype:
        raise InvalidAudioError(
            WRONG_DTYPE.format(
                what="audio data", expected=fmt.dtype, got=arr.dtype, hint=_dtype_hint(arr.dtype)
            )
        )
    if arr.shape[1] != fmt._num_channels:
        raise InvalidAudioError(
            WRONG_SHAPE.format(
                what="audio data",
                shape=arr.shape,
                expected=f"{fmt.num_channels} channel(s), got {arr.shape[1]}",
            )
        )
    return trusted_frame(readonly(arr), fmt, pts)  # arr may be a subclass (np.memmap)


_new = object.__new__


def fitted(data: object, fmt: AudioFormat, pts: int) -> AudioFrame | None:
    """A frame of ``fmt`` over ``data`` if it is a 2-D C-contiguous array of ``fmt``'s dtype
    and channels (a writable one behind a read-only view), else None.

    `AudioFrame.of` without its slow path (1-D mono, the errors): for a per-frame hot path
    that explains a None itself, as `map` does with what the user's function returned.
    """
    if (
        type(data) is not np.ndarray
        or data.dtype is not fmt._numpy_dtype
        or data.shape[1:] != fmt._row
    ):
        return None
    flags = data.flags
    if not flags.c_contiguous:
        return None
    if flags.writeable:
        data = data.view()
        data.setflags(False)  # type: ignore[call-arg]  # positional: half write=False's cost
    frame = _new(AudioFrame)
    frame._data = data
    frame._format = fmt
    frame._pts = pts
    return frame


def trusted_frame(data: NDArray[Any], fmt: AudioFormat, pts: int) -> AudioFrame:
    """A frame over ``data`` known to be valid and read-only (for the core's own use).

    The frame buffer builds its frames with this: it checked and froze every block when it
    was pushed, so the views it cuts need no second look.
    """
    frame = _new(AudioFrame)
    frame._data = data
    frame._format = fmt
    frame._pts = pts
    return frame


def _writable_view(data: NDArray[Any]) -> NDArray[Any]:
    """A writable view of ``data`` if the memory allows it, else a writable copy."""
    if data.flags.writeable:
        return data
    view = data.view()
    try:
        view.flags.writeable = True
    except ValueError:
        return data.copy()
    return view
